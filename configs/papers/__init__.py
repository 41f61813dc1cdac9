"""The papers' own settings: one config per published experiment, each field with its source."""

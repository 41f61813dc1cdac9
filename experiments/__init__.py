"""Command-line entry points: main (train), sample."""

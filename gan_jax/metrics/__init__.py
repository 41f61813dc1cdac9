"""Metrics: pure functions of samples (and features)."""

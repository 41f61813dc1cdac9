"""Command-line entry points: main (train), sample, evaluate, benchmark, convert_inception,
train_classifier."""

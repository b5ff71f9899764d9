"""Training: datasets, time splits and the per-symbol trainer."""

"""Evaluation: metrics of predictions and of traded equity curves."""

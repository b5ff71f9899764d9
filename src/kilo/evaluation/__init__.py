"""Walk-forward evaluation: folds, strategies and baselines traded through the trader's
broker, leakage controls, statistics and the report. Imports training, trading and
everything below; only retraining and the entry points sit above it."""

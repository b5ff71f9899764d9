"""Walk-forward evaluation: folds, controls, statistics, the typed
:class:`~kilo.evaluation.summary.EvaluationSummary` and the report. Imports the
backtest kernel, training and everything below; search, retraining and the entry
points sit above it."""

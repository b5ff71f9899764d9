"""Nested walk-forward search (Optuna): trials judged on inner folds cut clear of the
outer test windows, then the best configuration evaluated once on the outer folds.
Imports evaluation and everything below."""

"""Pure functions of returns and predictions, shared by training, evaluation and retraining.

:mod:`kilo.metrics.returns` scores equity curves (Sharpe, drawdown, PSR, turnover);
:mod:`kilo.metrics.prediction` scores predictions against labels (errors, IC).
"""

from kilo.metrics.prediction import RegressionScores, regression_metrics
from kilo.metrics.returns import (
    bars_per_year,
    max_drawdown,
    probabilistic_sharpe_ratio,
    trading_metrics,
)

__all__ = [
    "RegressionScores",
    "bars_per_year",
    "max_drawdown",
    "probabilistic_sharpe_ratio",
    "regression_metrics",
    "trading_metrics",
]

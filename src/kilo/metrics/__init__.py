"""Pure functions of returns and predictions, shared by training, evaluation and retraining.

:mod:`kilo.metrics.returns` scores equity curves (Sharpe, drawdown, PSR, turnover);
:mod:`kilo.metrics.prediction` scores predictions against labels (errors, IC);
:mod:`kilo.metrics.significance` tells an IC from luck (block bootstrap, HAC, permutation).
"""

from kilo.metrics.prediction import RegressionScores, regression_metrics
from kilo.metrics.returns import (
    annualised_sharpe,
    bars_per_year,
    deflated_sharpe_ratio,
    expected_max_sharpe,
    max_drawdown,
    per_bar_sharpe,
    probabilistic_sharpe_ratio,
    trading_metrics,
)
from kilo.metrics.significance import (
    block_permutation_ics,
    ic_bootstrap_ci,
    ic_hac_tstat,
    ic_permutation_pvalue,
    spearman_ic,
)

__all__ = [
    "RegressionScores",
    "annualised_sharpe",
    "bars_per_year",
    "block_permutation_ics",
    "deflated_sharpe_ratio",
    "expected_max_sharpe",
    "ic_bootstrap_ci",
    "ic_hac_tstat",
    "ic_permutation_pvalue",
    "max_drawdown",
    "per_bar_sharpe",
    "probabilistic_sharpe_ratio",
    "regression_metrics",
    "spearman_ic",
    "trading_metrics",
]

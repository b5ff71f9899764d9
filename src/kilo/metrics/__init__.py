"""Pure functions of returns and predictions, shared by training, evaluation and retraining.

:mod:`kilo.metrics.returns` scores equity curves (Sharpe, drawdown, PSR, turnover);
:mod:`kilo.metrics.costs` defines what trading costs (fees, slippage, funding);
:mod:`kilo.metrics.prediction` scores predictions against labels (errors, IC);
:mod:`kilo.metrics.significance` tells an IC, or a Sharpe difference, from luck (block
bootstrap, HAC, permutation).
:mod:`kilo.metrics.drift` bins a reference and measures a sample's PSI against it.
"""

from kilo.metrics.costs import (
    OrderCosts,
    Side,
    fill_cost_fraction,
    fill_log_cost,
    fill_price,
    funding_payment,
    order_costs,
    round_trip_log_cost,
    signal_costs,
)
from kilo.metrics.prediction import RegressionScores, regression_metrics
from kilo.metrics.returns import (
    TradingMetrics,
    deflated_sharpe_ratio,
    equity_log_returns,
    expected_max_sharpe,
    max_drawdown,
    probabilistic_sharpe_ratio,
    sharpe_ratio,
    sharpe_standard_error,
    trading_metrics,
)
from kilo.metrics.significance import (
    block_permutation_ics,
    holm_adjusted,
    ic_block_length,
    ic_bootstrap,
    ic_bootstrap_ci,
    ic_hac_tstat,
    ic_permutation_pvalue,
    ic_pvalue_positive,
    panel_ic_bootstrap,
    sharpe_difference_bootstrap,
    spearman_ic,
)

__all__ = [
    "OrderCosts",
    "RegressionScores",
    "Side",
    "TradingMetrics",
    "block_permutation_ics",
    "deflated_sharpe_ratio",
    "equity_log_returns",
    "expected_max_sharpe",
    "fill_cost_fraction",
    "fill_log_cost",
    "fill_price",
    "funding_payment",
    "holm_adjusted",
    "ic_block_length",
    "ic_bootstrap",
    "ic_bootstrap_ci",
    "ic_hac_tstat",
    "ic_permutation_pvalue",
    "ic_pvalue_positive",
    "max_drawdown",
    "order_costs",
    "panel_ic_bootstrap",
    "probabilistic_sharpe_ratio",
    "regression_metrics",
    "round_trip_log_cost",
    "sharpe_difference_bootstrap",
    "sharpe_ratio",
    "sharpe_standard_error",
    "signal_costs",
    "spearman_ic",
    "trading_metrics",
]

"""The cost curve in the summary: points chained over the folds, and the break-even
cost where the net crosses zero."""

from __future__ import annotations

import math

import numpy as np
import pytest

from kilo.backtest.simulate import CandleArrays
from kilo.backtest.strategies import rule_predictor
from kilo.config import Config
from kilo.config.markets import bars_per_year
from kilo.evaluation.cost_curve import CurveRuns, Plan
from kilo.evaluation.cost_summary import curve_break_even, summarise_cost_curve
from kilo.evaluation.fold_task import FoldResult, FoldTask
from kilo.metrics import sharpe_ratio
from tests.evaluation.conftest import COSTS, CurveChain

PER_YEAR = bars_per_year(3600)


def results(folds: list[CurveRuns]) -> list[FoldResult]:
    return [FoldResult(FoldTask("real", k, "all"), {}, [], {}, 0.0, f) for k, f in enumerate(folds)]


@pytest.mark.parametrize(
    ("nets", "expected"),
    [
        ([0.2, 0.1, -0.1], 0.0015),  # crosses between 0.1 % and 0.2 %, linear there
        ([0.2, 0.0, 0.3], 0.001),  # the first cost it reaches 0 at, whatever follows
        ([-0.1, -0.2, -0.3], 0.0),  # nets nothing even at no cost
        ([0.0, 0.0, 0.0], 0.0),  # never trades
        ([0.3, 0.2, 0.1], math.nan),  # beyond the curve's last cost
    ],
)
def test_break_even_is_where_the_net_reaches_zero(nets: list[float], expected: float) -> None:
    assert curve_break_even([0.0, 0.001, 0.002], nets) == pytest.approx(expected, nan_ok=True)


def test_on_fixed_decisions_the_break_even_is_the_mean_gross_round_trip(
    config: Config, btc_arrays: CandleArrays, curve_chain: CurveChain
) -> None:
    """Long or flat at full size, decisions that ignore costs (a noisy look at the next
    day): each round trip nets its gross log price return less the round trip's log
    cost, so the net reaches 0 where that cost is their mean."""
    close = btc_arrays.close
    ahead = np.r_[np.log(close[24:] / close[:-24]), np.zeros(24)]
    coin = np.random.default_rng(0).random(len(close)) < 0.4
    score = np.where(coin, -ahead, ahead)
    costs = (0.0, 0.002, 0.005, 0.01, 0.02, 0.05)
    folds = curve_chain({"peek": Plan(rule_predictor(np.sign(score)), stops=False)}, costs)
    curve = summarise_cost_curve(config, results(folds), PER_YEAR)
    assert curve is not None
    free = np.concatenate([f.runs[0.0]["peek"].log_returns for f in folds])
    trades = sum(f.runs[0.0]["peek"].n_trades for f in folds)
    expected = 2 * math.tanh(free.sum() / trades / 2)  # price units of the mean log gross
    assert costs[0] < expected < costs[-1]
    assert curve.strategies["peek"].break_even_cost == pytest.approx(expected, rel=1e-3)


def test_points_chain_the_folds(
    config: Config, btc_arrays: CandleArrays, curve_chain: CurveChain
) -> None:
    folds = curve_chain(
        {
            "buy_and_hold": Plan(rule_predictor(np.ones(len(btc_arrays.index))), stops=False),
            "flat": Plan(rule_predictor(-np.ones(len(btc_arrays.index))), stops=False),
        }
    )
    curve = summarise_cost_curve(config, results(folds), PER_YEAR)
    assert curve is not None and list(curve.strategies) == ["buy_and_hold", "flat"]
    held = curve.strategies["buy_and_hold"]
    assert [p.cost for p in held.points] == list(COSTS)
    for point in held.points:
        returns = np.concatenate([f.runs[point.cost]["buy_and_hold"].log_returns for f in folds])
        assert point.net_total_log_return == pytest.approx(returns.sum(), abs=1e-12)
        assert point.sharpe == pytest.approx(sharpe_ratio(returns, PER_YEAR))
        assert point.n_trades == 1
    assert curve.strategies["flat"].break_even_cost == 0.0
    assert curve.venue_cost == pytest.approx(0.003, abs=1e-6)  # spot: 0.1 % + 0.05 % a fill
    assert curve.seconds == pytest.approx(sum(f.seconds for f in folds))
    assert summarise_cost_curve(config, results([CurveRuns({})]), PER_YEAR) is None

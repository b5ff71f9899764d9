"""The cost curve's runs: one round trip costs the curve's cost, the hurdle moves with
it, the strategies are traded again on the same predictions and chained over folds."""

from __future__ import annotations

import math
from itertools import pairwise

import numpy as np
import pytest

from kilo.backtest.simulate import CandleArrays, simulate
from kilo.backtest.strategies import LONG_FLAT, momentum_scores, rule_predictor
from kilo.blend import Calibration, EdgeRule
from kilo.blend.edge import EdgeMap
from kilo.config import Config
from kilo.evaluation.cost_curve import CurveRuns, Plan, cost_config, price_cost
from kilo.inference import PortfolioState, Prediction
from kilo.metrics import round_trip_log_cost
from tests.evaluation.conftest import COSTS, FOLDS, CurveChain


def edge_plan(close: np.ndarray) -> Plan:
    """An edge-rule strategy whose expected edge is the last 12 bars' log return."""
    log_c = np.log(close)
    trend = np.r_[np.zeros(12), log_c[12:] - log_c[:-12]]
    calibration = Calibration(
        prediction_stats={},
        validation_score_quantiles={},
        edge_map=EdgeMap(x=[-0.1, 0.1], y=[-0.1, 0.1]),
    )
    return Plan(lambda i, state: Prediction(score=float(trend[i]), confidence=1.0), calibration)


def nets(folds: list[CurveRuns], name: str) -> list[float]:
    """``name``'s net total log return at each cost over the chained folds."""
    return [sum(float(f.runs[c][name].log_returns.sum()) for f in folds) for c in COSTS]


@pytest.mark.parametrize(("market", "order_type"), [("spot", "market"), ("futures", "limit")])
def test_a_round_trip_costs_the_curves_cost(config: Config, market: str, order_type: str) -> None:
    venue = config.with_overrides({"trading.market": market, "trading.order_type": order_type})
    for cost in COSTS:
        trading = cost_config(venue, cost).trading
        assert trading.fee == trading.maker_fee == cost / 2 and trading.slippage == 0.0
        assert round_trip_log_cost(trading) == pytest.approx(2 * math.atanh(cost / 2), abs=1e-15)
        assert price_cost(round_trip_log_cost(trading)) == pytest.approx(cost, abs=1e-15)
    # the venue's own: 0.1 % fee and 0.05 % slippage a fill on spot, about 0.3 % a round trip
    assert price_cost(round_trip_log_cost(config.trading)) == pytest.approx(0.003, abs=1e-6)


def test_the_hurdle_moves_with_the_cost(config: Config, btc_arrays: CandleArrays) -> None:
    plan = edge_plan(btc_arrays.close)
    hurdles = []
    for cost in COSTS:
        rule = plan.rule(cost_config(config, cost))
        assert isinstance(rule, EdgeRule)
        hurdles.append(rule.hurdle)
    multiple = config.blend.cost_multiple
    assert hurdles == pytest.approx([multiple * 2 * math.atanh(c / 2) for c in COSTS], abs=1e-15)
    assert Plan(rule_predictor(np.ones(3))).rule(cost_config(config, 0.004)) is LONG_FLAT


def test_buy_and_hold_pays_exactly_one_round_trip_per_chain(
    config: Config, btc_arrays: CandleArrays, curve_chain: CurveChain
) -> None:
    plans = {"buy_and_hold": Plan(rule_predictor(np.ones(len(btc_arrays.index))), stops=False)}
    folds = curve_chain(plans)
    held = nets(folds, "buy_and_hold")
    for cost, net in zip(COSTS, held, strict=True):
        round_trip = round_trip_log_cost(cost_config(config, cost).trading)
        assert net == pytest.approx(held[0] - round_trip, abs=1e-12)
    assert [sum(f.runs[c]["buy_and_hold"].n_trades for f in folds) for c in COSTS] == [1] * 6


def test_at_cost_zero_the_net_is_the_gross_of_the_same_decisions(
    config: Config, btc_arrays: CandleArrays, curve_chain: CurveChain
) -> None:
    plan = edge_plan(btc_arrays.close)
    [curve] = curve_chain({"edge": plan})[:1]
    free = config.with_overrides(
        {"trading.fee": 0.0, "trading.maker_fee": 0.0, "trading.slippage": 0.0}
    )
    run = simulate(
        plan.trading(free), "BTC/USDT", btc_arrays, FOLDS[0], plan.predict, plan.rule(free),
        close=False,
    )  # fmt: skip
    np.testing.assert_allclose(curve.runs[0.0]["edge"].log_returns, run.gross_log_returns, 0, 1e-12)
    assert len(run.fills) > 10


def test_the_curve_falls_with_cost_and_the_decisions_are_re_taken(
    btc_arrays: CandleArrays, curve_chain: CurveChain
) -> None:
    plans = {
        "momentum": Plan(rule_predictor(momentum_scores(btc_arrays.close, 24))),
        "edge": edge_plan(btc_arrays.close),
    }
    folds = curve_chain(plans)
    momentum = nets(folds, "momentum")
    assert all(b < a for a, b in pairwise(momentum))  # the same trades, dearer
    trades = [sum(f.runs[c]["edge"].n_trades for f in folds) for c in COSTS]
    assert all(b <= a for a, b in pairwise(trades)) and trades[-1] < trades[0]
    assert len({sum(f.runs[c]["momentum"].n_trades for f in folds) for c in COSTS}) == 1


def test_the_curves_runs_ask_a_predictor_once_per_bar_and_state(
    btc_arrays: CandleArrays, curve_chain: CurveChain
) -> None:
    """A policy's path does not move with the fee (no slippage on the curve), so PPO,
    a bar's costliest question, is asked about once per bar, not once per cost."""
    calls = 0
    scores = momentum_scores(btc_arrays.close, 24)

    def policy(i: int, state: PortfolioState) -> Prediction:
        nonlocal calls
        calls += 1
        return Prediction(score=float(scores[i]), confidence=1.0)

    curve_chain({"policy": Plan(policy).memoised()})
    assert calls <= sum(len(rows) for rows in FOLDS)

"""One bar of one symbol: stops, rule, sizing, as the trader and the evaluation run it."""

from __future__ import annotations

import pandas as pd
import pytest

from kilo.blend import EdgeMap, EdgeRule
from kilo.config import TradingConfig
from kilo.inference import Prediction
from kilo.trading.accounts import Candle, Portfolio
from kilo.trading.broker import PaperBroker
from kilo.trading.execution import execute_bar, volatility_scale

T = pd.Timestamp("2025-01-01", tz="UTC")
CFG = TradingConfig(
    max_position_fraction=0.5,
    target_volatility=0.4,
    stop_loss=0.05,
    take_profit=None,
    slippage=0.0,
    fee=0.0,
)
RULE = EdgeRule(
    EdgeMap(x=[-1.0, 1.0], y=[-0.02, 0.02]), hurdle=0.004, min_hold_bars=3, exit_edge=0.0
)


def bar_outcome(portfolio: Portfolio, score: float, volatility: float, bar: Candle | None = None):
    bar = bar or Candle(100.0, 101.0, 99.0, 100.0)
    return execute_bar(
        PaperBroker(CFG),
        portfolio,
        {"A": 100.0},
        "A",
        bar,
        T,
        100.0,
        T,
        lambda state: Prediction(score=score, confidence=1.0, volatility=volatility),
        RULE,
    )


def test_volatility_scale() -> None:
    assert volatility_scale(0.8, 0.4) == 0.5 and volatility_scale(0.2, 0.4) == 1.0
    assert volatility_scale(None, 0.4) == 1.0 == volatility_scale(0.8, None)


def test_entry_is_sized_by_edge_and_volatility() -> None:
    portfolio = Portfolio(10_000.0)
    outcome = bar_outcome(portfolio, score=0.3, volatility=0.8)  # edge 0.006 = 0.75 of 2 hurdles
    assert outcome.decision == "enter"
    assert outcome.orders[0].fill.notional == pytest.approx(10_000 * 0.5 * 0.75 * 0.5)
    assert bar_outcome(Portfolio(10_000.0), score=0.1, volatility=0.8).decision == "wait"


def test_minimum_hold_then_exit_and_stops_still_apply() -> None:
    portfolio = Portfolio(10_000.0)
    bar_outcome(portfolio, score=0.9, volatility=0.4)
    decisions = [bar_outcome(portfolio, score=-0.5, volatility=0.4).decision for _ in range(3)]
    assert decisions == ["hold", "hold", "exit"] and not portfolio.positions
    bar_outcome(portfolio, score=0.9, volatility=0.4)
    crash = bar_outcome(portfolio, score=0.9, volatility=0.4, bar=Candle(100.0, 100.0, 90.0, 91.0))
    assert crash.orders[0].fill.reason == "stop_loss"  # inside the minimum hold

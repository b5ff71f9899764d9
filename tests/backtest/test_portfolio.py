"""The portfolio kernel: its baselines by hand, and segments that chain."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from kilo.backtest.portfolio import STRATEGIES, equal_weight, trade_together
from kilo.config import Config
from tests.trading.test_risk import AlwaysLong, synthetic


def test_equal_weight_by_hand() -> None:
    index = pd.date_range("2025-01-01 22:00", periods=4, freq="1h", tz="UTC")
    marks = pd.DataFrame(
        {"A": [100.0, 110.0, 110.0, 121.0], "B": [50.0, 50.0, 45.0, 45.0]}, index=index
    )
    held = equal_weight(marks, 0.0, 0.0, rebalance=False, cash=1000.0)
    np.testing.assert_allclose(held, [1000.0, 1050.0, 1000.0, 1055.0])  # 5 A and 10 B
    rebalanced = equal_weight(marks, 0.0, 0.0, rebalance=True, cash=1000.0)
    # 00:00 starts a day: 1000 split 500/500 again; then A +10 %, B flat -> 1050
    np.testing.assert_allclose(rebalanced, [1000.0, 1050.0, 1000.0, 1050.0])


def test_equal_weight_pays_what_the_broker_would() -> None:
    """A buy of cash C holds C / ((1 + fee)(1 + slippage)); a sale of V returns
    V (1 - fee)(1 - slippage): the broker's fill, not ``1 - (fee + slippage)``."""
    index = pd.date_range("2025-01-01 22:00", periods=4, freq="1h", tz="UTC")
    marks = pd.DataFrame(
        {"A": [100.0, 110.0, 110.0, 121.0], "B": [50.0, 50.0, 45.0, 45.0]}, index=index
    )
    fee, slip = 0.01, 0.002
    buy_kept = 1 / ((1 + fee) * (1 + slip))
    sell_kept = (1 - fee) * (1 - slip)
    costly = equal_weight(marks, fee, slip, rebalance=True, cash=1000.0)
    assert costly.iloc[0] == pytest.approx(1000 * buy_kept, rel=1e-12)
    values = 1000 * buy_kept / 2 * np.array([1.1, 0.9])  # at 00:00, before rebalancing
    sold, bought = values[0] - values.mean(), values.mean() - values[1]
    expected = values.sum() - sold * (1 - sell_kept) - bought * (1 - buy_kept)
    assert costly.iloc[2] == pytest.approx(expected, rel=1e-12)
    last = expected / 2 * (1.1 + 1.0) * sell_kept  # A +10 % after the rebalance, then sold
    assert costly.iloc[-1] == pytest.approx(last, rel=1e-12)


def _chain_config() -> Config:
    off = dict(daily_loss_limit=None, max_drawdown=None, max_correlated_exposure=None)
    return Config().with_overrides(
        {
            **{f"risk.{k}": v for k, v in off.items()},
            "risk.correlation_window": 10,
            "trading.stop_loss": None,
            "trading.take_profit": None,
            "tracking.enabled": False,
        }
    )


def test_segments_chain_into_one_run() -> None:
    """Two segments traded together are one run over both: the book carries across the
    boundary (no sale and no buy there: the same turnover), and the returns equal one
    segment's over the same bars; traded apart, they make a round trip more."""
    rng = np.random.default_rng(3)
    close = 100 * np.exp(np.cumsum(rng.normal(0.001, 0.01, 80)))
    candles = {"A": synthetic(close), "B": synthetic(close[::-1].copy())}
    bars = list(candles["A"].index[12:75])
    scorers = {"A": AlwaysLong(), "B": AlwaysLong()}
    config = _chain_config()
    one = trade_together(config, candles, [(scorers, bars[0], bars[-1])])
    halves = [(scorers, bars[0], bars[29]), (scorers, bars[30], bars[-1])]
    chained = trade_together(config, candles, halves)
    for name in STRATEGIES:
        pd.testing.assert_series_equal(chained.returns[name], one.returns[name], rtol=1e-12)
    assert chained.equity_turns == pytest.approx(one.equity_turns, rel=1e-12)
    assert chained.exposure.loc[bars[29]] and chained.exposure.loc[bars[30]]
    apart = [trade_together(config, candles, [half]) for half in halves]
    assert sum(run.equity_turns for run in apart) > one.equity_turns * 1.5  # the round trip

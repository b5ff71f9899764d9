"""The portfolio kernel's baselines, by hand."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from kilo.backtest.portfolio import equal_weight


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

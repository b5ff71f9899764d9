from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from kilo.config import Config
from kilo.evaluation.strategies import RuleScorer, momentum_scores, random_scores, trade


def test_random_policy_switch_rate() -> None:
    index = pd.date_range("2025-01-01", periods=20_000, freq="1h", tz="UTC")
    scores = random_scores(index, 0.05, seed=1)
    changes = (scores.diff().fillna(0) != 0).sum()
    assert set(scores.unique()) <= {-1.0, 1.0}
    assert changes == pytest.approx(1000, rel=0.1)
    assert scores.equals(random_scores(index, 0.05, seed=1))


def test_momentum_is_causal(btc_candles: pd.DataFrame) -> None:
    close = btc_candles["close"]
    base = momentum_scores(close, 24)
    changed = close.copy()
    changed.iloc[5000:] *= 3.0
    assert base.iloc[:5000].equals(momentum_scores(changed, 24).iloc[:5000])
    assert base.iloc[100] == (1.0 if close.iloc[100] > close.iloc[76] else -1.0)


def test_buy_and_hold_through_the_trader_by_hand(config: Config, btc_candles) -> None:
    start, n = btc_candles.index[1000], 300
    index = btc_candles.index[1000 : 1000 + n]
    run = trade(config, "BTC/USDT", btc_candles, RuleScorer("bh", pd.Series(1.0, index=index)),
                start, n, stops=False)
    t = config.trading
    p0 = btc_candles["open"].iloc[1001]  # fill at the next bar's open
    p_end = btc_candles["open"].iloc[1000 + n]  # the last mark
    expected = t.initial_cash / (1 + t.fee) / (1 + t.slippage) * p_end / p0
    assert run.equity.iloc[-1] == pytest.approx(expected, rel=1e-9)
    assert run.exposure.all() and len(run.fills) == 1
    assert run.log_returns.sum() == pytest.approx(np.log(expected / t.initial_cash))
    flat = trade(config, "BTC/USDT", btc_candles, RuleScorer("flat", pd.Series(-1.0, index=index)),
                 start, n)
    assert (flat.equity == t.initial_cash).all() and flat.fills.empty

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from kilo.backtest.simulate import FILL_COLUMNS, Book, StrategyRun
from kilo.backtest.strategies import (
    break_even_cost,
    momentum_scores,
    run_metrics,
)
from kilo.config import Config
from kilo.rl import ObservationSpec


def test_momentum_is_causal(btc_candles: pd.DataFrame) -> None:
    close = btc_candles["close"].to_numpy()
    base = momentum_scores(close, 24)
    changed = close.copy()
    changed[5000:] *= 3.0
    np.testing.assert_array_equal(base[:5000], momentum_scores(changed, 24)[:5000])
    assert base[100] == (1.0 if close[100] > close[76] else -1.0) and base[10] == -1.0


def test_every_candle_reads_its_own_feature_row_across_an_outage(config) -> None:
    """Rows dropped in 2018-02's 33-hour outage used to shift every later prediction:
    candle i read the feature row of candle i + 10 (a look-ahead)."""
    from kilo.backtest.strategies import FoldOutputs
    from kilo.features import FeatureEngine, Preprocessor
    from kilo.inference import FittedModels
    from kilo.training.dataset import build_dataset

    cut = config.with_overrides({"data.end": "2018-04-01", "features.reference_symbols": []})
    cut = cut.with_overrides({"features.universe": [], "features.timeframes": []})
    engine = FeatureEngine.from_config(cut, "BTC/USDT")
    data = build_dataset(cut, "BTC/USDT", engine)
    assert data.outages.filled_candles >= 33 and data.outages.dropped_labels > 0
    X = Preprocessor().fit(data.features).transform(data.features)

    class Stub:  # predictions are never asked for: only the mapping is under test
        def predict(self, X):
            return np.zeros(len(X), dtype=np.float32)

    models = FittedModels({"lightgbm": Stub(), "linear": Stub()})
    candles, outputs = FoldOutputs.for_dataset(cut, models, X, data, slice(0, 10))
    rows = outputs.row_of
    has_row = rows >= 0
    assert (data.index[rows[has_row]] == candles.index[has_row]).all()
    tradable = outputs.tradable(candles)
    assert not tradable[candles.filled].any() and tradable.sum() > 0.9 * len(data.index)
    after = int(np.flatnonzero(candles.filled)[-1]) + 30
    assert data.index[rows[after]] == candles.index[after]  # past the outage too


def _half_size_run(fills: list[tuple[str, float, float]], gross: list[float]) -> StrategyRun:
    """A hand-built run from 1000 quote: fills as (side, quantity, reference price),
    each buy half of equity, no costs (net = gross)."""
    bars = pd.date_range("2024-01-01", periods=len(gross), freq="h", tz="UTC")
    frame = pd.DataFrame(
        [
            {
                "time": bars[k],
                "side": side,
                "quantity": quantity,
                "price": price,
                "reference_price": price,
                "notional": quantity * price,
                "fee": 0.0,
                "realised_pnl": 0.0,
                "reason": "signal",
            }
            for k, (side, quantity, price) in enumerate(fills)
        ],
        columns=FILL_COLUMNS,
    )
    equity = pd.Series(gross, index=bars)
    exposure = pd.Series([side == "buy" for side, _, _ in fills], index=bars)
    return StrategyRun(equity, equity, exposure, frame, 1000.0, 1000.0, Book.flat(gross[-1]))


def test_break_even_cost_is_per_unit_of_position_not_of_equity() -> None:
    # half of 1000 buys 5 at 100, sold at 102: equity earns log(1010/1000) ~ 0.00995,
    # the position log(102/100) ~ 0.0198, the number to set against a venue's 0.003
    run = _half_size_run([("buy", 5.0, 100.0), ("sell", 5.0, 102.0)], [1000.0, 1010.0])
    metrics = run_metrics([run], 8760)
    assert metrics.gross_total_log_return == pytest.approx(math.log(1.01))
    assert metrics.break_even_cost == pytest.approx(math.log(1.02))
    assert metrics.break_even_cost > 1.9 * metrics.gross_total_log_return


def test_break_even_cost_weights_round_trips_by_entry_and_spans_runs() -> None:
    # round trip 1: entry notional 500, +2 %, held over two runs; round trip 2: two buys
    # averaging 100 (notional 500), closed by two sells at 98
    first = _half_size_run([("buy", 5.0, 100.0)], [1000.0])
    second = _half_size_run(
        [
            ("sell", 5.0, 102.0),
            ("buy", 2.5, 101.0),
            ("buy", 2.5, 99.0),
            ("sell", 2.0, 98.0),
            ("sell", 3.0, 98.0),
        ],
        [1010.0, 1010.0, 1010.0, 1005.0, 1005.0],
    )
    one, two = 500.0 * math.log(1.02), 500.0 * math.log(0.98)
    expected = (one + two) / 1000.0
    assert run_metrics([first, second], 8760).break_even_cost == pytest.approx(expected)
    # alone, the second run's first sell has no entry in its fills: left out
    assert break_even_cost(second.fills) == pytest.approx(math.log(0.98))
    assert math.isnan(break_even_cost(first.fills))


class FixedPolicy:
    """A PPO stand-in whose policy always gives the same action probabilities."""

    def __init__(self, proba: list[float], allow_short: bool) -> None:
        self.proba = np.array([proba], dtype=np.float32)
        self.params = Config().models.ppo.model_copy(update={"allow_short": allow_short})
        self.spec_, self.forecasters_ = ObservationSpec(), {}

    def predict_proba(self, obs: np.ndarray) -> np.ndarray:
        return np.repeat(self.proba, len(obs), axis=0)


@pytest.mark.parametrize("allow_short", [False, True])
def test_the_policy_strategy_trades_its_short_action_where_it_may(allow_short: bool) -> None:
    from kilo.backtest.strategies import FoldOutputs, side_rule
    from kilo.inference import FittedModels, PortfolioState

    def target(proba: list[float], position: float) -> float:
        models = FittedModels({"ppo": FixedPolicy(proba, allow_short)})
        outputs = FoldOutputs(models, np.zeros((20, 3), np.float32), {}, np.arange(20))
        return outputs.policy("ppo")(19, PortfolioState(position)).score

    short = -1.0 if allow_short else 0.0
    if allow_short:
        assert target([0.1, 0.1, 0.1, 0.7], 0.0) == short  # SHORT
    assert [target([0.1, 0.2, 0.7, 0.0], p) for p in (1.0, -1.0)] == [0.0, 0.0]  # FLAT
    assert target([0.1, 0.7, 0.2, 0.0], -1.0) == 1.0  # LONG
    hold = [target([0.7, 0.2, 0.1, 0.0], p) for p in (0.0, 1.0, -1.0)]
    assert hold == [0.0, 1.0, -1.0]
    rule = side_rule(allow_short)
    assert rule.decide(short, 0) == ("enter_short" if allow_short else "wait")
    assert rule.decide(0.0, 1) == "exit" and rule.decide(1.0, 1) == "hold"

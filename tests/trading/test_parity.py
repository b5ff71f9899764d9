"""Train/serve parity: the trader's trailing-window features equal the trainer's, and
the GRU it serves bar by bar outputs what ``predict`` gives over the full history."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from kilo.config import Config
from kilo.data import load_candles
from kilo.features import FeatureEngine, Preprocessor
from kilo.inference import FittedModels, context_rows, predict_rows
from kilo.models.gru import GRURegressor
from kilo.trading.sources import ReplaySource
from kilo.training.dataset import load_context

BARS = 200


# the reference symbol, one that reads it, one listed late
@pytest.mark.parametrize("symbol", ["BTC/USDT", "ETH/USDT", "SOL/USDT"])
def test_trailing_window_features_match_full_history(config: Config, symbol: str) -> None:
    """Every feature group, cross-asset and higher-timeframe ones included."""
    engine = FeatureEngine.from_config(config, symbol)
    candles = load_candles(config.data.dir, "binance", symbol, "1h")
    context = load_context(config, engine.context_symbols)
    full = engine.transform(candles, context)  # what the trainer computes
    start = candles.index[-BARS - 1]
    source = ReplaySource({symbol: candles}, {symbol: engine.min_history}, start, context)
    compared = 0
    for bar_time, snapshots in source.iterations():
        snap = snapshots[symbol]
        history = snap.history
        assert len(history) == engine.min_history and history.index[-1] == bar_time
        assert all(c.index[-1] <= bar_time for c in snap.context.values())
        served = engine.transform(history, snap.context).iloc[-1]
        np.testing.assert_allclose(
            served.to_numpy(),
            full.loc[bar_time].to_numpy(),
            rtol=1e-6,
            atol=1e-12,
            err_msg=f"{symbol} {bar_time}",
        )
        compared += 1
    assert compared == BARS  # every bar but the last, which has no next bar to fill at


def test_a_shorter_window_would_break_parity(config: Config, btc_candles: pd.DataFrame) -> None:
    engine = FeatureEngine.from_config(
        config.with_overrides({"features.universe": [], "features.timeframes": []}), "BTC/USDT"
    )
    full = engine.transform(btc_candles)
    short = engine.transform(btc_candles.iloc[-engine.max_lookback - 50 :]).iloc[-1]
    rel = np.abs(short - full.iloc[-1]) / np.abs(full.iloc[-1]).clip(lower=1e-12)
    assert rel.max() > 1e-6  # so the min_history margin is needed, not decoration


@pytest.mark.slow
@pytest.mark.parametrize("mode", ["window", "sequence"])
def test_served_gru_outputs_match_the_trainers_predictions(config: Config, mode: str) -> None:
    """A GRU trained in either mode is served as it predicts: bar by bar, the trader's
    trailing features through :func:`~kilo.inference.predict_rows` in the trader's
    short passes give the outputs of ``predict`` over the full history (each row's
    window from a zero state)."""
    symbol = "BTC/USDT"
    engine = FeatureEngine.from_config(config, symbol)
    candles = load_candles(config.data.dir, "binance", symbol, "1h").iloc[-5000:]
    context = load_context(config, engine.context_symbols)
    features = engine.transform(candles, context).dropna(how="all")
    preprocessor = Preprocessor().fit(features.iloc[:-BARS])
    X = preprocessor.transform(features)
    y = np.r_[np.diff(np.log(candles["close"].loc[features.index].to_numpy())), np.nan]
    params = config.models.gru.model_copy(
        update={
            "mode": mode,
            "sequence_length": 16,
            "hidden_size": 16,
            "epochs": 1,
            "chunk_length": 64,
            "device": "cpu",
        }
    )
    model = GRURegressor(params, seed=config.seed).fit(
        X[:-BARS], y[:-BARS].astype(np.float32), progress=False
    )
    full = pd.Series(model.predict(X), index=features.index)
    served = FittedModels({"gru": model})
    ctx = context_rows(served)
    start = candles.index[-BARS - 1]
    history_rows = engine.min_history + ctx
    source = ReplaySource({symbol: candles}, {symbol: history_rows}, start, context)
    compared = 0
    for bar_time, snapshots in source.iterations():
        snap = snapshots[symbol]
        rows = engine.transform(snap.history, snap.context).iloc[-(ctx + 1) :]
        X = preprocessor.transform(rows)
        out = predict_rows(served, X, 1, with_policies=False)["gru"]
        np.testing.assert_allclose(out[0], full.loc[bar_time], rtol=1e-6, atol=1e-9)
        compared += 1
    assert compared == BARS

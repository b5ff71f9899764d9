"""The own features against the pandas formulas they replaced, on real candles."""

from __future__ import annotations

import numpy as np
import pandas as pd

from kilo.config import Config
from kilo.features import indicators as ind
from kilo.features.own import own_names, recursive_features, window_features


def pandas_own(candles: pd.DataFrame, spec) -> dict[str, pd.Series]:
    """The pandas Series code of the engine before numpy (recursive parts are compared
    bit for bit in test_indicators)."""
    c, h, lo, v = (candles[k] for k in ("close", "high", "low", "volume"))
    log_c = np.log(c)
    out = {f"log_ret_{k}": log_c - log_c.shift(k) for k in spec.return_periods}
    for w in spec.volatility_windows:
        out[f"volatility_{w}"] = log_c.diff().rolling(w).std()
    middle = c.rolling(spec.bollinger_window).mean()
    width = 2.0 * spec.bollinger_std * c.rolling(spec.bollinger_window).std(ddof=0)
    out["bb_pctb"], out["bb_width"] = (c - (middle - width / 2)) / width, width / middle
    roll = v.rolling(spec.volume_window)
    out[f"volume_z_{spec.volume_window}"] = (v - roll.mean()) / roll.std()
    out["log_volume_change"] = np.log(v + 1.0).diff()
    out["hl_range"] = (h - lo) / c
    hour = candles.index.hour + candles.index.minute / 60.0
    out["hour_sin"], out["hour_cos"] = np.sin(2 * np.pi * hour / 24), np.cos(2 * np.pi * hour / 24)
    dow = candles.index.day_of_week
    out["dow_sin"], out["dow_cos"] = np.sin(2 * np.pi * dow / 7), np.cos(2 * np.pi * dow / 7)
    return out


def test_window_features_are_the_pandas_ones(config: Config, btc_candles: pd.DataFrame) -> None:
    """Equal NaN; values exact, 1e-10 for the return windows, and for Bollinger and the
    volume z-score within pandas' own running-sum drift (1e-6 relative, 1e-8 absolute)."""
    spec, candles = config.features, btc_candles
    arrays = (candles[k].to_numpy() for k in ("high", "low", "close", "volume"))
    got = window_features(
        spec, *arrays, ind.epoch_seconds(candles.index), candles["filled"].to_numpy(float)
    )
    for name, values in pandas_own(candles, spec).items():
        drifts = name.startswith(("bb_", "volume_z"))  # pandas' drift: 1e-6, or 1e-8 near 0
        rtol, atol = (1e-6, 1e-8) if drifts else (1e-10, 0.0)
        exact = name.startswith(("log_ret", "log_volume", "hl_", "hour", "dow"))
        np.testing.assert_array_equal(np.isnan(got[name]), np.isnan(values), err_msg=name)
        np.testing.assert_allclose(
            got[name], values, rtol=0 if exact else rtol, atol=atol, err_msg=name
        )
    recursive = recursive_features(spec, *(candles[k].to_numpy() for k in ("high", "low", "close")))
    assert sorted([*got, *recursive]) == sorted(own_names(spec))

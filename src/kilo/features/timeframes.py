"""Higher-timeframe features from candles resampled to ``features.timeframes``.

Only completed higher-timeframe bars are used: a 4h bar opening at 08:00 holds the 1h
candles of 08:00 to 11:00 and is visible from the 11:00 row (that candle's close)
onward, never before. Bars with fewer candles than they should hold (the first and
last of a series) are dropped.

Per timeframe ``tf`` and ``p = timeframe_period``, on its own bars: ``tf{tf}_log_ret_1``
and ``tf{tf}_log_ret_3`` (log returns over 1 and 3 of its bars), ``tf{tf}_volatility_{p}``
(std of its 1-bar log returns), ``tf{tf}_rsi_{p}`` (Cutler's RSI: simple means of gains
and losses, in [0, 1]) and ``tf{tf}_trend_{p}`` (close / SMA(close, p) - 1). Every
window is finite, so a trailing window of candles reproduces full-history values.
"""

from __future__ import annotations

from functools import partial

import numpy as np
import pandas as pd

from kilo.config import FeaturesConfig, timeframe_seconds
from kilo.errors import ConfigError
from kilo.features.indicators import epoch_seconds, lag_diff, trailing


def bars_per(timeframe: str, base: str) -> int:
    """Base candles in one ``timeframe`` bar, e.g. 4 for 4h over 1h.

    Raises
    ------
    ConfigError
        If ``timeframe`` is not a whole multiple (>= 2) of ``base``.
    """
    ratio, rest = divmod(timeframe_seconds(timeframe), timeframe_seconds(base))
    if rest or ratio < 2:
        raise ConfigError(
            f"features.timeframes: {timeframe} is not a whole multiple of the "
            f"{base} candles (need e.g. 4h or 1d over 1h)"
        )
    return ratio


def timeframe_names(spec: FeaturesConfig) -> list[str]:
    """Ordered names of :func:`timeframe_features`' columns."""
    p = spec.timeframe_period
    return [
        f"tf{tf}_{name}"
        for tf in spec.timeframes
        for name in ("log_ret_1", "log_ret_3", f"volatility_{p}", f"rsi_{p}", f"trend_{p}")
    ]


def timeframe_lookback(spec: FeaturesConfig, base: str) -> int:
    """Base rows before every higher-timeframe feature is defined (0 without timeframes).

    The first complete bar may start ``k - 1`` rows in; ``p + 1`` complete bars are
    needed (RSI and volatility take ``p`` differences); the value appears at the last
    base row of the last of them: ``(p + 2) k - 2`` rows for ``k`` candles per bar.
    """
    return (
        max((max(spec.timeframe_period, 3) + 2) * bars_per(tf, base) - 2 for tf in spec.timeframes)
        if spec.timeframes
        else 0
    )


def timeframe_features(
    candles: pd.DataFrame, spec: FeaturesConfig, base: str
) -> dict[str, np.ndarray]:
    """Higher-timeframe features on ``candles.index`` (columns of :func:`timeframe_names`).

    Parameters
    ----------
    candles
        Validated candles of timeframe ``base`` (UTC ``DatetimeIndex``, columns open,
        high, low, close).

    Returns
    -------
    Name -> array of shape (n_candles,), float64, row for row with ``candles``. A bar's values
    show from its last candle's row for ``k`` rows (``k`` candles per bar), NaN elsewhere.

    Raises
    ------
    ConfigError
        If a timeframe is not a whole multiple of ``base``.
    """
    p = spec.timeframe_period
    seconds = epoch_seconds(candles.index)
    close = candles["close"].to_numpy(dtype=np.float64)
    rows = np.arange(len(close))
    out: dict[str, np.ndarray] = {}
    for tf in spec.timeframes:
        k = bars_per(tf, base)
        bucket = seconds // timeframe_seconds(tf)  # the floor of each candle's open time
        starts = np.flatnonzero(np.concatenate(([True], bucket[1:] != bucket[:-1])))
        counts = np.diff(np.append(starts, len(bucket)))
        last = (starts + counts - 1)[counts == k]  # each complete bar's last candle
        log_c = np.log(close[last])
        ret = lag_diff(log_c, 1)
        gains = trailing(np.clip(ret, 0, None), p, np.mean)
        losses = trailing(np.clip(-ret, 0, None), p, np.mean)
        with np.errstate(divide="ignore", invalid="ignore"):
            rsi = gains / (gains + losses)
        features = {
            "log_ret_1": ret,
            "log_ret_3": lag_diff(log_c, 3),
            f"volatility_{p}": trailing(ret, p, partial(np.std, ddof=1)),
            f"rsi_{p}": rsi,
            f"trend_{p}": close[last] / trailing(close[last], p, np.mean) - 1.0,
        }
        bar = np.searchsorted(last, rows, side="right") - 1  # latest complete bar shown
        bar, before = bar.clip(0), bar < 0
        shown = ~before & (rows - last[bar] < k)
        for name, values in features.items():
            value = values[bar] if len(last) else np.full(len(rows), np.nan)
            out[f"tf{tf}_{name}"] = np.where(shown, value, np.nan)
    return out

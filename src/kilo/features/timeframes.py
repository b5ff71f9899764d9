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

import numpy as np
import pandas as pd

from kilo.config import FeaturesConfig, timeframe_seconds
from kilo.errors import ConfigError
from kilo.features.indicators import log


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
) -> dict[str, pd.Series]:
    """Higher-timeframe features on ``candles.index`` (columns of :func:`timeframe_names`).

    Parameters
    ----------
    candles
        Validated candles of timeframe ``base`` (UTC ``DatetimeIndex``, columns open,
        high, low, close).

    Raises
    ------
    ConfigError
        If a timeframe is not a whole multiple of ``base``.
    """
    p = spec.timeframe_period
    step = pd.Timedelta(seconds=timeframe_seconds(base))
    out: dict[str, pd.Series] = {}
    for tf in spec.timeframes:
        k = bars_per(tf, base)
        length = pd.Timedelta(seconds=timeframe_seconds(tf))
        bucket = pd.DatetimeIndex(candles.index).floor(length)
        grouped = candles["close"].groupby(bucket)
        bars = pd.DataFrame({"close": grouped.last(), "count": grouped.size()})
        close = bars.loc[bars["count"] == k, "close"].astype("float64")
        log_c = log(close)
        ret = log_c.diff()
        gains = ret.clip(lower=0).rolling(p, min_periods=p).mean()
        losses = (-ret).clip(lower=0).rolling(p, min_periods=p).mean()
        with np.errstate(divide="ignore", invalid="ignore"):
            rsi = gains / (gains + losses)
        features = {
            "log_ret_1": ret,
            "log_ret_3": log_c.diff(3),
            f"volatility_{p}": ret.rolling(p, min_periods=p).std(),
            f"rsi_{p}": rsi,
            f"trend_{p}": close / close.rolling(p, min_periods=p).mean() - 1.0,
        }
        visible = pd.DatetimeIndex(close.index) + (length - step)  # each bar's last candle
        for name, values in features.items():
            shown = pd.Series(values.to_numpy(), index=visible)
            out[f"tf{tf}_{name}"] = shown.reindex(candles.index).ffill(limit=k - 1)
    return out

"""Causal technical indicators on pandas Series (one value per candle).

Every function uses only values at or before each row: forward-running
``ewm(adjust=False)`` and trailing ``rolling`` windows, never centred windows, ``bfill``
or statistics of the whole series. The first rows are NaN until each indicator has
seen its ``min_periods``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd


def log(x: pd.Series) -> pd.Series:
    """Natural log of a positive series, as a Series on the same index."""
    return pd.Series(np.log(x.to_numpy(dtype=np.float64)), index=x.index, name=x.name)


def ema(x: pd.Series, span: int) -> pd.Series:
    """Exponential moving average, alpha = 2 / (span + 1), seeded with the first value.

    ``y[0] = x[0]``, ``y[t] = alpha * x[t] + (1 - alpha) * y[t-1]``; NaN for the first
    ``span - 1`` rows.
    """
    return x.ewm(span=span, adjust=False, min_periods=span).mean()


def wilder(x: pd.Series, period: int) -> pd.Series:
    """Wilder's smoothing (RMA), alpha = 1 / period (Wilder, 1978), as used by RSI and ATR."""
    return x.ewm(alpha=1.0 / period, adjust=False, min_periods=period).mean()


def rsi(close: pd.Series, period: int = 14) -> pd.Series:
    """Relative Strength Index in [0, 100] with Wilder's smoothing.

    ``RSI = 100 - 100 / (1 + RMA(gain) / RMA(loss))``; first valid row is ``period``.
    """
    delta = close.diff()
    avg_gain = wilder(delta.clip(lower=0.0), period)
    avg_loss = wilder((-delta).clip(lower=0.0), period)
    with np.errstate(divide="ignore", invalid="ignore"):
        return 100.0 - 100.0 / (1.0 + avg_gain / avg_loss)


def true_range(high: pd.Series, low: pd.Series, close: pd.Series) -> pd.Series:
    """``max(high - low, |high - prev close|, |low - prev close|)``; row 0 is high - low."""
    prev = close.shift(1)
    ranges = pd.concat([high - low, (high - prev).abs(), (low - prev).abs()], axis=1)
    return ranges.max(axis=1, skipna=True)


def atr(high: pd.Series, low: pd.Series, close: pd.Series, period: int = 14) -> pd.Series:
    """Average True Range: Wilder's smoothing of :func:`true_range`, in price units."""
    return wilder(true_range(high, low, close), period)


def macd(
    close: pd.Series, fast: int = 12, slow: int = 26, signal: int = 9
) -> tuple[pd.Series, pd.Series, pd.Series]:
    """MACD (Appel): line = EMA(fast) - EMA(slow), signal = EMA(line, signal), histogram.

    Returns ``(line, signal, histogram)`` in price units.
    """
    line = ema(close, fast) - ema(close, slow)
    sig = ema(line, signal)
    return line, sig, line - sig


def bollinger(
    close: pd.Series, window: int = 20, n_std: float = 2.0
) -> tuple[pd.Series, pd.Series]:
    """Bollinger %B and bandwidth, population standard deviation (ddof=0).

    ``%B = (close - lower) / (upper - lower)``, ``bandwidth = (upper - lower) / middle``
    with ``middle = SMA(close, window)``, ``upper/lower = middle ± n_std * std``.
    """
    middle = close.rolling(window, min_periods=window).mean()
    width = 2.0 * n_std * close.rolling(window, min_periods=window).std(ddof=0)
    lower = middle - width / 2.0
    with np.errstate(divide="ignore", invalid="ignore"):
        return (close - lower) / width, width / middle


def zscore(x: pd.Series, window: int) -> pd.Series:
    """``(x - rolling mean) / rolling std`` over a trailing window (ddof=1)."""
    roll = x.rolling(window, min_periods=window)
    with np.errstate(divide="ignore", invalid="ignore"):
        return (x - roll.mean()) / roll.std()

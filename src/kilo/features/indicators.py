"""Causal technical indicators on numpy arrays (one value per candle, oldest first).

Every function uses only values at or before each row: forward-running
``ewm(adjust=False)`` and trailing windows, never centred windows, ``bfill`` or
statistics of the whole series. The first rows are NaN until each indicator has seen
its window.

Trailing windows follow pandas' ``rolling(window, min_periods=window)``: a window
holding a NaN or ±inf gives NaN, and a window of equal values has exactly its value as
mean and 0 as variance. They are computed afresh per window (two passes over
``sliding_window_view``) instead of pandas' running sums, so a value depends on the
window's numbers alone, not on where the history starts; both agree to ~1e-13
relative. The recursive ones (EMA, Wilder's smoothing) stay pandas' ``ewm``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd

Array = np.ndarray


def epoch_seconds(index: pd.Index) -> Array:
    """A ``DatetimeIndex``'s times as int64 seconds since the epoch (UTC), shape (n,)."""
    times = (
        pd.DatetimeIndex(index, copy=False) if not isinstance(index, pd.DatetimeIndex) else index
    )
    return times.asi8 // {"s": 1, "ms": 10**3, "us": 10**6, "ns": 10**9}[times.unit]


def lag_diff(x: Array, k: int) -> Array:
    """``x[t] - x[t - k]`` along axis 0, shape of ``x``; NaN for the first ``k`` rows."""
    out = np.full(x.shape, np.nan)
    if k < len(x):
        out[k:] = x[k:] - x[: len(x) - k]
    return out


def trailing(x: Array, window: int, stat: Callable[..., Any]) -> Array:
    """``stat(..., axis=1)`` of each trailing ``window`` of ``x``, NaN for the first
    ``window - 1`` rows (and for any window holding a NaN)."""
    out = np.full(len(x), np.nan)
    if len(x) >= window:
        out[window - 1 :] = stat(np.lib.stride_tricks.sliding_window_view(x, window), axis=1)
    return out


def _windows(x: Array, window: int) -> tuple[Array, Array]:
    """The trailing windows of ``x``, shape (n - window + 1, window), ±inf read as NaN
    (as pandas does), and ``flat``, True where a window holds ``window`` equal values
    (pandas' run-of-equal-values rule)."""
    x = np.where(np.isinf(x), np.nan, x)
    if len(x) < window:
        return np.empty((0, window)), np.empty(0, dtype=bool)
    rows = np.arange(len(x))
    changed = np.ones(len(x), dtype=bool)
    changed[1:] = x[1:] != x[:-1]
    starts = np.maximum.accumulate(np.where(changed, rows, 0))
    flat = (rows - starts + 1 >= window)[window - 1 :]
    return np.lib.stride_tricks.sliding_window_view(x, window), flat


def _pad(values: Array, n: int) -> Array:
    """``values`` of the windows ending at rows ``n - len(values)`` .. ``n - 1``,
    preceded by NaN to shape (n,)."""
    out = np.full(n, np.nan)
    out[n - len(values) :] = values
    return out


def rolling_mean(x: Array, window: int) -> Array:
    """Mean of each trailing ``window`` of ``x``, shape of ``x``; a constant window's
    mean is exactly its value."""
    w, flat = _windows(x, window)
    return _pad(np.where(flat, w[:, -1], w.sum(axis=1) / window), len(x))


def rolling_sum(x: Array, window: int) -> Array:
    """Sum of each trailing ``window`` of ``x``, shape of ``x``."""
    return _pad(_windows(x, window)[0].sum(axis=1), len(x))


def rolling_cov(x: Array, y: Array, window: int, ddof: int = 1) -> Array:
    """Covariance of ``x`` and ``y`` over each trailing ``window`` (two passes), shape
    of ``x``; a row missing in either is missing in both (any in a window gives NaN);
    0 where either is constant over the window."""
    same = y is x
    with np.errstate(invalid="ignore"):  # 0 * inf: a missing row
        x, y = x + 0.0 * y, y + 0.0 * x
    wx, flat = _windows(x, window)
    dx = wx - (wx.sum(axis=1) / window)[:, None]
    dy = dx
    if not same:
        wy, flat_y = _windows(y, window)
        dy, flat = wy - (wy.sum(axis=1) / window)[:, None], flat | flat_y
    with np.errstate(invalid="ignore"):
        cov = np.einsum("ij,ij->i", dx, dy) / (window - ddof)
    cov[flat & ~np.isnan(cov)] = 0.0
    return _pad(cov, len(x))


def rolling_var(x: Array, window: int, ddof: int = 1) -> Array:
    """Variance of each trailing ``window`` of ``x``, shape of ``x``; 0 for a constant
    window."""
    return rolling_cov(x, x, window, ddof)


def rolling_std(x: Array, window: int, ddof: int = 1) -> Array:
    """Standard deviation of each trailing ``window`` of ``x``, shape of ``x``; 0 for a
    constant window."""
    return np.sqrt(rolling_var(x, window, ddof))


def ffill(x: Array, limit: int | None) -> Array:
    """Forward-fill NaN along axis 0 for at most ``limit`` rows (None: no limit), as
    pandas' ``ffill(limit=...)``; a new array of the shape of ``x``."""
    rows = np.arange(len(x)).reshape(-1, *([1] * (x.ndim - 1)))
    last = np.maximum.accumulate(np.where(np.isnan(x), -1, rows), axis=0)
    take = (last >= 0) & (rows - last <= (len(x) if limit is None else limit))
    return np.where(take, np.take_along_axis(x, last.clip(0), axis=0), x)


def _ewm(x: Array, **kwargs: Any) -> Array:
    return pd.Series(x, copy=False).ewm(adjust=False, **kwargs).mean().to_numpy()


def ema(x: Array, span: int) -> Array:
    """Exponential moving average, alpha = 2 / (span + 1), seeded with the first value.

    ``y[0] = x[0]``, ``y[t] = alpha * x[t] + (1 - alpha) * y[t-1]``; NaN for the first
    ``span - 1`` rows (pandas' ``ewm(adjust=False)``: leading NaN are skipped).
    """
    return _ewm(x, span=span, min_periods=span)


def wilder(x: Array, period: int) -> Array:
    """Wilder's smoothing (RMA), alpha = 1 / period (Wilder, 1978), as used by RSI and ATR."""
    return _ewm(x, alpha=1.0 / period, min_periods=period)


def rsi(close: Array, period: int = 14) -> Array:
    """Relative Strength Index in [0, 100] with Wilder's smoothing.

    ``RSI = 100 - 100 / (1 + RMA(gain) / RMA(loss))``; first valid row is ``period``.
    """
    delta = lag_diff(close, 1)
    avg_gain = wilder(np.clip(delta, 0.0, None), period)
    avg_loss = wilder(np.clip(-delta, 0.0, None), period)
    with np.errstate(divide="ignore", invalid="ignore"):
        return 100.0 - 100.0 / (1.0 + avg_gain / avg_loss)


def true_range(high: Array, low: Array, close: Array) -> Array:
    """``max(high - low, |high - prev close|, |low - prev close|)``; row 0 is high - low."""
    prev = np.full(len(close), np.nan)
    prev[1:] = close[:-1]
    return np.fmax(np.fmax(high - low, np.abs(high - prev)), np.abs(low - prev))


def atr(high: Array, low: Array, close: Array, period: int = 14) -> Array:
    """Average True Range: Wilder's smoothing of :func:`true_range`, in price units."""
    return wilder(true_range(high, low, close), period)


def macd(
    close: Array, fast: int = 12, slow: int = 26, signal: int = 9
) -> tuple[Array, Array, Array]:
    """MACD (Appel): line = EMA(fast) - EMA(slow), signal = EMA(line, signal), histogram.

    Returns ``(line, signal, histogram)`` in price units.
    """
    line = ema(close, fast) - ema(close, slow)
    sig = ema(line, signal)
    return line, sig, line - sig


def bollinger(close: Array, window: int = 20, n_std: float = 2.0) -> tuple[Array, Array]:
    """Bollinger %B and bandwidth, population standard deviation (ddof=0).

    ``%B = (close - lower) / (upper - lower)``, ``bandwidth = (upper - lower) / middle``
    with ``middle = SMA(close, window)``, ``upper/lower = middle ± n_std * std``.
    """
    middle = rolling_mean(close, window)
    width = 2.0 * n_std * rolling_std(close, window, ddof=0)
    lower = middle - width / 2.0
    with np.errstate(divide="ignore", invalid="ignore"):
        return (close - lower) / width, width / middle


def zscore(x: Array, window: int) -> Array:
    """``(x - rolling mean) / rolling std`` over a trailing window (ddof=1)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        return (x - rolling_mean(x, window)) / rolling_std(x, window)

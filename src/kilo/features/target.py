"""Labels: what the regressors learn, and how much each label is worth.

The one place that looks ahead, by design: label ``t`` is made from closes after ``t``.
Kinds (``target.kind``), after López de Prado, *Advances in Financial Machine
Learning* (2018), ch. 3-4:

- ``log_return``: ``log(close[t + h] / close[t])``;
- ``vol_scaled``: that return over ``sigma_t * sqrt(h)``, with ``sigma_t`` the standard
  deviation of the last ``volatility_window`` 1-bar log returns (known at t);
- ``triple_barrier``: +1 if ``log(close[t + j] / close[t])`` reaches
  ``+take_profit * sigma_t * sqrt(h)`` before ``-stop_loss * sigma_t * sqrt(h)`` within
  ``j <= h`` bars, -1 if the lower barrier comes first, 0 if neither (time barrier).

A label spans the bars from ``t + 1`` to its end (``t + h``, or the barrier touch);
overlapping spans share information, which :func:`average_uniqueness` weighs down.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from kilo.config import TargetConfig
from kilo.config.markets import bars_per_year
from kilo.errors import DataError


@dataclass(frozen=True)
class Labels:
    """Labels of every candle and what they are made of.

    Attributes
    ----------
    values : Series (n,), float64, the label (NaN where not defined: warm-up, last h)
    forward_return : Series (n,), float64, ``log(close[t + h] / close[t])`` whatever the kind
    end : ndarray (n,), int64, row position of each label's last bar (-1 if undefined)
    """

    values: pd.Series
    forward_return: pd.Series
    end: np.ndarray


def _log_price(candles: pd.DataFrame, column: str = "close") -> np.ndarray:
    """Log of the ``column`` prices, shape (n,).

    Raises
    ------
    DataError
        If the column is missing or has non-positive values.
    """
    if column not in candles.columns:
        raise DataError(f"candles lack the {column} column")
    prices = candles[column].to_numpy(dtype=np.float64)
    if (prices <= 0).any():
        raise DataError(f"{column} has non-positive values; validate the candles first")
    return np.log(prices)


def forward_log_return(candles: pd.DataFrame, horizon: int = 1) -> pd.Series:
    """Forward log return over ``horizon`` bars: ``log(close[t + horizon] / close[t])``.

    Returns
    -------
    pd.Series of shape (n_candles,), float64, indexed like ``candles``; the last
    ``horizon`` values are NaN and must be dropped from training, never filled.

    Raises
    ------
    DataError
        If ``close`` is missing or has non-positive values, or ``horizon < 1``.
    """
    if horizon < 1:
        raise DataError(f"horizon must be >= 1 bar, got {horizon}")
    log_c = _log_price(candles)
    out = np.full(len(log_c), np.nan)
    out[:-horizon] = log_c[horizon:] - log_c[:-horizon]
    return pd.Series(out, index=candles.index, name=f"forward_log_return_{horizon}")


def held_log_return(candles: pd.DataFrame, horizon: int) -> pd.Series:
    """What a position opened on the signal at bar t and held ``horizon`` bars earns:
    ``log(open[t + 1 + horizon] / open[t + 1])``, before costs.

    The simulator fills a decision taken at t's close at the next bar's open, so this,
    not a label, is the return a forecast made at t is paid on (DESIGN.md invariant 9).

    Returns
    -------
    pd.Series of shape (n_candles,), float64, indexed like ``candles``; the last
    ``horizon + 1`` values are NaN.

    Raises
    ------
    DataError
        If ``open`` is missing or has non-positive values, or ``horizon < 1``.
    """
    if horizon < 1:
        raise DataError(f"horizon must be >= 1 bar, got {horizon}")
    log_o = _log_price(candles, "open")
    out = np.full(len(log_o), np.nan)
    held = max(len(log_o) - horizon - 1, 0)
    out[:held] = log_o[horizon + 1 :] - log_o[1 : held + 1]
    return pd.Series(out, index=candles.index, name=f"held_log_return_{horizon}")


def trailing_volatility(candles: pd.DataFrame, window: int, annualise: bool = False) -> pd.Series:
    """Standard deviation (ddof=1) of the last ``window`` 1-bar log returns, known at t.

    ``annualise`` multiplies by the square root of bars per 365-day year, inferred from
    the candles' spacing. NaN for the first ``window`` rows.
    """
    returns = pd.Series(np.diff(_log_price(candles), prepend=np.nan), index=candles.index)
    vol = returns.rolling(window, min_periods=window).std()
    if annualise and len(candles) > 1:
        spacing = (candles.index[1] - candles.index[0]).total_seconds()
        vol = vol * np.sqrt(bars_per_year(int(spacing)))
    return vol


def _triple_barrier(
    log_c: np.ndarray, width: np.ndarray, spec: TargetConfig
) -> tuple[np.ndarray, np.ndarray]:
    """Outcome and end row of the triple barrier from each row (NaN/-1 where undefined)."""
    n, h = len(log_c), spec.horizon
    values, end = np.full(n, np.nan), np.full(n, -1, dtype=np.int64)
    rows = np.flatnonzero(np.isfinite(width[: n - h]) & (width[: n - h] > 0))
    path = np.stack([log_c[rows + j] - log_c[rows] for j in range(1, h + 1)], axis=1)
    up = path >= (spec.take_profit * width[rows])[:, None]
    down = path <= -(spec.stop_loss * width[rows])[:, None]
    first_up = np.where(up.any(axis=1), up.argmax(axis=1), h)
    first_down = np.where(down.any(axis=1), down.argmax(axis=1), h)
    values[rows] = np.where(first_up < first_down, 1.0, np.where(first_down < first_up, -1.0, 0.0))
    end[rows] = rows + np.minimum(np.minimum(first_up, first_down) + 1, h)
    return values, end


def make_labels(candles: pd.DataFrame, spec: TargetConfig) -> Labels:
    """Labels of ``spec.kind`` over ``spec.horizon`` bars for every candle.

    Raises
    ------
    DataError
        If ``close`` is missing or has non-positive values.
    """
    h = spec.horizon
    forward = forward_log_return(candles, h)
    n = len(candles)
    end = np.where(np.arange(n) < n - h, np.arange(n) + h, -1)
    if spec.kind == "log_return":
        return Labels(forward.rename(f"target_log_return_{h}"), forward, end)
    width = (trailing_volatility(candles, spec.volatility_window) * np.sqrt(h)).to_numpy()
    if spec.kind == "vol_scaled":
        with np.errstate(divide="ignore", invalid="ignore"):
            scaled = np.where(width > 0, forward.to_numpy() / width, np.nan)
        end = np.where(np.isfinite(scaled), end, -1)
        return Labels(
            pd.Series(scaled, index=candles.index, name=f"target_vol_scaled_{h}"), forward, end
        )
    values, end = _triple_barrier(_log_price(candles), width, spec)
    return Labels(
        pd.Series(values, index=candles.index, name=f"target_triple_barrier_{h}"), forward, end
    )


def outage_runs(filled: np.ndarray) -> np.ndarray:
    """Length of the run of filled (outage) candles ending at each row; 0 on real ones.

    Parameters
    ----------
    filled
        Shape (n,), bool: candles :func:`kilo.data.validate_candles` inserted for gaps.

    Returns
    -------
    ndarray of shape (n,), int64.
    """
    flags = np.asarray(filled, dtype=bool).astype(np.int64)
    total = np.cumsum(flags)
    at_last_real = np.maximum.accumulate(np.where(flags == 0, total, 0))
    return total - at_last_real


def outage_labels(filled: np.ndarray, horizon: int, limit: int) -> np.ndarray:
    """Rows whose label must not exist because of an outage: the label would start or end
    on a filled candle, or span a run of more than ``limit`` filled candles.

    Parameters
    ----------
    filled
        Shape (n,), bool, as :func:`outage_runs`.
    horizon
        The label's bars.
    limit
        ``features.ffill_limit``: the longest gap a label may cross.

    Returns
    -------
    ndarray of shape (n,), bool: True where the label is dropped.
    """
    filled = np.asarray(filled, dtype=bool)
    n = len(filled)
    long = pd.Series(outage_runs(filled) > limit)
    crossed = long.rolling(horizon, min_periods=1).max().to_numpy().astype(bool)  # rows t-h+1..t
    bad = filled.copy()
    bad[: n - horizon] |= filled[horizon:] | crossed[horizon:]
    return bad


def average_uniqueness(start: np.ndarray, end: np.ndarray) -> np.ndarray:
    """Average uniqueness of labels spanning bars ``start[i] .. end[i]`` (inclusive).

    López de Prado (2018), section 4.4: with ``c_u`` the number of labels whose span
    holds bar ``u``, label i's uniqueness is the mean of ``1 / c_u`` over its span. One
    label alone scores 1; h fully overlapping labels score 1/h each.

    Parameters
    ----------
    start, end
        Shape (n,), int, first and last bar (row positions) of each label's span.

    Returns
    -------
    ndarray of shape (n,), float64, in (0, 1].
    """
    start, end = np.asarray(start, dtype=np.int64), np.asarray(end, dtype=np.int64)
    if len(start) == 0:
        return np.empty(0)
    offset = start.min()
    size = int(end.max() - offset + 2)
    count = np.zeros(size)
    np.add.at(count, start - offset, 1.0)
    np.add.at(count, end - offset + 1, -1.0)
    inverse = np.concatenate([[0.0], np.cumsum(1.0 / np.maximum(np.cumsum(count), 1.0))])
    return (inverse[end - offset + 1] - inverse[start - offset]) / (end - start + 1)

"""Data alignment: catch candle files whose bars sit at the wrong time, before anything
reads them.

Two faults no feature-level check can see (a row cut at t still holds the wrong bar):

- a **context symbol shifted in time**: its file's bar t holds another bar's values. Two
  crypto symbols' 1-bar returns move together at the same bar (correlation 0.5-0.9) and
  hardly at adjacent bars, so :func:`check_context_alignment` finds the lag of their
  peak correlation over ``-MAX_LAG .. MAX_LAG``; a peak away from 0 is an error.
- the symbol's **close one bar off** its open, high and low (a vendor's misalignment):
  a bar's close and the next bar's open are then a whole bar apart.
  :func:`check_own_alignment` compares the median gap ``|log(open[t + 1] / close[t])|``
  with the median body ``|log(close[t] / open[t])|``: on an exchange's own candles the
  gap is ~0 (the next bar opens at the last trade).

Both are O(n) in the bars; candles filled for outages are left out.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import numpy as np
import pandas as pd

from kilo.config import DataConfig
from kilo.data.symbols import find_candle_file
from kilo.data.validate import FILLED
from kilo.errors import DataError

#: Lags (bars) of the context check, each way.
MAX_LAG = 3
#: A peak away from lag 0 counts when it exceeds |corr| at lag 0 by this many standard
#: errors of a correlation (1 / sqrt(n)).
PEAK_STANDARD_ERRORS = 5.0
#: The median gap from a close to the next open may be at most this share of the
#: median bar body.
GAP_SHARE = 0.25
#: Fewer common bars than this: the context check says nothing (too short to tell).
MIN_BARS = 500


def _log_returns(candles: pd.DataFrame, index: pd.Index) -> np.ndarray:
    """1-bar close-to-close log returns on ``index`` (n,), NaN where either bar is
    missing or filled for an outage."""
    frame = candles.reindex(index)
    close = np.log(frame["close"].to_numpy(dtype=np.float64))
    if FILLED in frame.columns:
        close[frame[FILLED].fillna(True).to_numpy(dtype=bool)] = np.nan
    return np.concatenate([[np.nan], np.diff(close)])


def lag_correlations(a: np.ndarray, b: np.ndarray, max_lag: int = MAX_LAG) -> dict[int, float]:
    """Pearson correlation of ``a[t + lag]`` with ``b[t]`` for lag in -max_lag .. max_lag
    (a peak at lag l > 0: ``b``'s bar t holds ``a``'s bar t + l, ``b`` is l bars early).

    Parameters
    ----------
    a, b
        Shape (n,), aligned series (NaN where missing; pairs with a NaN are left out).

    Returns
    -------
    ``{lag: corr}`` (NaN where fewer than :data:`MIN_BARS` pairs remain).
    """
    out = {}
    n = len(a)
    for lag in range(-max_lag, max_lag + 1):
        x = a[max(0, lag) : n - max(0, -lag)]
        y = b[max(0, -lag) : n - max(0, lag)]
        ok = np.isfinite(x) & np.isfinite(y)
        out[lag] = float(np.corrcoef(x[ok], y[ok])[0, 1]) if ok.sum() >= MIN_BARS else np.nan
    return out


def _name(data: DataConfig | None, symbol: str) -> str:
    """The symbol's candle file where ``data`` finds one, else the symbol."""
    if data is None:
        return symbol
    try:
        return str(find_candle_file(Path(data.dir), data.exchange, symbol, data.timeframe))
    except DataError:
        return symbol


def check_context_alignment(
    symbol: str,
    candles: pd.DataFrame,
    context: Mapping[str, pd.DataFrame],
    data: DataConfig | None = None,
) -> None:
    """Each context symbol's 1-bar returns peak in correlation with the symbol's at lag 0.

    Parameters
    ----------
    candles, context
        Validated candles (UTC open-time index) of ``symbol`` and of the symbols its
        features read; ``data`` (optional) names their files in the message.

    Raises
    ------
    DataError
        If a context symbol's returns correlate more with the symbol's at a lag
        ``l != 0`` (``corr(r_symbol[t + l], r_context[t])``: its bar t holds bar t + l)
        than at 0 by more than
        :data:`PEAK_STANDARD_ERRORS`; the message names the file and the lag.
    """
    own = _log_returns(candles, candles.index)
    for other, frame in context.items():
        corr = lag_correlations(own, _log_returns(frame, candles.index))
        if not np.isfinite(corr[0]):
            continue
        n = int(np.isfinite(own).sum())
        peak = max((lag for lag in corr if lag != 0), key=lambda lag: abs(corr[lag]))
        if abs(corr[peak]) > abs(corr[0]) + PEAK_STANDARD_ERRORS / np.sqrt(n):
            when = "early" if peak > 0 else "late"
            raise DataError(
                f"{_name(data, other)}: its bars are {abs(peak)} bar(s) {when} against "
                f"{symbol}'s ({_name(data, symbol)}): 1-bar returns correlate "
                f"{corr[peak]:+.2f} at lag {peak:+d} and {corr[0]:+.2f} at lag 0. Fix or "
                "re-download the file before evaluating"
            )


def check_own_alignment(symbol: str, candles: pd.DataFrame, data: DataConfig | None = None) -> None:
    """The symbol's close and next open meet: the median gap is a small share of a bar.

    Raises
    ------
    DataError
        If the median ``|log(open[t + 1] / close[t])|`` exceeds :data:`GAP_SHARE` of the
        median ``|log(close[t] / open[t])|`` (bars neither filled nor flat).
    """
    o = np.log(candles["open"].to_numpy(dtype=np.float64))
    c = np.log(candles["close"].to_numpy(dtype=np.float64))
    filled = (
        candles[FILLED].to_numpy(dtype=bool)
        if FILLED in candles.columns
        else np.zeros(len(candles), dtype=bool)
    )
    gap = np.abs(o[1:] - c[:-1])[~(filled[1:] | filled[:-1])]
    body = np.abs(c - o)[~filled]
    body = body[body > 0]
    if len(body) < MIN_BARS:
        return
    gap_median, body_median = float(np.median(gap)), float(np.median(body))
    if gap_median > GAP_SHARE * body_median:
        raise DataError(
            f"{_name(data, symbol)}: a bar's close and the next bar's open are "
            f"{gap_median:.2e} apart (median log gap) against a median bar body of "
            f"{body_median:.2e}: the close column is likely a bar off its open, high and "
            "low. Fix or re-download the file before evaluating"
        )


def check_alignment(
    symbol: str,
    candles: pd.DataFrame,
    context: Mapping[str, pd.DataFrame],
    data: DataConfig | None = None,
) -> None:
    """:func:`check_own_alignment` of the symbol and every context symbol, then
    :func:`check_context_alignment`.

    Raises
    ------
    DataError
        If a file's bars are misaligned (the message names the file and the lag).
    """
    check_own_alignment(symbol, candles, data)
    for other, frame in context.items():
        check_own_alignment(other, frame, data)
    check_context_alignment(symbol, candles, context, data)

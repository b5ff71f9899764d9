"""The regression target: forward log return."""

from __future__ import annotations

import numpy as np
import pandas as pd

from kilo.errors import DataError


def make_target(candles: pd.DataFrame, horizon: int = 1) -> pd.Series:
    """Forward log return over ``horizon`` bars: ``log(close[t + horizon] / close[t])``.

    This is the one place that looks ahead, by design: it is the label for row ``t``.

    Returns
    -------
    pd.Series of shape (n_candles,), float64, log return per ``horizon`` bars, indexed
    like ``candles``, named ``target_log_ret_{horizon}``; the last ``horizon`` values
    are NaN and must be dropped from training, never filled.

    Raises
    ------
    DataError
        If ``close`` is missing or has non-positive values, or ``horizon < 1``.
    """
    if horizon < 1:
        raise DataError(f"horizon must be >= 1 bar, got {horizon}")
    if "close" not in candles.columns:
        raise DataError("candles lack the close column")
    close = candles["close"].astype("float64")
    if (close <= 0).any():
        raise DataError("close has non-positive values; validate the candles first")
    log_c = np.log(close)
    return (log_c.shift(-horizon) - log_c).rename(f"target_log_ret_{horizon}")

"""Candle data: reading, validation and download.

:func:`load_candles` is the one entry point for the rest of Kilo.
"""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import pandas as pd

from kilo.config import DataConfig
from kilo.config.markets import utc_timestamp
from kilo.data.readers import read_binance_csv, read_cryptodatadownload_csv, read_freqtrade
from kilo.data.symbols import find_candle_file, pair_name, timeframe_delta, timeframe_seconds
from kilo.data.validate import FILLED, ValidationReport, validate_candles
from kilo.errors import DataError

logger = logging.getLogger(__name__)

__all__ = [
    "FILLED",
    "ValidationReport",
    "load_candles",
    "load_config_candles",
    "pair_name",
    "read_binance_csv",
    "read_cryptodatadownload_csv",
    "read_freqtrade",
    "timeframe_delta",
    "timeframe_seconds",
    "validate_candles",
]


def load_candles(
    data_dir: str | Path,
    exchange: str,
    symbol: str,
    timeframe: str,
    *,
    start: str | None = None,
    end: str | None = None,
) -> pd.DataFrame:
    """Load and validate candles from ``{data_dir}/{exchange}/{BASE}_{QUOTE}-{timeframe}.*``.

    ``start`` / ``end`` (UTC dates, e.g. ``2021-01-01``) keep the candles that open in
    ``[start, end)``; the window is cut after validation, so a gap at its edge is
    handled as inside the history.

    Returns
    -------
    pandas.DataFrame
        Indexed by ``date``: a UTC ``DatetimeIndex`` of candle open times on a regular
        ``timeframe`` grid; columns open, high, low, close (float64, quote currency),
        volume (float64, base currency) and ``filled`` (bool, True for candles
        inserted for gaps). Fixes made are logged at WARNING level.

    Raises
    ------
    DataError
        If the file is missing, unreadable, empty or lacks a column, or no candle lies
        in the window.
    """
    path = find_candle_file(Path(data_dir), exchange, symbol, timeframe)
    frame, report = validate_candles(read_freqtrade(path), timeframe, source=str(path))
    if not report.clean:
        logger.warning("%s: %s", path, report.as_dict())
    if start is None and end is None:
        return frame
    index = pd.DatetimeIndex(frame.index)
    keep = np.ones(len(frame), dtype=bool)
    if start is not None:
        keep &= index >= utc_timestamp(start)
    if end is not None:
        keep &= index < utc_timestamp(end)
    if not keep.any():
        raise DataError(
            f"{path}: no candle in the window data.start={start} .. data.end={end}; the "
            f"file spans {index[0]:%Y-%m-%d} .. {index[-1]:%Y-%m-%d}"
        )
    return frame.loc[keep]


def load_config_candles(data: DataConfig, symbol: str) -> pd.DataFrame:
    """:func:`load_candles` of the configured folder, exchange, timeframe and window."""
    return load_candles(
        data.dir, data.exchange, symbol, data.timeframe, start=data.start, end=data.end
    )

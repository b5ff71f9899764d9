"""Candle data: reading, validation and download.

:func:`load_candles` is the one entry point for the rest of Kilo.
"""

from __future__ import annotations

import logging
from pathlib import Path

import pandas as pd

from kilo.data.readers import read_binance_csv, read_cryptodatadownload_csv, read_freqtrade
from kilo.data.symbols import find_candle_file, pair_name, timeframe_delta, timeframe_seconds
from kilo.data.validate import FILLED, ValidationReport, validate_candles

logger = logging.getLogger(__name__)

__all__ = [
    "FILLED",
    "ValidationReport",
    "load_candles",
    "pair_name",
    "read_binance_csv",
    "read_cryptodatadownload_csv",
    "read_freqtrade",
    "timeframe_delta",
    "timeframe_seconds",
    "validate_candles",
]


def load_candles(data_dir: str | Path, exchange: str, symbol: str, timeframe: str) -> pd.DataFrame:
    """Load and validate candles from ``{data_dir}/{exchange}/{BASE}_{QUOTE}-{timeframe}.*``.

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
        If the file is missing, unreadable, empty or lacks a column.
    """
    path = find_candle_file(Path(data_dir), exchange, symbol, timeframe)
    frame, report = validate_candles(read_freqtrade(path), timeframe, source=str(path))
    if not report.clean:
        logger.warning("%s: %s", path, report.as_dict())
    return frame

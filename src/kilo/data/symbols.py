"""Symbol, timeframe and file-name conventions (DESIGN.md invariant 5).

Symbols use ccxt's unified form ``BTC/USDT``; files use ``BTC_USDT``; the freqtrade
layout is ``{data_dir}/{exchange}/{BASE}_{QUOTE}-{timeframe}.{ext}``.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from kilo.config.markets import normalize_symbol, timeframe_seconds
from kilo.errors import DataError

CANDLE_SUFFIXES = (".feather", ".parquet", ".json")

__all__ = [
    "CANDLE_SUFFIXES",
    "candle_path",
    "find_candle_file",
    "normalize_symbol",
    "pair_name",
    "timeframe_delta",
    "timeframe_seconds",
]


def pair_name(symbol: str) -> str:
    """``"BTC/USDT"`` (or ``"BTCUSDT"``, see :func:`normalize_symbol`) -> ``"BTC_USDT"``.

    Raises
    ------
    ConfigError
        If ``symbol`` is in no accepted form.
    """
    return normalize_symbol(symbol).replace("/", "_")


def timeframe_delta(timeframe: str) -> pd.Timedelta:
    """Length of one candle as a ``pandas.Timedelta``."""
    return pd.Timedelta(seconds=timeframe_seconds(timeframe))


def candle_path(data_dir: Path, exchange: str, symbol: str, timeframe: str, suffix: str) -> Path:
    """Path of a candle file in freqtrade's layout for one suffix (``.feather``...)."""
    return Path(data_dir) / exchange / f"{pair_name(symbol)}-{timeframe}{suffix}"


def find_candle_file(data_dir: Path, exchange: str, symbol: str, timeframe: str) -> Path:
    """The existing candle file for (exchange, symbol, timeframe), feather first.

    Raises
    ------
    DataError
        If no file with a known suffix exists; the message lists the paths tried.
    """
    tried = [candle_path(data_dir, exchange, symbol, timeframe, s) for s in CANDLE_SUFFIXES]
    for path in tried:
        if path.is_file():
            return path
    csv = candle_path(data_dir, exchange, symbol, timeframe, ".csv")
    hint = (
        f" {csv} exists, but CSV is not read here: convert it to feather, parquet or json "
        "(kilo.data.read_binance_csv and read_cryptodatadownload_csv read the two usual "
        "CSV dumps)."
        if csv.is_file()
        else ""
    )
    raise DataError(
        f"no candles for {symbol} {timeframe} on {exchange}: tried "
        + ", ".join(str(p) for p in tried)
        + " (freqtrade's formats: feather, parquet, json; not CSV)."
        + hint
        + " Run scripts/download_data.py, or point --data-dir / KILO_DATA_DIR at a folder "
        "in freqtrade's layout."
    )

"""Symbol, timeframe and file-name conventions (DESIGN.md invariant 5).

Symbols use ccxt's unified form ``BTC/USDT``; files use ``BTC_USDT``; the freqtrade
layout is ``{data_dir}/{exchange}/{BASE}_{QUOTE}-{timeframe}.{ext}``.
"""

from __future__ import annotations

from pathlib import Path

import ccxt
import pandas as pd

from kilo.errors import ConfigError, DataError

CANDLE_SUFFIXES = (".feather", ".parquet", ".json")


def pair_name(symbol: str) -> str:
    """``"BTC/USDT"`` -> ``"BTC_USDT"``.

    Raises
    ------
    ConfigError
        If ``symbol`` is not of the form ``BASE/QUOTE``.
    """
    base, sep, quote = symbol.partition("/")
    if not sep or not base or not quote or "/" in quote:
        raise ConfigError(f"symbol {symbol!r} is not in ccxt's unified form, e.g. BTC/USDT")
    return f"{base}_{quote}"


def timeframe_seconds(timeframe: str) -> int:
    """Length of one candle in seconds, e.g. ``"1h"`` -> 3600 (ccxt's parser).

    Raises
    ------
    ConfigError
        If ccxt does not understand ``timeframe``.
    """
    try:
        return int(ccxt.Exchange.parse_timeframe(timeframe))
    except Exception as exc:  # ccxt raises NotSupported or ValueError/KeyError
        raise ConfigError(f"timeframe {timeframe!r} is not valid (use e.g. 15m, 1h, 4h)") from exc


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
    raise DataError(
        f"no candles for {symbol} {timeframe} on {exchange}: tried "
        + ", ".join(str(p) for p in tried)
        + ". Run scripts/download_data.py, or point --data-dir / KILO_DATA_DIR at a folder "
        "in freqtrade's layout."
    )

"""Readers for candle files; each returns raw OHLCV rows, unvalidated.

Every reader returns a DataFrame with columns ``date`` (UTC, candle open time),
``open``, ``high``, ``low``, ``close``, ``volume`` (float64). Validation
(sorting, duplicates, gaps) is :func:`kilo.data.validate.validate_candles`'s job.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd

from kilo.errors import DataError

OHLCV = ["open", "high", "low", "close", "volume"]
COLUMNS = ["date", *OHLCV]


def _finish(frame: pd.DataFrame, path: Path) -> pd.DataFrame:
    """Check the columns, coerce dtypes and return ``COLUMNS`` only."""
    frame = frame.rename(columns=str.lower)
    missing = [c for c in COLUMNS if c not in frame.columns]
    if missing:
        raise DataError(f"{path}: missing column(s) {missing}; found {list(frame.columns)}")
    if frame.empty:
        raise DataError(f"{path}: the file holds no candles")
    out = frame[COLUMNS].copy()
    try:
        out[OHLCV] = out[OHLCV].astype("float64")
    except (TypeError, ValueError) as exc:
        raise DataError(f"{path}: OHLCV columns are not numeric: {exc}") from exc
    if not isinstance(out["date"].dtype, pd.DatetimeTZDtype):
        out["date"] = pd.to_datetime(out["date"], utc=True)
    out["date"] = out["date"].dt.tz_convert("UTC").astype("datetime64[ns, UTC]")
    return out.reset_index(drop=True)


def _epoch_to_utc(values: pd.Series) -> pd.Series:
    """Epoch numbers in s, ms or µs (told apart by magnitude) -> UTC timestamps.

    Binance dumps switched from ms to µs in 2025; older CryptoDataDownload files use s.
    """
    values = values.astype("int64")
    ms = np.where(values > 10**14, values // 1000, np.where(values < 10**11, values * 1000, values))
    return pd.Series(pd.to_datetime(ms, unit="ms", utc=True), index=values.index)


def _freqtrade_json(path: Path) -> pd.DataFrame:
    """freqtrade's json: a list of ``[ms, open, high, low, close, volume]`` rows.

    Raises
    ------
    DataError
        If a row has another length; the message names the missing columns.
    """
    rows = json.loads(path.read_text())
    if not rows:
        return pd.DataFrame(columns=COLUMNS)
    widths = (
        {len(r) if isinstance(r, list) else -1 for r in rows} if isinstance(rows, list) else {-1}
    )
    if widths != {len(COLUMNS)}:
        short = [COLUMNS[w:] for w in sorted(widths) if 0 <= w < len(COLUMNS)]
        raise DataError(
            f"{path}: freqtrade's json is a list of [date (epoch ms), open, high, low, close, "
            f"volume] rows; found rows of {sorted(w for w in widths if w >= 0)} values"
            + (f", so {short[0]} are missing" if short else "")
        )
    frame = pd.DataFrame(rows, columns=COLUMNS)
    frame["date"] = _epoch_to_utc(frame["date"])
    return frame


def read_freqtrade(path: Path) -> pd.DataFrame:
    """Read a freqtrade candle file: ``.feather``, ``.parquet`` or ``.json``.

    freqtrade's json is a list of ``[ms, open, high, low, close, volume]``.

    Raises
    ------
    DataError
        If the file is unreadable, empty, of an unknown suffix or lacks a column.
    """
    path = Path(path)
    try:
        if path.suffix == ".feather":
            frame = pd.read_feather(path)
        elif path.suffix == ".parquet":
            frame = pd.read_parquet(path)
        elif path.suffix == ".json":
            frame = _freqtrade_json(path)
        else:
            raise DataError(f"{path}: unknown candle file type {path.suffix!r}")
    except DataError:
        raise
    except Exception as exc:  # pyarrow, json and OS errors all mean "unreadable"
        raise DataError(f"{path}: unreadable candle file ({type(exc).__name__}: {exc})") from exc
    return _finish(frame, path)


def read_binance_csv(path: Path) -> pd.DataFrame:
    """Read a Binance kline CSV dump (data.binance.vision): no header, epoch ms or µs.

    Columns are open time, open, high, low, close, volume, then close time and
    others that are ignored.

    Raises
    ------
    DataError
        If the file is unreadable, empty or has fewer than six columns.
    """
    path = Path(path)
    try:
        frame = pd.read_csv(path, header=None)
    except Exception as exc:
        raise DataError(f"{path}: unreadable Binance CSV ({type(exc).__name__}: {exc})") from exc
    if frame.shape[1] < 6:
        raise DataError(f"{path}: a Binance kline CSV needs at least 6 columns")
    frame = frame.iloc[:, :6]
    frame.columns = COLUMNS
    if not pd.api.types.is_numeric_dtype(frame["date"]):
        raise DataError(f"{path}: first column must be the open time in epoch ms or µs")
    frame["date"] = _epoch_to_utc(frame["date"])
    return _finish(frame, path)


def read_cryptodatadownload_csv(path: Path) -> pd.DataFrame:
    """Read a CryptoDataDownload CSV: a URL line, then a header, newest row first.

    The volume column is the one named ``Volume <BASE>`` (base currency).

    Raises
    ------
    DataError
        If the file is unreadable or lacks the date/OHLC/base-volume columns.
    """
    path = Path(path)
    try:
        frame = pd.read_csv(path, skiprows=1)
    except Exception as exc:
        raise DataError(f"{path}: unreadable CryptoDataDownload CSV ({exc})") from exc
    frame.columns = [str(c).strip().lower() for c in frame.columns]
    base_volume = [c for c in frame.columns if c.startswith("volume") and "usd" not in c]
    if base_volume:
        frame = frame.rename(columns={base_volume[0]: "volume"})
    if "unix" in frame.columns:
        frame["date"] = _epoch_to_utc(frame["unix"])
    return _finish(frame, path)

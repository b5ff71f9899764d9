"""Candle validation: sort, de-duplicate, drop impossible rows, fill gaps on the grid."""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np
import pandas as pd

from kilo.data.readers import OHLCV
from kilo.data.symbols import timeframe_delta
from kilo.errors import DataError

FILLED = "filled"


@dataclass(frozen=True)
class ValidationReport:
    """What :func:`validate_candles` changed; counts are candles (rows)."""

    rows_in: int
    rows_out: int
    duplicates_dropped: int
    invalid_dropped: int
    gaps: int
    longest_gap: int
    filled: int
    misaligned_dropped: int

    @property
    def clean(self) -> bool:
        """True when nothing had to be changed."""
        return self.rows_in == self.rows_out and self.filled == 0

    def as_dict(self) -> dict[str, int]:
        return asdict(self)


def validate_candles(
    raw: pd.DataFrame, timeframe: str, source: str = "candles"
) -> tuple[pd.DataFrame, ValidationReport]:
    """Clean raw OHLCV rows onto the timeframe grid.

    Steps: sort by date; drop duplicate timestamps (keep last); drop rows with NaN or
    non-positive prices, negative or NaN volume, ``high < max(open, close)`` or
    ``low > min(open, close)``; drop rows off the timeframe grid; fill each missing
    candle with the previous close as open/high/low/close and volume 0, marked in the
    boolean column ``filled``.

    Parameters
    ----------
    raw
        Columns ``date`` (UTC), ``open``, ``high``, ``low``, ``close``, ``volume``.
    timeframe
        ccxt timeframe string, e.g. ``"1h"``.
    source
        Name used in error messages (usually the file path).

    Returns
    -------
    (frame, report)
        ``frame`` has a UTC ``DatetimeIndex`` named ``date`` on a regular grid with
        columns open, high, low, close, volume (float64, quote-currency prices, base
        volume) and ``filled`` (bool). The input is not modified.

    Raises
    ------
    DataError
        If ``raw`` lacks a column, or no valid candle remains.
    """
    missing = [c for c in ["date", *OHLCV] if c not in raw.columns]
    if missing:
        raise DataError(f"{source}: missing column(s) {missing}")
    rows_in = len(raw)
    frame = raw.sort_values("date", kind="stable")
    deduped = frame.drop_duplicates("date", keep="last")
    duplicates = len(frame) - len(deduped)

    o, h, lo, c, v = (deduped[k].to_numpy(dtype="float64") for k in OHLCV)
    with np.errstate(invalid="ignore"):
        valid = (
            np.isfinite(o)
            & np.isfinite(h)
            & np.isfinite(lo)
            & np.isfinite(c)
            & (o > 0)
            & (h > 0)
            & (lo > 0)
            & (c > 0)
            & np.isfinite(v)
            & (v >= 0)
            & (h >= np.maximum(o, c))
            & (lo <= np.minimum(o, c))
        )
    frame = deduped.loc[valid]
    invalid = int((~valid).sum())

    step = timeframe_delta(timeframe)
    on_grid = (frame["date"] - pd.Timestamp(0, tz="UTC")) % step == pd.Timedelta(0)
    misaligned = int((~on_grid).sum())
    frame = frame.loc[on_grid].set_index("date")[OHLCV]
    if frame.empty:
        raise DataError(f"{source}: no valid candle left after validation")

    grid = pd.date_range(frame.index[0], frame.index[-1], freq=step, name="date")
    out = frame.reindex(grid)
    gap_mask = out["close"].isna().to_numpy()
    prev_close = out["close"].ffill()
    for col in ("open", "high", "low", "close"):
        out[col] = out[col].fillna(prev_close)
    out["volume"] = out["volume"].fillna(0.0)
    out[FILLED] = gap_mask

    runs = _run_lengths(gap_mask)
    report = ValidationReport(
        rows_in=rows_in,
        rows_out=len(out),
        duplicates_dropped=duplicates,
        invalid_dropped=invalid,
        gaps=len(runs),
        longest_gap=max(runs, default=0),
        filled=int(gap_mask.sum()),
        misaligned_dropped=misaligned,
    )
    return out, report


def _run_lengths(mask: np.ndarray) -> list[int]:
    """Lengths of the runs of True in a boolean array."""
    if not mask.any():
        return []
    padded = np.concatenate([[False], mask, [False]]).astype(np.int8)
    edges = np.flatnonzero(np.diff(padded))
    return (edges[1::2] - edges[::2]).tolist()

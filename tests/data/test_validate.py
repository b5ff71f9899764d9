from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from kilo.data import validate_candles
from kilo.errors import DataError


def raw_frame(n: int = 10) -> pd.DataFrame:
    dates = pd.date_range("2024-01-01", periods=n, freq="1h", tz="UTC")
    close = 100 + np.arange(n, dtype=float)
    return pd.DataFrame(
        {
            "date": dates,
            "open": close - 0.5,
            "high": close + 1,
            "low": close - 1,
            "close": close,
            "volume": np.full(n, 5.0),
        }
    )


def test_clean_input_is_unchanged() -> None:
    frame, report = validate_candles(raw_frame(), "1h")
    assert report.clean and report.rows_out == 10 and not frame["filled"].any()


def test_duplicates_invalid_rows_and_gaps() -> None:
    raw = raw_frame(12)
    dup = raw.iloc[[3]].assign(close=103.25, high=104.0)  # later duplicate wins
    raw.loc[5, "low"] = 200.0  # low above open/close
    raw.loc[6, "close"] = -1.0  # non-positive
    raw.loc[7, "high"] = 50.0  # high below open/close
    raw = pd.concat([raw.drop(index=[9, 10]).sample(frac=1, random_state=0), dup])
    frame, report = validate_candles(raw, "1h")
    assert report.duplicates_dropped == 1
    assert report.invalid_dropped == 3
    assert report.gaps == 2 and report.longest_gap == 3 and report.filled == 5
    assert frame.index.is_monotonic_increasing and len(frame) == 12
    assert frame.loc[pd.Timestamp("2024-01-01 03:00", tz="UTC"), "close"] == 103.25
    gap = frame.loc["2024-01-01 05:00":"2024-01-01 07:00"]
    assert gap["filled"].all() and (gap["volume"] == 0).all()
    assert (gap[["open", "high", "low", "close"]] == 104.0).all().all()  # previous close
    assert frame["filled"].sum() == 5


def test_off_grid_rows_are_dropped() -> None:
    raw = raw_frame(4)
    raw.loc[2, "date"] += pd.Timedelta("30min")
    frame, report = validate_candles(raw, "1h")
    assert report.misaligned_dropped == 1 and report.filled == 1


def test_nothing_valid_raises() -> None:
    raw = raw_frame(3).assign(close=0.0)
    with pytest.raises(DataError, match="no valid candle"):
        validate_candles(raw, "1h", source="x.feather")


def test_input_is_not_modified() -> None:
    raw = raw_frame(5)
    before = raw.copy()
    validate_candles(raw.iloc[::-1], "1h")
    pd.testing.assert_frame_equal(raw, before)

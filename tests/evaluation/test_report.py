from __future__ import annotations

import numpy as np
import pandas as pd

from kilo.evaluation.report import downsample


def test_downsample_keeps_extremes_and_order() -> None:
    index = pd.date_range("2025-01-01", periods=10_000, freq="1h", tz="UTC")
    series = pd.Series(np.random.default_rng(0).normal(size=10_000).cumsum(), index=index)
    shown = downsample(series, 1000)
    assert len(shown) <= 1000 and shown.index.is_monotonic_increasing
    assert shown.max() == series.max() and shown.min() == series.min()
    assert shown.index.isin(series.index).all()
    short = series.iloc[:500]
    assert downsample(short, 1000) is short

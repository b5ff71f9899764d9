from __future__ import annotations

from dataclasses import replace
from typing import Any

import numpy as np
import pandas as pd

from kilo.config import Config
from kilo.features import FeatureEngine, Preprocessor
from kilo.models.gru import GRURegressor
from kilo.models.kinds.gru import fit as fit_gru
from kilo.models.rows import segment_ids
from kilo.training.dataset import build_dataset


def test_a_segment_starts_after_every_gap_of_more_than_one_bar() -> None:
    index = pd.to_datetime([0, 1, 2, 5, 6, 8], unit="h", utc=True)
    assert segment_ids(pd.DatetimeIndex(index), "1h").tolist() == [0, 0, 0, 1, 1, 2]
    assert segment_ids(pd.DatetimeIndex(index), "4h").tolist() == [0] * 6


def test_sequence_mode_gets_the_segments_of_the_rows_it_fits(
    tiny_config: Config, monkeypatch
) -> None:
    """Gaps planted in the training and validation rows split the segments that the
    early-stopping fit, its validation and the refit get, each at its own rows."""
    config = tiny_config.with_overrides(
        {"models.gru.mode": "sequence", "models.gru.chunk_length": 64, "training.refit": True}
    )
    data = build_dataset(config, "BTC/USDT", FeatureEngine.from_config(config, "BTC/USDT"))
    s, ctx = data.split, config.models.gru.sequence_length - 1
    gaps = (s.train.start + 1000, s.val.start + 200)
    later = sum(np.arange(len(data.index)) >= row for row in gaps)
    times = data.index + pd.to_timedelta(5 * later, unit="h")  # five hours without candles
    data = replace(data, features=data.features.set_axis(times))
    X = Preprocessor().fit(data.features.iloc[s.train]).transform(data.features)
    calls: list[dict[str, Any]] = []
    fit = GRURegressor.fit

    def spy(self: GRURegressor, X: np.ndarray, y: np.ndarray, **kw: Any) -> GRURegressor:
        calls.append({"n": len(y), **kw})
        return fit(self, X, y, **kw)

    monkeypatch.setattr(GRURegressor, "fit", spy)
    fitted = fit_gru(config, data, X, data.target, progress=False, upstream={})
    assert fitted.model.params.mode == "sequence" and len(calls) == 2

    def starts(segments: np.ndarray, n: int) -> list[int]:
        assert len(segments) == n
        return (np.flatnonzero(np.diff(segments)) + 1).tolist()

    early, refit = calls
    assert starts(early["segments"], early["n"]) == [gaps[0] - s.train.start]
    assert starts(early["val_segments"], len(early["y_val"])) == [ctx + 200]
    assert starts(refit["segments"], refit["n"]) == [g - s.train.start for g in gaps]

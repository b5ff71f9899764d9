from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sklearn.exceptions import NotFittedError

from kilo.errors import FeatureContractError, ModelSetError
from kilo.features import FeatureEngine, Preprocessor


@pytest.fixture(scope="module")
def features(config, btc_candles: pd.DataFrame) -> pd.DataFrame:
    own = config.with_overrides({"features.universe": []})  # no other symbol's candles
    return FeatureEngine.from_config(own, "BTC/USDT").transform(btc_candles)


def test_transform_before_fit_raises(features: pd.DataFrame) -> None:
    with pytest.raises(NotFittedError):
        Preprocessor().transform(features)


def test_statistics_come_from_training_rows_only(features: pd.DataFrame) -> None:
    train, rest = features.iloc[:5000], features.iloc[5000:]
    pre = Preprocessor().fit(train)
    np.testing.assert_allclose(pre.median_, train.median().to_numpy())
    shifted = pd.concat([train, rest * 100 + 7])
    refit = Preprocessor().fit(shifted.iloc[:5000])
    np.testing.assert_array_equal(pre.median_, refit.median_)
    np.testing.assert_array_equal(pre.scale_, refit.scale_)


def test_output_finite_clipped_and_input_untouched(features: pd.DataFrame) -> None:
    dirty = features.copy()
    dirty.iloc[100:110, 0] = np.nan
    dirty.iloc[200, 3] = np.inf
    dirty.iloc[300, 5] = -np.inf
    dirty.iloc[400, 2] = 1e9
    before = dirty.copy()
    out = Preprocessor(clip=5.0).fit(dirty.iloc[:6000]).transform(dirty)
    assert out.dtype == np.float32 and out.shape == features.shape
    assert np.isfinite(out).all() and np.abs(out).max() <= 5.0
    assert out[400, 2] == 5.0
    pd.testing.assert_frame_equal(dirty, before)


def test_column_mismatch_names_the_features(features: pd.DataFrame) -> None:
    pre = Preprocessor().fit(features)
    with pytest.raises(FeatureContractError, match=r"missing \['rsi_14'\].*unexpected \['extra'\]"):
        pre.transform(features.drop(columns="rsi_14").assign(extra=1.0))
    with pytest.raises(FeatureContractError, match="different order"):
        pre.transform(features[features.columns[::-1]])


def test_joblib_round_trip(tmp_path: Path, features: pd.DataFrame) -> None:
    pre = Preprocessor().fit(features.iloc[:3000])
    pre.save(tmp_path / "p.joblib")
    loaded = Preprocessor.load(tmp_path / "p.joblib")
    np.testing.assert_array_equal(loaded.transform(features), pre.transform(features))
    (tmp_path / "bad.joblib").write_bytes(b"garbage")
    with pytest.raises(ModelSetError, match="cannot load"):
        Preprocessor.load(tmp_path / "bad.joblib")

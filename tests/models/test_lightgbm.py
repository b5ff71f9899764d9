from __future__ import annotations

import numpy as np
import pytest

from kilo.config import LightGBMConfig
from kilo.errors import ModelSetError
from kilo.models.lightgbm import LightGBMRegressor

PARAMS = LightGBMConfig(n_estimators=200, early_stopping_rounds=10, min_child_samples=5)


def data(seed: int = 0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(600, 4)).astype(np.float32)
    y = (X[:, 0] * 0.5 + 0.1 * rng.normal(size=600)).astype(np.float32)
    y[:5] = np.nan  # unlabelled rows are skipped
    return X, y


def test_learns_signal_and_stops_early() -> None:
    X, y = data()
    model = LightGBMRegressor(PARAMS, seed=3).fit(X[:400], y[:400], X_val=X[400:], y_val=y[400:])
    pred = model.predict(X[400:])
    assert pred.dtype == np.float32 and np.corrcoef(pred, y[400:])[0, 1] > 0.8
    assert model.best_iteration_ < PARAMS.n_estimators


def test_text_round_trip_and_bad_file(tmp_path) -> None:
    X, y = data()
    model = LightGBMRegressor(PARAMS, seed=3).fit(X[:400], y[:400], X_val=X[400:], y_val=y[400:])
    model.save(tmp_path)
    assert (tmp_path / "lightgbm.txt").read_text().startswith("tree")
    np.testing.assert_array_equal(LightGBMRegressor.load(tmp_path).predict(X), model.predict(X))
    (tmp_path / "lightgbm.txt").write_text("garbage")
    with pytest.raises(ModelSetError, match="cannot load the LightGBM"):
        LightGBMRegressor.load(tmp_path)

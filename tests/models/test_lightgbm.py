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


def test_sample_weights_decide_which_rows_count() -> None:
    rng = np.random.default_rng(3)
    X = rng.normal(size=(2000, 2)).astype(np.float32)
    y = np.where(np.arange(2000) < 1000, X[:, 0], -X[:, 0])  # two regimes, opposite signs
    first = np.where(np.arange(2000) < 1000, 1.0, 1e-3)
    params = LightGBMConfig(n_estimators=50, learning_rate=0.1, min_child_samples=5)
    model = LightGBMRegressor(params, seed=1).fit(X, y, weights=first, n_estimators=50)
    assert np.corrcoef(model.predict(X[:1000]), X[:1000, 0])[0, 1] > 0.9
    flipped = LightGBMRegressor(params, seed=1).fit(X, y, weights=1.0 - first + 1e-3)
    assert np.corrcoef(flipped.predict(X[:1000]), X[:1000, 0])[0, 1] < -0.9
    assert model.booster_.current_iteration() == 50  # no validation: exactly n_estimators


def test_load_reports_a_damaged_file_and_lets_a_bug_through(tmp_path, monkeypatch) -> None:
    import lightgbm

    from kilo.models.lightgbm import MODEL_FILE

    (tmp_path / MODEL_FILE).write_text("not a model")
    with pytest.raises(ModelSetError, match="cannot load the LightGBM model"):
        LightGBMRegressor.load(tmp_path)

    def broken(**kwargs):
        raise TypeError("a bug, not a damaged file")

    monkeypatch.setattr(lightgbm, "Booster", broken)
    with pytest.raises(TypeError, match="a bug"):
        LightGBMRegressor.load(tmp_path)

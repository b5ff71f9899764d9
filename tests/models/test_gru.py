from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from kilo.config import GRUConfig
from kilo.errors import ConfigError, ModelSetError
from kilo.models.gru import SERVE_BATCH, GRURegressor, resolve_device, window_ends

PARAMS = GRUConfig(sequence_length=5, hidden_size=8, epochs=3, batch_size=32, patience=2)


@pytest.fixture(scope="module")
def fitted() -> tuple[GRURegressor, np.ndarray]:
    rng = np.random.default_rng(0)
    X = rng.normal(size=(400, 3)).astype(np.float32)
    y = (0.01 * X[:, 0] + 0.001 * rng.normal(size=400)).astype(np.float32)
    model = GRURegressor(PARAMS, seed=1).fit(
        X[:300], y[:300], X_val=X[300:], y_val=y[300:], progress=False
    )
    return model, X


def test_auto_device_follows_cuda_availability() -> None:
    expected = "cuda" if torch.cuda.is_available() else "cpu"
    assert resolve_device("auto").type == expected
    assert resolve_device("cpu").type == "cpu"


def test_window_ends_skip_context_and_nan_targets() -> None:
    y = np.array([np.nan, np.nan, 1, 2, np.nan, 3], dtype=np.float32)
    assert window_ends(y, 3).tolist() == [2, 3, 5]


def test_prediction_uses_exactly_its_window(fitted) -> None:
    model, X = fitted
    base = model.predict(X)
    assert np.isnan(base[:4]).all() and np.isfinite(base[4:]).all()
    t = 200
    for row, should_change in ((t + 1, False), (t - 5, False), (t - 4, True), (t, True)):
        changed = X.copy()
        changed[row] += 3.0
        moved = model.predict(changed)[t] != base[t]
        assert moved == should_change, row


def test_early_stopping_restores_best_weights(fitted) -> None:
    model, _ = fitted
    val = [h["val_loss"] for h in model.history_]
    assert model.best_val_loss_ == pytest.approx(min(val))
    assert 1 <= len(val) <= PARAMS.epochs


def test_save_load_round_trip(fitted, tmp_path) -> None:
    model, X = fitted
    assert model.save(tmp_path) == ["gru.pt", "gru.json"]
    loaded = GRURegressor.load(tmp_path)
    np.testing.assert_array_equal(loaded.predict(X), model.predict(X))
    with pytest.raises(ValueError, match="expected"):
        loaded.predict(X[:, :2])
    (tmp_path / "gru.pt").write_bytes(b"junk")
    with pytest.raises(ModelSetError, match="cannot load the GRU"):
        GRURegressor.load(tmp_path)


def test_predict_before_fit() -> None:
    with pytest.raises(RuntimeError, match="not fitted"):
        GRURegressor(PARAMS).predict(np.zeros((10, 3), dtype=np.float32))


def test_refit_runs_the_given_epochs_and_weights_steer_the_loss() -> None:
    rng = np.random.default_rng(4)
    X = rng.normal(size=(600, 3)).astype(np.float32)
    y = np.where(np.arange(600) < 300, X[:, 0], -X[:, 0]).astype(np.float32)
    params = GRUConfig(
        sequence_length=4, hidden_size=8, epochs=30, batch_size=64, learning_rate=0.01, device="cpu"
    )
    first = np.where(np.arange(600) < 300, 1.0, 0.0)
    model = GRURegressor(params, seed=0).fit(X, y, weights=first, epochs=12, progress=False)
    assert len(model.history_) == 12 == model.best_epochs_ and np.isnan(model.best_val_loss_)
    pred = model.predict(X)
    assert np.corrcoef(pred[10:300], X[10:300, 0])[0, 1] > 0.5  # learnt the weighted regime
    assert np.corrcoef(pred[310:], y[310:])[0, 1] < 0  # and not the other one


def test_a_rows_prediction_does_not_depend_on_the_rows_after_it() -> None:
    """To the bit, across forward passes: freqtrade's lookahead-analysis compares
    exactly, and CPU kernels round differently by batch shape."""
    rng = np.random.default_rng(3)
    X = rng.normal(size=(1500, 44)).astype(np.float32)
    y = (0.01 * X[:, 0]).astype(np.float32)
    params = GRUConfig(sequence_length=48, hidden_size=64, epochs=1, batch_size=256, patience=1)
    model = GRURegressor(params, seed=1).fit(X[:1000], y[:1000], progress=False)
    full = model.predict(X)
    for n in (300, 777, 1301):
        np.testing.assert_array_equal(model.predict(X[:n]), full[:n])


@pytest.mark.parametrize("batch", [SERVE_BATCH, 1])
def test_the_traders_short_passes_predict_as_the_full_ones(batch: int) -> None:
    """The trader scores one bar per pass of ``SERVE_BATCH`` windows: on x86 its outputs
    are the full-history ones to the bit; a single window takes matrix-vector kernels
    that round otherwise (the control)."""
    rng = np.random.default_rng(4)
    X = rng.normal(size=(600, 44)).astype(np.float32)
    params = GRUConfig(sequence_length=48, hidden_size=64, epochs=1, batch_size=256, patience=1)
    model = GRURegressor(params, seed=1).fit(X[:400], 0.01 * X[:400, 0], progress=False)
    full = model.predict(X)
    served = np.array([model.predict(X[end - 47 : end + 1], batch)[-1] for end in range(400, 600)])
    assert np.array_equal(served, full[400:]) == (batch == SERVE_BATCH)


SEQUENCE = GRUConfig(
    mode="sequence",
    sequence_length=8,
    hidden_size=16,
    epochs=25,
    patience=3,
    chunk_length=64,
    chunk_batch=8,
    learning_rate=0.01,
    dropout=0.0,
    device="cpu",
)


def lagged(n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Rows whose label is feature 0 three rows earlier: a relation only memory learns."""
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 3)).astype(np.float32)
    y = np.r_[np.full(3, np.nan), X[:-3, 0]].astype(np.float32)
    return X, y


def test_sequence_mode_learns_a_relation_across_rows() -> None:
    X, y = lagged(3000, 0)
    model = GRURegressor(SEQUENCE, seed=0).fit(
        X[:2400], y[:2400], X_val=X[2400:], y_val=y[2400:], progress=False
    )
    losses = [h["train_loss"] for h in model.history_]
    assert losses[-1] < 0.1 * losses[0]
    pred = model.predict(X[2400:])  # served by window, from a zero state
    assert np.corrcoef(pred[10:], y[2410:])[0, 1] > 0.9


def test_sequence_mode_is_seeded() -> None:
    X, y = lagged(1200, 1)
    segments = np.arange(1200) // 300
    params = SEQUENCE.model_copy(update={"epochs": 2, "dropout": 0.2})
    runs = [
        GRURegressor(params, seed=s).fit(X, y, segments=segments, progress=False) for s in (5, 5, 6)
    ]
    np.testing.assert_array_equal(runs[0].predict(X), runs[1].predict(X))
    assert runs[0].history_ == runs[1].history_ != runs[2].history_


def test_sequence_mode_trains_within_segments_only() -> None:
    """Segments shorter than sequence_length give no loss rows: none at all is an error,
    as a window mode set without a full window is."""
    X, y = lagged(100, 2)
    model = GRURegressor(SEQUENCE, seed=0)
    with pytest.raises(ValueError, match="need rows beyond one window"):
        model.fit(X, y, segments=np.arange(100) // 7, progress=False)
    with pytest.raises(ValueError, match="segments"):
        model.fit(X, y, segments=np.zeros(99), progress=False)


def test_chunk_length_must_exceed_sequence_length(config) -> None:
    with pytest.raises(ValueError, match="chunk_length 48 must exceed sequence_length 48"):
        GRUConfig(mode="sequence", sequence_length=48, chunk_length=48)
    with pytest.raises(ConfigError, match="must exceed"):
        config.with_overrides({"models.gru.mode": "sequence", "models.gru.chunk_length": 20})
    assert GRUConfig(mode="window", sequence_length=48, chunk_length=20).chunk_length == 20


def test_sequence_mode_round_trip_and_older_sets_load_as_window(tmp_path) -> None:
    X, y = lagged(300, 3)
    params = SEQUENCE.model_copy(update={"epochs": 1})
    model = GRURegressor(params, seed=0).fit(X, y, progress=False)
    model.save(tmp_path)
    loaded = GRURegressor.load(tmp_path)
    assert (loaded.params.mode, loaded.params.chunk_length, loaded.params.chunk_batch) == (
        "sequence",
        64,
        8,
    )
    np.testing.assert_array_equal(loaded.predict(X), model.predict(X))
    meta = json.loads((tmp_path / "gru.json").read_text())
    for key in ("mode", "chunk_length", "chunk_batch"):
        del meta["params"][key]
    (tmp_path / "gru.json").write_text(json.dumps(meta))
    older = GRURegressor.load(tmp_path)
    assert older.params.mode == "window"
    np.testing.assert_array_equal(older.predict(X), model.predict(X))

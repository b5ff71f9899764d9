"""The kinds contract: a kind registered in a test trains, saves, loads and predicts
through the registry alone; a set saved before the linear kind loads and trades as
before; a kind whose dependency the set lacks is refused at load, naming it."""

from __future__ import annotations

import json
import shutil
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from kilo.backtest.strategies import backtest_blend
from kilo.config import Config
from kilo.errors import ModelSetError
from kilo.features import FeatureEngine
from kilo.inference import predict_rows, score_outputs
from kilo.models.kind import FLAT, Fitted, KindReport
from kilo.models.kinds import KINDS, LEGACY_KINDS
from kilo.registry import ModelSet
from kilo.registry.drift import DriftReference
from kilo.trading.session import SessionOptions, run_session
from kilo.training.dataset import build_dataset
from kilo.training.trainer import train_symbol

pytestmark = pytest.mark.slow


class MeanReport(KindReport):
    mean: float


class MeanModel:
    """A regressor predicting its training rows' mean label, saved as ``mean.json``."""

    def __init__(self, mean: float) -> None:
        self.mean = mean

    def predict(self, X: np.ndarray) -> np.ndarray:
        return np.full(len(X), self.mean, dtype=np.float32)

    def save(self, folder: Path) -> list[str]:
        (Path(folder) / "mean.json").write_text(json.dumps({"mean": self.mean}))
        return ["mean.json"]


def _fit(config, data, X, y, progress, upstream) -> Fitted:
    model = MeanModel(float(np.nanmean(y[data.split.train])))
    return Fitted(model, model.predict(X[data.split.val]), MeanReport(mean=model.mean))


FAKE = replace(
    KINDS["linear"],
    label="mean",
    report=MeanReport,
    fit=_fit,
    validate=lambda config, data, X, model: model.predict(X[data.split.val]),
    predict=lambda model, X, n_out, state: model.predict(X[len(X) - n_out :]),
    load=lambda folder, config: MeanModel(json.loads((folder / "mean.json").read_text())["mean"]),
    files=("mean.json",),
    pooled_fit=None,
    score=None,
)


def test_a_kind_registered_in_a_test_trains_saves_loads_and_predicts(
    tiny_config: Config, tmp_path, monkeypatch
) -> None:
    monkeypatch.setitem(KINDS, "linear", FAKE)  # the slot of a kind the schema knows
    config = tiny_config.with_overrides(
        {"models.enabled": ["lightgbm", "linear"], "models.dir": str(tmp_path / "models")}
    )
    report = train_symbol(config, "BTC/USDT", progress=False)
    assert report.error is None and "linear" in report.seconds
    loaded = ModelSet.load("BTC/USDT", config=config)
    model = loaded.model("linear")
    assert isinstance(model, MeanModel) and "mean.json" in loaded.manifest.files
    assert loaded.manifest.metrics.get("linear") == MeanReport(mean=model.mean)
    assert set(loaded.manifest.calibration.prediction_stats) == {"lightgbm", "linear"}
    engine = FeatureEngine.from_config(config, "BTC/USDT")
    X = loaded.preprocessor.transform(build_dataset(config, "BTC/USDT", engine).features)
    out = predict_rows(loaded, X, 5)
    np.testing.assert_array_equal(out["linear"], np.float32(model.mean))
    prediction = score_outputs(out, loaded.manifest.calibration, {"linear": 1.0}, FLAT)
    assert prediction.raw["linear_raw"] == pytest.approx(model.mean)
    assert prediction.signals["linear"] == 0.0  # a constant model has no signal


@pytest.fixture()
def old_layout(tiny_report, tiny_config: Config, tmp_path) -> Config:
    """A copy of the tiny set as a set saved before the linear kind: its file, metrics,
    drift outputs and config keys removed, and no ``models`` key (the manifest format
    of sets saved before it: they held every kind of their day)."""
    models = tmp_path / "models"
    shutil.copytree(Path(tiny_config.models.dir) / "BTC_USDT", models / "BTC_USDT")
    folder = models / "BTC_USDT" / str(tiny_report.version)
    (folder / "linear.joblib").unlink()
    manifest = json.loads((folder / "manifest.json").read_text())
    manifest.pop("models")
    manifest["trained_models"] = list(LEGACY_KINDS)
    manifest["metrics"].pop("linear")
    manifest["files"].pop("linear.joblib")
    manifest["calibration"]["prediction_stats"].pop("linear")
    for part in ("outputs", "validation_ic"):
        manifest["drift"][part].pop("linear")
    manifest["drift_sha256"] = DriftReference.model_validate(manifest["drift"]).sha256()
    old = manifest["config"]
    old["models"].pop("linear")
    old["models"]["enabled"] = list(LEGACY_KINDS)
    old["blend"]["weights"].pop("linear")
    (folder / "manifest.json").write_text(json.dumps(manifest))
    return tiny_config.with_overrides({"models.dir": str(models)})


def test_a_set_saved_before_the_linear_kind_loads_trades_and_evaluates_as_before(
    old_layout: Config, tiny_config: Config, tmp_path
) -> None:
    old = ModelSet.load("BTC/USDT", config=old_layout)
    new = ModelSet.load("BTC/USDT", config=tiny_config)
    assert old.names == LEGACY_KINDS and old.manifest.models == list(LEGACY_KINDS)
    assert new.names == (*LEGACY_KINDS, "linear")
    options = SessionOptions(12, ("BTC/USDT",), state=tmp_path / "old.sqlite")
    before = run_session(old_layout, options).query("SELECT * FROM predictions")
    options = SessionOptions(12, ("BTC/USDT",), state=tmp_path / "new.sqlite")
    after = run_session(tiny_config, options).query("SELECT * FROM predictions")
    assert before["linear_raw"].isna().all() and after["linear_raw"].notna().all()
    # the linear kind has no blend weight: the old set decides exactly as the new one
    for column in ("score", "expected_edge", "decision", "gru_raw", "ppo_p_long"):
        assert before[column].tolist() == after[column].tolist()
    engine = FeatureEngine.from_config(tiny_config, "BTC/USDT")
    data = build_dataset(tiny_config, "BTC/USDT", engine)
    test = data.split.test
    runs = [backtest_blend(tiny_config, s, data, test) for s in (old, new)]
    np.testing.assert_array_equal(runs[0].log_returns, runs[1].log_returns)


def test_a_kind_whose_dependency_the_set_lacks_is_refused_naming_it(
    old_layout: Config, monkeypatch
) -> None:
    monkeypatch.setitem(KINDS, "ppo", replace(KINDS["ppo"], depends_on=("linear",)))
    with pytest.raises(ModelSetError, match=r"'ppo' model needs the \['linear'\]"):
        ModelSet.load("BTC/USDT", config=old_layout)


def test_the_linear_kind_alone_trains_trades_and_is_evaluated(
    tiny_config: Config, tmp_path
) -> None:
    from kilo.evaluation.walkforward import evaluate_symbol

    config = tiny_config.with_overrides(
        {
            "models.enabled": ["linear"],
            "blend.weights": {"linear": 1.0},
            "models.dir": str(tmp_path / "models"),
            "evaluation.folds": 1,
            "evaluation.random_draws": 10,
            "evaluation.initial_train_fraction": 0.7,
        }
    )
    report = train_symbol(config, "BTC/USDT", progress=False)
    assert set(report.seconds) == {"data", "linear", "total"}
    assert report.metrics is not None and report.metrics.get("linear") is not None
    ledger = run_session(config, SessionOptions(20, ("BTC/USDT",), state=tmp_path / "l.sqlite"))
    preds = ledger.query("SELECT * FROM predictions")
    assert preds["linear_raw"].nunique() > 1 and preds["linear_signal"].notna().all()
    assert preds["score"].tolist() == preds["linear_signal"].tolist()  # the blend of one
    summary = evaluate_symbol(config, "BTC/USDT").summary
    assert {"blend", "linear", "buy_and_hold"} <= set(summary.strategies)
    assert summary.strategies["linear"].ic is not None
    assert set(summary.controls.planted.ic) == {"linear"}


def test_a_model_writing_files_its_kind_does_not_declare_is_not_saved(
    tiny_report, tiny_config: Config, tmp_path, monkeypatch
) -> None:
    model_set = ModelSet.load("BTC/USDT", config=tiny_config)
    monkeypatch.setitem(KINDS, "linear", replace(KINDS["linear"], files=("other.joblib",)))
    with pytest.raises(ModelSetError, match=r"'linear' model wrote \['linear.joblib'\]"):
        model_set.save(tmp_path / "models")
    assert not (tmp_path / "models" / "BTC_USDT" / "LATEST").exists()

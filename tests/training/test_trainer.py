from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from kilo.config import Config
from kilo.errors import FeatureContractError
from kilo.features import FeatureEngine
from kilo.registry import ModelSet
from kilo.training.dataset import build_dataset
from kilo.training.trainer import train_symbol

pytestmark = pytest.mark.slow

MANIFEST_KEYS = {
    "manifest_format",
    "symbol",
    "models",
    "pool",
    "exchange",
    "timeframe",
    "version",
    "created_at",
    "feature_names",
    "spec_hash",
    "max_lookback",
    "split",
    "refit_rows",
    "metrics",
    "calibration",
    "trained_models",
    "reused_from",
    "config",
    "packages",
    "files",
    "selection_window",
    "outages",
    "drift",
    "drift_sha256",
}


def test_artifacts_and_manifest(tiny_report, tiny_config: Config) -> None:
    folder = tiny_report.folder
    names = {p.name for p in folder.iterdir()}
    assert names == {
        "manifest.json",
        "gru.pt",
        "gru.json",
        "lightgbm.txt",
        "ppo.zip",
        "ppo_observation.json",
        "linear.joblib",
        "preprocessor.joblib",
    }
    assert (folder.parent / "LATEST").read_text().strip() == folder.name == tiny_report.version
    manifest = json.loads((folder / "manifest.json").read_text())
    assert set(manifest) == MANIFEST_KEYS
    assert set(manifest["files"]) == names - {"manifest.json"}
    assert manifest["config"]["seed"] == tiny_config.seed
    assert {
        "python",
        "torch",
        "lightgbm",
        "stable-baselines3",
        "gymnasium",
        "scikit-learn",
        "pandas",
        "numpy",
    } <= set(manifest["packages"])
    for model in ("gru", "lightgbm"):
        for part in ("validation", "test"):
            m = manifest["metrics"][model][part]
            assert {"rmse", "mae", "directional_accuracy", "ic_pearson", "ic_spearman"} <= set(m)
            assert np.isfinite(m["rmse"]) and m["n"] == manifest["split"][part]["rows"]
    ppo = manifest["metrics"]["ppo"]["validation"]
    assert sum(ppo["action_counts"].values()) == ppo["n_steps"]
    assert {"net_log_return", "buy_and_hold_log_return", "collapsed"} <= set(ppo)


def test_time_split_and_preprocessor_see_train_only(tiny_report, tiny_config: Config) -> None:
    manifest = json.loads((tiny_report.folder / "manifest.json").read_text())
    split = manifest["split"]
    ends = [pd.Timestamp(split[k]["end"]) for k in ("train", "validation")]
    starts = [pd.Timestamp(split[k]["start"]) for k in ("validation", "test")]
    engine = FeatureEngine.from_config(tiny_config, "BTC/USDT")
    for end, start in zip(ends, starts, strict=True):
        assert (start - end) / pd.Timedelta("1h") > engine.max_lookback + tiny_config.target.horizon
    data = build_dataset(tiny_config, "BTC/USDT", engine)
    train = data.features.loc[: split["train"]["end"]]
    assert len(train) == split["train"]["rows"]
    model_set = ModelSet.load("BTC/USDT", models_dir=tiny_config.models.dir, config=tiny_config)
    np.testing.assert_allclose(model_set.preprocessor.median_, train.median().to_numpy())


def test_reload_gives_identical_predictions(tiny_report, tiny_config: Config) -> None:
    engine = FeatureEngine.from_config(tiny_config, "BTC/USDT")
    data = build_dataset(tiny_config, "BTC/USDT", engine)
    a = ModelSet.load("BTC/USDT", models_dir=tiny_config.models.dir, engine=engine)
    b = ModelSet.load("BTC/USDT", tiny_report.version, tiny_config.models.dir, engine=engine)
    X = a.preprocessor.transform(data.features)
    np.testing.assert_array_equal(X, b.preprocessor.transform(data.features))
    gru = a.model("gru").predict(X)
    assert np.isfinite(gru[15:]).all() and np.isnan(gru[:15]).all() and np.std(gru[15:]) > 0
    np.testing.assert_array_equal(gru, b.model("gru").predict(X))
    np.testing.assert_array_equal(a.model("lightgbm").predict(X), b.model("lightgbm").predict(X))
    env = a.model("ppo").make_env(X[:200], data.bar_returns[:200])
    obs, _ = env.reset(options={"start": 10, "length": 50})
    assert obs.shape == a.model("ppo").model_.observation_space.shape == env.observation_space.shape
    np.testing.assert_array_equal(
        a.model("ppo").predict_proba(obs), b.model("ppo").predict_proba(obs)
    )


def test_predict_proba_rows_sum_to_one(tiny_report, tiny_config: Config) -> None:
    model_set = ModelSet.load("BTC/USDT", models_dir=tiny_config.models.dir, config=tiny_config)
    rng = np.random.default_rng(0)
    dim = model_set.model("ppo").model_.observation_space.shape[0]
    probs = model_set.model("ppo").predict_proba(rng.normal(size=(32, dim)).astype(np.float32))
    assert probs.shape == (32, 4) and (probs >= 0).all() and (probs[:, 3] == 0).all()
    np.testing.assert_allclose(probs.sum(axis=1), 1.0, rtol=1e-6)


def test_same_seed_same_lightgbm_predictions(tiny_report, tiny_config: Config, tmp_path) -> None:
    again = train_symbol(tiny_config, "BTC/USDT", model="all", models_dir=tmp_path, progress=False)
    engine = FeatureEngine.from_config(tiny_config, "BTC/USDT")
    data = build_dataset(tiny_config, "BTC/USDT", engine)
    first = ModelSet.load("BTC/USDT", tiny_report.version, tiny_config.models.dir, engine=engine)
    second = ModelSet.load("BTC/USDT", again.version, tmp_path, engine=engine)
    X = first.preprocessor.transform(data.features)
    np.testing.assert_array_equal(
        first.model("lightgbm").predict(X), second.model("lightgbm").predict(X)
    )
    np.testing.assert_array_equal(first.model("gru").predict(X), second.model("gru").predict(X))


def test_single_model_retrain_reuses_the_rest(tiny_report, tiny_config: Config, tmp_path) -> None:
    base = train_symbol(tiny_config, "BTC/USDT", models_dir=tmp_path, progress=False)
    partial = train_symbol(
        tiny_config.with_overrides({"seed": 7}),
        "BTC/USDT",
        model="lightgbm",
        models_dir=tmp_path,
        progress=False,
    )
    assert partial.version != base.version and set(partial.seconds) >= {"lightgbm"}
    assert "gru" not in partial.seconds and "ppo" not in partial.seconds
    engine = FeatureEngine.from_config(tiny_config, "BTC/USDT")
    old = ModelSet.load("BTC/USDT", base.version, tmp_path, engine=engine)
    new = ModelSet.load("BTC/USDT", "latest", tmp_path, engine=engine)
    assert new.version == partial.version and new.manifest.reused_from == base.version
    data = build_dataset(tiny_config, "BTC/USDT", engine)
    X = old.preprocessor.transform(data.features)
    np.testing.assert_array_equal(X, new.preprocessor.transform(data.features))
    np.testing.assert_array_equal(old.model("gru").predict(X), new.model("gru").predict(X))
    assert new.manifest.metrics.get("ppo") == old.manifest.metrics.get("ppo")

    changed = tiny_config.with_overrides({"features.rsi_period": 21})
    with pytest.raises(FeatureContractError, match=r"rsi_14.*rsi_21"):
        train_symbol(changed, "BTC/USDT", model="gru", models_dir=tmp_path, progress=False)


def test_manifest_holds_blend_calibration(tiny_report) -> None:
    manifest = json.loads((tiny_report.folder / "manifest.json").read_text())
    cal = manifest["calibration"]
    thresholds = cal["thresholds"]  # the tiny config trades the quantile rule
    assert thresholds["exit"] <= thresholds["enter"] and thresholds["source"]
    assert cal["prediction_stats"]["gru"]["std"] > 0
    q = cal["validation_score_quantiles"]
    assert q["q05"] <= q["q50"] <= q["q95"] and q["q05"] >= -1 and q["q95"] <= 1


def test_without_refit_the_early_stopped_models_are_served(tiny_report, tiny_config) -> None:
    """The default (training.refit false, chosen on the search's validation folds)."""
    model_set = ModelSet.load("BTC/USDT", models_dir=tiny_config.models.dir, config=tiny_config)
    assert model_set.manifest.refit_rows is None and not tiny_report.metrics.get("gru").refit
    assert not tiny_report.metrics.get("lightgbm").refit
    assert all("val_loss" in h for h in model_set.model("gru").history_)


def test_with_refit_the_regressors_are_refit_on_train_and_validation(tiny_config, tmp_path) -> None:
    config = tiny_config.with_overrides({"training.refit": True})
    train_symbol(config, "BTC/USDT", models_dir=tmp_path, progress=False)
    model_set = ModelSet.load("BTC/USDT", models_dir=tmp_path, config=config)
    m = model_set.manifest
    assert (
        m.config.training.refit and m.metrics.get("gru").refit and m.metrics.get("lightgbm").refit
    )
    assert m.refit_rows.start == m.split.train.start and m.refit_rows.end == m.split.validation.end
    assert m.refit_rows.rows == m.split.train.rows + m.split.embargo_bars + m.split.validation.rows
    assert (
        model_set.model("lightgbm").booster_.current_iteration()
        == m.metrics.get("lightgbm").best_iteration
    )
    assert (
        len(model_set.model("gru").history_) == m.metrics.get("gru").best_epochs
    )  # no early stopping
    assert all("val_loss" not in h for h in model_set.model("gru").history_)


def test_the_summary_says_which_models_were_reused(tiny_report) -> None:
    from kilo.training.summary import format_summary, summary_table
    from kilo.training.trainer import TrainReport

    partial = TrainReport("BTC/USDT", metrics=tiny_report.metrics, seconds={"gru": 12.3456})
    table = summary_table([partial]).set_index("model")
    assert table.loc["gru", "status"] == "trained" and table.loc["lightgbm", "status"] == "reused"
    assert table.loc["ppo", "status"] in ("reused", "collapsed")
    text = format_summary([partial])
    assert " 12.3 " in text and "–" in text  # seconds with one decimal; no time for reused

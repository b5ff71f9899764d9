"""``models.enabled``: a set of any non-empty subset of models trains, trades and evaluates,
and a model left out is never trained."""

from __future__ import annotations

from dataclasses import replace

import pytest

from kilo.config import Config
from kilo.errors import ConfigError
from kilo.evaluation.walkforward import evaluate_symbol, fold_tasks
from kilo.models.kinds import KINDS
from kilo.registry import ModelSet
from kilo.trading.session import SessionOptions, run_session
from kilo.trading.symbol_model import SymbolModel
from kilo.training.trainer import train_symbol


@pytest.fixture()
def lightgbm_only(tiny_config: Config, tmp_path, monkeypatch) -> Config:
    """LightGBM alone, in a private models dir; training a GRU or a PPO agent fails."""

    def refuse(*args, **kwargs):
        raise AssertionError("a model left out of models.enabled was trained")

    for name in ("gru", "ppo", "linear"):
        monkeypatch.setitem(KINDS, name, replace(KINDS[name], fit=refuse))
    return tiny_config.with_overrides(
        {"models.enabled": ["lightgbm"], "models.dir": str(tmp_path / "models")}
    )


def test_a_lightgbm_only_set_trains_saves_loads_and_trades(lightgbm_only: Config, tmp_path) -> None:
    report = train_symbol(lightgbm_only, "BTC/USDT", progress=False)
    assert report.error is None and set(report.seconds) == {"data", "lightgbm", "total"}
    loaded = ModelSet.load("BTC/USDT", config=lightgbm_only)
    assert loaded.names == ("lightgbm",) and loaded.manifest.models == ["lightgbm"]
    assert set(loaded.models) == {"lightgbm"}
    assert loaded.manifest.metrics.get("gru") is None
    assert loaded.manifest.metrics.get("lightgbm") is not None
    assert {p.name for p in loaded.folder.iterdir()} == {
        "manifest.json",
        "preprocessor.joblib",
        "lightgbm.txt",
    }
    assert set(loaded.manifest.calibration.prediction_stats) == {"lightgbm"}
    with pytest.raises(KeyError, match="holds no 'gru'"):
        loaded.model("gru")

    ledger = run_session(
        lightgbm_only, SessionOptions(40, ("BTC/USDT",), state=tmp_path / "paper.sqlite")
    )
    preds = ledger.query("SELECT * FROM predictions")
    assert len(preds) == 40
    assert preds["gru_raw"].isna().all() and preds["ppo_p_long"].isna().all()
    assert preds["linear_raw"].isna().all() and preds["lightgbm_signal"].notna().all()
    assert preds["lightgbm_raw"].notna().all() and preds["lightgbm_raw"].nunique() > 1


def test_a_set_whose_models_the_blend_gives_no_weight_is_refused(lightgbm_only: Config) -> None:
    train_symbol(lightgbm_only, "BTC/USDT", progress=False)
    trader = lightgbm_only.with_overrides({"models.enabled": ["gru"], "blend.weights.lightgbm": 0})
    with pytest.raises(Exception, match="give no weight"):
        SymbolModel.load(trader, "BTC/USDT")


def test_a_lightgbm_only_evaluation_trains_no_gru_and_no_ppo(lightgbm_only: Config) -> None:
    cfg = lightgbm_only.with_overrides(
        {
            "evaluation.folds": 1,
            "evaluation.random_draws": 20,
            "evaluation.initial_train_fraction": 0.7,
        }
    )
    tasks = [t for chain in fold_tasks(cfg, 1) for t in chain]
    assert all("gru" not in t.strategies and "ppo" not in t.strategies for t in tasks)
    summary = evaluate_symbol(cfg, "BTC/USDT").summary
    assert {"blend", "lightgbm", "buy_and_hold"} <= set(summary.strategies)
    assert summary.strategies["lightgbm"].ic is not None
    assert not {"gru", "ppo"} & set(summary.strategies)
    assert set(summary.controls.placebo.models) == {"lightgbm"}
    assert set(summary.controls.planted.ic) == {"lightgbm"}


def test_a_ppo_only_evaluation_runs_no_regressor_control(tiny_config: Config) -> None:
    cfg = tiny_config.with_overrides(
        {
            "models.enabled": ["ppo"],
            "blend.weights": {"ppo": 1.0},
            "evaluation.folds": 1,
            "evaluation.random_draws": 10,
            "evaluation.initial_train_fraction": 0.7,
            "evaluation.power_ics": [0.1],
        }
    )
    assert {t.dataset for chain in fold_tasks(cfg, 2) for t in chain} == {"real", "placebo"}
    summary = evaluate_symbol(cfg, "BTC/USDT").summary
    assert {"blend", "ppo", "buy_and_hold"} <= set(summary.strategies)
    assert not {"gru", "lightgbm"} & set(summary.strategies)
    controls = summary.controls
    assert controls.planted is None and controls.label_shuffle_check is None
    assert summary.power is None and summary.verdict is not None
    assert summary.verdict.forecast.value == "undecidable"
    assert summary.verdict.trading.detectable_excess_sharpe > 0


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"models.enabled": []}, "at least 1"),
        ({"models.enabled": ["xgboost"]}, "gru"),
        ({"models.enabled": ["ppo"], "blend.weights.ppo": 0}, "no weight to the enabled"),
    ],
)
def test_enabled_models_are_checked(tiny_config: Config, overrides, message) -> None:
    with pytest.raises(ConfigError, match=message):
        tiny_config.with_overrides(overrides)


def test_enabled_models_keep_their_order(tiny_config: Config) -> None:
    cfg = tiny_config.with_overrides({"models.enabled": ["ppo", "gru", "ppo"]})
    assert cfg.models.enabled == ["gru", "ppo"]

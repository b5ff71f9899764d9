from __future__ import annotations

import json

import pandas as pd
import pytest

from kilo.registry import ModelMetrics, latest_version, list_versions
from kilo.registry.manifest import read_manifest
from kilo.retrain import champion, retrain_pass
from kilo.retrain.decisions import RetrainDecision
from kilo.trading.ledger import Ledger

pytestmark = pytest.mark.slow


def fake_sharpe(challenger: float, champion: float, champion_version: str):
    def net_sharpe(config, run):
        return champion if run.equity.name == champion_version else challenger

    return net_sharpe


def test_worse_challenger_is_not_promoted(setup, monkeypatch) -> None:
    cfg, champion_version = setup
    monkeypatch.setattr(champion, "net_sharpe", fake_sharpe(0.1, 1.0, champion_version))
    [decision] = retrain_pass(cfg, ["BTC/USDT"])
    assert not decision.promoted and "champion kept" in decision.reason
    assert latest_version(cfg.models.dir, "BTC/USDT") == champion_version
    assert decision.challenger in list_versions(cfg.models.dir, "BTC/USDT")  # kept, unpromoted
    logged = [
        RetrainDecision.model_validate_json(line)
        for line in cfg.retrain.log_path.read_text().splitlines()
    ]
    assert logged == [decision]
    rows = Ledger(cfg.trading.ledger_path).query("SELECT * FROM retrain_decisions")
    assert rows["promoted"].tolist() == [0] and rows["challenger"][0] == decision.challenger
    assert RetrainDecision.model_validate_json(rows["detail"][0]) == decision


def test_better_challenger_is_promoted_and_retention_runs(setup, monkeypatch) -> None:
    cfg, champion_version = setup
    monkeypatch.setattr(
        champion, "net_sharpe", fake_sharpe(0.9, 1.0, champion_version)
    )  # within margin
    [decision] = retrain_pass(cfg, ["BTC/USDT"])
    assert decision.promoted and decision.champion_sharpe == 1.0
    assert latest_version(cfg.models.dir, "BTC/USDT") == decision.challenger
    assert list_versions(cfg.models.dir, "BTC/USDT") == [decision.challenger]
    assert decision.deleted_versions == [champion_version]


def test_real_comparison_uses_a_window_neither_model_trained_on(setup) -> None:
    cfg, champion_version = setup
    manifest = json.loads(
        (cfg.models.dir / "BTC_USDT" / champion_version / "manifest.json").read_text()
    )
    [decision] = retrain_pass(cfg, ["BTC/USDT"])
    window = decision.window
    assert window.rows >= cfg.retrain.min_window_bars
    assert isinstance(decision.champion_sharpe, float)
    assert pd.Timestamp(window.start) > pd.Timestamp(manifest["split"]["validation"]["end"])
    # the bars that chose the challenger are recorded, and replay starts after them
    challenger = read_manifest(cfg.models.dir / "BTC_USDT" / decision.challenger)
    assert challenger.selection_window == window
    assert challenger.first_unseen_bar == window.end + pd.Timedelta("1h")


def test_collapsed_policy_is_not_promoted(setup, monkeypatch) -> None:
    cfg, champion_version = setup
    real_fit = champion.fit_model_set

    def collapsing_fit(*args, **kwargs):
        result = real_fit(*args, **kwargs)
        manifest = result.model_set.manifest
        ppo = manifest.metrics.get("ppo")
        collapsed = ppo.model_copy(
            update={"validation": ppo.validation.model_copy(update={"collapsed": True})}
        )
        result.model_set.manifest = manifest.model_copy(
            update={"metrics": ModelMetrics({**manifest.metrics.root, "ppo": collapsed})}
        )
        return result

    monkeypatch.setattr(champion, "fit_model_set", collapsing_fit)
    [decision] = retrain_pass(cfg, ["BTC/USDT"])
    assert not decision.promoted and "ppo collapsed" in decision.reason
    assert latest_version(cfg.models.dir, "BTC/USDT") == champion_version


def test_crash_mid_retrain_leaves_the_champion(setup, monkeypatch) -> None:
    cfg, champion_version = setup
    before = list_versions(cfg.models.dir, "BTC/USDT")

    def crash(self, folder):
        raise OSError("killed while writing ppo.zip")

    monkeypatch.setattr("kilo.rl.agent.PPOAgent.save", crash)
    [decision] = retrain_pass(cfg, ["BTC/USDT"])
    assert not decision.promoted and "killed while writing" in decision.reason
    assert latest_version(cfg.models.dir, "BTC/USDT") == champion_version
    assert list_versions(cfg.models.dir, "BTC/USDT") == before
    assert [p.name for p in (cfg.models.dir / "BTC_USDT").iterdir() if p.name.startswith(".")] == []

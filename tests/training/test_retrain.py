from __future__ import annotations

import json

import pandas as pd
import pytest

from kilo.config import Config
from kilo.registry import latest_version, list_versions
from kilo.trading.ledger import Ledger
from kilo.training import retrain
from kilo.training.retrain import retrain_pass, run_every

pytestmark = pytest.mark.slow


@pytest.fixture()
def setup(private_btc_models: Config, tmp_path):
    """A private models dir holding the tiny BTC champion, and retrain paths in tmp."""
    cfg = private_btc_models.model_copy(update={
        "retrain": private_btc_models.retrain.model_copy(update={
            "log_path": tmp_path / "retrain.jsonl", "ledger_path": tmp_path / "paper.sqlite",
            "refresh_data": False, "keep_versions": 1}),
    })
    return cfg, latest_version(cfg.models.dir, "BTC/USDT")


def fake_sharpe(challenger: float, champion: float, champion_version: str):
    def net_sharpe(config, run):
        return champion if run.equity.name == champion_version else challenger
    return net_sharpe


def test_worse_challenger_is_not_promoted(setup, monkeypatch) -> None:
    cfg, champion = setup
    monkeypatch.setattr(retrain, "net_sharpe", fake_sharpe(0.1, 1.0, champion))
    [decision] = retrain_pass(cfg, ["BTC/USDT"])
    assert not decision["promoted"] and "champion kept" in decision["reason"]
    assert latest_version(cfg.models.dir, "BTC/USDT") == champion
    assert decision["challenger"] in list_versions(cfg.models.dir, "BTC/USDT")  # kept, unpromoted
    logged = [json.loads(line) for line in cfg.retrain.log_path.read_text().splitlines()]
    assert logged == [decision]
    rows = Ledger(cfg.retrain.ledger_path).query("SELECT * FROM retrain_decisions")
    assert rows["promoted"].tolist() == [0] and rows["challenger"][0] == decision["challenger"]


def test_better_challenger_is_promoted_and_retention_runs(setup, monkeypatch) -> None:
    cfg, champion = setup
    monkeypatch.setattr(retrain, "net_sharpe", fake_sharpe(0.9, 1.0, champion))  # within margin
    [decision] = retrain_pass(cfg, ["BTC/USDT"])
    assert decision["promoted"] and decision["champion_sharpe"] == 1.0
    assert latest_version(cfg.models.dir, "BTC/USDT") == decision["challenger"]
    assert list_versions(cfg.models.dir, "BTC/USDT") == [decision["challenger"]]
    assert decision["deleted_versions"] == [champion]


def test_real_comparison_uses_a_window_neither_model_trained_on(setup) -> None:
    cfg, champion = setup
    manifest = json.loads((cfg.models.dir / "BTC_USDT" / champion / "manifest.json").read_text())
    [decision] = retrain_pass(cfg, ["BTC/USDT"])
    window = decision["window"]
    assert window["bars"] >= cfg.retrain.min_window_bars
    assert isinstance(decision["champion_sharpe"], float)
    assert pd.Timestamp(window["start"]) > pd.Timestamp(manifest["split"]["validation"]["end"])


def test_collapsed_policy_is_not_promoted(setup, monkeypatch) -> None:
    cfg, champion = setup
    real_fit = retrain.fit_model_set

    def collapsing_fit(*args, **kwargs):
        model_set, seconds = real_fit(*args, **kwargs)
        model_set.manifest["metrics"]["ppo"]["validation"]["collapsed"] = True
        return model_set, seconds

    monkeypatch.setattr(retrain, "fit_model_set", collapsing_fit)
    [decision] = retrain_pass(cfg, ["BTC/USDT"])
    assert not decision["promoted"] and "collapsed" in decision["reason"]
    assert latest_version(cfg.models.dir, "BTC/USDT") == champion


def test_crash_mid_retrain_leaves_the_champion(setup, monkeypatch) -> None:
    cfg, champion = setup
    before = list_versions(cfg.models.dir, "BTC/USDT")

    def crash(self, folder):
        raise OSError("killed while writing ppo.zip")

    monkeypatch.setattr("kilo.rl.agent.PPOAgent.save", crash)
    [decision] = retrain_pass(cfg, ["BTC/USDT"])
    assert not decision["promoted"] and "killed while writing" in decision["reason"]
    assert latest_version(cfg.models.dir, "BTC/USDT") == champion
    assert list_versions(cfg.models.dir, "BTC/USDT") == before
    assert [p.name for p in (cfg.models.dir / "BTC_USDT").iterdir()
            if p.name.startswith(".")] == []


def test_schedule_is_drift_free() -> None:
    now = [0.0]
    starts: list[float] = []

    def task() -> None:
        starts.append(now[0])
        now[0] += 30.0 if len(starts) != 2 else 250.0  # the second pass overruns two slots

    def sleep(seconds: float) -> None:
        now[0] += seconds

    run_every(task, pd.Timedelta("100s"), passes=4, clock=lambda: now[0], sleep=sleep)
    assert starts == [0.0, 100.0, 400.0, 500.0]

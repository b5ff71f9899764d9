"""retrain.py --on-drift: a challenger where the trader's ledger says drift, recorded with it."""

from __future__ import annotations

import pandas as pd
import pytest

from kilo.retrain import champion, drift_pass
from kilo.retrain.decisions import RetrainDecision
from kilo.retrain.on_drift import drift_triggers
from kilo.trading.broker import Portfolio
from kilo.trading.drift import DriftRecord
from kilo.trading.ledger import Ledger
from kilo.trading.records import IterationRecord
from tests.retrain.test_champion import fake_sharpe

pytestmark = pytest.mark.slow

BAR = pd.Timestamp("2021-03-01 12:00", tz="UTC")


def write_drift(path, version: str, feature_psi: dict[str, float]) -> None:
    """One iteration whose BTC/USDT drift row was measured on ``version``."""
    ledger = Ledger(path)
    ledger.start_run("replay", ["BTC/USDT"], 10_000.0, {})
    record = DriftRecord(
        "BTC/USDT", BAR, version, "drifted", feature_psi, {"score": 0.1}, top_features=[("a", 0.9)]
    )
    iteration = IterationRecord(BAR, BAR, [], [], Portfolio(10_000.0), {}, drift=[record])
    ledger.write_iteration(iteration)
    ledger.close()


def test_a_drifted_champion_gets_one_challenger_recorded_with_its_trigger(
    setup, monkeypatch
) -> None:
    cfg, champion_version = setup
    write_drift(cfg.trading.ledger_path, champion_version, {"a": 0.9, "b": 0.6, "c": 0.1})
    assert drift_triggers(cfg.with_overrides({"drift.psi_threshold": 1.0}), ["BTC/USDT"]) == {}
    monkeypatch.setattr(champion, "net_sharpe", fake_sharpe(0.1, 1.0, champion_version))
    [decision] = drift_pass(cfg, ["BTC/USDT"])
    trigger = decision.trigger
    assert trigger is not None and trigger.model_version == champion_version
    assert trigger.bar_time == BAR and "2 of 3 features" in trigger.reason
    assert decision.reason.startswith("drift (PSI > 0.25") and not decision.promoted
    rows = Ledger(cfg.trading.ledger_path).query("SELECT detail FROM retrain_decisions")
    assert RetrainDecision.model_validate_json(rows["detail"][0]).trigger == trigger
    assert drift_pass(cfg, ["BTC/USDT"]) == []  # this champion was retrained on drift once

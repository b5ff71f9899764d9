"""Leak drills: every planted fault is caught by at least one instrument, the report
says by which, and a fault whose instrument is switched off is reported "not caught"."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from kilo.config import Config
from kilo.data import load_config_candles
from kilo.evaluation.controls.drills import drill_line, run_drill
from kilo.evaluation.controls.faults import DRILL_COLUMN, LEAK_ICS, Fault, LeakyEngine, faults
from kilo.features import FeatureEngine, held_log_return
from kilo.metrics import spearman_ic
from kilo.training.dataset import load_context


@pytest.fixture(scope="module")
def drill_config(tiny_config: Config) -> Config:
    return tiny_config.with_overrides(
        {
            "models.enabled": ["gru", "lightgbm"],
            "evaluation.folds": 1,
            "evaluation.initial_train_fraction": 0.7,
        }
    )


def test_look_aheads_have_the_asked_raw_ic_against_the_held_return(drill_config: Config) -> None:
    engine = FeatureEngine.from_config(drill_config, "ETH/USDT")
    other = engine.context_symbols[0]
    candles = load_config_candles(drill_config.data, "ETH/USDT")
    context = load_context(drill_config, [other])
    h, seed = drill_config.target.horizon, drill_config.seed
    held = held_log_return(candles, h).to_numpy()
    planted = faults(drill_config, candles, context, other)
    for kind in ("own", "cross"):
        leaks = [f for f in planted if f.kind == kind]
        for fault, ic in zip(leaks, LEAK_ICS, strict=True):
            values = fault.values(candles, context, other, h, seed)
            assert spearman_ic(values.to_numpy(), held) == pytest.approx(ic, abs=2e-3)
    leaky = LeakyEngine(engine, planted[0], h, seed)
    assert leaky.feature_names == engine.feature_names  # the contract is unchanged
    assert {f.kind for f in planted} == {"own", "cross", "label", "context shift", "close ahead"}


@pytest.mark.parametrize(
    "fault",
    [
        Fault("context 1 bar early", "context shift", bars=1),
        Fault("context 2 bars early", "context shift", bars=2),
        Fault("own close a bar ahead", "close ahead"),
    ],
)
def test_data_faults_are_caught_by_the_alignment_check(drill_config: Config, fault) -> None:
    """Faults in the files: causality cannot see them (a cut keeps the wrong bar); the
    alignment check stops the evaluation and names the file."""
    result = run_drill(drill_config, "ETH/USDT", fault)
    assert result.caught_by == ["alignment"]
    name = "BTC_USDT-1h" if fault.kind == "context shift" else "ETH_USDT-1h"
    assert name in result.alignment and "caught by alignment" in drill_line(result)
    assert abs(result.raw_ic) > 0.05  # the shifted series reads the held return's first bar


def test_data_faults_pass_causality(drill_config: Config) -> None:
    """Why the alignment check is needed: without it the causality check passes a
    context file shifted a bar early, and the drill says so."""
    fault = Fault("context 1 bar early", "context shift", bars=1)
    result = run_drill(drill_config, "ETH/USDT", fault, instruments=["causality"])
    assert result.causality == "passed" and result.caught_by == []
    assert "not caught" in drill_line(result)


def test_an_instrument_switched_off_reports_not_caught(drill_config: Config) -> None:
    fault = Fault("own look-ahead", "own", 0.04)
    result = run_drill(drill_config, "BTC/USDT", fault, instruments=["causality"])
    assert result.caught_by == ["causality"]
    assert DRILL_COLUMN in result.causality and "read the future" in result.causality
    off = run_drill(drill_config, "BTC/USDT", fault, instruments=["alignment"])
    assert off.alignment == "passed" and off.causality == "not run" and off.caught_by == []
    assert "not caught" in drill_line(off)


@pytest.mark.slow
def test_trained_instruments_report_per_model(drill_config: Config) -> None:
    result = run_drill(drill_config, "BTC/USDT", Fault("cross-asset", "cross", 1.0))
    assert "causality" in result.caught_by
    assert set(result.placebo_ic) == set(result.lead_lag_bump) == {"gru", "lightgbm"}


def _evaluate_drill(drill_config: Config, tmp_path, off: list[str]) -> subprocess.CompletedProcess:
    overrides = [*TINY_ARGS, "models.enabled=[lightgbm]"]
    return subprocess.run(
        [
            sys.executable,
            "scripts/evaluate.py",
            "--drill",
            "--symbol",
            "ETH/USDT",
            "--data-dir",
            str(drill_config.data.dir),
            "--report-dir",
            str(tmp_path),
            "--no-progress",
            *[a for o in off for a in ("--drill-off", o)],
            *[a for override in overrides for a in ("--set", override)],
        ],
        capture_output=True,
        text=True,
    )


@pytest.mark.slow
def test_evaluate_drill_writes_the_report_and_exits_1_on_a_miss(
    drill_config: Config, tmp_path
) -> None:
    """Alignment and causality catch every fault (the trained instruments off keep it
    cheap); with alignment off too, the file faults pass and the exit code says so."""
    out = _evaluate_drill(drill_config, tmp_path / "on", ["placebo", "lead/lag"])
    assert out.returncode == 0, out.stdout[-2000:] + out.stderr[-2000:]
    assert "label leak" in out.stdout and "caught by causality" in out.stdout
    [report] = (tmp_path / "on").glob("drills-*/drills.json")
    drills = json.loads(report.read_text())["ETH/USDT"]
    assert len(drills) == 10 and all(d["caught_by"] for d in drills)
    assert {tuple(d["caught_by"]) for d in drills} == {("alignment",), ("causality",)}
    out = _evaluate_drill(drill_config, tmp_path / "off", ["alignment", "placebo", "lead/lag"])
    assert out.returncode == 1 and out.stdout.count("not caught") == 3


TINY_ARGS = [
    "symbols=[BTC/USDT, ETH/USDT, SOL/USDT]",
    "models.lightgbm.n_estimators=60",
    "models.lightgbm.early_stopping_rounds=20",
    "tracking.enabled=false",
    "evaluation.holdout_fraction=0",
    "evaluation.power_ics=[]",
    "evaluation.folds=1",
    "evaluation.initial_train_fraction=0.7",
]

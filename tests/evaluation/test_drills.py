"""Leak drills: every planted fault is caught by at least one instrument, and the
report says by which."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest

from kilo.config import Config
from kilo.data import load_config_candles
from kilo.evaluation.drills import DRILL_COLUMN, Fault, LeakyEngine, faults, run_drill
from kilo.features import FeatureEngine
from kilo.metrics import spearman_ic

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def drill_config(tiny_config: Config) -> Config:
    return tiny_config.with_overrides(
        {
            "models.enabled": ["gru", "lightgbm"],
            "evaluation.folds": 1,
            "evaluation.initial_train_fraction": 0.7,
        }
    )


def test_own_look_aheads_have_the_asked_raw_ic(drill_config: Config) -> None:
    candles = load_config_candles(drill_config.data, "BTC/USDT")
    own = [f for f in faults(drill_config, candles) if f.kind == "own"]
    engine = FeatureEngine.from_config(drill_config, "BTC/USDT")
    log_close = np.log(candles["close"].to_numpy())
    h = drill_config.target.horizon
    label = np.full(len(candles), np.nan)
    label[:-h] = log_close[h:] - log_close[:-h]
    for fault, ic in zip(own, (0.02, 0.05), strict=True):
        leaky = LeakyEngine(engine, fault, h, drill_config.seed)
        values = fault.values(candles, {}, leaky.context_symbols[0], h, drill_config.seed)
        assert spearman_ic(values.to_numpy(), label) == pytest.approx(ic, abs=2e-3)
        assert leaky.feature_names == engine.feature_names  # the contract is unchanged


@pytest.mark.parametrize(
    "fault", [Fault("own look-ahead IC 0.02", "own", 0.04), Fault("cross-asset", "cross")]
)
def test_every_fault_is_caught_and_says_by_what(drill_config: Config, fault: Fault) -> None:
    result = run_drill(drill_config, "BTC/USDT", fault)
    assert "causality" in result.caught_by
    assert DRILL_COLUMN in result.causality and "read the future" in result.causality
    assert set(result.placebo_ic) == set(result.lead_lag_bump) == {"gru", "lightgbm"}


def test_evaluate_drill_writes_the_report(drill_config: Config, tmp_path) -> None:
    overrides = [
        *TINY_ARGS,
        "models.enabled=[lightgbm]",
        "evaluation.folds=1",
        "evaluation.initial_train_fraction=0.7",
    ]
    out = subprocess.run(
        [
            sys.executable,
            "scripts/evaluate.py",
            "--drill",
            "--symbol",
            "BTC/USDT",
            "--data-dir",
            str(drill_config.data.dir),
            "--report-dir",
            str(tmp_path),
            "--no-progress",
            *[a for override in overrides for a in ("--set", override)],
        ],
        capture_output=True,
        text=True,
    )
    assert out.returncode == 0, out.stderr[-2000:]
    assert "label leak" in out.stdout and "caught by causality" in out.stdout
    [report] = tmp_path.glob("drills-*/drills.json")
    drills = json.loads(report.read_text())["BTC/USDT"]
    assert len(drills) == 4 and all(d["caught_by"] for d in drills)


TINY_ARGS = [
    "symbols=[BTC/USDT, ETH/USDT, SOL/USDT]",
    "models.lightgbm.n_estimators=60",
    "models.lightgbm.early_stopping_rounds=20",
    "tracking.enabled=false",
    "evaluation.holdout_fraction=0",
    "evaluation.power_ics=[]",
]

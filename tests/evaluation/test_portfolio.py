"""Portfolio walk-forward: baselines by hand, and a small run through the trader."""

from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from kilo.config import Config
from kilo.evaluation.portfolio import STRATEGIES, equal_weight

REPO = Path(__file__).resolve().parents[2]


def test_equal_weight_by_hand() -> None:
    index = pd.date_range("2025-01-01 22:00", periods=4, freq="1h", tz="UTC")
    marks = pd.DataFrame(
        {"A": [100.0, 110.0, 110.0, 121.0], "B": [50.0, 50.0, 45.0, 45.0]}, index=index
    )
    held = equal_weight(marks, cost=0.0, rebalance=False, cash=1000.0)
    np.testing.assert_allclose(held, [1000.0, 1050.0, 1000.0, 1055.0])  # 5 A and 10 B
    rebalanced = equal_weight(marks, cost=0.0, rebalance=True, cash=1000.0)
    # 00:00 starts a day: 1000 split 500/500 again; then A +10 %, B flat -> 1050
    np.testing.assert_allclose(rebalanced, [1000.0, 1050.0, 1000.0, 1050.0])
    costly = equal_weight(marks, cost=0.01, rebalance=True, cash=1000.0)
    assert costly.iloc[0] == pytest.approx(990.0)  # paid on the way in
    assert costly.iloc[2] == pytest.approx(
        1.1 * 495 + 0.9 * 495 - 0.01 * abs(1.1 * 495 - 0.9 * 495)
    )  # the traded notional
    assert costly.iloc[-1] < rebalanced.iloc[-1] * 0.99  # and on the way out


@pytest.mark.slow
def test_portfolio_walk_forward_through_the_script(tiny_models: Config, tmp_path) -> None:
    cmd = [
        sys.executable,
        str(REPO / "scripts" / "evaluate.py"),
        "--all",
        "--portfolio",
        "--folds",
        "2",
        "--jobs",
        "2",
        "--no-progress",
        "--report-dir",
        str(tmp_path),
        "--data-dir",
        str(tiny_models.data.dir),
        "--set",
        "symbols=[BTC/USDT, ETH/USDT, SOL/USDT]",
        "--set",
        "evaluation.ppo_timesteps=512",
        "--set",
        "evaluation.random_draws=5",
        "--set",
        "tracking.enabled=false",
        "--set",
        "risk.max_drawdown=0.02",
        *(
            arg
            for o in (
                "models.gru.sequence_length=16",
                "models.gru.epochs=2",
                "models.ppo.n_steps=256",
                "models.ppo.batch_size=64",
                "models.ppo.window=4",
                "blend.rule=quantile",
            )
            for arg in ("--set", o)
        ),
    ]
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, done.stderr[-2000:]
    assert "portfolio (" in done.stdout and "risk events" in done.stdout
    [summary_path] = tmp_path.glob("*/summary.json")
    portfolio = json.loads(summary_path.read_text())["portfolio"]
    assert set(portfolio["strategies"]) == set(STRATEGIES)
    assert portfolio["strategies"]["flat"]["total_log_return"] == 0.0
    for name in ("blend", "equal_weight", "equal_weight_rebalanced"):
        assert math.isfinite(portfolio["strategies"][name]["total_log_return"]), name
    assert isinstance(portfolio["risk_events"], dict) and portfolio["bars"] > 500
    assert {"date", "log_return"} == set(portfolio["worst_day"])

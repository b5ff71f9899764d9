"""Portfolio walk-forward: a small run through the script, read back as a typed summary."""

from __future__ import annotations

import math
import subprocess
import sys
from pathlib import Path

import pytest

from kilo.backtest.portfolio import STRATEGIES
from kilo.config import Config
from kilo.evaluation.summary import EvaluationSummary

REPO = Path(__file__).resolve().parents[2]


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
        "symbols=[BTC/USDT, ETH/USDT]",  # two symbols share the book as well as three
        "--set",
        "models.ppo.total_timesteps=512",
        "--set",
        "evaluation.random_draws=5",
        "--set",
        "tracking.enabled=false",
        "--set",
        "risk.max_drawdown=0.02",
        *(
            arg
            for o in (
                "models.enabled=[lightgbm, ppo]",  # the GRU's fits would be most of the time
                "models.ppo.n_steps=256",
                "models.ppo.batch_size=64",
                "models.ppo.window=4",
                "blend.rule=quantile",
                "evaluation.holdout_fraction=0",  # 4,500 bars: too few for a holdout too
                "evaluation.power_ics=[]",  # the portfolio is under test, not the power curve
                "models.lightgbm.n_estimators=60",
            )
            for arg in ("--set", o)
        ),
    ]
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, done.stderr[-2000:]
    assert "portfolio (" in done.stdout and "risk events" in done.stdout
    [summary_path] = tmp_path.glob("*/summary.json")
    portfolio = EvaluationSummary.read(summary_path).portfolio
    assert portfolio is not None and set(portfolio.strategies) == set(STRATEGIES)
    assert portfolio.strategies["flat"].total_log_return == 0.0
    for name in ("blend", "equal_weight", "equal_weight_rebalanced"):
        assert math.isfinite(portfolio.strategies[name].total_log_return), name
    assert portfolio.bars > 500 and math.isfinite(portfolio.worst_day.log_return)
    assert all(n > 0 for n in portfolio.risk_events.values())

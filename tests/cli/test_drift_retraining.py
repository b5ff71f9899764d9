"""scripts/drift_retraining.py: the drift, schedule and never arms, replayed and compared."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from scripts.drift_retraining import main

from kilo.cli.drift_retraining import (
    compare_arms,
    paired_sharpe_se,
    results_table,
    schedule_dates,
    write_results,
)
from kilo.config import Config
from kilo.data import load_config_candles
from kilo.errors import ConfigError
from tests.retrain.test_replay import ALWAYS_DRIFTED


def test_schedule_dates_split_the_window_evenly_on_the_candle_grid() -> None:
    start = pd.Timestamp("2020-01-01", tz="UTC")
    end = pd.Timestamp("2020-01-11 01:00", tz="UTC")
    dates = schedule_dates(start, end, 4, pd.Timedelta("1h"))
    assert dates == [start + pd.Timedelta(h, "h") for h in (48, 96, 144, 192)]
    assert schedule_dates(start, end, 0, pd.Timedelta("1h")) == []


def test_the_script_asks_for_the_replays_end(capsys) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["--symbol", "BTC/USDT", "--start", "2021-01-01"])
    assert exit_info.value.code == 2
    assert "--set data.end=" in capsys.readouterr().err


@pytest.mark.slow
def test_three_arms_retrain_as_often_and_are_read_from_their_ledgers(
    tiny_config: Config, tmp_path
) -> None:
    cfg = tiny_config.with_overrides(ALWAYS_DRIFTED)
    start = load_config_candles(cfg.data, "BTC/USDT").index[-40]
    results, minutes = compare_arms(
        cfg, "BTC/USDT", start, tmp_path, min_spacing=pd.Timedelta("25h")
    )
    drift, schedule, never = results
    assert [r.arm for r in results] == ["drift", "schedule", "never"] and minutes > 0
    assert len(drift.retrainings) == len(schedule.retrainings) == 1 and not never.retrainings
    assert schedule.retrainings[0].bar_time == start + pd.Timedelta("19h")  # half of 39 h
    for r in results:
        assert len(r.returns) == 39 and r.returns.index[0] == start
        assert np.isfinite([r.net_log_return, r.sharpe, r.ic, r.buy_and_hold]).all()
        assert r.ic_low <= r.ic <= r.ic_high
    assert paired_sharpe_se(never, never, 5, 8760.0) == 0.0
    table = results_table(results, 5, 8760.0)
    assert "| BTC/USDT | drift − schedule |" in table and "| BTC/USDT | never | 0 |" in table
    saved = json.loads(write_results(results, tmp_path / "r.json").read_text())
    assert saved[0]["retrainings"][0]["trigger"].startswith("PSI") and saved[2]["bars"] == 39
    again, _ = compare_arms(
        cfg, "BTC/USDT", start, tmp_path, min_spacing=pd.Timedelta("25h"), arms=("never",)
    )  # reused
    assert again[0].sharpe == never.sharpe
    with pytest.raises(ConfigError, match="another configuration"):
        compare_arms(
            cfg.with_overrides({"seed": 7}),
            "BTC/USDT",
            start,
            tmp_path,
            min_spacing=pd.Timedelta("25h"),
            arms=("never",),
        )

"""Retraining inside a replay: a new set on the candles to the triggering bar, traded
from the next bar, on dates or where the drift rule fires."""

from __future__ import annotations

import pandas as pd
import pytest

from kilo.config import Config
from kilo.data import load_config_candles
from kilo.registry import latest_version, symbol_dir
from kilo.registry.manifest import read_manifest
from kilo.retrain.replay import ReplayRetrainer, replay_with_retraining
from kilo.trading.ledger import Ledger

pytestmark = pytest.mark.slow

SYMBOL = "BTC/USDT"
#: Drift fires on the first measured bar: a 20-bar window and a PSI threshold that any
#: window exceeds, without the training windows' quantiles.
ALWAYS_DRIFTED = {"drift.window": 20, "drift.null_quantile": None, "drift.psi_threshold": 1e-9}


def replay_start(cfg: Config) -> pd.Timestamp:
    """40 candles before the tiny data's end: 39 bars to trade (the last has no next open)."""
    return load_config_candles(cfg.data, SYMBOL).index[-40]


def versions(ledger: Ledger) -> pd.DataFrame:
    rows = ledger.query("SELECT bar_time, model_version FROM predictions ORDER BY iteration_id")
    rows["bar_time"] = pd.to_datetime(rows["bar_time"], utc=True)
    ledger.close()
    return rows


def test_a_scheduled_retraining_trades_from_the_bar_after_its_date(
    private_btc_models: Config, tmp_path
) -> None:
    cfg = private_btc_models
    start, first = replay_start(cfg), latest_version(cfg.models.dir, SYMBOL)
    date = start + pd.Timedelta("5h")
    # two dates first passed at one bar make one retraining
    retrainer = ReplayRetrainer(cfg, SYMBOL, dates=[date, date - pd.Timedelta("30min")])
    rows = versions(replay_with_retraining(cfg, SYMBOL, start, tmp_path / "p.sqlite", retrainer))
    [done] = retrainer.retrainings
    assert done.bar_time == date and done.trigger == "schedule" and done.seconds > 0
    assert set(rows.loc[rows["bar_time"] <= date, "model_version"]) == {first}
    assert set(rows.loc[rows["bar_time"] > date, "model_version"]) == {done.version}
    assert len(rows) == 39  # the last candle has no next open to fill at
    split = read_manifest(symbol_dir(cfg.models.dir, SYMBOL) / done.version).split
    assert pd.Timestamp(split.test.end) <= date  # trained on no candle after the bar


def test_drift_retrains_once_per_set_and_no_sooner_than_the_spacing(
    private_btc_models: Config, tmp_path
) -> None:
    cfg = private_btc_models.with_overrides(ALWAYS_DRIFTED)
    start = replay_start(cfg)
    retrainer = ReplayRetrainer(cfg, SYMBOL, on_drift=True, min_spacing=pd.Timedelta("25h"))
    rows = versions(replay_with_retraining(cfg, SYMBOL, start, tmp_path / "p.sqlite", retrainer))
    # drifted from the 21st bar on; the spacing holds it to start + 25 h; the new set's
    # monitor then warms up for 20 bars, beyond the replay's 40
    [done] = retrainer.retrainings
    assert done.bar_time == start + pd.Timedelta("25h")
    assert done.trigger.startswith("PSI > 1e-09")
    assert rows["model_version"].nunique() == 2
    assert set(rows.loc[rows["bar_time"] > done.bar_time, "model_version"]) == {done.version}


def test_without_a_retrainer_the_first_set_trades_throughout(
    private_btc_models: Config, tmp_path
) -> None:
    cfg = private_btc_models.with_overrides(ALWAYS_DRIFTED)
    start, first = replay_start(cfg), latest_version(cfg.models.dir, SYMBOL)
    rows = versions(replay_with_retraining(cfg, SYMBOL, start, tmp_path / "p.sqlite"))
    assert set(rows["model_version"]) == {first} and len(rows) == 39

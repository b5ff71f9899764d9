"""The deflated Sharpe ratio's N: this run's model strategies and every other
configuration the tracking store holds for the symbol, never the baselines."""

from __future__ import annotations

import math
import time

import pytest

from kilo.config import Config
from kilo.evaluation.trials import tracked_trials
from kilo.metrics import bars_per_year
from kilo.runtime.tracking import CONFIG_TAG, Tracker, config_hash


def test_tracked_trials_count_other_configurations_and_search_trials(
    tiny_config: Config, tmp_path
) -> None:
    config = tiny_config.with_overrides(
        {"tracking.enabled": True, "tracking.uri": f"sqlite:///{tmp_path / 'mlflow.db'}"}
    )
    other = config.with_overrides({"target.horizon": 24})
    third = config.with_overrides({"target.horizon": 4})
    tracker = Tracker(config.tracking)

    def log(kind: str, cfg: Config, metrics: dict, fail: bool = False) -> None:
        time.sleep(0.01)  # start times in ms tell the newest run
        try:
            with tracker.run(
                kind, {}, tags={"kilo.kind": kind, CONFIG_TAG: config_hash(cfg)}
            ) as run:
                run.log_metrics(metrics)
                if fail:
                    raise RuntimeError("pruned")
        except RuntimeError:
            pass

    btc = "BTC/USDT"
    log("search-trial", third, {btc: {"blend": {"sharpe": -0.3}}})
    log("search-trial", other, {btc: {"blend": {"sharpe": 5.0}}})  # evaluated later: one trial
    log("search-trial", config, {btc: {"blend": {"sharpe": 0.2}}}, fail=True)  # pruned
    log(
        "evaluate",
        other,
        {btc: {"blend": {"sharpe": 1.0}, "gru": {"sharpe": 0.5}, "buy_and_hold": {"sharpe": 2.0}}},
    )
    log("evaluate", other.with_overrides({"seed": 7}), {btc: {"blend": {"sharpe": 9.0}}})
    log("evaluate", config, {btc: {"blend": {"sharpe": 3.0}}})  # this configuration: not a trial
    log("evaluate", other, {"ETH/USDT": {"blend": {"sharpe": 0.1}}})

    found = tracked_trials(config, tracker, [btc])
    root = math.sqrt(bars_per_year(3600))
    # newest first: ``other``'s blend is its seed-7 evaluation's (the same configuration
    # as its first evaluation and its search trial); baselines are no trials
    assert sorted(found.sharpes[btc]) == pytest.approx(
        sorted([9.0 / root, 0.5 / root, -0.3 / root])
    )
    assert found.evaluations == {btc: 2} and found.search_trials == {btc: 1}
    assert "MLflow" in found.source and config.tracking.uri in found.source


def test_without_tracking_only_this_run_counts(tiny_config: Config) -> None:
    found = tracked_trials(tiny_config, Tracker(tiny_config.tracking), ["BTC/USDT"])
    assert found.sharpes == {} and found.source.startswith("tracking off")


def test_the_seed_and_paths_do_not_make_a_new_configuration(tiny_config: Config) -> None:
    same = tiny_config.with_overrides({"seed": 3, "models.dir": "elsewhere"})
    assert config_hash(same) == config_hash(tiny_config)
    assert config_hash(tiny_config.with_overrides({"target.horizon": 24})) != config_hash(
        tiny_config
    )

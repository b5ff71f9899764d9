"""The deflated Sharpe ratio's N and V: the outer-fold Sharpe ratios of this run's
model strategies and of every other configuration the tracking store holds for the
symbol, never the baselines or inner-fold search trials; the holdout's reads."""

from __future__ import annotations

import math
import time
from functools import partial
from types import SimpleNamespace
from typing import cast

import numpy as np
import pandas as pd
import pytest

from kilo.config import Config
from kilo.config.markets import bars_per_year
from kilo.evaluation.report.text import trials_sentence
from kilo.evaluation.results import deflate
from kilo.evaluation.run import run_evaluation
from kilo.evaluation.symbol import SymbolEvaluation
from kilo.evaluation.trials import HOLDOUT_READ, TrackedTrials, tracked_trials
from kilo.metrics import expected_max_sharpe, sharpe_ratio
from kilo.runtime import RunOptions
from kilo.runtime.tracking import CONFIG_TAG, Tracker, config_hash


def _tracked(tiny_config: Config, tmp_path) -> Config:
    return tiny_config.with_overrides(
        {"tracking.enabled": True, "tracking.uri": f"sqlite:///{tmp_path / 'mlflow.db'}"}
    )


def _log(tracker: Tracker, kind: str, cfg: Config, metrics: dict, fail: bool = False) -> str | None:
    time.sleep(0.01)  # start times in ms tell the newest run
    try:
        with tracker.run(kind, {}, tags={"kilo.kind": kind, CONFIG_TAG: config_hash(cfg)}) as run:
            run.log_metrics(metrics)
            if fail:
                raise RuntimeError("pruned")
    except RuntimeError:
        pass
    return run.id


def _traded(sharpe: float, trades: int = 3) -> dict:
    return {"sharpe": sharpe, "n_trades": trades}


def test_tracked_trials_are_other_configurations_outer_sharpes_only(
    tiny_config: Config, tmp_path
) -> None:
    config = _tracked(tiny_config, tmp_path)
    other = config.with_overrides({"target.horizon": 24})
    third = config.with_overrides({"target.horizon": 4})
    tracker = Tracker(config.tracking)
    btc = "BTC/USDT"
    log = partial(_log, tracker)
    # search trials scored inner folds: counted, never trials of N or V
    log("search-trial", third, {btc: {"blend": {"sharpe": -0.3}}})
    log("search-trial", other, {btc: {"blend": {"sharpe": 5.0}}})
    log("search-trial", config, {btc: {"blend": {"sharpe": 0.2}}}, fail=True)  # pruned
    log(
        "evaluate",
        other,
        {btc: {"blend": _traded(1.0), "gru": _traded(0.5), "buy_and_hold": _traded(2.0)}},
    )
    log(
        "evaluate",
        other.with_overrides({"seed": 7}),  # the same configuration, newer: it counts
        {btc: {"blend": _traded(9.0), "ppo": _traded(-3.5), "gru": _traded(0.0, trades=0)}},
    )
    log("evaluate", third, {btc: {"lightgbm": _traded(0.4)}})
    log("evaluate", config, {btc: {"blend": _traded(3.0)}})  # this configuration: not a trial
    log("evaluate", other, {"ETH/USDT": {"blend": _traded(0.1)}})

    found = tracked_trials(config, tracker, [btc])
    root = math.sqrt(bars_per_year(3600))
    # each model strategy that traded of each other configuration's newest evaluation;
    # baselines, strategies that never traded and inner-fold Sharpes are no trials
    assert sorted(found.sharpes[btc]) == pytest.approx([v / root for v in sorted([9.0, -3.5, 0.4])])
    assert found.evaluations == {btc: 2} and found.search_trials == {btc: 2}
    assert "MLflow" in found.source and config.tracking.uri in found.source


def test_holdout_reads_count_every_evaluation_run_that_read_it(
    tiny_config: Config, tmp_path
) -> None:
    config = _tracked(tiny_config, tmp_path)
    tracker = Tracker(config.tracking)
    btc, eth = "BTC/USDT", "ETH/USDT"
    read = {btc: {HOLDOUT_READ: 1}}
    _log(tracker, "evaluate", config, read)
    _log(tracker, "evaluate", config, {**read, eth: {HOLDOUT_READ: 1}}, fail=True)  # still read
    _log(tracker, "evaluate", config, {btc: {"blend": _traded(1.0)}})  # outer folds only
    _log(tracker, "search-trial", config, read)  # no evaluation: not counted
    mine = _log(tracker, "evaluate", config, read)
    found = tracked_trials(config, tracker, [btc, eth, "SOL/USDT"], mine)
    assert found.holdout_reads == {btc: 2, eth: 1, "SOL/USDT": 0}
    assert tracked_trials(config, tracker, [btc]).holdout_reads == {btc: 3}


def _evaluation(returns: dict[str, np.ndarray]) -> SymbolEvaluation:
    """Just what :func:`deflate` reads of an evaluation: per-bar returns, DSR slots."""
    strategies = {name: SimpleNamespace(dsr=math.nan) for name in returns}
    return cast(
        SymbolEvaluation,
        SimpleNamespace(
            returns={k: pd.Series(v) for k, v in returns.items()},
            summary=SimpleNamespace(strategies=strategies),
        ),
    )


def test_deflate_counts_each_traded_model_strategy_once_over_seeds() -> None:
    rng = np.random.default_rng(0)
    seeds = [
        _evaluation(
            {
                "blend": rng.normal(0.001, 0.01, 500),
                "ppo": rng.normal(-0.002, 0.01, 500),
                "gru": np.zeros(500),  # never traded: no trial
                "buy_and_hold": rng.normal(0.0, 0.01, 500),  # a baseline: no trial
            }
        )
        for _ in range(2)
    ]
    earlier = [0.01, -0.02, 0.03]
    tracked = TrackedTrials(sharpes={"BTC/USDT": earlier}, evaluations={"BTC/USDT": 2})
    trials = deflate({"BTC/USDT": seeds}, tracked)["BTC/USDT"]
    own = [
        np.mean([sharpe_ratio(ev.returns[name].to_numpy()) for ev in seeds])
        for name in ("blend", "ppo")
    ]
    assert (trials.n, trials.this_run, trials.earlier, trials.evaluations) == (5, 2, 3, 2)
    assert trials.sharpe_variance == pytest.approx(np.var([*own, *earlier], ddof=1))
    assert trials.benchmark_sharpe == pytest.approx(expected_max_sharpe(5, trials.sharpe_variance))
    assert trials.benchmark.startswith("Sharpe 0") and "N = 5" in trials_sentence(trials)
    assert all(0 <= ev.summary.strategies["blend"].dsr <= 1 for ev in seeds)
    assert math.isnan(seeds[0].summary.strategies["gru"].dsr)


def test_without_tracking_only_this_run_counts(tiny_config: Config) -> None:
    found = tracked_trials(tiny_config, Tracker(tiny_config.tracking), ["BTC/USDT"])
    assert found.sharpes == {} and found.source.startswith("tracking off")


def test_the_seed_and_paths_do_not_make_a_new_configuration(tiny_config: Config) -> None:
    same = tiny_config.with_overrides({"seed": 3, "models.dir": "elsewhere"})
    assert config_hash(same) == config_hash(tiny_config)
    assert config_hash(tiny_config.with_overrides({"target.horizon": 24})) != config_hash(
        tiny_config
    )


@pytest.mark.slow
def test_each_evaluation_counts_its_holdout_read(tiny_config: Config, tmp_path) -> None:
    config = _tracked(tiny_config, tmp_path).with_overrides(
        [
            "models.enabled=[lightgbm]",
            "evaluation.folds=2",
            "evaluation.initial_train_fraction=0.6",
            "evaluation.holdout_fraction=0.1",
            "evaluation.random_draws=5",
        ]
    )
    reads, ns = [], []
    for k in range(2):
        summary, paths, _ = run_evaluation(
            config, ["BTC/USDT"], report_dir=tmp_path / "reports", options=RunOptions(jobs=2)
        )
        assert summary is not None
        btc = summary.symbols["BTC/USDT"]
        assert btc.holdout is not None and btc.trials is not None
        reads.append(btc.holdout.reads)
        ns.append(btc.trials.n)
        assert f"read {k + 1} time" in paths["html"].read_text()
    assert reads == [1, 2]
    assert ns[0] == ns[1]  # the same configuration again is no new trial
    other = config.with_overrides({"target.horizon": 4})
    summary, _, _ = run_evaluation(
        other, ["BTC/USDT"], report_dir=tmp_path / "reports", options=RunOptions(jobs=2)
    )
    assert summary is not None
    btc = summary.symbols["BTC/USDT"]
    assert btc.holdout is not None and btc.holdout.reads == 3  # the symbol's holdout, any config
    assert btc.trials is not None and btc.trials.evaluations == 1
    assert btc.trials.n == btc.trials.this_run + btc.trials.earlier

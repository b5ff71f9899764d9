"""Benchmarks of whole jobs: a training, every symbol's, an evaluation."""

from __future__ import annotations

from typing import Any

import numpy as np

from kilo.bench.core import record, register, time_runs
from kilo.bench.models import peer_100k_seconds
from kilo.config import Config
from kilo.runtime import RunOptions


@register("train")
def bench_train(config: Config) -> list[dict[str, Any]]:
    """Seconds to train one symbol with the config, and the process's peak memory.

    No warm-up run: one run takes minutes and imports are done before timing. With
    gym-anytrading installed the same run times the peer, SB3's PPO for 100k steps on
    it (:func:`~kilo.bench.models.peer_seconds` of 10,240 steps, scaled), and the
    record's params carry ``ratio_to_peer`` (training seconds / peer seconds, target
    <= 1).
    """
    import resource
    import tempfile

    from kilo.training.trainer import train_symbol

    symbol = config.symbols[0]
    with tempfile.TemporaryDirectory() as models_dir:
        runs = time_runs(
            lambda: train_symbol(config, symbol, models_dir=models_dir, progress=False), warmup=0
        )
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    params: dict[str, Any] = {
        "symbol": symbol,
        "timeframe": config.data.timeframe,
        "ppo_timesteps": config.models.ppo.total_timesteps,
        "gru_epochs": config.models.gru.epochs,
    }
    peer = peer_100k_seconds(config)
    if peer is not None:
        params["peer_100k_s"] = round(peer, 1)
        params["ratio_to_peer"] = round(float(np.median(runs)) / peer, 3)
    seconds = record("train", runs, "s", params)
    memory = {**seconds, "bench": "train_peak_memory", "figure": round(peak_mb, 1), "unit": "MB"}
    return [seconds, memory]


@register("train-all")
def bench_train_all(config: Config) -> list[dict[str, Any]]:
    """Seconds to train every configured symbol with ``--jobs 1`` and ``--jobs 2``.

    One timed run each and no warm-up: a run takes minutes. The ``train-all_jobs2``
    record's params carry the ratio of the two times.
    """
    import tempfile

    from kilo.training.parallel import train_symbols

    records = []
    for jobs in (1, 2):
        with tempfile.TemporaryDirectory() as models_dir:

            def run(jobs: int = jobs, models_dir: str = models_dir) -> None:
                train_symbols(
                    config, config.symbols, models_dir=models_dir, options=RunOptions(jobs=jobs)
                )

            runs = time_runs(run, repeats=1, warmup=0)
        records.append(
            record(f"train-all_jobs{jobs}", runs, "s", {"symbols": config.symbols, "jobs": jobs})
        )
    records[1]["params"]["ratio_to_jobs1"] = round(
        records[1]["median_s"] / records[0]["median_s"], 3
    )
    return records


@register("evaluate")
def bench_evaluate(config: Config) -> list[dict[str, Any]]:
    """Wall time of a 5-fold BTC/USDT evaluation with every default control, against one
    training and the peer.

    One default ``train`` of BTC/USDT is timed in the same run, and, with gym-anytrading
    installed, SB3's 100k-step PPO on it (the peer; target: evaluation <= 2x the peer).
    The record's params carry ``ratio_to_train``, ``ratio_to_peer`` and each data set's
    cost apart (real folds, holdout, each control: seconds of its tasks summed over
    workers, and in trainings). One run each, no warm-up: each takes minutes.
    """
    import tempfile

    from kilo.evaluation.walkforward import evaluate_symbol
    from kilo.training.trainer import train_symbol

    symbol = "BTC/USDT"
    with tempfile.TemporaryDirectory() as models_dir:
        train = time_runs(
            lambda: train_symbol(config, symbol, models_dir=models_dir, progress=False),
            repeats=1,
            warmup=0,
        )
    folds = config.with_overrides({"evaluation.folds": 5})
    options = RunOptions.resolve(folds, progress=False, default_jobs=folds.evaluation.jobs)
    done = []
    evaluation = time_runs(
        lambda: done.append(evaluate_symbol(folds, symbol, options=options)), repeats=1, warmup=0
    )
    peer = peer_100k_seconds(config)
    tasks = done[-1].summary.task_seconds
    params = {
        "symbol": symbol,
        "folds": 5,
        "jobs": options.jobs,
        "train_s": round(train[0], 2),
        "ratio_to_train": round(evaluation[0] / train[0], 3),
        "peer_100k_s": None if peer is None else round(peer, 1),
        "ratio_to_peer": None if peer is None else round(evaluation[0] / peer, 3),
        "task_s": {name: round(s, 1) for name, s in tasks.items()},
        "task_trainings": {name: round(s / train[0], 2) for name, s in tasks.items()},
        "random_draws": config.evaluation.random_draws,
        "power_ics": config.evaluation.power_ics,
    }
    return [record("evaluate", evaluation, "s", params)]


@register("search-trial")
def bench_search_trial(config: Config) -> list[dict[str, Any]]:
    """Wall time of one search trial's work on one symbol, against the peer.

    A trial fits and trades the config on the inner folds of every search symbol, one
    fold after the other in one process (:func:`~kilo.search.nested.evaluate_inner`,
    ``evaluation.random_draws`` random paths); this times BTC/USDT's share, so a trial
    over k symbols costs about k times it. With gym-anytrading installed the same run
    times the peer, SB3's 100k-step PPO (target: <= 0.5x the peer), and the record's
    params carry ``ratio_to_peer``. One run, no warm-up.
    """
    from kilo.search.nested import evaluate_inner

    symbol = "BTC/USDT"
    done = []
    runs = time_runs(
        lambda: done.append(
            evaluate_inner(config, symbol, random_draws=config.evaluation.random_draws)
        ),
        repeats=1,
        warmup=0,
    )
    peer = peer_100k_seconds(config)
    params = {
        "symbol": symbol,
        "objective": round(done[-1].objective, 3),
        "last_bar_read": done[-1].last_bar_read,
        "models": config.models.enabled,
        "gru_mode": config.models.gru.mode,
        "peer_100k_s": None if peer is None else round(peer, 1),
        "ratio_to_peer": None if peer is None else round(runs[0] / peer, 3),
    }
    return [record("search-trial", runs, "s", params)]


@register("pool")
def bench_pool(config: Config) -> list[dict[str, Any]]:
    """Seconds and peak memory of a pooled fit of every symbol in the data folder.

    The universe is every ``*-{timeframe}.feather`` file of ``data.dir/exchange`` (20
    symbols in ../shared/data, 2018 or their listing to 2026-02); the GRU and LightGBM
    are fit together on all of them (:func:`~kilo.training.pool.fit_pool`; PPO and the
    per-symbol sets are not part of it). One run, no warm-up. The GRU's epochs count
    in the seconds, not in the memory: ``--set models.gru.epochs=1`` measures the
    memory in a fraction of the time.
    """
    import resource
    from pathlib import Path

    from kilo.training.pool import fit_pool

    folder = Path(config.data.dir) / config.data.exchange
    suffix = f"-{config.data.timeframe}.feather"
    universe = sorted(p.name[: -len(suffix)].replace("_", "/") for p in folder.glob(f"*{suffix}"))
    pooled = config.with_overrides(
        {
            "symbols": universe,
            "features.universe": universe,
            "training.pool": "universe",
            "models.enabled": [m for m in config.models.enabled if m != "ppo"] or ["lightgbm"],
        }
    )
    fits: list[Any] = []
    runs = time_runs(lambda: fits.append(fit_pool(pooled, progress=False)), repeats=1, warmup=0)
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    pool = fits[0]
    params = {
        "members": len(pool.members),
        "left_out": sorted(set(universe) - set(pool.members)),
        "train_rows": sum(pool.info().train_rows.values()),
        "models": sorted(pool.models),
        "gru_epochs": config.models.gru.epochs,
    }
    seconds = record("pool", runs, "s", params)
    memory = {**seconds, "bench": "pool_peak_memory", "figure": round(peak_mb, 1), "unit": "MB"}
    return [seconds, memory]

"""Walk-forward evaluation of one symbol: models, blend, baselines and controls.

Data sets, cut into the same folds (:func:`~kilo.evaluation.folds.walk_forward_folds`):

- ``real``: the symbol's candles. Every strategy trades each test fold: the blend,
  each model alone, buy-and-hold, flat, momentum, and ``evaluation.random_draws``
  random paths made of the blend's own spells.
- ``placebo``: the real bars in shuffled blocks, whole pipeline, blend only.
- ``planted``: the real bars with a planted edge, regressors only (PPO does not read
  the edge's IC), blend of the regressors and buy-and-hold.
- ``label_shuffle``: the real candles with shuffled training labels, first (smallest)
  fold only, regressors only: a check that labels are handled right, not a leakage test.

Every (data set, fold) is a :class:`~kilo.evaluation.fold.FoldTask`, run in
``evaluation.jobs`` processes (joblib), each with its share of the CPU threads.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass

from joblib import Parallel, delayed
from tqdm.auto import tqdm

from kilo.config import Config
from kilo.data import load_candles
from kilo.evaluation.controls import placebo_candles, planted_candles
from kilo.evaluation.fold import FoldResult, FoldTask, run_fold
from kilo.evaluation.folds import walk_forward_folds
from kilo.evaluation.summary import SymbolEvaluation, causality_check, summarise_symbol
from kilo.features import FeatureEngine
from kilo.training.dataset import Dataset, build_dataset
from kilo.training.parallel import start_ray, threads_per_job
from kilo.training.split import TimeSplit, required_embargo

REAL_STRATEGIES = ("blend", "gru", "lightgbm", "ppo", "buy_and_hold", "flat", "momentum")


def stats_block(config: Config) -> int:
    """Block length (bars) of the bootstrap and permutations: >= label horizon, >= 24."""
    return max(config.target.horizon, 24)


@dataclass(frozen=True)
class Datasets:
    """The real data set and the controls' rebuilt ones, all of one symbol."""

    real: Dataset
    placebo: Dataset
    planted: Dataset
    planted_ic: float

    def get(self, name: str) -> Dataset:
        return self.real if name == "label_shuffle" else getattr(self, name)


def build_datasets(config: Config, symbol: str, engine: FeatureEngine) -> Datasets:
    """Load the candles once, rebuild them for the controls, compute every feature frame.

    Raises
    ------
    DataError
        If the candles are missing or malformed.
    """
    d, ev = config.data, config.evaluation
    candles = load_candles(d.dir, d.exchange, symbol, d.timeframe)
    placebo = placebo_candles(candles, stats_block(config), seed=config.seed)
    planted, achieved = planted_candles(candles, ev.planted_ic, config.target.horizon)
    return Datasets(
        real=build_dataset(config, symbol, engine, candles),
        placebo=build_dataset(config, symbol, engine, placebo),
        planted=build_dataset(config, symbol, engine, planted),
        planted_ic=achieved,
    )


def fold_tasks(config: Config, n_folds: int) -> list[FoldTask]:
    """Every task of one symbol, the most expensive (latest folds, all models) first."""
    ev = config.evaluation
    tasks = []
    for k in reversed(range(n_folds)):
        tasks.append(FoldTask("real", k, "all", REAL_STRATEGIES, ev.random_draws))
        tasks.append(FoldTask("placebo", k, "all", ("blend",)))
        tasks.append(FoldTask("planted", k, "regressors", ("blend", "buy_and_hold")))
    tasks.append(FoldTask("label_shuffle", 0, "regressors", shuffle_labels=True))
    return tasks


def run_tasks(
    config: Config,
    engine: FeatureEngine,
    datasets: Datasets,
    folds: list[TimeSplit],
    tasks: list[FoldTask],
    jobs: int,
    progress: bool,
    desc: str,
    backend: str = "joblib",
) -> list[FoldResult]:
    """Run ``tasks`` with ``jobs`` processes (in this one when 1) or as Ray tasks, with a
    progress bar. Each task gets the same thread count either way, so results match.

    Raises
    ------
    ConfigError
        If the Ray backend is asked for but Ray is not installed.
    """
    threads = threads_per_job(jobs)
    args = [(config, engine, datasets.get(t.dataset), folds[t.fold], t, threads) for t in tasks]
    if backend == "ray":
        return _run_on_ray(config, args, progress, desc)
    if jobs == 1:
        results = (run_fold(*a) for a in args)
    else:
        results = Parallel(n_jobs=jobs, backend="loky", return_as="generator_unordered")(
            delayed(run_fold)(*a) for a in args
        )
    return list(tqdm(results, total=len(tasks), desc=desc, unit="fold", disable=not progress))


def _run_on_ray(config: Config, args: list[tuple], progress: bool, desc: str) -> list[FoldResult]:
    """Every fold task as a Ray task on ``training.ray_address`` (a local cluster if unset)."""
    ray = start_ray(config)
    task = ray.remote(num_cpus=args[0][-1])(run_fold)
    pending = [task.remote(*a) for a in args]
    results = []
    with tqdm(total=len(pending), desc=desc, unit="fold", disable=not progress) as bar:
        while pending:
            done, pending = ray.wait(pending, num_returns=1)
            results += ray.get(done)
            bar.update(len(done))
    return results


def evaluate_symbol(
    config: Config,
    symbol: str,
    *,
    jobs: int | None = None,
    progress: bool = True,
    backend: str | None = None,
) -> SymbolEvaluation:
    """Walk-forward evaluation of one symbol with ``config.evaluation``'s settings.

    Parameters
    ----------
    jobs
        Worker processes (or the CPU share of each Ray task); default
        ``evaluation.jobs``, or every CPU core when unset.
    backend
        ``joblib`` (local processes) or ``ray``; default ``training.backend``.

    Raises
    ------
    DataError
        If the candles are missing or too short for the folds.
    """
    started = time.perf_counter()
    ev = config.evaluation
    engine = FeatureEngine.from_config(config, symbol)
    datasets = build_datasets(config, symbol, engine)
    folds = walk_forward_folds(len(datasets.real.features), ev, required_embargo(config, engine))
    fold_config = config.with_overrides({"models.ppo.total_timesteps": ev.ppo_timesteps})
    jobs = jobs or ev.jobs or os.cpu_count() or 1
    results = run_tasks(
        fold_config,
        engine,
        datasets,
        folds,
        fold_tasks(config, len(folds)),
        jobs,
        progress,
        f"{symbol} folds",
        backend or config.training.backend,
    )
    return summarise_symbol(
        config,
        symbol,
        datasets,
        folds,
        results,
        causality_check(engine, datasets.real, folds),
        time.perf_counter() - started,
    )

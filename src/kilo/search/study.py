"""Hyper-parameter search over nested walk-forward folds (Optuna), kept honest.

Every trial samples ``search.space`` (TPE, seeded), trains and trades each symbol on
the inner folds of :mod:`kilo.search.nested` and returns the mean
``search.objective`` over symbols; a median pruner stops trials whose per-fold values
trail. The study lives in ``search.storage`` (SQLite by default), so running the same
study again adds trials and an interrupted one stays consistent. Trials run in the
command's ``--jobs`` worker processes (joblib) or Ray tasks
(:class:`~kilo.runtime.RunOptions`), each optimizing the shared study.
"""

from __future__ import annotations

import json
import logging
import math
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np

from kilo.config import Config, SearchChoices, SearchRange
from kilo.errors import ConfigError
from kilo.runtime import RunOptions, dispatch, limit_threads
from kilo.runtime.tracking import CONFIG_TAG, Run, Tracker, config_hash, config_params
from kilo.search.nested import InnerEvaluation, evaluate_inner

logger = logging.getLogger(__name__)


def suggest(trial: Any, space: dict[str, SearchRange | SearchChoices]) -> dict[str, Any]:
    """Sample one value per key of ``space`` from an Optuna trial.

    Choices that are not plain scalars (lists, e.g. timeframes) are offered to Optuna
    as their JSON text and decoded back.
    """
    values: dict[str, Any] = {}
    for key, param in space.items():
        if isinstance(param, SearchChoices):
            options = [json.dumps(c) for c in param.choices]
            values[key] = json.loads(trial.suggest_categorical(key, options))
        elif param.integer:
            values[key] = trial.suggest_int(key, int(param.low), int(param.high), log=param.log)
        else:
            values[key] = trial.suggest_float(
                key, float(param.low), float(param.high), log=param.log
            )
    return values


def trial_config(config: Config, params: dict[str, Any]) -> Config:
    """``config`` with a trial's sampled values (validated)."""
    return config.with_overrides(params)


def trial_summary(inner: InnerEvaluation) -> dict[str, float]:
    """The inner-fold figures a trial records: the blend's net Sharpe and turnover, what
    costs took (gross minus net log return), buy-and-hold's and the matched random
    baseline's Sharpe, the best regressor's IC with its 95 % interval (NaN
    without a regressor), and each enabled policy's own net Sharpe, turnover and net log
    return (``{kind}_sharpe``, ``{kind}_turnover``, ``{kind}_total_log_return``), its own
    matched random paths' mean Sharpe and its percentile among them
    (``{kind}_random_sharpe``, ``{kind}_percentile``)."""
    blend = inner.blend
    best = max(inner.ic.values(), key=lambda stats: stats.ic_spearman, default=None)
    ic, low, high = (
        (best.ic_spearman, *best.ic_ci95) if best is not None else (math.nan, math.nan, math.nan)
    )
    return {
        "blend_sharpe": blend.sharpe,
        "turnover": blend.turnover,
        "cost_loss": blend.gross_total_log_return - blend.total_log_return,
        "buy_and_hold_sharpe": inner.buy_and_hold.sharpe,
        "random_sharpe": inner.random_sharpe,
        "blend_percentile": inner.blend_percentile,
        "ic": ic,
        "ic_low": low,
        "ic_high": high,
        **{
            f"{name}_{key}": getattr(metrics, key)
            for name, metrics in inner.policies.items()
            for key in ("sharpe", "turnover", "total_log_return")
        },
        **{
            f"{name}_{key}": value
            for name, pair in inner.policy_random.items()
            for key, value in zip(("random_sharpe", "percentile"), pair, strict=True)
        },
    }


def objective_function(
    config: Config, symbols: list[str], parent: Run | None, tracker: Tracker
) -> Callable[[Any], float]:
    """The Optuna objective: the mean inner-fold objective over ``symbols``.

    Per-fold values are reported (step = symbol index x folds + fold) for the pruner
    and logged as ``fold_objective`` at that step, so a pruned trial keeps them; each
    trial is logged as an MLflow run nested under ``parent``.
    """
    import optuna

    def objective(trial: optuna.Trial) -> float:
        cfg = trial_config(config, suggest(trial, config.search.space))
        folds = cfg.evaluation.folds

        with tracker.run(
            f"trial {trial.number}",
            config_params(cfg),
            parent=parent,
            tags={"kilo.kind": "search-trial", CONFIG_TAG: config_hash(cfg)},
        ) as run:
            values, summaries = [], []
            for s, symbol in enumerate(symbols):

                def after_fold(k: int, value: float, s: int = s) -> None:
                    trial.report(value if math.isfinite(value) else -1e9, s * folds + k)
                    run.log_metrics({"fold_objective": value}, step=s * folds + k)
                    if trial.should_prune():
                        raise optuna.TrialPruned()

                inner = evaluate_inner(
                    cfg, symbol, random_draws=cfg.evaluation.random_draws, after_fold=after_fold
                )
                values.append(inner.objective)
                summaries.append(trial_summary(inner))
                trial.set_user_attr(f"last_bar_read {symbol}", inner.last_bar_read)
                for name, (_, percentile) in inner.policy_random.items():
                    trial.set_user_attr(f"{name}_percentile {symbol}", percentile)
                run.log_metrics({symbol: inner.as_metrics()})
            value = float(np.mean(values))
            means = {k: float(np.nanmean([m[k] for m in summaries])) for k in summaries[0]}
            for key, mean in means.items():
                trial.set_user_attr(key, mean)
            run.log_metrics({"objective": value, **means})
        return value

    return objective


def optimize(
    config: Config,
    symbols: list[str],
    study_name: str,
    n_trials: int,
    timeout: float | None,
    parent_id: str | None,
    seed: int,
    grid_search: bool = False,
    threads: int = 1,
) -> int:
    """One worker: add ``n_trials`` trials to the stored study; returns how many ran.

    A grid search runs until every combination has a trial (the grid sampler then
    stops the study), since parallel workers may draw the same combination twice.
    Runs in this process, a joblib worker or a Ray task alike. Ctrl-C marks the
    running trial failed (Optuna) and stops this worker.
    """
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    study = load_study(config, study_name, seed, grid_search)
    tracker = Tracker(config.tracking)
    parent = Run(tracker, parent_id) if parent_id else None
    before = len(study.trials)
    with limit_threads(threads):
        study.optimize(
            objective_function(config, symbols, parent, tracker),
            n_trials=None if grid_search else n_trials,
            timeout=timeout,
            catch=(ConfigError,),
            gc_after_trial=True,
        )
    return len(study.trials) - before


def storage_url(config: Config) -> str:
    """``search.storage``, with the folder of a SQLite file created."""
    url = config.search.storage
    if url.startswith("sqlite:///"):
        Path(url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
    return url


def grid(space: dict[str, SearchRange | SearchChoices]) -> dict[str, list[str]]:
    """``space`` as Optuna's ``GridSampler`` wants it (choices as :func:`suggest` offers them).

    Raises
    ------
    ConfigError
        If a key is a range rather than a list of choices.
    """
    ranges = [k for k, p in space.items() if not isinstance(p, SearchChoices)]
    if ranges:
        raise ConfigError(
            f"a grid search needs choices for every key of search.space; {ranges} are ranges"
        )
    return {
        k: [json.dumps(c) for c in p.choices]
        for k, p in space.items()
        if isinstance(p, SearchChoices)
    }


def load_study(config: Config, study_name: str, seed: int, grid_search: bool = False) -> Any:
    """The stored study (created if new): maximise, TPE seeded with ``seed`` (one per
    worker) and the median pruner; or, for a grid search, every combination of
    ``search.space``'s choices. Optuna's ``GridSampler`` shuffles the grid with its seed
    and numbers combinations in that order, so every worker shuffles with
    ``config.seed``: with per-worker seeds two workers would name different
    combinations by one grid id, and run some twice and others never.

    Raises
    ------
    ConfigError
        For a grid search over a space with ranges.
    """
    import optuna

    sampler = (
        optuna.samplers.GridSampler(grid(config.search.space), seed=config.seed)
        if grid_search
        else optuna.samplers.TPESampler(seed=seed)
    )
    return optuna.create_study(
        study_name=study_name,
        storage=storage_url(config),
        load_if_exists=True,
        direction="maximize",
        sampler=sampler,
        pruner=optuna.pruners.NopPruner()
        if grid_search
        else optuna.pruners.MedianPruner(n_startup_trials=2, n_warmup_steps=1),
    )


def grid_size(config: Config) -> int:
    """Combinations of ``search.space``'s choices (a grid search's trials)."""
    return int(
        np.prod(
            [len(p.choices) for p in config.search.space.values() if isinstance(p, SearchChoices)]
        )
    )


def split_trials(n_trials: int, jobs: int) -> list[int]:
    """``n_trials`` shared out over ``jobs`` workers, so that the total is exact."""
    jobs = max(1, min(jobs, n_trials))
    return [n_trials // jobs + (1 if i < n_trials % jobs else 0) for i in range(jobs)]


def run_workers(
    config: Config,
    symbols: list[str],
    study_name: str,
    n_trials: int,
    options: RunOptions,
    timeout: float | None,
    parent_id: str | None,
    grid_search: bool = False,
) -> int:
    """Add ``n_trials`` trials with ``options.jobs`` workers (no more than trials) on
    ``options.backend``; returns the number of trials run. No bar: the caller's watches
    the shared study.

    Raises
    ------
    ConfigError
        If the Ray backend is asked for but Ray is not installed.
    """
    shares = split_trials(n_trials, options.jobs)
    workers = replace(options, jobs=len(shares), progress=False)
    threads = workers.threads
    calls = [
        (config, symbols, study_name, n, timeout, parent_id, config.seed + i, grid_search, threads)
        for i, n in enumerate(shares)
    ]
    return sum(dispatch(optimize, calls, options=workers))


def per_bar(config: Config, annual_sharpe: float) -> float:
    """An annualised Sharpe ratio back in per-bar units."""
    return annual_sharpe / math.sqrt(config.data.bars_per_year)

"""One walk-forward fold of one data set: fit the models, trade the strategies.

A :class:`FoldTask` is the unit of parallel work of the evaluation: the real candles
and every control are cut into the same folds, and each (data set, fold) pair is fitted
and traded on its own, in this process or a worker.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Literal

import numpy as np

from kilo.backtest.paths import spell_shuffled_paths
from kilo.backtest.simulate import (
    Book,
    StrategyRun,
    evaluation_trading,
    simulate,
)
from kilo.backtest.strategies import (
    FoldOutputs,
    entry_fraction,
    rule_predictor,
    side_rule,
)
from kilo.config import Config
from kilo.errors import ConfigError
from kilo.evaluation.cost_curve import CurveRuns, Plan, curve_runs
from kilo.evaluation.strategy_set import BLEND, plan
from kilo.features import FeatureEngine, Preprocessor
from kilo.inference import FittedModels, Predictors
from kilo.models.kinds import REGRESSORS, enabled_regressors
from kilo.runtime import limit_threads
from kilo.training.dataset import Dataset
from kilo.training.split import TimeSplit
from kilo.training.trainer import Validation, fit_kinds, fit_model_set
from kilo.utils import seed_everything

#: Seed of a fold's label shuffle: ``seed + LABEL_SHUFFLE_SEED + fold`` (apart from
#: every other draw of the same seed).
LABEL_SHUFFLE_SEED = 1000
#: Seed of a fold's random paths: ``seed * RANDOM_PATHS_SEED + fold`` (a prime, so
#: (seed, fold) pairs do not collide for folds below it).
RANDOM_PATHS_SEED = 7919


@dataclass(frozen=True)
class FoldTask:
    """What to do with one fold of one data set.

    ``models``: ``all`` fits the model set as the trainer does (``models.enabled``);
    ``regressors`` fits the preprocessor and the enabled regressors only (controls
    where PPO adds nothing).
    ``shuffle_labels`` permutes the training and validation labels first.
    ``random_draws`` matched random paths are traded after each strategy of
    ``random_of`` (the blend by default), made of its own spells.
    ``costs``: every strategy is traded again at each of these costs per round trip
    (fractions of price), its decisions re-taken (:mod:`kilo.evaluation.cost_curve`).
    """

    dataset: str
    fold: int
    models: Literal["all", "regressors"]
    strategies: tuple[str, ...] = ()
    random_draws: int = 0
    shuffle_labels: bool = False
    costs: tuple[float, ...] = ()
    random_of: tuple[str, ...] = (BLEND,)


@dataclass(frozen=True)
class FoldResult:
    """A task's outcome: strategy runs, random draws and test-row predictions.

    ``random_runs`` maps each strategy of the task's ``random_of`` to its matched
    random paths' runs (``random_draws`` of them; empty without draws);
    ``predictions`` maps each regressor fitted to its predictions for the fold's test
    rows, shape (n_test,), in label units; ``cost_curve`` holds the strategies' runs at
    the task's ``costs`` (none without).
    """

    task: FoldTask
    runs: dict[str, StrategyRun]
    random_runs: dict[str, list[StrategyRun]]
    predictions: dict[str, np.ndarray]
    seconds: float
    cost_curve: CurveRuns = field(default_factory=lambda: CurveRuns({}))


def shuffled_labels(target: np.ndarray, fold: TimeSplit, seed: int) -> np.ndarray:
    """Labels with the training and validation rows permuted; test rows untouched."""
    out = target.copy()
    rows = np.r_[fold.train.start : fold.train.stop, fold.val.start : fold.val.stop]
    out[rows] = np.random.default_rng(seed).permutation(out[rows])
    return out


def _fit(
    config: Config, engine: FeatureEngine, data: Dataset, task: FoldTask
) -> tuple[Predictors, Preprocessor, Validation]:
    """The fold's served models, preprocessor and what validation saw of them."""
    if task.models == "all":
        result = fit_model_set(config, data, engine, progress=False)
        return result.model_set, result.model_set.preprocessor, result.validation
    preprocessor = Preprocessor().fit(data.features.iloc[data.split.train])
    X = preprocessor.transform(data.features)
    fitted, _ = fit_kinds(config, data, X, enabled_regressors(config), progress=False)
    models = FittedModels({name: f.model for name, f in fitted.items()})
    outputs = {name: f.validation for name, f in fitted.items()}
    return models, preprocessor, Validation(outputs, data.forward_return[data.split.val])


def run_fold(
    config: Config,
    engine: FeatureEngine,
    data: Dataset,
    fold: TimeSplit,
    task: FoldTask,
    threads: int = 1,
    previous: FoldResult | None = None,
    close: bool = True,
) -> FoldResult:
    """Fit ``task``'s models on the fold's training rows and trade its strategies on the
    fold's test rows (see :mod:`kilo.evaluation.walkforward` for the strategies).

    Every strategy (and random path) starts from the accounts it left at the end of
    ``previous`` (the fold before, whose test rows end where this fold's begin), open
    position included, or flat without it; with ``close`` a position still open after
    the last bar is sold there (reason ``fold_end``), without it it stays in the runs'
    ``book`` for the next fold (see :func:`run_folds`).

    Calibrations come from the validation rows, with the models fit on the training
    rows: the blend's is the trainer's (PPO queried along its own path); each single
    regressor gets its own. Model strategies use the configured rule and volatility
    targeting, and short where ``trading.allow_short`` (futures); baselines are long or
    flat at full size, without stops; random paths take the blend's long, short and
    flat spells, its mean entry size and its stops (``trading.stop_loss``,
    ``take_profit``), so they differ from it in timing only. With ``task.costs`` every
    strategy (not the random paths) is traded again at each cost, from its own accounts
    at that cost in ``previous`` (:mod:`kilo.evaluation.cost_curve`).

    Raises
    ------
    ConfigError
        With ``training.pool: universe``: fitting each symbol alone under that name
        would mislabel the result (:mod:`kilo.evaluation.pooled` fits pooled folds).
    """
    if config.training.pool != "none":
        raise ConfigError(
            "walk-forward folds train each symbol alone; with training.pool: universe, "
            "evaluate.py compares pooled and per-symbol regressors instead "
            "(kilo.evaluation.pooled); search and drills need training.pool: none"
        )
    with limit_threads(threads):
        return _run_fold(config, engine, data, fold, task, previous, close)


def _continues(before: TimeSplit, after: TimeSplit) -> bool:
    """Whether ``after``'s test rows start right after ``before``'s (a chain's link)."""
    return before.test.stop == after.test.start


def run_folds(
    config: Config,
    engine: FeatureEngine,
    data: Dataset,
    folds: list[TimeSplit],
    tasks: tuple[FoldTask, ...],
    threads: int = 1,
    after_fold: Callable[[list[FoldResult]], None] | None = None,
) -> list[FoldResult]:
    """:func:`run_fold` for ``tasks[k]`` on ``folds[k]``, fold after fold in time order,
    chained: a fold whose test rows continue the previous fold's carries on from that
    fold's accounts, traded from there by its own models, so a fold boundary forces no
    round trip; a fold no later fold continues sells what is still open (``fold_end``).
    ``after_fold`` is called with the results so far after each fold (an exception it
    raises, e.g. Optuna's pruning, stops the chain).

    Raises
    ------
    ConfigError
        As :func:`run_fold`.
    ValueError
        If ``folds`` and ``tasks`` differ in length.
    """
    if len(folds) != len(tasks):
        raise ValueError(f"{len(folds)} folds for {len(tasks)} tasks")
    results: list[FoldResult] = []
    for k, (fold, task) in enumerate(zip(folds, tasks, strict=True)):
        chained = k > 0 and _continues(folds[k - 1], fold)
        last = k == len(folds) - 1 or not _continues(fold, folds[k + 1])
        previous = results[-1] if chained else None
        results.append(run_fold(config, engine, data, fold, task, threads, previous, last))
        if after_fold is not None:
            after_fold(results)
    return results


def _run_fold(
    config: Config,
    engine: FeatureEngine,
    data: Dataset,
    fold: TimeSplit,
    task: FoldTask,
    previous: FoldResult | None,
    close: bool,
) -> FoldResult:
    started = time.perf_counter()
    seed_everything(config.seed)
    if task.shuffle_labels:
        data = replace(
            data,
            target=shuffled_labels(data.target, fold, config.seed + LABEL_SHUFFLE_SEED + task.fold),
        )
    data = replace(data, split=fold)
    models, preprocessor, validation = _fit(config, engine, data, task)
    X = preprocessor.transform(data.features)
    candles, outputs = FoldOutputs.for_dataset(config, models, X, data, fold.test)
    rows = outputs.candle_range(fold.test)
    tradable = outputs.tradable(candles)
    ev = config.evaluation
    with_stops = evaluation_trading(config.trading, ev.position_fraction)

    def trade(plan: Plan, at: Config, book: Book | None) -> StrategyRun:
        rule = plan.rule(at)
        return simulate(
            plan.trading(at), data.symbol, candles, rows, plan.predict, rule, tradable, book, close
        )

    books = {name: run.book for name, run in previous.runs.items()} if previous else {}
    random_books = (
        {name: [run.book for run in draws] for name, draws in previous.random_runs.items()}
        if previous
        else {}
    )
    plans = {
        name: plan(config, name, validation, outputs, candles).memoised()
        for name in task.strategies
    }
    runs = {name: trade(plan, config, books.get(name)) for name, plan in plans.items()}
    curve = curve_runs(config, plans, task.costs, trade, previous.cost_curve if previous else None)

    def matched_random(name: str) -> list[StrategyRun]:
        """Random paths of ``name``'s own long, short and flat spells, at its mean entry
        size, with the stops (the same draws for every strategy of the fold)."""
        run, books = runs[name], random_books.get(name, [])
        paths = spell_shuffled_paths(
            run.side.to_numpy(),
            task.random_draws,
            seed=config.seed * RANDOM_PATHS_SEED + task.fold,
        )
        sized = replace(
            side_rule(config.trading.allow_short),
            fraction=entry_fraction(run) / ev.position_fraction,
        )
        return [
            simulate(
                with_stops,
                data.symbol,
                candles,
                rows,
                rule_predictor(p.astype(np.float64), offset=rows.start),
                sized,
                tradable,
                books[d] if d < len(books) else None,
                close,
            )
            for d, p in enumerate(paths)
        ]

    random_runs = (
        {name: matched_random(name) for name in task.random_of} if task.random_draws else {}
    )
    predictions = {
        name: outputs.regressor(name)[fold.test].astype(np.float64)
        for name in REGRESSORS
        if name in validation.outputs
    }
    return FoldResult(task, runs, random_runs, predictions, time.perf_counter() - started, curve)

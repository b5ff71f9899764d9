"""Pooled against per-symbol regressors on the same walk-forward folds.

With ``training.pool: universe`` the evaluation asks the pooling question directly:
does one model fit on every universe member's rows predict each symbol better than
that symbol's own model? Both are fit on the same folds, with the same labels
(demeaned with ``target.demean: universe``), and scored on the same test rows.

- **Folds.** :func:`~kilo.evaluation.splits.evaluation_splits` cuts the union of the
  members' bar times (the holdout is left unread); each member's rows fall into a
  fold's parts by their times (:func:`~kilo.training.pool.on_split`), so no member's
  test bar is in anyone's training, and the embargo holds in time. A symbol is scored
  on a fold when it has enough training, validation and test rows there
  (:data:`~kilo.training.split.MIN_TRAIN_ROWS`, :data:`~kilo.training.split.MIN_EVAL_ROWS`).
- **Universes**, each fit both ways: ``real``; ``placebo``, every member and context
  symbol rebuilt with one block order and one set of coins over the union's times
  (:class:`~kilo.evaluation.controls.candles.BlockShuffle`), so relations between members at
  one bar survive and predictability does not (a member absent at a drawn time gets no
  bar there); ``planted``, every member's candles with an edge at
  ``evaluation.planted_ic`` (:func:`~kilo.evaluation.controls.candles.planted_candles`), which
  measures the recovery behind the detection floor.

Every (universe, fold, fit) is a :class:`PoolTask`, run with
:func:`kilo.runtime.dispatch`; :mod:`kilo.evaluation.pooled_stats` summarises them.
"""

from __future__ import annotations

import functools
import time
from dataclasses import dataclass

import numpy as np
import pandas as pd

from kilo.config import Config
from kilo.evaluation.controls.candles import BlockShuffle, planted_candles
from kilo.evaluation.datasets import stats_block
from kilo.evaluation.fold_task import FoldTask, run_fold
from kilo.evaluation.splits import evaluation_splits
from kilo.evaluation.statistics import causality_check
from kilo.evaluation.summary import Causality
from kilo.features import FeatureEngine
from kilo.models.kind import FLAT
from kilo.models.kinds import KINDS
from kilo.runtime import RunOptions, dispatch, limit_threads
from kilo.training.dataset import Dataset
from kilo.training.pool import (
    Pool,
    fit_pool_models,
    member_datasets,
    on_split,
    pool_candles,
)
from kilo.training.split import TimeSplit, required_embargo
from kilo.utils import seed_everything

UNIVERSES = ("real", "placebo", "planted")


@dataclass(frozen=True)
class PoolTask:
    """One fit of one fold of one universe: ``symbol`` None fits the pooled regressors
    (and scores every symbol of ``symbols``), a symbol fits that symbol alone."""

    universe: str
    fold: int
    symbols: tuple[str, ...]
    symbol: str | None = None

    @property
    def fit(self) -> str:
        """``pooled`` or ``alone``."""
        return "pooled" if self.symbol is None else "alone"


@dataclass(frozen=True)
class PoolResult:
    """A task's test-row predictions: symbol -> regressor -> (n_test,) in label units,
    with each symbol's held returns (``Dataset.held_return``: what every IC is measured
    against) and bar times (int64, the index's unit), (n_test,)."""

    task: PoolTask
    predictions: dict[str, dict[str, np.ndarray]]
    returns: dict[str, np.ndarray]
    times: dict[str, np.ndarray]
    seconds: float


@dataclass(frozen=True)
class PoolUniverses:
    """The members' datasets of each universe (:data:`UNIVERSES`), the union of the
    real bar times, and the IC the planted edges reached (mean over members)."""

    datasets: dict[str, dict[str, Dataset]]
    index: pd.DatetimeIndex
    planted_ic: float

    @property
    def union(self) -> np.ndarray:
        """The union's times as :func:`~kilo.training.pool.union_times` gives them."""
        return self.index.asi8


def _union_index(indexes: list[pd.Index]) -> pd.DatetimeIndex:
    return pd.DatetimeIndex(functools.reduce(pd.Index.union, indexes))


def build_universes(config: Config) -> PoolUniverses:
    """Load every member's and context symbol's candles once and build the three
    universes (module docstring).

    Raises
    ------
    DataError
        If candles are missing or malformed, or a member's rows are too short.
    """
    candles = pool_candles(config)
    real = member_datasets(config, candles)
    index = _union_index([d.index for d in real.values()])
    bars = _union_index([candles[m].index for m in real])  # with the features' warm-up
    shuffle = BlockShuffle.draw(len(bars), stats_block(config), seed=config.seed)
    placebo = {s: shuffle.apply_to_context(bars, c) for s, c in candles.items()}
    planted, reached = dict(candles), []
    for member in real:
        planted[member], ic = planted_candles(
            candles[member], config.evaluation.planted_ic, config.target.horizon
        )
        reached.append(ic)
    return PoolUniverses(
        datasets={
            "real": real,
            "placebo": member_datasets(config, placebo),
            "planted": member_datasets(config, planted),
        },
        index=index,
        planted_ic=float(np.mean(reached)),
    )


def pool_folds(config: Config, universes: PoolUniverses) -> list[TimeSplit]:
    """The walk-forward folds of the union's times (the holdout left out).

    Raises
    ------
    DataError
        If a fold would be too small.
    """
    first = next(iter(universes.datasets["real"]))
    embargo = required_embargo(config, FeatureEngine.from_config(config, first))
    folds, _ = evaluation_splits(len(universes.union), config.evaluation, embargo)
    return folds


def scorable(data: Dataset) -> bool:
    """Whether a member on a fold's split has enough training, validation and test rows
    to be fit and scored there."""
    return data.split.trainable and data.split.scorable


def scored_symbols(
    datasets: dict[str, Dataset], union: np.ndarray, fold: TimeSplit, symbols: list[str]
) -> tuple[str, ...]:
    """The ``symbols`` :func:`scorable` on ``fold``."""
    split = on_split({s: datasets[s] for s in symbols}, union, fold)
    return tuple(s for s in symbols if scorable(split[s]))


def pool_causality(config: Config, universes: PoolUniverses, folds: list[TimeSplit]) -> Causality:
    """:func:`~kilo.evaluation.statistics.causality_check` of every member's features,
    cut at each fold start where the member has test rows.

    Raises
    ------
    LookAheadError
        If a member's features up to a cut change when the candles after it go.
    """
    real = universes.datasets["real"]
    cuts = 0
    for member, data in real.items():
        splits = [on_split({member: data}, universes.union, f)[member].split for f in folds]
        tested = [f for f in splits if f.test.stop > f.test.start]
        causality_check(FeatureEngine.from_config(config, member), data, tested)
        cuts += len(tested)
    return Causality(cuts=cuts, identical=True)


def alone_config(config: Config) -> Config:
    """``config`` for one symbol's own regressors (no pooling; the labels stay those of
    the dataset, demeaned or not)."""
    return config.with_overrides({"training.pool": "none", "target.demean": "none"})


def pooled_predictions(config: Config, pool: Pool, symbol: str) -> dict[str, np.ndarray]:
    """Each pooled regressor's predictions for ``symbol``'s test rows, (n_test,)
    float64, from its own preprocessor (a model's context reads the rows before the test)."""
    data = pool.datasets[symbol]
    X = pool.preprocessors[symbol].transform(data.features)
    test = data.split.test
    n_test = test.stop - test.start
    return {
        name: np.asarray(KINDS[name].predict(model, X[: test.stop], n_test, FLAT), np.float64)
        for name, model in pool.models.items()
    }


def run_pool_task(
    config: Config,
    datasets: dict[str, Dataset],
    union: np.ndarray,
    fold: TimeSplit,
    task: PoolTask,
    threads: int = 1,
) -> PoolResult:
    """Fit ``task``'s regressors on ``fold``'s training rows (validation rows for early
    stopping) and predict the scored symbols' test rows."""
    started = time.perf_counter()
    with limit_threads(threads):
        seed_everything(config.seed)
        split = on_split(datasets, union, fold)
        # the real universe's scored symbols; a rebuilt one may leave one short
        scored = [s for s in task.symbols if s in split and scorable(split[s])]
        predictions = {}
        if task.symbol is None:
            pool = fit_pool_models(config, split, progress=False)
            predictions = {s: pooled_predictions(config, pool, s) for s in scored}
        elif task.symbol in scored:
            data = split[task.symbol]
            engine = FeatureEngine.from_config(config, task.symbol)
            fold_task = FoldTask(task.universe, task.fold, "regressors")
            result = run_fold(alone_config(config), engine, data, data.split, fold_task)
            predictions = {task.symbol: result.predictions}
    tests = {s: split[s].split.test for s in predictions}
    return PoolResult(
        task,
        predictions,
        {s: split[s].held_return[t] for s, t in tests.items()},
        {s: split[s].index.asi8[t] for s, t in tests.items()},
        time.perf_counter() - started,
    )


def pool_tasks(
    universes: PoolUniverses, folds: list[TimeSplit], symbols: list[str]
) -> list[PoolTask]:
    """Every task, the latest (largest) folds and the pooled fits first."""
    real = universes.datasets["real"]
    tasks = []
    for k in reversed(range(len(folds))):
        scored = scored_symbols(real, universes.union, folds[k], symbols)
        if not scored:
            continue
        for universe in UNIVERSES:
            tasks.append(PoolTask(universe, k, scored))
            tasks.extend(PoolTask(universe, k, scored, s) for s in scored)
    return tasks


def run_pool_tasks(
    config: Config,
    universes: PoolUniverses,
    folds: list[TimeSplit],
    tasks: list[PoolTask],
    options: RunOptions,
) -> list[PoolResult]:
    """Run ``tasks`` as ``options`` say (``options.jobs`` processes or Ray tasks); an
    alone task is sent its symbol's rows only."""
    calls = []
    for t in tasks:
        members = universes.datasets[t.universe]
        sent = members if t.symbol is None else {t.symbol: members[t.symbol]}
        calls.append((config, sent, universes.union, folds[t.fold], t, options.threads))
    return dispatch(
        run_pool_task,
        calls,
        options=options,
        desc=f"pool of {len(universes.datasets['real'])}: {len(folds)} folds, pooled and alone",
        unit="fit",
        kinds=["folds" if t.universe == "real" else "controls" for t in tasks],
    )

"""Walk-forward evaluation of one symbol: models, blend, baselines and controls.

Data sets, cut into the same folds (:func:`~kilo.evaluation.splits.walk_forward_folds`):

- ``real``: the symbol's candles. Every strategy trades each test fold: the blend,
  each model alone, buy-and-hold, flat, momentum, and ``evaluation.random_draws``
  random paths made of the blend's own spells; every strategy but the random paths
  again at each cost of ``evaluation.cost_curve`` (:mod:`kilo.evaluation.cost_curve`).
- ``placebo``: the real bars in shuffled blocks, each sign-mirrored by a coin (the
  context symbols' moved alike); the regressors fit (PPO when none is enabled), their
  blend traded.
- ``planted``: the real bars with a planted edge, regressors only (PPO does not read
  the edge's IC), blend of the regressors and buy-and-hold.
- ``power <ic>``: the same at each of ``evaluation.power_ics``, regressors and their
  blend: with ``planted`` the points of the power curve (:mod:`kilo.evaluation.controls.power`).
- ``label_shuffle``: the real candles with shuffled training labels, first (smallest)
  fold only, regressors only: a check that labels are handled right, not a leakage test.
- ``holdout``: the real candles' last ``evaluation.holdout_fraction``, which no fold
  reads, traded once by every strategy: the final verdict, reported apart and last.

Every (data set, fold) is a :class:`~kilo.evaluation.fold_task.FoldTask`. The real
candles' folds run as one chain, fold after fold, so that every strategy carries its
position and accounts over each fold boundary (no forced round trip); every other task
runs alone and starts flat. Chains run as the command's
:class:`~kilo.runtime.RunOptions` say (``evaluation.jobs`` processes or Ray tasks for
``evaluate.py``; :func:`kilo.runtime.dispatch`), each with its share of the CPU threads.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Protocol

from kilo.config import Config
from kilo.evaluation.datasets import build_datasets, power_name
from kilo.evaluation.fold_task import FoldResult, FoldTask, run_folds
from kilo.evaluation.splits import evaluation_splits
from kilo.evaluation.statistics import causality_check
from kilo.evaluation.strategy_set import BLEND, BUY_AND_HOLD, real_strategies
from kilo.evaluation.symbol import SymbolEvaluation, summarise_symbol
from kilo.features import FeatureEngine
from kilo.models.kinds import KINDS, enabled_regressors
from kilo.runtime import SERIAL, RunOptions, dispatch
from kilo.training.dataset import Dataset
from kilo.training.split import TimeSplit, required_embargo


def fold_config(config: Config) -> Config:
    """The config every fold trains with: each kind's
    :attr:`~kilo.models.kind.ModelKind.fold_overrides` (a policy's budget capped at
    ``evaluation.max_ppo_timesteps``)."""
    overrides = {k: v for kind in KINDS.values() for k, v in kind.fold_overrides(config).items()}
    return config.with_overrides(overrides) if overrides else config


def policy_timesteps(config: Config) -> int:
    """What the summary reports as the policies' budget per fold (``ppo_timesteps``):
    the timesteps of the enabled kinds that count them, 0 when none is enabled."""
    return sum(
        kind.timesteps(config)
        for name, kind in KINDS.items()
        if kind.timesteps is not None and name in config.models.enabled
    )


def fold_tasks(config: Config, n_folds: int, holdout: bool = False) -> list[tuple[FoldTask, ...]]:
    """Every task of one symbol as chains (:func:`~kilo.evaluation.fold_task.run_folds`),
    the most expensive first: the real candles' folds, all models, in one chain whose
    trades carry over from fold to fold; with ``holdout``, the holdout's (split number
    ``n_folds``, traded from flat once); then each control's fold alone, latest first.
    The controls that test the regressors (planted, power, label shuffle) run only when
    one is enabled; the placebo fits the regressors and their blend (its flags read
    their ICs, as the leak drills' do), and PPO only when no regressor is enabled."""
    ev = config.evaluation
    real = real_strategies(config)
    regressors = bool(enabled_regressors(config))
    chains: list[tuple[FoldTask, ...]] = [
        tuple(
            FoldTask("real", k, "all", real, ev.random_draws, costs=tuple(ev.cost_curve))
            for k in range(n_folds)
        )
    ]
    if holdout:
        chains.append((FoldTask("holdout", n_folds, "all", real, ev.random_draws),))
    for k in reversed(range(n_folds)):
        controls = [FoldTask("placebo", k, "regressors" if regressors else "all", (BLEND,))]
        if regressors:
            controls.append(FoldTask("planted", k, "regressors", (BLEND, BUY_AND_HOLD)))
            controls.extend(
                FoldTask(power_name(ic), k, "regressors", (BLEND,)) for ic in ev.power_ics
            )
        chains.extend((t,) for t in controls)
    if regressors:
        chains.append((FoldTask("label_shuffle", 0, "regressors", shuffle_labels=True),))
    return chains


class DatasetSource(Protocol):
    """Where fold tasks find their data set by name (:class:`Datasets` is one)."""

    def get(self, name: str) -> Dataset: ...


def run_tasks(
    config: Config,
    engine: FeatureEngine,
    datasets: DatasetSource,
    folds: list[TimeSplit],
    chains: Sequence[tuple[FoldTask, ...]],
    options: RunOptions,
    desc: str,
) -> list[FoldResult]:
    """Run each chain of tasks (one data set's folds, traded one after the other: see
    :func:`~kilo.evaluation.fold_task.run_folds`) in one of ``options.jobs`` processes (in
    this one when 1) or as a Ray task, with a progress bar (``options.progress``) counting
    the real candles' folds, the holdout and the controls apart. Each chain gets the
    same thread count either way, so results match. Returns every task's result, chain
    after chain.

    Raises
    ------
    ConfigError
        If the Ray backend is asked for but Ray is not installed.
    """
    calls = [
        (config, engine, datasets.get(c[0].dataset), [folds[t.fold] for t in c], c, options.threads)
        for c in chains
    ]
    results = dispatch(
        run_folds,
        calls,
        options=options,
        desc=desc,
        unit="task",
        kinds=[_kind(c) for c in chains],
    )
    return [r for chain in results for r in chain]


def _kind(chain: tuple[FoldTask, ...]) -> str:
    """The progress bar's label of a chain."""
    name = chain[0].dataset
    if name == "real":
        return f"{len(chain)} chained folds" if len(chain) > 1 else "folds"
    return name if name == "holdout" else "controls"


def evaluate_symbol(
    config: Config,
    symbol: str,
    *,
    options: RunOptions = SERIAL,
    read_holdout: bool = True,
) -> SymbolEvaluation:
    """Walk-forward evaluation of one symbol with ``config.evaluation``'s settings.

    Parameters
    ----------
    read_holdout
        Trade the holdout (the summary's ``holdout``). False: its rows are still cut
        off the folds' end (``evaluation.holdout_fraction``), but nothing reads them:
        a search's evaluation of its best configuration on the outer folds.
    options
        How the fold tasks run; ``evaluate.py`` resolves it from ``--jobs``,
        ``--backend`` and ``--no-progress`` (default ``evaluation.jobs``, or every CPU
        core; ``training.backend``). Default: one after the other here, no bar.

    Raises
    ------
    DataError
        If the candles are missing or too short for the folds.
    LookAheadError
        If a feature reads a later candle (checked before any model is fit).
    """
    started = time.perf_counter()
    ev = config.evaluation
    engine = FeatureEngine.from_config(config, symbol)
    datasets = build_datasets(config, symbol, engine)
    folds, holdout = evaluation_splits(
        len(datasets.real.features), ev, required_embargo(config, engine)
    )
    causality = causality_check(engine, datasets.real, folds)  # stops on a look-ahead
    holdout = holdout if read_holdout else None
    results = run_tasks(
        fold_config(config),
        engine,
        datasets,
        [*folds, *([holdout] if holdout else [])],
        fold_tasks(config, len(folds), holdout is not None),
        options,
        f"{symbol}: {len(folds)} folds{' + holdout' if holdout else ''} and their controls",
    )
    return summarise_symbol(
        config,
        symbol,
        datasets,
        folds,
        holdout,
        results,
        causality,
        time.perf_counter() - started,
    )

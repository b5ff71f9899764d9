"""Nested walk-forward: judge a configuration without touching the outer test folds.

The rows before the first outer test window (less an embargo) are cut again into
walk-forward folds of inner train < embargo < inner validation < embargo < inner test
(:func:`inner_folds`). The pipeline is fit on the inner train, early-stopped and
calibrated on the inner validation, and traded on the inner test. Search and the
choice of defaults read only these inner results; the outer test folds are evaluated
once, for the configuration chosen, by :func:`~kilo.evaluation.walkforward.evaluate_symbol`.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from kilo.backtest.paths import percentile_among_paths
from kilo.backtest.strategies import StrategyMetrics, run_metrics
from kilo.config import Config, EvaluationConfig
from kilo.errors import DataError
from kilo.evaluation.datasets import stats_block
from kilo.evaluation.fold_task import FoldResult, FoldTask, run_folds
from kilo.evaluation.splits import evaluation_splits, walk_forward_folds
from kilo.evaluation.statistics import ic_statistics
from kilo.evaluation.strategy_set import BLEND, BUY_AND_HOLD
from kilo.evaluation.summary import ICStatistics
from kilo.evaluation.walkforward import fold_config
from kilo.features import FeatureEngine
from kilo.models.kinds import POLICIES
from kilo.training.dataset import Dataset, build_dataset
from kilo.training.split import TimeSplit, required_embargo


def inner_folds(
    outer: list[TimeSplit], spec: EvaluationConfig, inner_fraction: float, embargo: int
) -> list[TimeSplit]:
    """The search's walk-forward folds, all before the first outer test window.

    They are cut (:func:`~kilo.evaluation.splits.walk_forward_folds`, ``spec.folds``
    of them, ``spec``'s scheme) from the first outer fold's training window, rows
    ``0 .. outer[0].test.start - embargo``: its last ``inner_fraction`` is the inner
    test folds. Every outer fold after the first trains on earlier outer test
    windows, so no other window is clean: this way no inner split reads a bar of any
    outer test window or of the holdout (DESIGN.md invariant 4).

    Raises
    ------
    DataError
        If that window is too short for the inner folds.
    """
    rows = outer[0].test.start - embargo
    inner = spec.model_copy(
        update={"initial_train_fraction": 1.0 - inner_fraction, "holdout_fraction": 0.0}
    )
    try:
        return walk_forward_folds(rows, inner, embargo)
    except DataError as exc:
        raise DataError(
            f"the search's folds lie in the {rows} rows before the first outer test "
            f"window: {exc} (or raise evaluation.initial_train_fraction, or lower "
            "search.inner_fraction or evaluation.folds)"
        ) from None


@dataclass(frozen=True)
class InnerEvaluation:
    """What the inner test folds of one symbol say about a configuration.

    ``fold_objectives``: the objective on each inner fold alone, in time order;
    ``objective``: over all of them chained; the blend's and buy-and-hold's metrics,
    the regressors' IC statistics, and the matched random baseline's mean Sharpe and
    the blend's percentile among its paths (NaN without draws, or when the blend did
    not trade); ``last_bar_read``: the time (ISO, UTC) of the last feature row any
    inner fold read, for the search's record that no outer test bar was; ``policies``
    each enabled policy's metrics and ``policy_random`` its own matched random paths'
    mean Sharpe and its percentile among them (as the blend's).
    """

    symbol: str
    objective: float
    fold_objectives: list[float]
    blend: StrategyMetrics
    buy_and_hold: StrategyMetrics
    ic: dict[str, ICStatistics]
    random_sharpe: float = math.nan
    blend_percentile: float = math.nan
    last_bar_read: str = ""
    policies: dict[str, StrategyMetrics] = field(default_factory=dict)
    policy_random: dict[str, tuple[float, float]] = field(default_factory=dict)

    def as_metrics(self) -> dict[str, Any]:
        """Nested numbers for the tracking store."""
        return {
            "blend": self.blend.model_dump(),
            BUY_AND_HOLD: self.buy_and_hold.model_dump(),
            **{name: stats.model_dump() for name, stats in self.ic.items()},
            "random": {"sharpe": self.random_sharpe, "blend_percentile": self.blend_percentile},
            **{name: metrics.model_dump() for name, metrics in self.policies.items()},
            **{
                f"{name}_random": {"sharpe": sharpe, "percentile": percentile}
                for name, (sharpe, percentile) in self.policy_random.items()
            },
        }


def objective_value(
    config: Config, results: list[FoldResult], data: Dataset, folds: list[TimeSplit]
) -> float:
    """``search.objective`` over ``results``: the blend's annualised net Sharpe, or the
    mean Spearman IC of the regressors with the held return on the inner test rows (the
    return a position earns, not the label). NaN counts as -inf."""
    if config.search.objective == "net_sharpe":
        per_year = config.data.bars_per_year
        value = run_metrics([r.runs[BLEND] for r in results], per_year).sharpe
    else:
        y = np.concatenate([data.held_return[folds[r.task.fold].test] for r in results])
        from kilo.metrics import spearman_ic

        value = float(
            np.mean(
                [
                    spearman_ic(np.concatenate([r.predictions[m] for r in results]), y)
                    for m in results[0].predictions
                ]
            )
        )
    return value if math.isfinite(value) else -math.inf


def evaluate_inner(
    config: Config,
    symbol: str,
    *,
    random_draws: int = 0,
    after_fold: Callable[[int, float], None] | None = None,
) -> InnerEvaluation:
    """Fit and trade ``config`` on the inner folds of ``symbol``, one fold at a time.

    Parameters
    ----------
    random_draws
        Matched random paths per fold (for the baseline's percentile); 0 skips them.
    after_fold
        Called with (fold index, objective so far) after each fold, e.g. to report to
        an Optuna pruner, which may raise to stop the trial.

    Raises
    ------
    DataError
        If the candles are missing or too short for the outer and inner folds.
    """
    ev = config.evaluation
    engine = FeatureEngine.from_config(config, symbol)
    data = build_dataset(config, symbol, engine)
    embargo = required_embargo(config, engine)
    folds = inner_folds(
        evaluation_splits(len(data.features), ev, embargo)[0],
        ev,
        config.search.inner_fraction,
        embargo,
    )
    per_fold = fold_config(config)
    objectives: list[float] = []

    def observe(done: list[FoldResult]) -> None:
        objectives.append(objective_value(config, done[-1:], data, folds))
        if after_fold is not None:
            after_fold(len(done) - 1, objective_value(config, done, data, folds))

    policies = tuple(name for name in POLICIES if name in config.models.enabled)
    tasks = tuple(
        FoldTask(
            "inner",
            k,
            "all",
            (BLEND, BUY_AND_HOLD, *policies),
            random_draws,
            random_of=(BLEND, *policies),
        )
        for k in range(len(folds))
    )
    results = run_folds(per_fold, engine, data, folds, tasks, after_fold=observe)
    per_year = config.data.bars_per_year
    blend = run_metrics([r.runs[BLEND] for r in results], per_year)
    traded: dict[str, StrategyMetrics] = {
        name: run_metrics([r.runs[name] for r in results], per_year) for name in policies
    }
    random_sharpe, percentile = _matched_random(results, BLEND, blend, per_year)
    return InnerEvaluation(
        symbol,
        objective_value(config, results, data, folds),
        objectives,
        blend,
        run_metrics([r.runs[BUY_AND_HOLD] for r in results], per_year),
        ic_statistics(config, data, folds, results, stats_block(config)),
        random_sharpe,
        percentile,
        data.index[folds[-1].test.stop - 1].isoformat(),
        traded,
        {name: _matched_random(results, name, traded[name], per_year) for name in policies},
    )


def _matched_random(
    results: list[FoldResult], name: str, metrics: StrategyMetrics, per_year: float
) -> tuple[float, float]:
    """The mean net Sharpe of strategy ``name``'s matched random paths over the chained
    folds, and its percentile among them (both NaN without draws; the percentile NaN
    when it never traded)."""
    folds = [r.random_runs.get(name, []) for r in results]
    if not folds[0]:
        return math.nan, math.nan
    draws = np.array(
        [run_metrics([fold[d] for fold in folds], per_year).sharpe for d in range(len(folds[0]))]
    )
    percentile = percentile_among_paths(metrics.sharpe, draws, bool(metrics.n_trades))
    return float(np.nanmean(draws)), percentile

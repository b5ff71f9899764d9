"""From fold results to one symbol's evaluation: metrics, IC statistics and controls."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from kilo.backtest.paths import percentile_among_paths
from kilo.backtest.simulate import StrategyRun
from kilo.backtest.strategies import StrategyMetrics, chain, run_metrics
from kilo.config import Config
from kilo.evaluation.controls.power import power_point, power_summary
from kilo.evaluation.cost_summary import summarise_cost_curve
from kilo.evaluation.datasets import Datasets, stats_block
from kilo.evaluation.fold_task import FoldResult
from kilo.evaluation.statistics import (
    block_length,
    by_dataset,
    fold_runs,
    ic_statistics,
    label_shuffle_summary,
    lead_lag_summary,
    placebo_summary,
    planted_summary,
)
from kilo.evaluation.strategy_set import BLEND, BUY_AND_HOLD
from kilo.evaluation.summary import (
    Causality,
    Controls,
    FoldWindow,
    HoldoutSummary,
    RandomBaseline,
    StrategyResult,
    SymbolSummary,
)
from kilo.evaluation.verdict import decide
from kilo.evaluation.verdict_summary import Power
from kilo.metrics import (
    probabilistic_sharpe_ratio,
    sharpe_ratio,
    sharpe_standard_error,
)
from kilo.training.dataset import Dataset
from kilo.training.split import TimeSplit


@dataclass
class SymbolEvaluation:
    """The walk-forward result of one symbol (one seed).

    Attributes
    ----------
    summary : the symbol's typed summary (metrics, statistics, controls)
    curves : strategy -> equity Series over the test bars (quote currency), chained
        across folds
    returns : strategy -> per-bar log returns over the test bars (for the DSR)
    blend_fills : the blend's fills (time, side, price, ...)
    close : Series of the test bars' closes
    blend_side : Series (n_test_bars,), int8, the blend's position after each bar: +1
        long, -1 short, 0 flat
    """

    symbol: str
    summary: SymbolSummary
    curves: dict[str, pd.Series]
    returns: dict[str, pd.Series]
    blend_fills: pd.DataFrame
    close: pd.Series
    blend_side: pd.Series


def _random_baseline(
    draws: list[list], blend: StrategyMetrics, per_year: float
) -> RandomBaseline | None:
    """Mean metrics of the random paths and the blend's percentile among them (NaN
    when the blend never traded: there is no spell to match)."""
    if not draws:
        return None
    per_draw = pd.DataFrame([run_metrics(d, per_year).model_dump() for d in draws])
    percentile = percentile_among_paths(
        blend.sharpe, per_draw["sharpe"].to_numpy(), bool(blend.n_trades)
    )
    return RandomBaseline.model_validate(
        {**per_draw.mean().to_dict(), "draws": len(draws), "blend_percentile": percentile}
    )


def _draws(results: list[FoldResult]) -> list[list[StrategyRun]]:
    """Each random path's run of every fold, in fold order."""
    draws = [r.random_runs.get(BLEND, []) for r in results]
    return [[fold[d] for fold in draws] for d in range(len(draws[0]))]


def _sharpe_se(returns: np.ndarray) -> float:
    """The per-bar Sharpe ratio's standard error (:func:`kilo.metrics.sharpe_standard_error`),
    or where it is undefined (a strategy that never traded) that of normal returns with
    a Sharpe ratio of 0, ``1 / sqrt(n - 1)``: what the bars alone allow."""
    se = sharpe_standard_error(returns)
    return se if np.isfinite(se) or len(returns) < 2 else float(1 / np.sqrt(len(returns) - 1))


def _strategies(
    config: Config,
    data: Dataset,
    splits: list[TimeSplit],
    results: list[FoldResult],
    per_year: float,
    block: int,
) -> tuple[dict[str, StrategyResult], RandomBaseline | None, dict[str, list[StrategyRun]]]:
    """Every strategy's metrics over ``results`` (chained), the regressors' IC
    statistics against the held return and the label (blocks of ``block`` bars), and
    the random baseline; also the runs by strategy."""
    runs = fold_runs(results)
    returns = {name: chain(r)[0] for name, r in runs.items()}
    bh_sharpe = sharpe_ratio(returns[BUY_AND_HOLD].to_numpy())
    ics = ic_statistics(config, data, splits, results, block)
    label_ics = ic_statistics(config, data, splits, results, block, against="label")
    strategies = {
        name: StrategyResult(
            **run_metrics(r, per_year).model_dump(),
            psr_vs_buy_and_hold=probabilistic_sharpe_ratio(returns[name].to_numpy(), bh_sharpe),
            sharpe_se=_sharpe_se(returns[name].to_numpy()) * np.sqrt(per_year),
            ic=ics.get(name),
            label_ic=label_ics.get(name),
        )
        for name, r in runs.items()
    }
    return strategies, _random_baseline(_draws(results), strategies[BLEND], per_year), runs


def fold_window(index: pd.DatetimeIndex, split: TimeSplit) -> FoldWindow:
    """The bar times of ``split``'s training window (from its first training row to its
    last validation row) and test rows, ``index`` holding the rows' times."""
    return FoldWindow(
        train_start=index[split.train.start],
        train_end=index[split.val.stop - 1],
        test_start=index[split.test.start],
        test_end=index[split.test.stop - 1],
    )


def _power(
    config: Config,
    datasets: Datasets,
    folds: list[TimeSplit],
    parts: dict[str, list[FoldResult]],
    strategies: dict[str, StrategyResult],
    block: int,
) -> Power:
    """The power curve (the planted control and every ``power <ic>`` data set) and the
    detection floors of the regressors (:mod:`kilo.evaluation.controls.power`), with bootstrap
    blocks of ``block`` bars."""
    real = {name: s.ic for name, s in strategies.items() if s.ic is not None}
    real_ic = {name: ic.ic_spearman for name, ic in real.items()}
    planted = [(datasets.planted, datasets.planted_ic, parts["planted"])]
    planted += [(data, ic, parts[name]) for name, (data, ic) in datasets.power.items()]
    points = [power_point(config, d, ic, folds, r, block, real_ic) for d, ic, r in planted]
    return power_summary(points, real, datasets.signal_ic)


def summarise_symbol(
    config: Config,
    symbol: str,
    datasets: Datasets,
    folds: list[TimeSplit],
    holdout: TimeSplit | None,
    results: list[FoldResult],
    causality: Causality,
    seconds: float,
) -> SymbolEvaluation:
    """Combine every fold result of one symbol into its evaluation; the holdout's
    results (split number ``len(folds)``) go to its own section."""
    per_year = config.data.bars_per_year
    parts = by_dataset(results)
    real, data = parts["real"], datasets.real
    splits = [*folds, *([holdout] if holdout is not None else [])]
    block = block_length(data, splits, real, stats_block(config))
    strategies, random, runs = _strategies(config, data, splits, real, per_year, block)
    returns = {name: chain(r)[0] for name, r in runs.items()}
    draws = _draws(real)
    curves = {name: chain(r)[1] for name, r in runs.items()}
    if draws:
        curves["random"] = pd.concat([chain(d)[1] for d in draws], axis=1).mean(axis=1)
    index = data.index
    final = None
    if holdout is not None and parts.get("holdout"):
        held, held_random, held_runs = _strategies(
            config, data, splits, parts["holdout"], per_year, block
        )
        final = HoldoutSummary(
            window=fold_window(index, holdout),
            bars=len(chain(held_runs[BLEND])[0]),
            strategies=held,
            random=held_random,
        )
    planted = parts.get("planted")
    summary = SymbolSummary(
        strategies=strategies,
        random=random,
        controls=Controls(
            placebo=placebo_summary(
                config, datasets.placebo, folds, parts["placebo"], block, per_year
            ),
            planted=planted_summary(datasets.planted, datasets.planted_ic, folds, planted, per_year)
            if planted
            else None,
            lead_lag=lead_lag_summary(data, folds, real, config.target.horizon),
            label_shuffle_check=label_shuffle_summary(data, folds, parts["label_shuffle"])
            if parts.get("label_shuffle")
            else None,
            causality=causality,
        ),
        folds=[fold_window(index, f) for f in folds],
        bars=len(returns[BLEND]),
        seconds=seconds,
        fold_seconds=float(sum(r.seconds for r in results)),
        task_seconds={name: float(sum(r.seconds for r in rs)) for name, rs in parts.items()},
        holdout=final,
        power=_power(config, datasets, folds, parts, strategies, block) if planted else None,
        cost_curve=summarise_cost_curve(config, real, per_year),
    )
    summary.verdict = decide(summary)
    fills = pd.concat([r.fills for r in runs[BLEND]])
    return SymbolEvaluation(
        symbol,
        summary,
        curves,
        returns,
        fills,
        data.candles["close"].reindex(returns[BLEND].index),
        pd.concat([r.side for r in runs[BLEND]]).astype("int8"),
    )

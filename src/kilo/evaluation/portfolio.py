"""Portfolio walk-forward: every symbol traded together, as the paper trader would.

For each fold, every symbol's model set is fit on that symbol's own fold training
window; then the symbols' blends trade the fold's common test bars together through
the backtest's portfolio kernel (:func:`kilo.backtest.portfolio.trade_together`: the
trader's sizing, caps, costs, stops and risk rules), against equal-weight baselines.
The holdout (``evaluation.holdout_fraction``) is left out, as in every fold.
"""

from __future__ import annotations

import os
import time
from dataclasses import replace

import numpy as np
import pandas as pd

from kilo.backtest.portfolio import STRATEGIES, FoldScorer, PortfolioFold, trade_together
from kilo.backtest.strategies import FoldOutputs
from kilo.config import Config, timeframe_seconds
from kilo.evaluation.splits import evaluation_splits
from kilo.evaluation.summary import PortfolioSummary, WorstDay
from kilo.evaluation.walkforward import fold_config
from kilo.features import FeatureEngine
from kilo.metrics import bars_per_year, trading_metrics
from kilo.runtime import dispatch, limit_threads, threads_per_job
from kilo.training.dataset import Dataset, build_dataset
from kilo.training.split import TimeSplit, required_embargo
from kilo.training.trainer import fit_model_set


def _scorer(config: Config, engine: FeatureEngine, data: Dataset, fold: TimeSplit) -> FoldScorer:
    result = fit_model_set(config, replace(data, split=fold), engine, progress=False)
    model_set = result.model_set
    X = model_set.preprocessor.transform(data.features)
    _, outputs = FoldOutputs.for_dataset(config, model_set, X, data, fold.test)
    calibration = result.validation.calibrate(config)
    return FoldScorer(
        outputs.blend(calibration, dict(config.blend.weights)),
        pd.DatetimeIndex(data.candles.index),
        calibration.rule(config),
    )


def portfolio_fold(
    config: Config,
    engines: dict[str, FeatureEngine],
    datasets: dict[str, Dataset],
    folds: dict[str, TimeSplit],
    threads: int = 1,
) -> PortfolioFold:
    """Fit every symbol on its fold, trade them together on the common test bars."""
    started = time.perf_counter()
    with limit_threads(threads):
        scorers = {s: _scorer(config, engines[s], datasets[s], folds[s]) for s in datasets}
    common = sorted(set.intersection(*(set(d.index[folds[s].test]) for s, d in datasets.items())))
    traded = trade_together(
        config, dict(scorers), {s: d.candles for s, d in datasets.items()}, common
    )
    return replace(traded, seconds=time.perf_counter() - started)


def summarise_portfolio(config: Config, folds: list[PortfolioFold]) -> PortfolioSummary:
    """Metrics of each strategy over the chained folds, risk events by rule, the worst
    UTC day and the breaker's cooldown."""
    per_year = bars_per_year(timeframe_seconds(config.data.timeframe))
    strategies = {}
    for name in STRATEGIES:
        returns = pd.concat([f.returns[name] for f in folds])
        exposure = (
            pd.concat([f.exposure for f in folds]).to_numpy()
            if name == "blend"
            else np.full(len(returns), name != "flat")
        )
        pnls = np.concatenate([f.pnls for f in folds]) if name == "blend" else np.empty(0)
        turns = sum(f.equity_turns for f in folds) if name == "blend" else 0.0
        strategies[name] = trading_metrics(returns.to_numpy(), exposure, pnls, turns, per_year)
    daily = pd.concat([f.returns["blend"] for f in folds]).groupby(lambda t: t.date()).sum()
    events: dict[str, int] = {}
    for f in folds:
        for rule, n in f.risk_events.items():
            events[rule] = events.get(rule, 0) + n
    return PortfolioSummary(
        strategies=strategies,
        risk_events=events,
        worst_day=WorstDay(date=str(daily.idxmin()), log_return=float(daily.min())),
        cooldown_bars=int(sum(f.cooldown_bars for f in folds)),
        bars=int(sum(len(f.exposure) for f in folds)),
        seconds=float(sum(f.seconds for f in folds)),
    )


def evaluate_portfolio(
    config: Config, symbols: list[str], *, jobs: int | None = None, progress: bool = True
) -> PortfolioSummary:
    """Portfolio walk-forward of ``symbols`` (module docstring); folds run in ``jobs``
    processes (default ``evaluation.jobs``, or every core).

    Raises
    ------
    DataError
        If a symbol's candles are missing or too short for the folds.
    """
    ev = config.evaluation
    engines = {s: FeatureEngine.from_config(config, s) for s in symbols}
    datasets = {s: build_dataset(config, s, engines[s]) for s in symbols}
    folds = {
        s: evaluation_splits(len(d.features), ev, required_embargo(config, engines[s]))[0]
        for s, d in datasets.items()
    }
    jobs = min(jobs or ev.jobs or os.cpu_count() or 1, ev.folds)
    per_fold = fold_config(config)
    calls = [
        (per_fold, engines, datasets, {s: f[k] for s, f in folds.items()}, threads_per_job(jobs))
        for k in range(ev.folds)
    ]
    results = dispatch(
        portfolio_fold, calls, jobs=jobs, progress=progress, desc="portfolio folds", unit="fold"
    )
    return summarise_portfolio(config, results)

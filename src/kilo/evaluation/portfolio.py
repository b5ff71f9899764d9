"""Portfolio walk-forward: every symbol traded together, as the paper trader would.

For each fold, every symbol's model set is fit on that symbol's own fold training
window (the folds in parallel). Then the symbols' blends trade together, in one run,
the bars every symbol's test folds cover, through the backtest's portfolio kernel
(:func:`kilo.backtest.portfolio.trade_together`: the trader's sizing, caps, costs,
stops and risk rules), against equal-weight baselines: each symbol is scored by the
models of its own fold whose test window holds the bar (symbols of different history
lengths change models at different bars), and the book and risk state carry on across
every change, so no fold boundary forces a round trip. The holdout
(``evaluation.holdout_fraction``) is left out, as in every fold.
"""

from __future__ import annotations

import time
from bisect import bisect_right
from dataclasses import replace

import numpy as np
import pandas as pd

from kilo.backtest.portfolio import (
    STRATEGIES,
    FoldScorer,
    PortfolioRun,
    Segment,
    trade_together,
)
from kilo.backtest.strategies import FoldOutputs
from kilo.config import Config
from kilo.evaluation.splits import evaluation_splits
from kilo.evaluation.strategy_set import BLEND
from kilo.evaluation.summary import PortfolioSummary, WorstDay
from kilo.evaluation.walkforward import fold_config
from kilo.features import FeatureEngine
from kilo.metrics import trading_metrics
from kilo.runtime import SERIAL, RunOptions, dispatch, limit_threads
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


def fold_scorers(
    config: Config,
    engines: dict[str, FeatureEngine],
    datasets: dict[str, Dataset],
    folds: dict[str, TimeSplit],
    threads: int = 1,
) -> dict[str, FoldScorer]:
    """Fit every symbol on its fold: symbol -> the scorer of its fold's test bars."""
    with limit_threads(threads):
        return {s: _scorer(config, engines[s], datasets[s], folds[s]) for s in datasets}


def summarise_portfolio(config: Config, run: PortfolioRun, seconds: float) -> PortfolioSummary:
    """Metrics of each strategy over the run, risk events by rule, the worst UTC day, the
    breaker's cooldown and the wall time."""
    per_year = config.data.bars_per_year
    strategies = {}
    for name in STRATEGIES:
        returns = run.returns[name].to_numpy()
        blend = name == BLEND
        exposure = run.exposure.to_numpy() if blend else np.full(len(returns), name != "flat")
        pnls = run.pnls if blend else np.empty(0)
        turns = run.equity_turns if blend else 0.0
        strategies[name] = trading_metrics(returns, exposure, pnls, turns, per_year)
    daily = run.returns[BLEND].groupby(lambda t: t.date()).sum()
    return PortfolioSummary(
        strategies=strategies,
        risk_events=dict(run.risk_events),
        worst_day=WorstDay(date=str(daily.idxmin()), log_return=float(daily.min())),
        cooldown_bars=int(run.cooldown_bars),
        bars=len(run.exposure),
        seconds=seconds,
    )


def fold_segments(
    datasets: dict[str, Dataset],
    folds: dict[str, list[TimeSplit]],
    scorers: list[dict[str, FoldScorer]],
) -> list[Segment]:
    """The portfolio's segments: from the first bar every symbol's test folds cover to
    the last, cut wherever a symbol's next fold starts; each symbol scored there by its
    fold's scorer (``scorers``: one dict per fold, symbol -> scorer)."""
    starts = {s: [d.index[f.test][0] for f in folds[s]] for s, d in datasets.items()}
    first = max(t[0] for t in starts.values())
    last = min(d.index[folds[s][-1].test][-1] for s, d in datasets.items())
    times = pd.DatetimeIndex(sorted(set().union(*(d.candles.index for d in datasets.values()))))
    cuts = sorted({first, *(t for ts in starts.values() for t in ts if first < t <= last)})
    ends = [times[int(times.searchsorted(cut)) - 1] for cut in cuts[1:]] + [last]
    return [
        ({s: scorers[bisect_right(ts, cut) - 1][s] for s, ts in starts.items()}, cut, end)
        for cut, end in zip(cuts, ends, strict=True)
    ]


def evaluate_portfolio(
    config: Config, symbols: list[str], *, options: RunOptions = SERIAL
) -> PortfolioSummary:
    """Portfolio walk-forward of ``symbols`` (module docstring); the folds run as
    ``options`` say, at most one job per fold.

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
    started = time.perf_counter()
    options = replace(options, jobs=min(options.jobs, ev.folds))
    per_fold = fold_config(config)
    calls = [
        (per_fold, engines, datasets, {s: f[k] for s, f in folds.items()}, options.threads)
        for k in range(ev.folds)
    ]
    scorers = dispatch(fold_scorers, calls, options=options, desc="portfolio folds", unit="fold")
    candles = {s: d.candles for s, d in datasets.items()}
    run = trade_together(config, candles, fold_segments(datasets, folds, scorers))
    return summarise_portfolio(config, run, time.perf_counter() - started)

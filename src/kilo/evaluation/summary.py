"""From fold results to one symbol's evaluation: metrics, IC statistics and controls.

Every statistic reuses the predictions and runs of the folds; nothing is refit here.
The layout of :attr:`SymbolEvaluation.summary` is that of ``summary.json`` (see
:func:`kilo.evaluation.report.summarise`).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from kilo.config import Config, timeframe_seconds
from kilo.evaluation.controls import lead_lag_ic
from kilo.evaluation.fold import REGRESSORS, FoldResult
from kilo.evaluation.strategies import chain, run_metrics
from kilo.features import FeatureEngine
from kilo.metrics import (
    bars_per_year,
    block_permutation_ics,
    ic_bootstrap_ci,
    ic_hac_tstat,
    ic_permutation_pvalue,
    per_bar_sharpe,
    probabilistic_sharpe_ratio,
    regression_metrics,
    spearman_ic,
)
from kilo.training.dataset import Dataset
from kilo.training.split import TimeSplit

if TYPE_CHECKING:
    from kilo.evaluation.walkforward import Datasets


@dataclass
class SymbolEvaluation:
    """The walk-forward result of one symbol (one seed).

    Attributes
    ----------
    summary : the symbol's ``summary.json`` entry (metrics, statistics, controls)
    curves : strategy -> equity Series over the test bars, chained across folds
    returns : strategy -> per-bar log returns over the test bars (for the DSR)
    blend_fills : the blend's fills (time, side, price, ...)
    close : Series of the test bars' closes
    """

    symbol: str
    summary: dict[str, Any]
    curves: dict[str, pd.Series]
    returns: dict[str, pd.Series]
    blend_fills: pd.DataFrame
    close: pd.Series


def causality_check(engine: FeatureEngine, data: Dataset, folds: list[TimeSplit]) -> dict[str, Any]:
    """Features from candles cut at each fold's start equal the evaluation's rows up to it.

    The evaluation computes features once on the whole history; this verifies, on its
    own feature frame, that no row up to a fold start used a later candle of the
    symbol or of the other symbols its features read.
    """
    full = engine.transform(data.candles, data.context)
    identical = []
    for fold in folds:
        cut = data.index[fold.test.start]
        truncated = engine.transform(
            data.candles.loc[:cut], {s: c.loc[:cut] for s, c in data.context.items()}
        )
        identical.append(
            np.array_equal(truncated.to_numpy(), full.loc[:cut].to_numpy(), equal_nan=True)
        )
    return {"cuts": len(folds), "identical": bool(all(identical))}


def _by_dataset(results: list[FoldResult]) -> dict[str, list[FoldResult]]:
    out: dict[str, list[FoldResult]] = defaultdict(list)
    for r in sorted(results, key=lambda r: (r.task.dataset, r.task.fold)):
        out[r.task.dataset].append(r)
    return out


def _labels(data: Dataset, folds: list[TimeSplit], results: list[FoldResult]) -> np.ndarray:
    return np.concatenate([data.target[folds[r.task.fold].test] for r in results])


def _predictions(results: list[FoldResult], name: str) -> np.ndarray:
    return np.concatenate([r.predictions[name] for r in results])


def ic_statistics(
    config: Config, data: Dataset, folds: list[TimeSplit], results: list[FoldResult], block: int
) -> dict[str, dict[str, Any]]:
    """Per regressor: IC (Spearman and Pearson), per fold, 95 % block-bootstrap
    interval, Newey-West t-statistic, block-permutation p-value and 99 % null band."""
    ev = config.evaluation
    y = _labels(data, folds, results)
    out = {}
    for name in REGRESSORS:
        pred = _predictions(results, name)
        scores = regression_metrics(y, pred)
        null = block_permutation_ics(pred, y, block, n_perm=ev.permutations, seed=config.seed)
        out[name] = {
            "ic_spearman": scores.ic_spearman,
            "ic_pearson": scores.ic_pearson,
            "directional_accuracy": scores.directional_accuracy,
            "ic_by_fold": [
                spearman_ic(r.predictions[name], data.target[folds[r.task.fold].test])
                for r in results
            ],
            "ic_ci95": list(ic_bootstrap_ci(pred, y, block, n_boot=ev.bootstrap, seed=config.seed)),
            "ic_tstat_hac": ic_hac_tstat(pred, y, lags=block),
            "ic_pvalue_perm": ic_permutation_pvalue(scores.ic_spearman, null),
            "ic_null_band99": float(np.quantile(np.abs(null), 0.99)),
        }
    return out


def _strategy_metrics(runs: dict[str, list], per_year: float) -> dict[str, dict[str, float]]:
    return {name: run_metrics(r, per_year) for name, r in runs.items()}


def _runs(results: list[FoldResult]) -> dict[str, list]:
    runs: dict[str, list] = defaultdict(list)
    for r in results:
        for name, run in r.runs.items():
            runs[name].append(run)
    return runs


def summarise_symbol(
    config: Config,
    symbol: str,
    datasets: Datasets,
    folds: list[TimeSplit],
    results: list[FoldResult],
    causality: dict[str, Any],
    seconds: float,
) -> SymbolEvaluation:
    """Combine every fold result of one symbol into its evaluation."""
    per_year = bars_per_year(timeframe_seconds(config.data.timeframe))
    block = max(config.target.horizon, 24)
    parts = _by_dataset(results)
    real, data = parts["real"], datasets.real
    runs = _runs(real)
    strategies = _strategy_metrics(runs, per_year)
    returns = {name: chain(r)[0] for name, r in runs.items()}
    bh_sharpe = per_bar_sharpe(returns["buy_and_hold"].to_numpy())
    for name, metrics in strategies.items():
        metrics["psr_vs_buy_and_hold"] = probabilistic_sharpe_ratio(
            returns[name].to_numpy(), bh_sharpe
        )
    for name, stats in ic_statistics(config, data, folds, real, block).items():
        strategies[name].update(stats)
    draws = [[r.random_runs[d] for r in real] for d in range(len(real[0].random_runs))]
    if draws:
        per_draw = pd.DataFrame([run_metrics(d, per_year) for d in draws])
        strategies["random"] = {
            **{str(k): float(v) for k, v in per_draw.mean().items()},
            "draws": len(draws),
            "blend_percentile": float(
                100 * np.mean(per_draw["sharpe"] < strategies["blend"]["sharpe"])
            ),
        }
    curves = {name: chain(r)[1] for name, r in runs.items()}
    if draws:
        curves["random"] = pd.concat([chain(d)[1] for d in draws], axis=1).mean(axis=1)
    index = data.index
    summary = {
        "strategies": strategies,
        "controls": {
            "placebo": _placebo(config, datasets.placebo, folds, parts["placebo"], block, per_year),
            "planted": _planted(datasets, folds, parts["planted"], per_year),
            "lead_lag": _lead_lag(data, folds, real),
            "label_shuffle_check": _label_shuffle(data, folds, parts["label_shuffle"]),
            "causality": causality,
        },
        "folds": [
            {
                "train_start": index[f.train.start].isoformat(),
                "train_end": index[f.val.stop - 1].isoformat(),
                "test_start": index[f.test.start].isoformat(),
                "test_end": index[f.test.stop - 1].isoformat(),
            }
            for f in folds
        ],
        "bars": int(len(returns["blend"])),
        "seconds": seconds,
        "fold_seconds": float(sum(r.seconds for r in results)),
    }
    fills = pd.concat([r.fills for r in runs["blend"]])
    return SymbolEvaluation(
        symbol,
        summary,
        curves,
        returns,
        fills,
        data.candles["close"].reindex(returns["blend"].index),
    )


def _placebo(
    config: Config,
    data: Dataset,
    folds: list[TimeSplit],
    results: list[FoldResult],
    block: int,
    per_year: float,
) -> dict[str, Any]:
    """Regressor ICs with their 99 % null band (flagged above it) and the blend's Sharpe."""
    y = _labels(data, folds, results)
    out: dict[str, Any] = {}
    for name in REGRESSORS:
        pred = _predictions(results, name)
        ic = spearman_ic(pred, y)
        null = block_permutation_ics(
            pred, y, block, n_perm=config.evaluation.permutations, seed=config.seed + 1
        )
        band = float(np.quantile(np.abs(null), 0.99))
        out[name] = {"ic_spearman": ic, "null_band99": band, "flagged": bool(abs(ic) > band)}
    blend = run_metrics(_runs(results)["blend"], per_year)
    out["blend"] = {"sharpe": blend["sharpe"], "gross_sharpe": blend["gross_sharpe"]}
    return out


def _planted(
    datasets: Datasets, folds: list[TimeSplit], results: list[FoldResult], per_year: float
) -> dict[str, Any]:
    """Recovered ICs, the blend's and buy-and-hold's results, and the verdict: detected
    when the best regressor recovers 70 % of the planted IC and the blend's net Sharpe
    beats buy-and-hold's on the planted candles."""
    y = _labels(datasets.planted, folds, results)
    ics = {name: spearman_ic(_predictions(results, name), y) for name in REGRESSORS}
    runs = _runs(results)
    blend, bh = (run_metrics(runs[n], per_year) for n in ("blend", "buy_and_hold"))
    detected = (
        max(ics.values()) >= 0.7 * datasets.planted_ic
        and np.nan_to_num(blend["sharpe"], nan=-np.inf) > bh["sharpe"]
    )
    return {
        "planted_ic": datasets.planted_ic,
        **{name: {"ic_spearman": ic} for name, ic in ics.items()},
        "blend": {"sharpe": blend["sharpe"], "total_log_return": blend["total_log_return"]},
        "buy_and_hold": {"sharpe": bh["sharpe"]},
        "detected": bool(detected),
    }


def _lead_lag(data: Dataset, folds: list[TimeSplit], results: list[FoldResult]) -> dict[str, Any]:
    """Each regressor's IC against the label k bars later, k = -5..5, on the test rows."""
    out = {}
    for name in REGRESSORS:
        pred = np.full(len(data.target), np.nan)
        for r in results:
            pred[folds[r.task.fold].test] = r.predictions[name]
        out[name] = {str(k): ic for k, ic in lead_lag_ic(pred, data.target).items()}
    return out


def _label_shuffle(
    data: Dataset, folds: list[TimeSplit], results: list[FoldResult]
) -> dict[str, Any]:
    """ICs of regressors trained on shuffled labels: they must find nothing. A check of
    label handling, which cannot detect a feature that looks ahead."""
    y = _labels(data, folds, results)
    return {
        "fold": results[0].task.fold + 1,
        **{
            name: {"ic_spearman": spearman_ic(_predictions(results, name), y)}
            for name in REGRESSORS
        },
    }

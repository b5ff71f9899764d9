"""Statistics and controls of one symbol's fold results, as typed summary parts.

Every statistic reuses the predictions and runs of the folds; nothing is refit here.
ICs are measured against the held return (``Dataset.held_return``: what a position
opened on the signal and held the horizon earns; DESIGN.md invariant 9) unless a
function says otherwise; :func:`ic_statistics` also measures them against the label.
"""

from __future__ import annotations

import math
from collections import defaultdict
from typing import Literal

import numpy as np

from kilo.backtest.simulate import StrategyRun
from kilo.backtest.strategies import run_metrics
from kilo.config import Config
from kilo.errors import LookAheadError
from kilo.evaluation.controls.candles import lead_lag_ic
from kilo.evaluation.fold_task import FoldResult
from kilo.evaluation.strategy_set import BLEND, BUY_AND_HOLD
from kilo.evaluation.summary import (
    Causality,
    ICStatistics,
    LabelShuffle,
    Placebo,
    PlaceboModel,
    Planted,
)
from kilo.features import FeatureEngine
from kilo.metrics import (
    block_permutation_ics,
    ic_block_length,
    ic_bootstrap,
    ic_hac_tstat,
    ic_permutation_pvalue,
    ic_pvalue_positive,
    regression_metrics,
    spearman_ic,
)
from kilo.training.dataset import Dataset
from kilo.training.split import TimeSplit

#: Quantile of |IC| under the permutation null that flags a placebo IC as a leak.
NULL_BAND_QUANTILE = 0.99
#: Share of the planted IC the best regressor must recover for "detected".
PLANTED_RECOVERY = 0.7
#: Seed offset of the placebo's permutations (apart from the real data's).
PLACEBO_PERMUTATION_SEED = 1
#: Block lengths (bars) whose bootstrap standard error the summary shows beside the chosen one.
SE_BLOCKS = (24, 168, 504)

#: What an IC is measured against: the held return (money) or the training label.
Outcome = Literal["return", "label"]


def causality_check(engine: FeatureEngine, data: Dataset, folds: list[TimeSplit]) -> Causality:
    """Features from candles cut at each fold's start equal the evaluation's rows up to it.

    The evaluation computes features once on the whole history; this verifies, on its
    own feature frame, that no row up to a fold start used a later candle of the
    symbol or of the other symbols its features read (every context symbol is cut too).

    Raises
    ------
    LookAheadError
        If any row differs; the message names the features and the first cut.
    """
    full = engine.transform(data.candles, data.context)
    for fold in folds:
        cut = data.index[fold.test.start]
        truncated = engine.transform(
            data.candles.loc[:cut], {s: c.loc[:cut] for s, c in data.context.items()}
        )
        a, b = truncated.to_numpy(), full.loc[:cut].to_numpy()
        same = (a == b) | (np.isnan(a) & np.isnan(b))
        if not same.all():
            names = [str(c) for c, ok in zip(full.columns, same.all(axis=0), strict=True) if not ok]
            raise LookAheadError(
                f"{data.symbol}: feature(s) {names} up to {cut} change when the candles "
                f"after it are removed: they read the future (of the symbol or of "
                f"{sorted(data.context)}). Fix the feature before evaluating"
            )
    return Causality(cuts=len(folds), identical=True)


def by_dataset(results: list[FoldResult]) -> dict[str, list[FoldResult]]:
    """Data set name -> its fold results in fold order."""
    out: dict[str, list[FoldResult]] = defaultdict(list)
    for r in sorted(results, key=lambda r: (r.task.dataset, r.task.fold)):
        out[r.task.dataset].append(r)
    return out


def fold_runs(results: list[FoldResult]) -> dict[str, list[StrategyRun]]:
    """Strategy -> its run of each fold, in the order of ``results``."""
    runs: dict[str, list[StrategyRun]] = defaultdict(list)
    for r in results:
        for name, run in r.runs.items():
            runs[name].append(run)
    return runs


def outcome(data: Dataset, against: Outcome = "return") -> np.ndarray:
    """Shape (n_rows,): ``data.held_return`` (``"return"``) or ``data.target``."""
    return data.held_return if against == "return" else data.target


def _outcomes(
    data: Dataset, folds: list[TimeSplit], results: list[FoldResult], against: Outcome = "return"
) -> np.ndarray:
    y = outcome(data, against)
    return np.concatenate([y[folds[r.task.fold].test] for r in results])


def _predictions(results: list[FoldResult], name: str) -> np.ndarray:
    return np.concatenate([r.predictions[name] for r in results])


def _fitted(results: list[FoldResult]) -> tuple[str, ...]:
    """The regressors the tasks fitted (``models.enabled``), in their order."""
    return tuple(results[0].predictions) if results else ()


def _null_band(null: np.ndarray) -> float:
    return float(np.quantile(np.abs(null), NULL_BAND_QUANTILE))


def block_length(
    data: Dataset, folds: list[TimeSplit], results: list[FoldResult], floor: int
) -> int:
    """The block length (bars) of the IC's bootstrap and permutations on these folds: the
    largest Politis-White estimate (:func:`kilo.metrics.ic_block_length`) of the
    regressors' return ICs, rounded up, and at least ``floor`` (the label horizon or
    more: overlapping labels stay inside one block); ``floor`` when no regressor was
    fitted."""
    y = _outcomes(data, folds, results)
    found = [ic_block_length(_predictions(results, n), y) for n in _fitted(results)]
    return max([floor, *(math.ceil(b) for b in found)])


def ic_statistics(
    config: Config,
    data: Dataset,
    folds: list[TimeSplit],
    results: list[FoldResult],
    block: int,
    against: Outcome = "return",
) -> dict[str, ICStatistics]:
    """Per regressor, against ``against``: IC (Spearman and Pearson), per fold, 95 %
    block-bootstrap interval and standard error (also at :data:`SE_BLOCKS`), one-sided
    p-value of IC > 0, Newey-West t-statistic, block-permutation p-value and 99 % null
    band, all with blocks of ``block`` bars."""
    ev = config.evaluation
    y = _outcomes(data, folds, results, against)
    per_row = outcome(data, against)
    out = {}
    for name in _fitted(results):
        pred = _predictions(results, name)
        scores = regression_metrics(y, pred)
        null = block_permutation_ics(pred, y, block, n_perm=ev.permutations, seed=config.seed)
        boot = ic_bootstrap(pred, y, block, n_boot=ev.bootstrap, seed=config.seed)
        low, high = np.percentile(boot, [2.5, 97.5])
        se = float(np.std(boot, ddof=1))
        out[name] = ICStatistics(
            ic_spearman=scores.ic_spearman,
            ic_pearson=scores.ic_pearson,
            directional_accuracy=scores.directional_accuracy,
            ic_by_fold=[
                spearman_ic(r.predictions[name], per_row[folds[r.task.fold].test]) for r in results
            ],
            ic_ci95=(float(low), float(high)),
            ic_se=se,
            ic_tstat_hac=ic_hac_tstat(pred, y, lags=block),
            ic_pvalue_perm=ic_permutation_pvalue(scores.ic_spearman, null),
            ic_null_band99=_null_band(null),
            block=block,
            ic_se_by_block={
                b: float(
                    np.std(ic_bootstrap(pred, y, b, n_boot=ev.bootstrap, seed=config.seed), ddof=1)
                )
                for b in SE_BLOCKS
            },
            pvalue_positive=ic_pvalue_positive(scores.ic_spearman, se),
        )
    return out


def placebo_summary(
    config: Config,
    data: Dataset,
    folds: list[TimeSplit],
    results: list[FoldResult],
    block: int,
    per_year: float,
) -> Placebo:
    """Regressor return ICs with their 99 % null band (flagged above it) and the blend's
    Sharpe."""
    y = _outcomes(data, folds, results)
    models = {}
    for name in _fitted(results):
        pred = _predictions(results, name)
        ic = spearman_ic(pred, y)
        null = block_permutation_ics(
            pred,
            y,
            block,
            n_perm=config.evaluation.permutations,
            seed=config.seed + PLACEBO_PERMUTATION_SEED,
        )
        band = _null_band(null)
        models[name] = PlaceboModel(ic_spearman=ic, null_band99=band, flagged=bool(abs(ic) > band))
    blend = run_metrics(fold_runs(results)[BLEND], per_year)
    return Placebo(models=models, blend_sharpe=blend.sharpe, blend_gross_sharpe=blend.gross_sharpe)


def planted_summary(
    data: Dataset,
    planted_ic: float,
    folds: list[TimeSplit],
    results: list[FoldResult],
    per_year: float,
) -> Planted:
    """Recovered return ICs, the blend's and buy-and-hold's results, and the verdict:
    detected when the best regressor recovers :data:`PLANTED_RECOVERY` of the planted IC
    (tuned against the same held return) and the blend's net Sharpe beats buy-and-hold's
    on the planted candles."""
    y = _outcomes(data, folds, results)
    ics = {name: spearman_ic(_predictions(results, name), y) for name in _fitted(results)}
    runs = fold_runs(results)
    blend, bh = (run_metrics(runs[n], per_year) for n in (BLEND, BUY_AND_HOLD))
    needed = PLANTED_RECOVERY * planted_ic
    detected = max(ics.values()) >= needed and np.nan_to_num(blend.sharpe, nan=-np.inf) > bh.sharpe
    return Planted(
        planted_ic=planted_ic,
        needed_ic=needed,
        ic=ics,
        blend_sharpe=blend.sharpe,
        blend_total_log_return=blend.total_log_return,
        buy_and_hold_sharpe=bh.sharpe,
        detected=bool(detected),
    )


def lead_lag_summary(
    data: Dataset, folds: list[TimeSplit], results: list[FoldResult], horizon: int
) -> dict[str, dict[int, float]]:
    """Each regressor's IC against the held return k bars later, k = -(h + 2)..h + 2."""
    out = {}
    for name in _fitted(results):
        pred = np.full(len(data.target), np.nan)
        for r in results:
            pred[folds[r.task.fold].test] = r.predictions[name]
        out[name] = lead_lag_ic(pred, data.held_return, horizon)
    return out


def label_shuffle_summary(
    data: Dataset, folds: list[TimeSplit], results: list[FoldResult]
) -> LabelShuffle:
    """Return ICs of regressors trained on shuffled labels: they must find nothing. A
    check of label handling, which cannot detect a feature that looks ahead."""
    y = _outcomes(data, folds, results)
    return LabelShuffle(
        fold=results[0].task.fold + 1,
        ic={name: spearman_ic(_predictions(results, name), y) for name in _fitted(results)},
    )

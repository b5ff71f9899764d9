"""The pooled comparison's statistics: ICs with intervals, placebo flags, recovery and
detection floors of pooled and per-symbol regressors (:mod:`kilo.evaluation.pooled`).

Every IC is against the held return (``Dataset.held_return``). The floor is the ruler's
(:mod:`kilo.evaluation.controls.power`): ``(z_0.975 + z_0.8) * se / recovery``, here with the
recovery of one planted point, (planted IC recovered - real IC) / planted IC, the
least-squares slope through it and the real candles. The panel is scored within symbols
(:func:`within_symbol_panel`).
"""

from __future__ import annotations

import math
import time
from collections import defaultdict
from statistics import NormalDist

import numpy as np
import pandas as pd

from kilo.config import Config
from kilo.errors import DataError
from kilo.evaluation.controls.power import POWER_MULTIPLE
from kilo.evaluation.datasets import stats_block
from kilo.evaluation.pooled import (
    PoolResult,
    build_universes,
    pool_causality,
    pool_folds,
    pool_tasks,
    run_pool_tasks,
)
from kilo.evaluation.summary import PanelIC, PooledComparison, PooledFit
from kilo.evaluation.symbol import fold_window
from kilo.metrics import panel_ic_bootstrap, spearman_ic
from kilo.runtime import SERIAL, RunOptions

#: A placebo panel IC beyond this many bootstrap standard errors is flagged (99 %).
PLACEBO_SE_MULTIPLE = NormalDist().inv_cdf(0.995)

Rows = tuple[np.ndarray, np.ndarray, np.ndarray]


def panel_ic(config: Config, rows: Rows) -> PanelIC:
    """The IC of ``(predictions, held returns, times)`` with its time-block bootstrap;
    ``rows`` counts the finite pairs it scored."""
    pred, label, times = rows
    boot = panel_ic_bootstrap(
        pred,
        label,
        times,
        stats_block(config),
        n_boot=config.evaluation.bootstrap,
        seed=config.seed,
    )
    low, high = np.percentile(boot, [2.5, 97.5])
    return PanelIC(
        ic_spearman=spearman_ic(pred, label),
        ic_ci95=(float(low), float(high)),
        ic_se=float(np.std(boot, ddof=1)),
        rows=int((np.isfinite(pred) & np.isfinite(label)).sum()),
    )


def collect(results: list[PoolResult]) -> dict[tuple[str, str, str], dict[str, Rows]]:
    """(universe, fit, regressor) -> symbol -> its (predictions, held returns, times) over
    the folds, in fold order."""
    parts: dict[tuple[str, str, str], dict[str, list]] = defaultdict(lambda: defaultdict(list))
    for r in sorted(results, key=lambda r: r.task.fold):
        for symbol, by_model in r.predictions.items():
            for name, pred in by_model.items():
                parts[(r.task.universe, r.task.fit, name)][symbol].append(
                    (pred, r.returns[symbol], r.times[symbol])
                )
    return {
        key: {
            s: tuple(np.concatenate([p[i] for p in pieces]) for i in range(3))  # type: ignore[misc]
            for s, pieces in by_symbol.items()
        }
        for key, by_symbol in parts.items()
    }


def _within(rows: Rows) -> Rows:
    pred, label, times = rows
    ok = np.isfinite(pred) & np.isfinite(label)
    ranked = [np.full(len(pred), np.nan) for _ in range(2)]
    for out, values in zip(ranked, (pred, label), strict=True):
        out[ok] = pd.Series(values[ok]).rank(pct=True).to_numpy()
    return ranked[0], ranked[1], times


def within_symbol_panel(by_symbol: dict[str, Rows]) -> Rows:
    """The symbols' rows stacked, each symbol's predictions and labels replaced by their
    percentile ranks among that symbol's own finite pairs (NaN elsewhere), shapes
    (sum of rows,).

    So the panel IC adds the symbols' evidence on ranking their own bars and scores no
    bet on which symbol does better over the whole test span: a per-symbol fit carries
    its symbol's training drift in its mean prediction, and that level bet, repeated on
    every bar, would count as thousands of pairs (and survive the placebo, whose blocks
    keep each symbol's drift).
    """
    ranked = [_within(rows) for rows in by_symbol.values()]
    return tuple(np.concatenate([r[i] for r in ranked]) for i in range(3))  # type: ignore[return-value]


def _floor(se: float, recovery: float) -> float:
    return POWER_MULTIPLE * se / recovery if recovery > 0 and math.isfinite(se) else math.inf


def pooled_fit(
    config: Config,
    parts: dict[tuple[str, str, str], dict[str, Rows]],
    fit: str,
    name: str,
    planted_ic: float,
) -> PooledFit:
    """One regressor fit one way: its :class:`PooledFit`."""
    real = parts[("real", fit, name)]
    symbols = {s: panel_ic(config, rows) for s, rows in real.items()}
    panel = panel_ic(config, within_symbol_panel(real))
    placebo = panel_ic(config, within_symbol_panel(parts[("placebo", fit, name)]))
    planted_rows = parts[("planted", fit, name)]
    planted = panel_ic(config, within_symbol_panel(planted_rows))
    recovery = (planted.ic_spearman - panel.ic_spearman) / planted_ic
    symbol_floors = {}
    for s, stats in symbols.items():
        own = spearman_ic(*planted_rows[s][:2]) if s in planted_rows else math.nan
        symbol_floors[s] = _floor(stats.ic_se, (own - stats.ic_spearman) / planted_ic)
    return PooledFit(
        symbols=symbols,
        panel=panel,
        placebo=placebo,
        placebo_flagged=bool(abs(placebo.ic_spearman) > PLACEBO_SE_MULTIPLE * placebo.ic_se),
        planted=planted,
        recovery=recovery,
        floor=_floor(panel.ic_se, recovery),
        symbol_floors=symbol_floors,
    )


def evaluate_pool(
    config: Config,
    symbols: list[str],
    *,
    options: RunOptions = SERIAL,
) -> PooledComparison:
    """Pooled against per-symbol regressors of ``symbols`` (universe members) on the
    walk-forward folds of the universe (:mod:`kilo.evaluation.pooled`), the fits run
    as ``options`` say.

    Raises
    ------
    DataError
        If candles are missing or malformed, a fold would be too small, or no symbol
        can be scored on any fold.
    LookAheadError
        If a member's feature reads a later candle (checked before any model is fit).
    """
    started = time.perf_counter()
    universes = build_universes(config)
    folds = pool_folds(config, universes)
    causality = pool_causality(config, universes, folds)  # stops on a look-ahead
    tasks = pool_tasks(universes, folds, symbols)
    if not tasks:
        raise DataError(
            f"{symbols}: no fold has enough training, validation and test rows of any of "
            "them; use fewer folds or more history"
        )
    results = run_pool_tasks(config, universes, folds, tasks, options)
    parts = collect(results)
    names = sorted({name for (_, _, name) in parts})
    return PooledComparison(
        members=list(universes.datasets["real"]),
        symbols=sorted({s for t in tasks for s in t.symbols}),
        demean=config.target.demean,
        planted_ic=universes.planted_ic,
        folds=[fold_window(universes.index, f) for f in folds],
        fits={
            fit: {n: pooled_fit(config, parts, fit, n, universes.planted_ic) for n in names}
            for fit in ("pooled", "alone")
        },
        causality=causality,
        seconds=time.perf_counter() - started,
    )

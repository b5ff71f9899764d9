"""``summary.json``: every symbol's evaluation, combined over seeds, with deflated Sharpes.

Layout, per symbol::

    {"strategies": {name: {metric: value, ...}},   # traded strategies and "random"
     "controls": {"placebo", "planted", "lead_lag", "label_shuffle_check", "causality"},
     "folds": [{"train_start", "train_end", "test_start", "test_end"}],
     "bars": N, "seconds": s}

With ``--portfolio`` a top-level ``"portfolio"`` section holds the symbols traded
together (:func:`kilo.evaluation.portfolio.summarise_portfolio`).

With more than one seed, numbers are means over seeds, ``"strategies_std"`` holds their
standard deviations and ``"seeds"`` the count; lists (``ic_by_fold``, ``ic_ci95``) and
controls are those of the first seed. Metrics are described in
:func:`kilo.metrics.trading_metrics`, :func:`kilo.evaluation.strategies.run_metrics`
and :mod:`kilo.evaluation.summary`.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from kilo.evaluation.summary import SymbolEvaluation
from kilo.metrics import deflated_sharpe_ratio, per_bar_sharpe

STRATEGY_ORDER = ("blend", "gru", "lightgbm", "ppo", "buy_and_hold", "flat", "momentum", "random")


def clean(value: Any) -> Any:
    """JSON-safe: NaN/inf -> None, numpy scalars -> Python numbers, recursively."""
    if isinstance(value, dict):
        return {str(k): clean(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [clean(v) for v in value]
    if isinstance(value, (np.floating, float)):
        return None if not math.isfinite(value) else float(value)
    if isinstance(value, (np.integer, np.bool_)):
        return value.item()
    return value


def deflate(results: dict[str, list[SymbolEvaluation]]) -> int:
    """Add ``dsr`` to every traded strategy of every symbol and seed, in place.

    The trials are every traded strategy with a defined Sharpe ratio, of every
    symbol and seed: their count is DSR's N and the variance of their per-bar Sharpe
    ratios its V (Bailey & López de Prado, 2014). Returns N.
    """
    trials = [
        (ev, name, r.to_numpy())
        for evals in results.values()
        for ev in evals
        for name, r in ev.returns.items()
        if math.isfinite(per_bar_sharpe(r.to_numpy()))
    ]
    sharpes = [per_bar_sharpe(r) for _, _, r in trials]
    variance = float(np.var(sharpes, ddof=1)) if len(sharpes) > 1 else 0.0
    for evals in results.values():
        for ev in evals:
            for name, r in ev.returns.items():
                ev.summary["strategies"][name]["dsr"] = deflated_sharpe_ratio(
                    r.to_numpy(), len(trials), variance
                )
    return len(trials)


def summarise(results: dict[str, list[SymbolEvaluation]]) -> dict[str, Any]:
    """The ``summary.json`` content (layout in the module docstring).

    Call :func:`deflate` first so the strategies carry their deflated Sharpe ratio.
    """
    out: dict[str, Any] = {}
    for symbol, evals in results.items():
        entry = {k: v for k, v in evals[0].summary.items() if k != "strategies"}
        first = evals[0].summary["strategies"]
        strategies, spread = {}, {}
        for name, metrics in first.items():
            frame = pd.DataFrame(
                [
                    {k: v for k, v in e.summary["strategies"][name].items() if np.isscalar(v)}
                    for e in evals
                ]
            )
            strategies[name] = {**metrics, **frame.mean(numeric_only=True).to_dict()}
            spread[name] = frame.std(ddof=1, numeric_only=True).to_dict()
        entry["strategies"] = strategies
        entry["seconds"] = float(sum(e.summary["seconds"] for e in evals))
        if len(evals) > 1:
            entry["seeds"] = len(evals)
            entry["strategies_std"] = spread
        out[symbol] = entry
    return clean(out)


def write_summary(summary: dict[str, Any], folder: Path) -> Path:
    """Write ``summary.json`` (strict JSON: NaN became null)."""
    path = folder / "summary.json"
    path.write_text(json.dumps(summary, indent=2, allow_nan=False))
    return path


def metrics_table(
    summary: dict[str, Any], symbol: str, columns: list[str] | None = None
) -> pd.DataFrame:
    """One symbol's strategies (rows) by metrics (columns), mean ± std over seeds as text."""
    entry = summary[symbol]
    rows = {}
    for name in STRATEGY_ORDER:
        mean = entry["strategies"].get(name)
        if mean is None:
            continue
        std = entry.get("strategies_std", {}).get(name, {})
        rows[name] = {
            k: _fmt(v, std.get(k))
            for k, v in mean.items()
            if (columns is None or k in columns) and not isinstance(v, list)
        }
    table = pd.DataFrame(rows).T
    return table[[c for c in columns if c in table.columns]] if columns else table


def _fmt(value: float | None, std: float | None) -> str:
    if value is None:
        return "–"
    text = f"{value:.4g}"
    return f"{text} ± {std:.2g}" if std is not None else text

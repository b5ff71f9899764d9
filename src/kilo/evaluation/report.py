"""Evaluation outputs: ``summary.json``, one HTML report for every symbol, an equity PNG.

The HTML report works offline: plotly.js is written once, as ``plotly.min.js`` beside
``report.html`` (plotly's ``include_plotlyjs="directory"`` layout), and curves are
downsampled for display; the numbers in ``summary.json`` are exact.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from kilo.evaluation.walkforward import SymbolEvaluation

STRATEGY_ORDER = ("blend", "gru", "lightgbm", "ppo", "buy_and_hold", "flat", "momentum", "random")
PLOTLY_JS = "plotly.min.js"
MAX_POINTS = 1200


def downsample(series: pd.Series, max_points: int = MAX_POINTS) -> pd.Series:
    """At most ``max_points`` points of ``series`` for display, extremes kept.

    Min-max decimation: the series is cut into ``max_points // 2`` equal buckets and
    each keeps its lowest and highest point, in time order, so peaks and drawdowns
    stay visible. Shorter series are returned unchanged.
    """
    n = len(series)
    if n <= max_points:
        return series
    buckets = np.array_split(np.arange(n), max_points // 2)
    values = series.to_numpy()
    keep = sorted({int(b[np.nanargmin(values[b])]) for b in buckets}
                  | {int(b[np.nanargmax(values[b])]) for b in buckets})
    return series.iloc[keep]


def _clean(value: Any) -> Any:
    """JSON-safe: NaN/inf -> None, numpy scalars -> Python numbers, recursively."""
    if isinstance(value, dict):
        return {str(k): _clean(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_clean(v) for v in value]
    if isinstance(value, (np.floating, float)):
        return None if not math.isfinite(value) else float(value)
    if isinstance(value, np.integer):
        return int(value)
    return value


def summarise(results: dict[str, list[SymbolEvaluation]]) -> dict[str, Any]:
    """The ``summary.json`` content: per symbol, metrics as the mean over seeds.

    Layout: ``{SYMBOL: {"strategies": {name: {metric: value}}, "controls":
    {"shuffled_target": {"gru": {...}, "lightgbm": {...}}, "causality": {...}},
    "folds": [{"train_start", "train_end", "test_start", "test_end"}], "bars": N}}``;
    with more than one seed also ``"strategies_std"`` (standard deviation over seeds)
    and ``"seeds"``.
    """
    out: dict[str, Any] = {}
    for symbol, evals in results.items():
        frames = {name: pd.DataFrame([e.strategies[name] for e in evals])
                  for name in evals[0].strategies}
        entry: dict[str, Any] = {
            "strategies": {name: f.mean().to_dict() for name, f in frames.items()},
            "controls": {
                "shuffled_target": {
                    model: pd.DataFrame([e.controls["shuffled_target"][model] for e in evals])
                    .mean().to_dict()
                    for model in evals[0].controls["shuffled_target"]
                },
                "causality": {"cuts": sum(e.controls["causality"]["cuts"] for e in evals),
                              "identical": all(e.controls["causality"]["identical"] for e in evals)},
            },
            "folds": evals[0].folds,
            "bars": evals[0].bars,
            "seconds": float(sum(e.seconds for e in evals)),
        }
        if len(evals) > 1:
            entry["seeds"] = len(evals)
            entry["strategies_std"] = {name: f.std(ddof=1).to_dict() for name, f in frames.items()}
        out[symbol] = entry
    return _clean(out)


def metrics_table(summary: dict[str, Any], symbol: str) -> pd.DataFrame:
    """One symbol's strategies (rows) by metrics (columns), mean ± std over seeds as text."""
    entry = summary[symbol]
    rows = {}
    for name in STRATEGY_ORDER:
        mean = entry["strategies"].get(name)
        if mean is None:
            continue
        std = entry.get("strategies_std", {}).get(name, {})
        rows[name] = {k: _fmt(v, std.get(k)) for k, v in mean.items()}
    return pd.DataFrame(rows).T


def _fmt(value: float | None, std: float | None) -> str:
    if value is None:
        return "–"
    text = f"{value:.4g}"
    return f"{text} ± {std:.2g}" if std is not None else text


def write_summary(summary: dict[str, Any], folder: Path) -> Path:
    path = folder / "summary.json"
    path.write_text(json.dumps(summary, indent=2, allow_nan=False))
    return path


def write_equity_png(results: dict[str, list[SymbolEvaluation]], folder: Path) -> Path:
    """Equity curves of every strategy per symbol (first seed), one panel per symbol."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    n = len(results)
    fig, axes = plt.subplots(n, 1, figsize=(11, 3.2 * n), squeeze=False)
    for ax, (symbol, evals) in zip(axes[:, 0], results.items()):
        for name in STRATEGY_ORDER:
            curve = evals[0].curves.get(name)
            if curve is not None:
                ax.plot(curve.index, curve.to_numpy(), label=name,
                        linewidth=2.0 if name == "blend" else 1.0)
        for fold in evals[0].folds:
            ax.axvline(pd.Timestamp(fold["test_start"]), color="grey", linewidth=0.6, linestyle=":")
        ax.set_title(f"{symbol}: walk-forward equity, net of fees and slippage")
        ax.set_ylabel("equity (quote)")
        ax.legend(ncol=4, fontsize=8)
    fig.tight_layout()
    path = folder / "equity.png"
    fig.savefig(path, dpi=90)
    plt.close(fig)
    return path


def write_html(results: dict[str, list[SymbolEvaluation]], summary: dict[str, Any],
               folder: Path) -> Path:
    """``report.html`` for every symbol, with ``plotly.min.js`` once beside it (offline)."""
    import plotly.graph_objects as go
    from plotly.offline import get_plotlyjs
    from plotly.subplots import make_subplots

    sections = []
    for symbol, evals in results.items():
        ev = evals[0]
        fig = make_subplots(rows=3, cols=1, shared_xaxes=True, row_heights=[0.4, 0.4, 0.2],
                            subplot_titles=("price and blend trades", "equity", "drawdown"))
        close = downsample(ev.close)
        fig.add_trace(go.Scatter(x=close.index, y=close, name="close",
                                 line={"color": "black", "width": 1}), row=1, col=1)
        for side, color, symbol_name in (("buy", "green", "triangle-up"),
                                         ("sell", "red", "triangle-down")):
            fills = ev.blend_fills[ev.blend_fills["side"] == side]
            fig.add_trace(go.Scatter(x=pd.to_datetime(fills["time"]), y=fills["price"],
                                     mode="markers", name=f"blend {side}",
                                     marker={"color": color, "symbol": symbol_name, "size": 7}),
                          row=1, col=1)
        for name in STRATEGY_ORDER:
            curve = ev.curves.get(name)
            if curve is None:
                continue
            shown = downsample(curve)
            fig.add_trace(go.Scatter(x=shown.index, y=shown, name=name,
                                     line={"width": 2.5 if name == "blend" else 1.2}), row=2, col=1)
            if name in ("blend", "buy_and_hold"):
                drawdown = downsample(curve / curve.cummax() - 1)
                fig.add_trace(go.Scatter(x=drawdown.index, y=drawdown,
                                         name=f"{name} drawdown", fill="tozeroy"), row=3, col=1)
        for fold in ev.folds:
            fig.add_vline(x=pd.Timestamp(fold["test_start"]), line={"dash": "dot", "color": "grey"})
        fig.update_layout(height=900, title=f"{symbol}: {ev.bars} out-of-sample bars, "
                          f"{len(ev.folds)} folds")
        table = metrics_table(summary, symbol).to_html(classes="metrics", border=0)
        controls = json.dumps(summary[symbol]["controls"], indent=1)
        sections.append(f"<h2>{symbol}</h2>{fig.to_html(full_html=False, include_plotlyjs=False)}"
                        f"<h3>Metrics (net of fees and slippage)</h3>{table}"
                        f"<h3>Leakage controls</h3><pre>{controls}</pre>")
    html = ("<!DOCTYPE html><html><head><meta charset='utf-8'><title>Kilo walk-forward report"
            "</title><script src='" + PLOTLY_JS + "'></script><style>body{font-family:sans-serif;margin:2em} table.metrics{border-collapse:"
            "collapse;font-size:13px} .metrics td,.metrics th{padding:3px 8px;border-bottom:1px "
            "solid #ddd;text-align:right}</style></head><body><h1>Kilo walk-forward evaluation</h1>"
            + "".join(sections) + "</body></html>")
    (folder / PLOTLY_JS).write_text(get_plotlyjs())
    path = folder / "report.html"
    path.write_text(html)
    return path

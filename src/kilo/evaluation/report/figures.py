"""The evaluation's equity figures: the HTML report's (plotly) and ``equity.png`` (matplotlib).

Both draw, per symbol, the same three panels over the chained test folds: every
strategy's equity on a log axis (quote currency; the blend first and thickest,
buy-and-hold dashed), the drawdown of the blend and of buy-and-hold (% below the
running peak), and the blend's position side (+1 long, 0 flat, -1 short). The report's
figure adds the price with the blend's fills above them. Curves are downsampled for
display; the numbers in ``summary.json`` are exact.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from kilo.evaluation.strategy_set import BLEND, BUY_AND_HOLD, STRATEGY_ORDER
from kilo.evaluation.symbol import SymbolEvaluation

MAX_POINTS = 1200
#: The blend's line and the others': the blend drawn first, thicker, in black.
BLEND_WIDTH, OTHER_WIDTH = 2.4, 1.0
EQUITY_LABEL = "equity (quote currency, log scale)"
DRAWDOWN_LABEL = "drawdown (%)"
SIDE_LABEL = "blend side"
SIDES = {-1: "short", 0: "flat", 1: "long"}
#: The fill under the blend's drawdown and side in the report.
LIGHT = "rgba(0, 0, 0, 0.18)"


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
    keep = sorted(
        {int(b[np.nanargmin(values[b])]) for b in buckets}
        | {int(b[np.nanargmax(values[b])]) for b in buckets}
    )
    return series.iloc[keep]


def drawdown_percent(equity: pd.Series) -> pd.Series:
    """Series like ``equity``: % below its running peak (0 at a new high, negative below)."""
    return 100 * (equity / equity.cummax() - 1)


def ordered_curves(ev: SymbolEvaluation) -> list[tuple[str, pd.Series]]:
    """The evaluation's equity curves in drawing order: the blend first, then
    :data:`~kilo.evaluation.strategy_set.STRATEGY_ORDER`."""
    return [(name, ev.curves[name]) for name in STRATEGY_ORDER if name in ev.curves]


def _line(name: str) -> dict[str, Any]:
    """A strategy's line style as keyword arguments of matplotlib's ``plot``."""
    if name == BLEND:
        return {"linewidth": BLEND_WIDTH, "color": "black", "zorder": 3}
    if name == BUY_AND_HOLD:
        return {"linewidth": OTHER_WIDTH + 0.2, "color": "grey", "linestyle": "--"}
    return {"linewidth": OTHER_WIDTH}


def equity_figure(ev: SymbolEvaluation) -> Any:
    """The report's plotly figure of one symbol: price and the blend's fills, equity
    (log axis), drawdown (%) and the blend's side, sharing the time axis; the test
    folds' starts are dotted lines."""
    import plotly.graph_objects as go
    from plotly.subplots import make_subplots

    fig = make_subplots(
        rows=4,
        cols=1,
        shared_xaxes=True,
        row_heights=[0.28, 0.4, 0.2, 0.12],
        vertical_spacing=0.03,
    )
    close = downsample(ev.close)
    fig.add_trace(
        go.Scatter(x=close.index, y=close, name="close", line={"color": "black", "width": 1}),
        row=1,
        col=1,
    )
    for side, color, marker in (("buy", "green", "triangle-up"), ("sell", "red", "triangle-down")):
        fills = ev.blend_fills[ev.blend_fills["side"] == side]
        fig.add_trace(
            go.Scatter(
                x=pd.to_datetime(fills["time"]),
                y=fills["price"],
                mode="markers",
                name=f"blend {side}",
                marker={"color": color, "symbol": marker, "size": 6},
            ),
            row=1,
            col=1,
        )
    for name, curve in ordered_curves(ev):
        style = _line(name)
        shown = downsample(curve)
        line = {"width": style["linewidth"], "color": style.get("color")}
        line["dash"] = "dash" if style.get("linestyle") == "--" else "solid"
        fig.add_trace(go.Scatter(x=shown.index, y=shown, name=name, line=line), row=2, col=1)
        if name in (BLEND, BUY_AND_HOLD):
            drawdown = downsample(drawdown_percent(curve))
            fig.add_trace(
                go.Scatter(
                    x=drawdown.index,
                    y=drawdown,
                    name=f"{name} drawdown",
                    line={**line, "width": 1},
                    fill="tozeroy" if name == BLEND else None,
                    fillcolor=LIGHT,
                ),
                row=3,
                col=1,
            )
    position = downsample(ev.blend_side)
    fig.add_trace(
        go.Scatter(
            x=position.index,
            y=position,
            name=SIDE_LABEL,
            line={"color": "black", "width": 1, "shape": "hv"},
            fill="tozeroy",
            fillcolor=LIGHT,
        ),
        row=4,
        col=1,
    )
    for fold in ev.summary.folds:
        fig.add_vline(x=pd.Timestamp(fold.test_start), line={"dash": "dot", "color": "grey"})
    fig.update_yaxes(title_text="close (quote)", row=1, col=1)
    fig.update_yaxes(title_text=EQUITY_LABEL, type="log", row=2, col=1)
    fig.update_yaxes(title_text=DRAWDOWN_LABEL, row=3, col=1)
    fig.update_yaxes(
        title_text=SIDE_LABEL,
        range=[-1.2, 1.2],
        tickvals=list(SIDES),
        ticktext=list(SIDES.values()),
        row=4,
        col=1,
    )
    fig.update_layout(
        height=950,
        template="simple_white",
        title=f"{ev.symbol}: {ev.summary.bars} out-of-sample bars, "
        f"{len(ev.summary.folds)} folds, net of fees and slippage",
    )
    return fig


def equity_png_figure(results: dict[str, list[SymbolEvaluation]]) -> Any:
    """The matplotlib figure of ``equity.png``: per symbol (first seed) its equity (log
    axis), drawdown (%) and blend side panels, sharing the time axis."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.dates import date2num

    fig = plt.figure(figsize=(11, 5.6 * len(results)))
    outer = fig.add_gridspec(len(results), 1, hspace=0.22)
    for k, (symbol, evals) in enumerate(results.items()):
        ev = evals[0]
        grid = outer[k].subgridspec(3, 1, height_ratios=[3.0, 1.2, 0.6], hspace=0.08)
        equity = fig.add_subplot(grid[0])
        drawdown = fig.add_subplot(grid[1], sharex=equity)
        side = fig.add_subplot(grid[2], sharex=equity)
        for name, curve in ordered_curves(ev):
            equity.plot(curve.index, curve.to_numpy(), label=name, **_line(name))
            if name in (BLEND, BUY_AND_HOLD):
                dd = drawdown_percent(curve).to_numpy()
                drawdown.plot(curve.index, dd, label=name, **{**_line(name), "linewidth": 0.9})
                if name == BLEND:
                    drawdown.fill_between(curve.index, dd, 0, color="black", alpha=0.15)
        side.fill_between(
            ev.blend_side.index, ev.blend_side.to_numpy(), 0, step="post", color="0.35", lw=0
        )
        for ax in (equity, drawdown, side):
            for fold in ev.summary.folds:
                ax.axvline(date2num(fold.test_start), color="grey", lw=0.6, ls=":")
            if ax is not side:
                ax.tick_params(labelbottom=False)
        equity.set_yscale("log")
        equity.set_title(
            f"{symbol}: walk-forward equity over the test folds, net of fees and slippage"
        )
        equity.set_ylabel(EQUITY_LABEL, fontsize=8)
        equity.legend(ncol=4, fontsize=8, loc="upper left")
        drawdown.set_ylabel(DRAWDOWN_LABEL, fontsize=8)
        side.set_ylabel(SIDE_LABEL, fontsize=8)
        side.set_ylim(-1.2, 1.2)
        side.set_yticks(list(SIDES), list(SIDES.values()), fontsize=7)
    return fig


def write_equity_png(results: dict[str, list[SymbolEvaluation]], folder: Path) -> Path:
    """Write :func:`equity_png_figure` as ``folder/equity.png``; returns its path."""
    import matplotlib.pyplot as plt

    fig = equity_png_figure(results)
    path = folder / "equity.png"
    fig.savefig(path, dpi=90, bbox_inches="tight")
    plt.close(fig)
    return path

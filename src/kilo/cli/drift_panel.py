"""The dashboard's drift panel: PSI of the top drifting features, live IC against its band.

Reads the ledger's ``drift`` table (:mod:`kilo.trading.drift_store`): a table of each
symbol's latest measures, a heat map of the PSI of the features that drift most, and
the score's live IC over time against its validation interval.
"""

from __future__ import annotations

import json
from typing import Any

import pandas as pd

from kilo.evaluation.report.figures import downsample

#: The score's live IC and validation interval per measured bar.
IC_HISTORY = (
    "SELECT bar_time, symbol, ic, validation_low, validation_high FROM drift "
    "WHERE ic IS NOT NULL ORDER BY iteration_id"
)
LEGEND = (
    "<b>PSI</b>: population stability index of a feature (or output) over the trailing "
    "drift.window bars against its training deciles (0.1-0.25 a shift, above 0.25 a large "
    "one); <b>share</b>: share of features above their threshold (drift.psi_threshold, "
    "raised to the PSI a feature scores over the training split's own windows); "
    "<b>live IC</b>: "
    "Spearman IC of the blend's score with the held return it realised, 95 % block-bootstrap "
    "interval, beside the validation IC's interval; <b>edge / realised</b>: mean expected "
    "edge of the entries against the mean held return they realised (log returns over the "
    "horizon). Drift never stops trading unless trading.drift_action says so."
)


def _interval(ic: Any, low: Any, high: Any) -> str:
    if ic is None or pd.isna(ic):
        return "–"
    return f"{ic:+.3f} [{low:+.3f}, {high:+.3f}]"


def drift_table(latest: pd.DataFrame) -> str:
    """Each symbol's latest drift row as an HTML table."""
    rows = []
    for r in latest.to_dict("records"):
        top = ", ".join(f"{name} {value:.2f}" for name, value in json.loads(r["top_features"]))
        edge = (
            f"{r['edge_acted']:+.2%} / {r['return_acted']:+.2%} ({r['entries']})"
            if pd.notna(r["edge_acted"])
            else "–"
        )
        rows.append(
            {
                "symbol": r["symbol"],
                "bar time": f"{pd.Timestamp(r['bar_time']):%Y-%m-%d %H:%M}",
                "status": r["status"],
                "PSI max": "–" if pd.isna(r["psi_max"]) else f"{r['psi_max']:.2f}",
                "share": "–" if pd.isna(r["share_drifted"]) else f"{r['share_drifted']:.0%}",
                "top features (PSI)": top or "–",
                "live IC": _interval(r["ic"], r["ic_low"], r["ic_high"]),
                "validation IC": _interval(
                    r["validation_ic"], r["validation_low"], r["validation_high"]
                ),
                "bars below": r["ic_below_bars"],
                "edge / realised (entries)": edge,
                "reason": r["reason"] or "",
            }
        )
    return pd.DataFrame(rows).to_html(index=False, border=0, escape=True)


def drift_figure(latest: pd.DataFrame, history: pd.DataFrame) -> Any:
    """PSI heat map of the top features per symbol (left) and the score's live IC with
    its validation interval (right)."""
    import plotly.graph_objects as go
    from plotly.subplots import make_subplots

    psi = {r["symbol"]: json.loads(r["feature_psi"]) for r in latest.to_dict("records")}
    top = list(dict.fromkeys(n for r in latest["top_features"] for n, _ in json.loads(r)))
    fig = make_subplots(
        rows=1,
        cols=2,
        column_widths=[0.45, 0.55],
        subplot_titles=("PSI of the top drifting features", "live IC of the score"),
    )
    if top:
        z = [[psi[s].get(name) for name in top] for s in psi]
        fig.add_trace(
            go.Heatmap(z=z, x=top, y=list(psi), colorscale="Reds", zmin=0, zmax=1, name="PSI"),
            row=1,
            col=1,
        )
    for symbol, rows in history.groupby("symbol"):
        rows = rows.set_index(pd.to_datetime(rows["bar_time"]))
        ic = downsample(rows["ic"])
        fig.add_trace(go.Scatter(x=ic.index, y=ic, name=f"{symbol} live IC"), row=1, col=2)
        for bound in ("validation_low", "validation_high"):
            band = downsample(rows[bound])
            fig.add_trace(
                go.Scatter(
                    x=band.index,
                    y=band,
                    name=f"{symbol} validation interval",
                    line={"dash": "dot", "width": 1},
                    showlegend=bound == "validation_low",
                ),
                row=1,
                col=2,
            )
    fig.update_layout(height=380, margin={"t": 40})
    return fig


def drift_section(latest: pd.DataFrame, history: pd.DataFrame) -> str:
    """The panel's HTML: legend, figure and table; a note when nothing was measured."""
    if latest.empty:
        return (
            "<p>No drift measures yet: fewer than drift.window bars traded, drift.enabled "
            "false, or model sets saved without a drift reference.</p>"
        )
    figure = drift_figure(latest, history).to_html(
        full_html=False, include_plotlyjs=False, div_id="drift-chart"
    )
    return f"<p>{LEGEND}</p>{figure}{drift_table(latest)}"

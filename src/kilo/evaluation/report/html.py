"""The evaluation's HTML report: one page for every symbol (its equity figure from
:mod:`kilo.evaluation.report.figures`).

The report works offline: plotly.js is written once per report root, as
``plotly.min.js`` in the folder that holds the timestamped report folders (every report
there loads ``../plotly.min.js``), and curves are downsampled for display; the numbers
in ``summary.json`` are exact.
"""

from __future__ import annotations

import html
from pathlib import Path
from typing import Any

import pandas as pd

from kilo.evaluation.controls.power import power_lines
from kilo.evaluation.cost_summary import CostCurve
from kilo.evaluation.report.figures import equity_figure
from kilo.evaluation.report.text import (
    PORTFOLIO_COLUMNS,
    REPORT_COLUMNS,
    UNITS_NOTE,
    cost_curve_sentence,
    cost_curve_table,
    holdout_reads,
    ic_line,
    number,
    planted_sentence,
    random_sentence,
    strategy_table,
    trials_sentence,
)
from kilo.evaluation.strategy_set import BLEND, STRATEGY_ORDER
from kilo.evaluation.summary import (
    Controls,
    EvaluationSummary,
    SymbolSummary,
)
from kilo.evaluation.symbol import SymbolEvaluation
from kilo.evaluation.verdict import verdict_sentences
from kilo.utils import atomic_path

PLOTLY_JS = "plotly.min.js"
STYLE = (
    "body{font-family:sans-serif;margin:2em;max-width:1200px} table{border-collapse:collapse;"
    "font-size:13px;margin:.5em 0} td,th{padding:3px 8px;border-bottom:1px solid #ddd;"
    "text-align:right} .flag{color:#b00;font-weight:bold} .verdict{font-size:15px}"
)


def ic_table(entry: SymbolSummary) -> str:
    """HTML rows: each regressor's IC against the held return (the money) with its
    interval and tests beside the placebo's, then its IC against the training label."""
    rows = []
    for name, ic, placebo in entry.regressors():
        label = entry.strategies[name].label_ic
        flag = " class='flag'" if placebo.flagged else ""
        rows.append(
            f"<tr><th>{name}</th><td>{html.escape(ic_line(ic))}</td>"
            f"<td>{number(ic.pvalue_positive, '.3g')}</td>"
            f"<td>{number(ic.ic_tstat_hac, '+.2f')}</td>"
            f"<td>{number(ic.ic_pvalue_perm, '.3f')}</td><td{flag}>{number(placebo.ic_spearman)}"
            f"</td><td>±{number(placebo.null_band99, '.4f')}</td>"
            f"<td>{html.escape(ic_line(label)) if label else '–'}</td></tr>"
        )
    return (
        "<table><tr><th>model</th><th>return IC (Spearman, against the held return) "
        "[95 % CI], s.e. by block</th><th>p (IC &gt; 0)</th><th>HAC t</th>"
        "<th>permutation p</th><th>placebo return IC</th><th>placebo 99 % null band</th>"
        "<th>label IC (the training target; not what a position earns)</th></tr>"
        + "".join(rows)
        + "</table>"
    )


def holdout_section(entry: SymbolSummary) -> str:
    """The holdout's strategies, reported last: the block no fold or search read."""
    h = entry.holdout
    if h is None:
        return ""
    return (
        f"<h3>Holdout: the final verdict ({h.bars} bars, {h.window.test_start:%Y-%m-%d} .. "
        f"{h.window.test_end:%Y-%m-%d}, {holdout_reads(h)})</h3>"
        + strategy_table(h, REPORT_COLUMNS).to_html(border=0)
        + (f"<p>{html.escape(random_sentence(h.random))}</p>" if h.random else "")
    )


def checks_table(controls: Controls) -> str:
    """HTML table of the causality and label-shuffle checks."""
    c, shuffle = controls.causality, controls.label_shuffle_check
    rows = [
        (
            "causality",
            f"features recomputed from candles cut at {c.cuts} fold starts",
            "identical" if c.identical else "DIFFERENT: a feature reads later candles",
        )
    ]
    if shuffle is not None:
        ics = ", ".join(f"{name} {number(ic, '+.4f')}" for name, ic in shuffle.ic.items())
        rows.append(
            (
                "label shuffle (not a leakage test)",
                f"regressors trained on shuffled labels, fold {shuffle.fold}",
                f"IC {ics}",
            )
        )
    body = "".join(
        f"<tr><th>{html.escape(a)}</th><td>{html.escape(b)}</td><td>{html.escape(v)}</td></tr>"
        for a, b, v in rows
    )
    return "<table><tr><th>check</th><th>what</th><th>result</th></tr>" + body + "</table>"


def cost_curve_section(curve: CostCurve | None) -> str:
    """The cost curve: one figure (each strategy's net total log return against the
    cost per round trip, the venue's cost marked), its sentence and its table."""
    if curve is None:
        return ""
    import plotly.graph_objects as go

    fig = go.Figure(
        [
            go.Scatter(
                x=[100 * p.cost for p in strategy.points],
                y=[p.net_total_log_return for p in strategy.points],
                mode="lines+markers",
                name=name,
                line={"width": 2.5 if name == BLEND else 1.2},
            )
            for name in STRATEGY_ORDER
            if (strategy := curve.strategies.get(name)) is not None
        ]
    )
    fig.add_vline(
        x=100 * curve.venue_cost,
        line={"dash": "dash", "color": "grey"},
        annotation_text=f"venue {100 * curve.venue_cost:.3f} %",
    )
    fig.add_hline(y=0.0, line={"color": "black", "width": 0.5})
    fig.update_layout(
        height=380,
        width=760,
        title="net total log return over the test folds, decisions re-taken at each cost",
        xaxis_title="cost per round trip (% of price)",
        yaxis_title="net total log return",
    )
    return (
        "<h3>Cost curve</h3>"
        + fig.to_html(full_html=False, include_plotlyjs=False, config={"displaylogo": False})
        + f"<p>{html.escape(cost_curve_sentence(curve))}</p>"
        + cost_curve_table(curve).to_html(border=0)
    )


def _lead_lag_figure(lead_lag: dict[str, dict[int, float]]) -> Any:
    import plotly.graph_objects as go

    fig = go.Figure(
        [
            go.Bar(x=list(values), y=list(values.values()), name=name)
            for name, values in lead_lag.items()
        ]
    )
    fig.update_layout(
        height=280,
        width=620,
        barmode="group",
        margin={"t": 70},
        title={
            "text": "IC of the prediction at t against the held return at t + k",
            "x": 0.01,
            "xanchor": "left",
            "font": {"size": 14},
        },
        xaxis_title="k (bars)",
        yaxis_title="IC",
    )
    return fig


def write_html(
    results: dict[str, list[SymbolEvaluation]], summary: EvaluationSummary, folder: Path
) -> Path:
    """``report.html`` for every symbol; ``plotly.min.js`` is written once into the report
    root, ``folder``'s parent, for every report there (offline)."""
    from plotly.offline import get_plotlyjs

    sections = []
    for symbol, evals in results.items():
        ev, entry = evals[0], summary.symbols[symbol]
        table = strategy_table(entry, REPORT_COLUMNS).to_html(border=0)
        real = {m: ic for m, ic, _ in entry.regressors()}
        planted, power = entry.controls.planted, entry.power
        sections.append(
            f"<h2>{html.escape(symbol)}</h2>"
            + "".join(
                f"<p class='verdict'>{html.escape(line)}</p>"
                for line in (verdict_sentences(entry.verdict) if entry.verdict else [])
            )
            + "<h3>Forecasts against the money: IC of each regressor with the held return</h3>"
            + ic_table(entry)
            + equity_figure(ev).to_html(full_html=False, include_plotlyjs=False)
            + "<h3>Strategies (net of fees and slippage unless gross)</h3>"
            + table
            + f"<p>{html.escape(UNITS_NOTE)}</p>"
            + (f"<p>{html.escape(random_sentence(entry.random))}</p>" if entry.random else "")
            + (f"<p>{html.escape(trials_sentence(entry.trials))}</p>" if entry.trials else "")
            + cost_curve_section(entry.cost_curve)
            + "<h3>Leakage and power</h3>"
            + (
                f"<p class='verdict'>{html.escape(planted_sentence(planted))}</p>"
                if planted
                else ""
            )
            + "".join(
                f"<p>{html.escape(line)}</p>"
                for line in (power_lines(power, real) if power else [])
            )
            + _lead_lag_figure(entry.controls.lead_lag).to_html(
                full_html=False, include_plotlyjs=False, config={"displaylogo": False}
            )
            + "<p>Held returns at k &lt; 0 overlap bars known at t (all of them at k &le; "
            "-horizon); a leak shows as a bump at -horizon &lt; k &le; 0.</p>"
            + "<h3>Checks</h3>"
            + checks_table(entry.controls)
            + holdout_section(entry)
        )
    if summary.portfolio is not None:
        portfolio = summary.portfolio
        strategies = pd.DataFrame({n: m.model_dump() for n, m in portfolio.strategies.items()}).T[
            PORTFOLIO_COLUMNS
        ]
        sections.append(
            "<h2>Portfolio: every symbol traded together</h2>"
            + strategies.to_html(border=0, float_format=lambda v: f"{v:.4g}")
            + f"<p>Risk events {html.escape(str(portfolio.risk_events or 'none'))}; worst "
            f"day {portfolio.worst_day.date} ({number(portfolio.worst_day.log_return)}); "
            f"{portfolio.cooldown_bars} bars in the drawdown breaker's cooldown.</p>"
        )
    page = (
        "<!DOCTYPE html><html><head><meta charset='utf-8'><title>Kilo walk-forward report"
        f"</title><script src='../{PLOTLY_JS}'></script><style>{STYLE}</style></head><body>"
        "<h1>Kilo walk-forward evaluation</h1>"
        + (
            f"<p>PPO trained {summary.ppo_timesteps} timesteps per fold.</p>"
            if summary.ppo_timesteps
            else ""
        )
        + "".join(sections)
        + "</body></html>"
    )
    shared = folder.parent / PLOTLY_JS
    script = get_plotlyjs()
    if not shared.is_file() or shared.stat().st_size != len(script.encode()):
        with atomic_path(shared) as tmp:
            tmp.write_text(script)
    path = folder / "report.html"
    path.write_text(page)
    return path

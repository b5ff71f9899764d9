"""A browser dashboard of a paper trader's ledger (FastAPI, uvicorn, plotly).

It opens the SQLite ledger read-only (WAL mode, so it never blocks the trader) on
every request and renders one page that reloads itself: equity against an
equal-weight buy-and-hold of the traded symbols, drawdown, open positions, the last
decision per symbol with every model's signal and the blend score, the drift panel
(:mod:`kilo.cli.drift_panel`), recent fills, retraining decisions and risk events.
"""

from __future__ import annotations

import html
import sqlite3
from pathlib import Path
from typing import Any

import pandas as pd

from kilo.cli.drift_panel import IC_HISTORY, drift_section
from kilo.evaluation.report.figures import downsample
from kilo.inference import signal_columns
from kilo.trading.drift_store import latest_drift
from kilo.trading.ledger import connect

DECISION_COLUMNS = [
    "symbol",
    "bar_time",
    "decision",
    "score",
    "expected_edge",
    *signal_columns(),
    "confidence",
    "mark_price",
    "model_version",
]
STYLE = (
    "body{font-family:sans-serif;margin:1.5em;max-width:1300px} table{border-collapse:"
    "collapse;font-size:13px;margin:.4em 0 1.2em} td,th{padding:3px 8px;border-bottom:1px "
    "solid #ddd;text-align:right} h2{margin-top:1.2em}"
)


def read_ledger(path: str | Path) -> dict[str, pd.DataFrame]:
    """The ledger's tables the dashboard shows, read in one read-only connection.

    Returns
    -------
    ``equity`` (bar_time, equity), ``marks`` (bar_time x symbol mark prices),
    ``positions`` (with their side, long or short, and signed value), ``decisions``,
    ``fills`` (with the side of the position each opened or closed), ``risk_events``,
    ``retrain_decisions``, ``drift`` (each symbol's latest drift row) and ``drift_ic``
    (the score's live IC over time) (empty frames where the ledger has none).

    Raises
    ------
    sqlite3.OperationalError
        If the ledger file does not exist or cannot be read.
    """
    conn = connect(path, read_only=True)

    def query(sql: str) -> pd.DataFrame:
        try:
            return pd.read_sql_query(sql, conn)
        except (sqlite3.OperationalError, pd.errors.DatabaseError):  # a table not made yet
            return pd.DataFrame()

    try:
        prices = query("SELECT iteration_id, bar_time, symbol, mark_price FROM predictions")
        return {
            "equity": query("SELECT bar_time, equity, cash FROM equity ORDER BY iteration_id"),
            "marks": (
                prices.pivot_table(index="bar_time", columns="symbol", values="mark_price")
                if not prices.empty
                else pd.DataFrame()
            ),
            "positions": query(  # value signed: a short's is negative
                "SELECT symbol, side, quantity, entry_price, entry_time, bars_held, mark_price, "
                "CASE side WHEN 'short' THEN -1 ELSE 1 END * quantity * mark_price AS value "
                "FROM positions WHERE iteration_id = (SELECT MAX(iteration_id) FROM equity)"
            ),
            "decisions": query(
                "SELECT p.* FROM predictions p JOIN (SELECT symbol, MAX(iteration_id) AS it "
                "FROM predictions GROUP BY symbol) last ON p.symbol = last.symbol AND "
                "p.iteration_id = last.it ORDER BY p.symbol"
            ),
            "fills": query(
                "SELECT time, symbol, side, position_side, quantity, price, fee, realised_pnl, "
                "reason FROM fills ORDER BY id DESC LIMIT 20"
            ),
            "risk_events": query(
                "SELECT bar_time, symbol, rule, detail FROM risk_events ORDER BY id DESC LIMIT 20"
            ),
            "drift": latest_drift(conn),
            "drift_ic": query(IC_HISTORY),
            "retrain_decisions": query(
                "SELECT time, symbol, promoted, champion_sharpe, challenger_sharpe, reason "
                "FROM retrain_decisions ORDER BY id DESC LIMIT 10"
            ),
        }
    finally:
        conn.close()


def equity_figure(tables: dict[str, pd.DataFrame]) -> Any:
    """Equity against equal-weight buy-and-hold (top) and the drawdown (bottom)."""
    import plotly.graph_objects as go
    from plotly.subplots import make_subplots

    equity = tables["equity"].set_index(pd.to_datetime(tables["equity"]["bar_time"]))["equity"]
    fig = make_subplots(
        rows=2,
        cols=1,
        shared_xaxes=True,
        row_heights=[0.7, 0.3],
        subplot_titles=("equity (quote currency)", "drawdown"),
    )
    shown = downsample(equity)
    fig.add_trace(
        go.Scatter(x=shown.index, y=shown, name="paper trader", line={"width": 2.5}), row=1, col=1
    )
    marks = tables["marks"]
    if not marks.empty and not equity.empty:
        first = marks.apply(lambda column: column.dropna().iloc[0])  # each symbol's first mark
        ratios = (marks / first).mean(axis=1)  # equal weight, no costs
        hold = (ratios * equity.iloc[0]).set_axis(pd.to_datetime(ratios.index))
        hold = downsample(hold)
        fig.add_trace(
            go.Scatter(
                x=hold.index, y=hold, name="equal-weight buy-and-hold", line={"dash": "dot"}
            ),
            row=1,
            col=1,
        )
    drawdown = downsample(equity / equity.cummax() - 1.0)
    fig.add_trace(
        go.Scatter(x=drawdown.index, y=drawdown, name="drawdown", fill="tozeroy"), row=2, col=1
    )
    fig.update_layout(height=560, margin={"t": 40})
    return fig


TIME_COLUMNS = ("bar_time", "time", "entry_time")
MONEY_COLUMNS = (
    "equity",
    "cash",
    "mark_price",
    "entry_price",
    "price",
    "value",
    "fee",
    "realised_pnl",
)
SIGNAL_COLUMNS = ("score", *signal_columns())
LEGEND = (
    "Prices, values, fees and PnL in the quote currency; times in UTC. <b>score</b>: the "
    "blend of the models' signals, in [-1, 1] (above 0 leans long); <b>*_signal</b>: each "
    "model's signal in [-1, 1]; <b>confidence</b>: the weighted share of models whose "
    "signal has the score's sign; <b>expected edge</b>: the log return over the label "
    "horizon that the calibration maps the score to (the edge rule enters above the cost "
    "hurdle)."
)


def cell(column: str, value: Any) -> str:
    """One value as the dashboard shows it; ``–`` where there is none."""
    if value is None or (isinstance(value, float) and pd.isna(value)):
        return "–"
    if column in TIME_COLUMNS:
        return f"{pd.Timestamp(value):%Y-%m-%d %H:%M}"
    if column in MONEY_COLUMNS:
        return f"{float(value):,.2f}"
    if column in SIGNAL_COLUMNS:
        return f"{float(value):+.3f}"
    if column == "confidence":
        return f"{float(value):.0%}"
    if column == "expected_edge":
        return f"{float(value):+.2%}"
    if isinstance(value, float):
        return f"{value:.6g}"
    return str(value)


def _table(frame: pd.DataFrame, empty: str, columns: list[str] | None = None) -> str:
    if frame.empty:
        return f"<p>{html.escape(empty)}</p>"
    shown = frame[[c for c in columns if c in frame.columns]] if columns else frame
    text = pd.DataFrame({c: [cell(c, v) for v in shown[c]] for c in shown.columns})
    text.columns = [c.replace("_", " ") for c in text.columns]
    return text.to_html(index=False, border=0)


def render(path: str | Path, refresh: int) -> str:
    """The dashboard page of the ledger at ``path``, reloading every ``refresh`` seconds."""
    tables = read_ledger(path)
    equity = tables["equity"]
    if equity.empty:
        body = "<p>No iteration in this ledger yet; start scripts/trader.py.</p>"
    else:
        last = equity.iloc[-1]
        body = (
            f"<p>{len(equity)} iterations; last bar "
            f"{html.escape(cell('bar_time', last['bar_time']))} UTC; equity "
            f"{last['equity']:,.2f}, cash {last['cash']:,.2f} (quote currency).</p>"
            + equity_figure(tables).to_html(
                full_html=False, include_plotlyjs=False, div_id="equity-chart"
            )
        )
    sections = [
        ("How to read these tables", f"<p>{LEGEND}</p>"),
        ("Open positions", _table(tables["positions"], "No open position.")),
        (
            "Last decision per symbol",
            _table(tables["decisions"], "No decision yet.", DECISION_COLUMNS),
        ),
        ("Drift", drift_section(tables["drift"], tables["drift_ic"])),
        ("Recent fills", _table(tables["fills"], "No fill yet.")),
        ("Risk events", _table(tables["risk_events"], "No risk event.")),
        ("Retraining decisions", _table(tables["retrain_decisions"], "No retraining decision.")),
    ]
    return (
        "<!DOCTYPE html><html><head><meta charset='utf-8'>"
        f"<meta http-equiv='refresh' content='{refresh}'><title>Kilo paper trader</title>"
        f"<script src='/plotly.min.js'></script><style>{STYLE}</style></head><body>"
        f"<h1>Kilo paper trader: {html.escape(Path(path).name)}</h1>{body}"
        + "".join(f"<h2>{title}</h2>{content}" for title, content in sections)
        + "</body></html>"
    )


def create_app(path: str | Path, refresh: int = 10) -> Any:
    """The FastAPI app: ``/`` the page, ``/plotly.min.js`` plotly.js (offline)."""
    from fastapi import FastAPI
    from fastapi.responses import HTMLResponse, Response
    from plotly.offline import get_plotlyjs

    app = FastAPI(title="Kilo paper trader")
    script = get_plotlyjs()

    @app.get("/", response_class=HTMLResponse)
    def page() -> str:
        if not Path(path).is_file():
            return (
                f"<p>No ledger at {html.escape(str(path))} yet: start scripts/trader.py or "
                "pass --state.</p>"
            )
        return render(path, refresh)

    @app.get("/plotly.min.js")
    def plotly_js() -> Response:
        return Response(script, media_type="application/javascript")

    return app


def serve(path: str | Path, host: str, port: int, refresh: int) -> None:
    """Serve the dashboard with uvicorn until interrupted."""
    import uvicorn

    uvicorn.run(create_app(path, refresh), host=host, port=port, log_level="warning")

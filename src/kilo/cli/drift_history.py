"""A replay's drift over time, from the ledger: when the drift rule would have fired, and a figure.

Reads the ledger's ``drift`` table (:mod:`kilo.trading.drift_store`), one row per symbol
and bar. :func:`drift_episodes` lists the spells in which a symbol counted as drifted
(the rule of :func:`kilo.trading.drift.drift_reason`, the one ``retrain.py --on-drift``
acts on) with the cause; :func:`drift_history_figure` draws, per symbol, the share of
features above their PSI threshold and the blend score's live IC against its validation
interval, the drifted spells shaded.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pandas as pd

from kilo.backtest.paths import spells
from kilo.errors import DataError

#: The columns of the ``drift`` table the history needs, in bar order per symbol.
HISTORY = (
    "SELECT symbol, bar_time, status, share_drifted, ic, ic_low, ic_high, "
    "validation_low, validation_high, reason FROM drift ORDER BY symbol, iteration_id"
)


def drift_history(conn: sqlite3.Connection) -> pd.DataFrame:
    """Every ``drift`` row: symbol, ``bar_time`` (UTC), status, ``share_drifted``
    (fraction of features above their threshold), the score's live IC with its 95 %
    interval (``ic``, ``ic_low``, ``ic_high``; NaN until measured), its validation
    interval and the drift reason.

    Raises
    ------
    DataError
        If the ledger has no drift rows (a ledger of model sets without drift
        references, or ``drift.enabled`` false).
    """
    try:
        rows = pd.read_sql_query(HISTORY, conn)
    except (sqlite3.OperationalError, pd.errors.DatabaseError) as exc:
        raise DataError(
            f"the ledger has no drift table ({exc}): replay with drift.enabled"
        ) from None
    if rows.empty:
        raise DataError(
            "the ledger's drift table is empty: its model sets hold no drift reference "
            "(retrain them) or drift.enabled was false"
        )
    rows["bar_time"] = pd.to_datetime(rows["bar_time"], utc=True)
    return rows


def drift_episodes(history: pd.DataFrame) -> pd.DataFrame:
    """The spells of consecutive ``drifted`` rows per symbol.

    Returns
    -------
    DataFrame with symbol, ``start`` and ``end`` (first and last drifted bar, UTC),
    ``bars`` (rows in the spell) and ``reason`` (the first bar's), oldest first per
    symbol; ``share`` the fraction of the symbol's measured (non-warming) bars that
    were drifted.
    """
    found = []
    for symbol, rows in history.groupby("symbol", sort=True):
        drifted = rows["status"].eq("drifted").to_numpy()
        measured = int(rows["status"].ne("warming").sum())
        share = float(drifted.sum() / measured) if measured else 0.0
        start = 0
        for is_drifted, length in spells(drifted):
            if is_drifted:
                spell = rows.iloc[start : start + length]
                found.append(
                    {
                        "symbol": symbol,
                        "start": spell["bar_time"].iloc[0],
                        "end": spell["bar_time"].iloc[-1],
                        "bars": length,
                        "reason": spell["reason"].iloc[0],
                        "share": share,
                    }
                )
            start += length
    columns = ["symbol", "start", "end", "bars", "reason", "share"]
    return pd.DataFrame(found, columns=columns)


def drift_history_figure(history: pd.DataFrame, path: Path) -> Path:
    """Write a PNG: per symbol (one column each), on top the share of features above
    their PSI threshold (fraction), below the blend score's live IC (Spearman, with its
    95 % block-bootstrap interval) against its validation interval; bars the rule
    counted as drifted shaded red in both. Returns ``path``."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    symbols = sorted(history["symbol"].unique())
    fig, axes = plt.subplots(
        2, len(symbols), figsize=(5.5 * len(symbols), 6), sharex="col", squeeze=False
    )
    for col, symbol in enumerate(symbols):
        rows = history[history["symbol"] == symbol].set_index("bar_time")
        drifted = rows["status"].eq("drifted")
        top, bottom = axes[0, col], axes[1, col]
        top.plot(rows.index, rows["share_drifted"], color="black", linewidth=0.8)
        top.set_title(symbol)
        top.set_ylabel("features above threshold [share]")
        top.set_ylim(0, 1)
        bottom.plot(rows.index, rows["ic"], color="black", linewidth=0.8, label="live IC")
        bottom.fill_between(
            rows.index, rows["ic_low"], rows["ic_high"], color="grey", alpha=0.3, linewidth=0
        )
        bottom.fill_between(
            rows.index,
            rows["validation_low"],
            rows["validation_high"],
            color="tab:blue",
            alpha=0.2,
            linewidth=0,
            label="validation interval",
        )
        bottom.set_ylabel("score's IC [Spearman]")
        for ax in (top, bottom):
            ax.fill_between(
                rows.index,
                0,
                1,
                where=drifted.to_numpy(),
                color="tab:red",
                alpha=0.15,
                transform=ax.get_xaxis_transform(),
                linewidth=0,
            )
        if col == 0:
            bottom.legend(loc="lower left", fontsize="small")
    fig.autofmt_xdate()
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path

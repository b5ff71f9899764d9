"""The ledger's ``drift`` table: each symbol's drift measures after each iteration.

One row per symbol and iteration whose model set has a drift reference, written in the
iteration's transaction (:meth:`kilo.trading.ledger.Ledger.write_iteration`). PSI
values are unitless; ICs Spearman's, against the held return; ``edge_acted`` and
``return_acted`` log returns over the label horizon. ``feature_psi``, ``output_psi``,
``top_features`` and ``live_ic`` are JSON (name -> PSI; [[name, PSI], ...]; output ->
[ic, low, high, pairs]).
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Sequence
from typing import Any

import pandas as pd

from kilo.trading.drift import DriftRecord

SCHEMA = """
CREATE TABLE IF NOT EXISTS drift (
    iteration_id INTEGER NOT NULL REFERENCES iterations(id), symbol TEXT NOT NULL,
    bar_time TEXT NOT NULL, model_version TEXT NOT NULL, status TEXT NOT NULL,
    psi_max REAL, share_drifted REAL, top_features TEXT NOT NULL, feature_psi TEXT NOT NULL,
    output_psi TEXT NOT NULL, ic REAL, ic_low REAL, ic_high REAL, validation_ic REAL,
    validation_low REAL, validation_high REAL, ic_below_bars INTEGER NOT NULL,
    live_ic TEXT NOT NULL, edge_acted REAL, return_acted REAL, entries INTEGER NOT NULL,
    reason TEXT);
CREATE INDEX IF NOT EXISTS drift_symbol ON drift (symbol, iteration_id);
"""

_COLUMNS = (
    "iteration_id, symbol, bar_time, model_version, status, psi_max, share_drifted, "
    "top_features, feature_psi, output_psi, ic, ic_low, ic_high, validation_ic, "
    "validation_low, validation_high, ic_below_bars, live_ic, edge_acted, return_acted, "
    "entries, reason"
)
_INSERT = f"INSERT INTO drift ({_COLUMNS}) VALUES ({', '.join('?' * len(_COLUMNS.split(',')))})"


def drift_row(iteration_id: int, r: DriftRecord) -> tuple[Any, ...]:
    """The ``drift`` row of one record, in the table's column order."""
    score = r.live_ic.get("score")
    v = r.validation
    return (
        iteration_id,
        r.symbol,
        r.bar_time.isoformat(),
        r.model_version,
        r.status,
        max(r.feature_psi.values(), default=None),
        r.share_drifted,
        json.dumps(r.top_features),
        json.dumps(r.feature_psi),
        json.dumps(r.output_psi),
        None if score is None else score.ic,
        None if score is None else score.low,
        None if score is None else score.high,
        None if v is None else v.ic,
        None if v is None else v.low,
        None if v is None else v.high,
        r.ic_below_bars,
        json.dumps({k: [x.ic, x.low, x.high, x.pairs] for k, x in r.live_ic.items()}),
        r.edge_acted,
        r.return_acted,
        r.entries,
        r.reason,
    )


def write_drift(
    conn: sqlite3.Connection, iteration_id: int, records: Sequence[DriftRecord]
) -> None:
    """Insert the records' rows (inside the caller's transaction)."""
    conn.executemany(_INSERT, [drift_row(iteration_id, r) for r in records])


def latest_drift(conn: sqlite3.Connection) -> pd.DataFrame:
    """Each symbol's latest ``drift`` row (empty when the table is missing or empty)."""
    try:
        return pd.read_sql_query(
            "SELECT d.* FROM drift d JOIN (SELECT symbol, MAX(iteration_id) AS it FROM drift "
            "GROUP BY symbol) last ON d.symbol = last.symbol AND d.iteration_id = last.it "
            "ORDER BY d.symbol",
            conn,
        )
    except (sqlite3.OperationalError, pd.errors.DatabaseError):
        return pd.DataFrame()

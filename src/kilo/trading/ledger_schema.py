"""The ledger's SQLite database: its tables, the columns older ledgers gain, the connection.

:func:`connect` opens it (WAL, so readers never block the writer); :func:`ensure_tables`
creates the tables :class:`kilo.trading.ledger.Ledger` writes and migrates an older
ledger; :func:`archive_copy` snapshots it. Times are ISO-8601 UTC strings.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pandas as pd

from kilo.trading.drift_store import SCHEMA as DRIFT_SCHEMA
from kilo.trading.records import PredictionRecord

SCHEMA = """
CREATE TABLE IF NOT EXISTS runs (
    id INTEGER PRIMARY KEY, started_at TEXT NOT NULL, source TEXT NOT NULL,
    symbols TEXT NOT NULL, initial_cash REAL NOT NULL, config TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS iterations (
    id INTEGER PRIMARY KEY, run_id INTEGER NOT NULL REFERENCES runs(id),
    bar_time TEXT NOT NULL, mark_time TEXT NOT NULL, completed_at TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS orders (
    id INTEGER PRIMARY KEY, iteration_id INTEGER NOT NULL REFERENCES iterations(id),
    symbol TEXT NOT NULL, side TEXT NOT NULL, requested_notional REAL NOT NULL,
    reason TEXT NOT NULL, status TEXT NOT NULL, skip_reason TEXT);
CREATE TABLE IF NOT EXISTS fills (
    id INTEGER PRIMARY KEY, order_id INTEGER NOT NULL REFERENCES orders(id),
    iteration_id INTEGER NOT NULL REFERENCES iterations(id),
    symbol TEXT NOT NULL, side TEXT NOT NULL, time TEXT NOT NULL, quantity REAL NOT NULL,
    price REAL NOT NULL, notional REAL NOT NULL, fee REAL NOT NULL, realised_pnl REAL NOT NULL,
    reason TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS funding (
    id INTEGER PRIMARY KEY, iteration_id INTEGER NOT NULL REFERENCES iterations(id),
    symbol TEXT NOT NULL, time TEXT NOT NULL, rate REAL NOT NULL, notional REAL NOT NULL,
    amount REAL NOT NULL);
CREATE TABLE IF NOT EXISTS positions (
    iteration_id INTEGER NOT NULL REFERENCES iterations(id), symbol TEXT NOT NULL,
    quantity REAL NOT NULL, entry_price REAL NOT NULL, entry_time TEXT NOT NULL,
    entry_fee REAL NOT NULL, bars_held INTEGER NOT NULL, mark_price REAL NOT NULL);
CREATE TABLE IF NOT EXISTS risk_events (
    id INTEGER PRIMARY KEY, iteration_id INTEGER NOT NULL REFERENCES iterations(id),
    bar_time TEXT NOT NULL, symbol TEXT NOT NULL, rule TEXT NOT NULL, detail TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS risk_state (
    iteration_id INTEGER PRIMARY KEY REFERENCES iterations(id), state TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS equity (
    iteration_id INTEGER PRIMARY KEY REFERENCES iterations(id), bar_time TEXT NOT NULL,
    cash REAL NOT NULL, positions_value REAL NOT NULL, equity REAL NOT NULL);
"""


PREDICTION_COLUMNS = PredictionRecord.columns()
#: Columns a ledger written by an older Kilo may lack: (table, name, SQL type). A
#: position's ``highest_close`` is its best close (a short's lowest); ``side`` and
#: ``position_side`` are long or short (older rows: long).
ADDED_COLUMNS = [
    *(("predictions", name, kind) for name, kind, _ in PREDICTION_COLUMNS),
    ("positions", "highest_close", "REAL"),
    ("positions", "partials_done", "INTEGER"),
    ("positions", "funding", "REAL"),
    ("positions", "side", "TEXT NOT NULL DEFAULT 'long'"),
    ("fills", "position_side", "TEXT NOT NULL DEFAULT 'long'"),
]


def connect(path: str | Path, *, read_only: bool = False) -> sqlite3.Connection:
    """Open the ledger database in WAL mode, so readers never block the writer.

    ``read_only`` opens it with SQLite's ``mode=ro`` (the file must exist). Other
    packages that keep their own tables in the ledger database (retraining
    decisions) and readers (the dashboard) connect through here.

    Raises
    ------
    sqlite3.OperationalError
        If a read-only database does not exist or cannot be opened.
    """
    path = Path(path)
    if read_only:
        conn = sqlite3.connect(
            f"{path.resolve().as_uri()}?mode=ro",
            uri=True,
            isolation_level=None,
            check_same_thread=False,
        )
    else:
        path.parent.mkdir(parents=True, exist_ok=True)
        conn = sqlite3.connect(path, isolation_level=None)
        conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA busy_timeout=5000")
    conn.execute("PRAGMA foreign_keys=ON")
    return conn


def ensure_tables(conn: sqlite3.Connection) -> None:
    """Create every table (``predictions`` from :class:`PredictionRecord`'s fields); add
    the :data:`ADDED_COLUMNS` an older ledger lacks (nullable, so old rows stay valid)."""
    conn.executescript(SCHEMA)
    conn.executescript(DRIFT_SCHEMA)
    cols = ", ".join(
        f"{name} {kind}{'' if nullable else ' NOT NULL'}"
        for name, kind, nullable in PREDICTION_COLUMNS
    )
    conn.execute(
        "CREATE TABLE IF NOT EXISTS predictions (iteration_id INTEGER NOT NULL "
        f"REFERENCES iterations(id), {cols})"
    )
    present: dict[str, set[str]] = {}
    for table, name, kind in ADDED_COLUMNS:
        if table not in present:
            present[table] = {row[1] for row in conn.execute(f"PRAGMA table_info({table})")}
        if name not in present[table]:
            conn.execute(f"ALTER TABLE {table} ADD COLUMN {name} {kind}")


def archive_copy(path: Path, conn: sqlite3.Connection) -> Path:
    """A consistent copy of the open ledger beside it, ``{stem}.{UTC time}{suffix}``,
    made with SQLite's online backup (safe while a dashboard reads it); returns its path."""
    stamp = pd.Timestamp.now(tz="UTC").strftime("%Y%m%dT%H%M%S%fZ")
    target = path.with_name(f"{path.stem}.{stamp}{path.suffix}")
    copy = sqlite3.connect(target)
    try:
        conn.backup(copy)
    finally:
        copy.close()
    return target

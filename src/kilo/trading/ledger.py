"""SQLite ledger of paper trading: one transaction per iteration, resumable.

Tables: ``runs``, ``iterations``, ``predictions``, ``orders``, ``fills``,
``positions`` (a snapshot per iteration) and ``equity``. An iteration's rows are
written in one transaction, so a process killed at any moment leaves either the whole
iteration or none of it. Times are ISO-8601 UTC strings.
"""

from __future__ import annotations

import contextlib
import json
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from kilo.trading.broker import Order, Portfolio, Position

SCHEMA = """
CREATE TABLE IF NOT EXISTS runs (
    id INTEGER PRIMARY KEY, started_at TEXT NOT NULL, source TEXT NOT NULL,
    symbols TEXT NOT NULL, initial_cash REAL NOT NULL, config TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS iterations (
    id INTEGER PRIMARY KEY, run_id INTEGER NOT NULL REFERENCES runs(id),
    bar_time TEXT NOT NULL, mark_time TEXT NOT NULL, completed_at TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS predictions (
    iteration_id INTEGER NOT NULL REFERENCES iterations(id), symbol TEXT NOT NULL,
    bar_time TEXT NOT NULL, model_version TEXT NOT NULL,
    gru_raw REAL, lightgbm_raw REAL, ppo_p_hold REAL, ppo_p_long REAL, ppo_p_flat REAL,
    gru_signal REAL, lightgbm_signal REAL, ppo_signal REAL,
    score REAL NOT NULL, confidence REAL NOT NULL, decision TEXT NOT NULL,
    mark_price REAL NOT NULL);
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
CREATE TABLE IF NOT EXISTS positions (
    iteration_id INTEGER NOT NULL REFERENCES iterations(id), symbol TEXT NOT NULL,
    quantity REAL NOT NULL, entry_price REAL NOT NULL, entry_time TEXT NOT NULL,
    entry_fee REAL NOT NULL, bars_held INTEGER NOT NULL, mark_price REAL NOT NULL);
CREATE TABLE IF NOT EXISTS retrain_decisions (
    id INTEGER PRIMARY KEY, time TEXT NOT NULL, symbol TEXT NOT NULL, champion TEXT,
    challenger TEXT, champion_sharpe REAL, challenger_sharpe REAL, promoted INTEGER NOT NULL,
    reason TEXT NOT NULL, detail TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS equity (
    iteration_id INTEGER PRIMARY KEY REFERENCES iterations(id), bar_time TEXT NOT NULL,
    cash REAL NOT NULL, positions_value REAL NOT NULL, equity REAL NOT NULL);
"""


@dataclass
class IterationRecord:
    """Everything one iteration produced, written by :meth:`Ledger.write_iteration`.

    ``bar_time`` is the candle the decisions were made on; ``mark_time`` the time of
    the prices (``marks``) the portfolio is valued at. ``portfolio`` is a copy taken
    at the end of the iteration, so records stay valid as trading goes on.
    """

    bar_time: pd.Timestamp
    mark_time: pd.Timestamp
    predictions: list[dict[str, Any]]
    orders: list[Order]
    portfolio: Portfolio
    marks: dict[str, float]
    scores: dict[str, float] = field(default_factory=dict)

    @property
    def equity(self) -> float:
        return self.portfolio.equity(self.marks)


@dataclass(frozen=True)
class SavedState:
    """Where a previous run stopped: its portfolio and the last bar it traded."""

    portfolio: Portfolio
    last_bar_time: pd.Timestamp
    marks: dict[str, float]


class Ledger:
    """The SQLite ledger at ``path`` (created with its folder if missing).

    Parameters
    ----------
    fresh
        Delete every recorded run first.
    """

    def __init__(self, path: str | Path, fresh: bool = False) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.conn = sqlite3.connect(self.path, isolation_level=None)
        self.conn.execute("PRAGMA journal_mode=WAL")
        self.conn.execute("PRAGMA foreign_keys=ON")
        if fresh:
            tables = ["equity", "positions", "fills", "orders", "predictions", "iterations", "runs"]
            # retraining decisions are history of the model sets, not of a trading run: kept
            with self._transaction():
                for table in tables:
                    self.conn.execute(f"DROP TABLE IF EXISTS {table}")
        self.conn.executescript(SCHEMA)
        self.run_id: int | None = None

    @contextlib.contextmanager
    def _transaction(self) -> Iterator[None]:
        """``BEGIN IMMEDIATE`` ... ``COMMIT``, rolled back on any exception."""
        self.conn.execute("BEGIN IMMEDIATE")
        try:
            yield
        except BaseException:
            self.conn.execute("ROLLBACK")
            raise
        self.conn.execute("COMMIT")

    def start_run(self, source: str, symbols: list[str], initial_cash: float,
                  config: dict[str, Any]) -> int:
        """Record a new run (one invocation of the trader) and return its id."""
        with self._transaction():
            cur = self.conn.execute(
                "INSERT INTO runs (started_at, source, symbols, initial_cash, config) "
                "VALUES (?, ?, ?, ?, ?)",
                (pd.Timestamp.now(tz="UTC").isoformat(), source, json.dumps(symbols),
                 initial_cash, json.dumps(config, default=str)),
            )
        self.run_id = int(cur.lastrowid)
        return self.run_id

    def saved_state(self) -> SavedState | None:
        """The portfolio after the last completed iteration, or None if there is none."""
        row = self.conn.execute(
            "SELECT i.id, i.bar_time, e.cash FROM iterations i JOIN equity e "
            "ON e.iteration_id = i.id ORDER BY i.id DESC LIMIT 1").fetchone()
        if row is None:
            return None
        iteration_id, bar_time, cash = row
        portfolio, marks = Portfolio(cash=cash), {}
        for symbol, qty, price, etime, fee, held, mark in self.conn.execute(
            "SELECT symbol, quantity, entry_price, entry_time, entry_fee, bars_held, mark_price "
            "FROM positions WHERE iteration_id = ?", (iteration_id,)):
            portfolio.positions[symbol] = Position(symbol, qty, price, pd.Timestamp(etime), fee, held)
            marks[symbol] = mark
        return SavedState(portfolio, pd.Timestamp(bar_time), marks)

    def write_iteration(self, record: IterationRecord) -> int:
        """Write one iteration's predictions, orders, fills, positions and equity atomically.

        Raises
        ------
        RuntimeError
            If no run was started.
        """
        if self.run_id is None:
            raise RuntimeError("call start_run() before write_iteration()")
        now = pd.Timestamp.now(tz="UTC").isoformat()
        with self._transaction():
            cur = self.conn.execute(
                "INSERT INTO iterations (run_id, bar_time, mark_time, completed_at) VALUES (?,?,?,?)",
                (self.run_id, record.bar_time.isoformat(), record.mark_time.isoformat(), now))
            it = int(cur.lastrowid)
            for p in record.predictions:
                self.conn.execute(
                    "INSERT INTO predictions VALUES (:it, :symbol, :bar_time, :model_version, "
                    ":gru_raw, :lightgbm_raw, :ppo_p_hold, :ppo_p_long, :ppo_p_flat, :gru_signal, "
                    ":lightgbm_signal, :ppo_signal, :score, :confidence, :decision, :mark_price)", {"it": it, **p})
            for order in record.orders:
                self._write_order(it, order)
            portfolio = record.portfolio
            for symbol, pos in portfolio.positions.items():
                self.conn.execute(
                    "INSERT INTO positions VALUES (?,?,?,?,?,?,?,?)",
                    (it, symbol, pos.quantity, pos.entry_price, pos.entry_time.isoformat(),
                     pos.entry_fee, pos.bars_held, record.marks[symbol]))
            value = portfolio.positions_value(record.marks)
            self.conn.execute("INSERT INTO equity VALUES (?,?,?,?,?)",
                              (it, record.bar_time.isoformat(), portfolio.cash, value,
                               portfolio.cash + value))
        return it

    def _write_order(self, iteration_id: int, order: Order) -> None:
        status = "filled" if order.fill else "skipped"
        cur = self.conn.execute(
            "INSERT INTO orders (iteration_id, symbol, side, requested_notional, reason, status, "
            "skip_reason) VALUES (?,?,?,?,?,?,?)",
            (iteration_id, order.symbol, order.side, order.requested_notional, order.reason,
             status, order.skip_reason))
        f = order.fill
        if f is not None:
            self.conn.execute(
                "INSERT INTO fills (order_id, iteration_id, symbol, side, time, quantity, price, "
                "notional, fee, realised_pnl, reason) VALUES (?,?,?,?,?,?,?,?,?,?,?)",
                (cur.lastrowid, iteration_id, f.symbol, f.side, f.time.isoformat(), f.quantity,
                 f.price, f.notional, f.fee, f.realised_pnl, f.reason))

    def record_decision(self, decision: dict[str, Any]) -> None:
        """Store one retraining decision (see :func:`kilo.training.retrain.retrain_symbol`)."""
        with self._transaction():
            self.conn.execute(
                "INSERT INTO retrain_decisions (time, symbol, champion, challenger, champion_sharpe, "
                "challenger_sharpe, promoted, reason, detail) VALUES (?,?,?,?,?,?,?,?,?)",
                (decision["time"], decision["symbol"], decision.get("champion"),
                 decision.get("challenger"), decision.get("champion_sharpe"),
                 decision.get("challenger_sharpe"), int(bool(decision["promoted"])),
                 decision["reason"], json.dumps(decision, default=str)))

    def query(self, sql: str, params: tuple = ()) -> pd.DataFrame:
        """Run a read-only query and return the rows as a DataFrame."""
        return pd.read_sql_query(sql, self.conn, params=params)

    def close(self) -> None:
        self.conn.close()

"""SQLite ledger of paper trading: one transaction per iteration, resumable.

Tables: ``runs``, ``iterations``, ``predictions``, ``orders``, ``fills``, ``funding``
(each funding event a perpetual position paid, amount in quote currency, negative when
received), ``positions`` (a snapshot per iteration), ``equity``, ``risk_events`` and
``risk_state`` (the risk rules' memory after each iteration) and ``drift`` (each
symbol's drift measures, :mod:`kilo.trading.drift_store`). A ledger written by an
older Kilo gains the tables and columns it lacks when opened. An iteration's rows are
written in one transaction, so a process killed at any moment leaves either the whole
iteration or none of it. Times are ISO-8601 UTC strings.
"""

from __future__ import annotations

import contextlib
import json
import logging
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from kilo.trading.accounts import Order, Portfolio, Position
from kilo.trading.drift_store import write_drift
from kilo.trading.ledger_schema import (
    PREDICTION_COLUMNS,
    archive_copy,
    connect,
    ensure_tables,
)
from kilo.trading.records import IterationRecord
from kilo.trading.risk import RiskState

logger = logging.getLogger(__name__)

_INSERT_PREDICTION = (
    "INSERT INTO predictions (iteration_id, "
    + ", ".join(c for c, _, _ in PREDICTION_COLUMNS)
    + ") VALUES (:iteration_id, "
    + ", ".join(f":{c}" for c, _, _ in PREDICTION_COLUMNS)
    + ")"
)


def _row_id(cursor: sqlite3.Cursor) -> int:
    """The id of the row an INSERT just made."""
    if cursor.lastrowid is None:
        raise RuntimeError("SQLite returned no row id for an INSERT")
    return cursor.lastrowid


@dataclass(frozen=True)
class SavedState:
    """Where a previous run stopped: its portfolio, the last bar it traded and the risk
    rules' memory."""

    portfolio: Portfolio
    last_bar_time: pd.Timestamp
    marks: dict[str, float]
    risk_state: RiskState


class Ledger:
    """The SQLite ledger at ``path`` (created with its folder if missing).

    Parameters
    ----------
    fresh
        Start over: a ledger that holds iterations is first copied beside itself
        (:func:`archive_copy`, path in :attr:`archived`), then every recorded run is
        deleted from it. Retraining decisions stay (they are history of the model sets).
    durable
        False: no sync to disk at each commit (SQLite ``synchronous=OFF``), for a
        throwaway replay's ledger (the portfolio backtest's); a crash of the machine
        may then lose or corrupt the file. A trader's ledger stays durable.
    """

    def __init__(self, path: str | Path, fresh: bool = False, durable: bool = True) -> None:
        self.path = Path(path)
        self.conn = connect(self.path)
        if not durable:
            self.conn.execute("PRAGMA synchronous=OFF")
        self.archived: Path | None = None
        if fresh and self._has_iterations():
            self.archived = archive_copy(self.path, self.conn)
            logger.warning("--fresh: the previous ledger was kept as %s", self.archived)
        if fresh:
            tables = [
                "drift",
                "risk_state",
                "risk_events",
                "equity",
                "positions",
                "fills",
                "orders",
                "predictions",
                "iterations",
                "runs",
            ]
            # retraining decisions are history of the model sets, not of a trading run: kept
            with self._transaction():
                for table in tables:
                    self.conn.execute(f"DROP TABLE IF EXISTS {table}")
        ensure_tables(self.conn)
        self.run_id: int | None = None

    def _has_iterations(self) -> bool:
        found = self.conn.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name = 'iterations'"
        ).fetchone()
        return bool(found) and bool(
            self.conn.execute("SELECT 1 FROM iterations LIMIT 1").fetchone()
        )

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

    def start_run(
        self, source: str, symbols: list[str], initial_cash: float, config: dict[str, Any]
    ) -> int:
        """Record a new run (one invocation of the trader) and return its id."""
        with self._transaction():
            cur = self.conn.execute(
                "INSERT INTO runs (started_at, source, symbols, initial_cash, config) "
                "VALUES (?, ?, ?, ?, ?)",
                (
                    pd.Timestamp.now(tz="UTC").isoformat(),
                    source,
                    json.dumps(symbols),
                    initial_cash,
                    json.dumps(config, default=str),
                ),
            )
        self.run_id = _row_id(cur)
        return self.run_id

    def saved_state(self) -> SavedState | None:
        """The portfolio after the last completed iteration, or None if there is none."""
        row = self.conn.execute(
            "SELECT i.id, i.bar_time, e.cash FROM iterations i JOIN equity e "
            "ON e.iteration_id = i.id ORDER BY i.id DESC LIMIT 1"
        ).fetchone()
        if row is None:
            return None
        iteration_id, bar_time, cash = row
        portfolio, marks = Portfolio(cash=cash), {}
        for (
            symbol,
            qty,
            price,
            etime,
            fee,
            held,
            mark,
            best,
            partials,
            paid,
            side,
        ) in self.conn.execute(
            "SELECT symbol, quantity, entry_price, entry_time, entry_fee, bars_held, mark_price, "
            "highest_close, partials_done, funding, side FROM positions WHERE iteration_id = ?",
            (iteration_id,),
        ):
            portfolio.positions[symbol] = Position(
                symbol,
                qty,
                price,
                pd.Timestamp(etime),
                fee,
                held,
                best or 0.0,
                partials or 0,
                paid or 0.0,
                side,
            )
            marks[symbol] = mark
        state = self.conn.execute(
            "SELECT state FROM risk_state WHERE iteration_id = ?", (iteration_id,)
        ).fetchone()
        return SavedState(
            portfolio,
            pd.Timestamp(bar_time),
            marks,
            RiskState.model_validate_json(state[0]) if state else RiskState(),
        )

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
                "INSERT INTO iterations (run_id, bar_time, mark_time, completed_at) "
                "VALUES (?,?,?,?)",
                (self.run_id, record.bar_time.isoformat(), record.mark_time.isoformat(), now),
            )
            it = _row_id(cur)
            for p in record.predictions:
                self.conn.execute(_INSERT_PREDICTION, {"iteration_id": it, **p.row()})
            for order in record.orders:
                self._write_order(it, order)
            portfolio = record.portfolio
            for symbol, pos in portfolio.positions.items():
                self.conn.execute(
                    "INSERT INTO positions (iteration_id, symbol, quantity, entry_price, "
                    "entry_time, "
                    "entry_fee, bars_held, mark_price, highest_close, partials_done, funding, "
                    "side) VALUES (?,?,?,?,?,?,?,?,?,?,?,?)",
                    (
                        it,
                        symbol,
                        pos.quantity,
                        pos.entry_price,
                        pos.entry_time.isoformat(),
                        pos.entry_fee,
                        pos.bars_held,
                        record.marks[symbol],
                        pos.best_close,
                        pos.partials_done,
                        pos.funding,
                        pos.side,
                    ),
                )
            for pay in record.funding:
                self.conn.execute(
                    "INSERT INTO funding (iteration_id, symbol, time, rate, notional, amount) "
                    "VALUES (?,?,?,?,?,?)",
                    (it, pay.symbol, pay.time.isoformat(), pay.rate, pay.notional, pay.amount),
                )
            for event in record.risk_events:
                self.conn.execute(
                    "INSERT INTO risk_events (iteration_id, bar_time, symbol, rule, detail) "
                    "VALUES (?,?,?,?,?)",
                    (it, event.bar_time.isoformat(), event.symbol, event.rule, event.detail),
                )
            self.conn.execute(
                "INSERT INTO risk_state VALUES (?,?)", (it, record.risk_state.model_dump_json())
            )
            write_drift(self.conn, it, record.drift)
            value = portfolio.positions_value(record.marks)
            self.conn.execute(
                "INSERT INTO equity VALUES (?,?,?,?,?)",
                (it, record.bar_time.isoformat(), portfolio.cash, value, portfolio.cash + value),
            )
        return it

    def _write_order(self, iteration_id: int, order: Order) -> None:
        status = "filled" if order.fill else "skipped"
        cur = self.conn.execute(
            "INSERT INTO orders (iteration_id, symbol, side, requested_notional, reason, status, "
            "skip_reason) VALUES (?,?,?,?,?,?,?)",
            (
                iteration_id,
                order.symbol,
                order.side,
                order.requested_notional,
                order.reason,
                status,
                order.skip_reason,
            ),
        )
        f = order.fill
        if f is not None:
            self.conn.execute(
                "INSERT INTO fills (order_id, iteration_id, symbol, side, time, quantity, price, "
                "notional, fee, realised_pnl, reason, position_side) "
                "VALUES (?,?,?,?,?,?,?,?,?,?,?,?)",
                (
                    cur.lastrowid,
                    iteration_id,
                    f.symbol,
                    f.side,
                    f.time.isoformat(),
                    f.quantity,
                    f.price,
                    f.notional,
                    f.fee,
                    f.realised_pnl,
                    f.reason,
                    f.position_side,
                ),
            )

    def query(self, sql: str, params: tuple = ()) -> pd.DataFrame:
        """Run a read-only query and return the rows as a DataFrame."""
        return pd.read_sql_query(sql, self.conn, params=params)

    def close(self) -> None:
        self.conn.close()

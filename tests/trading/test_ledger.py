from __future__ import annotations

import sqlite3

import pandas as pd
import pytest

from kilo.trading.broker import Order, Portfolio, Position
from kilo.trading.ledger import IterationRecord, Ledger

T = pd.Timestamp("2025-01-01", tz="UTC")


def record(bar: pd.Timestamp, cash: float, predictions: list | None = None) -> IterationRecord:
    pf = Portfolio(cash, {"A": Position("A", 2.0, 10.0, T, 0.02, bars_held=3)})
    return IterationRecord(bar, bar, predictions or [], [Order("A", "buy", 20.0, "signal",
                                                                skip_reason="x")],
                           pf, {"A": 11.0})


def test_saved_state_round_trip(tmp_path) -> None:
    ledger = Ledger(tmp_path / "l.sqlite")
    assert ledger.saved_state() is None
    ledger.start_run("replay", ["A"], 100.0, {})
    ledger.write_iteration(record(T, 80.0))
    ledger.write_iteration(record(T + pd.Timedelta("1h"), 75.0))
    ledger.close()
    state = Ledger(tmp_path / "l.sqlite").saved_state()
    assert state.last_bar_time == T + pd.Timedelta("1h") and state.portfolio.cash == 75.0
    assert state.portfolio.positions["A"].bars_held == 3 and state.marks == {"A": 11.0}
    assert Ledger(tmp_path / "l.sqlite", fresh=True).saved_state() is None


def test_a_failed_iteration_writes_nothing(tmp_path) -> None:
    ledger = Ledger(tmp_path / "l.sqlite")
    ledger.start_run("replay", ["A"], 100.0, {})
    ledger.write_iteration(record(T, 80.0))
    bad = record(T + pd.Timedelta("1h"), 70.0, predictions=[{"symbol": "A"}])  # missing fields
    with pytest.raises(sqlite3.ProgrammingError):
        ledger.write_iteration(bad)
    counts = {t: int(ledger.query(f"SELECT COUNT(*) AS n FROM {t}")["n"].iloc[0])
              for t in ("iterations", "equity", "positions", "orders")}
    assert counts == {"iterations": 1, "equity": 1, "positions": 1, "orders": 1}
    assert ledger.saved_state().portfolio.cash == 80.0


def test_write_before_start_run(tmp_path) -> None:
    with pytest.raises(RuntimeError, match="start_run"):
        Ledger(tmp_path / "l.sqlite").write_iteration(record(T, 1.0))

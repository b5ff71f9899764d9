from __future__ import annotations

import sqlite3

import pandas as pd
import pytest

from kilo.inference import Prediction
from kilo.trading.accounts import Order, Portfolio, Position
from kilo.trading.ledger import Ledger, connect
from kilo.trading.records import IterationRecord, PredictionRecord

T = pd.Timestamp("2025-01-01", tz="UTC")


def record(bar: pd.Timestamp, cash: float, predictions: list | None = None) -> IterationRecord:
    pf = Portfolio(cash, {"A": Position("A", 2.0, 10.0, T, 0.02, bars_held=3)})
    return IterationRecord(
        bar,
        bar,
        predictions or [],
        [Order("A", "buy", 20.0, "signal", skip_reason="x")],
        pf,
        {"A": 11.0},
    )


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
    fresh = Ledger(tmp_path / "l.sqlite", fresh=True)
    assert fresh.saved_state() is None and fresh.archived is not None
    kept = Ledger(fresh.archived).saved_state()  # the old run is recoverable
    assert kept is not None and kept.last_bar_time == T + pd.Timedelta("1h")
    assert fresh.archived.parent == tmp_path and fresh.archived.name.startswith("l.2")
    assert Ledger(tmp_path / "l.sqlite", fresh=True).archived is None  # nothing to keep


def test_only_a_replay_ledger_skips_the_sync_to_disk(tmp_path) -> None:
    sync = "PRAGMA synchronous"
    assert Ledger(tmp_path / "trader.sqlite").conn.execute(sync).fetchone()[0] > 0
    replay = Ledger(tmp_path / "replay.sqlite", durable=False)
    assert replay.conn.execute(sync).fetchone()[0] == 0
    replay.start_run("replay", ["A"], 100.0, {})
    replay.write_iteration(record(T, 80.0))
    assert replay.saved_state().portfolio.cash == 80.0


def test_a_failed_iteration_writes_nothing(tmp_path) -> None:
    ledger = Ledger(tmp_path / "l.sqlite")
    ledger.start_run("replay", ["A"], 100.0, {})
    ledger.write_iteration(record(T, 80.0))
    no_score = PredictionRecord("A", T, "v1", "wait", 11.0, Prediction(score=None, confidence=1))
    bad = record(T + pd.Timedelta("1h"), 70.0, predictions=[no_score])
    with pytest.raises(sqlite3.IntegrityError, match="predictions.score"):
        ledger.write_iteration(bad)
    counts = {
        t: int(ledger.query(f"SELECT COUNT(*) AS n FROM {t}")["n"].iloc[0])
        for t in ("iterations", "equity", "positions", "orders")
    }
    assert counts == {"iterations": 1, "equity": 1, "positions": 1, "orders": 1}
    assert ledger.saved_state().portfolio.cash == 80.0


def test_write_before_start_run(tmp_path) -> None:
    with pytest.raises(RuntimeError, match="start_run"):
        Ledger(tmp_path / "l.sqlite").write_iteration(record(T, 1.0))


def test_prediction_columns_follow_the_record(tmp_path) -> None:
    ledger = Ledger(tmp_path / "l.sqlite")
    ledger.start_run("replay", ["A"], 100.0, {})
    pred = Prediction(
        score=0.25, confidence=0.5, raw={"gru_raw": 0.001, "ppo_p_long": 0.7}, signals={"gru": 0.1}
    )
    ledger.write_iteration(record(T, 80.0, [PredictionRecord("A", T, "v1", "enter", 11.0, pred)]))
    row = ledger.query("SELECT * FROM predictions").iloc[0]
    assert list(row.index) == ["iteration_id", *(c for c, _, _ in PredictionRecord.columns())]
    assert (row["score"], row["gru_raw"], row["ppo_p_long"], row["decision"]) == (
        0.25,
        0.001,
        0.7,
        "enter",
    )
    assert row["bar_time"] == T.isoformat() and pd.isna(row["lightgbm_raw"])
    assert row["gru_signal"] == 0.1 and pd.isna(row["linear_signal"])


def test_a_ledger_from_an_older_kilo_gains_new_columns(tmp_path) -> None:
    path = tmp_path / "old.sqlite"
    conn = connect(path)
    conn.execute("CREATE TABLE predictions (iteration_id INTEGER NOT NULL, symbol TEXT NOT NULL)")
    conn.close()
    Ledger(path).close()
    conn = connect(path, read_only=True)
    columns = [r[1] for r in conn.execute("PRAGMA table_info(predictions)")]
    assert columns == ["iteration_id", *(c for c, _, _ in PredictionRecord.columns())]
    with pytest.raises(sqlite3.OperationalError, match="readonly"):
        conn.execute("INSERT INTO predictions (iteration_id, symbol) VALUES (1, 'A')")


def test_funding_has_its_own_table_and_positions_keep_what_they_paid(tmp_path) -> None:
    from kilo.trading.accounts import FundingPayment

    path = tmp_path / "old.sqlite"
    conn = connect(path)  # a ledger from before funding: positions without the column
    conn.execute(
        "CREATE TABLE positions (iteration_id INTEGER NOT NULL, symbol TEXT NOT NULL, "
        "quantity REAL NOT NULL, entry_price REAL NOT NULL, entry_time TEXT NOT NULL, "
        "entry_fee REAL NOT NULL, bars_held INTEGER NOT NULL, mark_price REAL NOT NULL)"
    )
    conn.close()
    ledger = Ledger(path)
    ledger.start_run("replay", ["A"], 100.0, {})
    rec = record(T, 80.0)
    rec.portfolio.positions["A"].funding = 0.0044
    rec.funding.append(FundingPayment("A", T, 0.0002, 22.0, 0.0044, 102.0))
    ledger.write_iteration(rec)
    rows = ledger.query("SELECT symbol, time, rate, notional, amount FROM funding")
    assert rows.to_dict("records") == [
        {"symbol": "A", "time": T.isoformat(), "rate": 0.0002, "notional": 22.0, "amount": 0.0044}
    ]
    assert ledger.saved_state().portfolio.positions["A"].funding == pytest.approx(0.0044)
    assert ledger.saved_state().portfolio.positions["A"].side == "long"  # the old rows' default


def test_a_short_and_its_fills_keep_their_side(tmp_path) -> None:
    from kilo.config import TradingConfig
    from kilo.trading.broker import PaperBroker

    broker = PaperBroker(TradingConfig(fee=0.001, market="futures"))
    pf = Portfolio(100.0)
    sale = broker.open(pf, "A", 10.0, T, {"A": 10.0}, side="short")
    ledger = Ledger(tmp_path / "l.sqlite")
    ledger.start_run("replay", ["A"], 100.0, {})
    ledger.write_iteration(IterationRecord(T, T, [], [sale], pf, {"A": 9.0}))
    saved = ledger.saved_state().portfolio
    assert saved.positions["A"] == pf.positions["A"] and saved.positions["A"].side == "short"
    assert saved.equity({"A": 9.0}) == pytest.approx(pf.equity({"A": 9.0}))
    fills = ledger.query("SELECT side, position_side FROM fills")
    assert fills.to_dict("records") == [{"side": "sell", "position_side": "short"}]
    from kilo.cli.dashboard import read_ledger  # the dashboard shows the side and sign

    [shown] = read_ledger(tmp_path / "l.sqlite")["positions"].to_dict("records")
    assert shown["side"] == "short" and shown["value"] == pytest.approx(-sale.fill.quantity * 9.0)
    from kilo.trading.monitoring import TraderMetrics  # and so does /metrics

    metrics = TraderMetrics(lambda: T, pd.Timedelta("1h"))
    prediction = PredictionRecord("A", T, "v", "enter_short", 10.0, Prediction(-1.0, 1.0))
    metrics.observe(IterationRecord(T, T, [prediction], [sale], pf, {"A": 9.0}), 0.1)
    assert metrics.registry.get_sample_value("kilo_position_side", {"symbol": "A"}) == -1.0

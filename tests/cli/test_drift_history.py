"""scripts/drift_history.py: the drifted spells of a ledger, their share, the figure."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pandas as pd
import pytest
from scripts.drift_history import main

from kilo.cli.drift_history import drift_episodes, drift_history
from kilo.errors import DataError
from kilo.trading.ledger_schema import connect, ensure_tables

#: Per bar: BTC warms up for two bars, drifts for bars 3-4 and 7, ETH never drifts.
STATUSES = {
    "BTC/USDT": ["warming", "warming", "ok", "drifted", "drifted", "ok", "ok", "drifted"],
    "ETH/USDT": ["warming", "ok", "ok", "ok", "ok", "ok", "ok", "ok"],
}


def _ledger(path: Path, statuses: dict[str, list[str]]) -> Path:
    """A ledger whose drift table holds ``statuses`` (one row per symbol and hourly bar)."""
    conn = connect(path)
    ensure_tables(conn)
    conn.execute(
        "INSERT INTO runs VALUES (1, '2021-01-01T00:00:00+00:00', 'replay', '[]', 1000, '{}')"
    )
    bars = pd.date_range("2021-01-01", periods=8, freq="1h", tz="UTC")
    for it, bar in enumerate(bars, start=1):
        t = bar.isoformat()
        conn.execute("INSERT INTO iterations VALUES (?, 1, ?, ?, ?)", (it, t, t, t))
        for symbol, column in statuses.items():
            status = column[it - 1]
            conn.execute(
                "INSERT INTO drift (iteration_id, symbol, bar_time, model_version, status, "
                "share_drifted, top_features, feature_psi, output_psi, ic, ic_low, ic_high, "
                "validation_low, validation_high, ic_below_bars, live_ic, entries, reason) "
                "VALUES (?, ?, ?, 'v1', ?, ?, '[]', '{}', '{}', ?, ?, ?, 0.01, 0.05, 0, '{}', "
                "0, ?)",
                (
                    it,
                    symbol,
                    t,
                    status,
                    0.8 if status == "drifted" else 0.1,
                    0.02 - 0.01 * it,
                    -0.05,
                    0.04,
                    f"PSI at bar {it}" if status == "drifted" else None,
                ),
            )
    conn.close()
    return path


def test_spells_their_reasons_and_share(tmp_path: Path) -> None:
    conn = sqlite3.connect(_ledger(tmp_path / "paper.sqlite", STATUSES))
    episodes = drift_episodes(drift_history(conn))
    assert list(episodes["symbol"]) == ["BTC/USDT", "BTC/USDT"]
    assert list(episodes["bars"]) == [2, 1]
    assert list(episodes["reason"]) == ["PSI at bar 4", "PSI at bar 8"]
    assert episodes["start"].iloc[0] == pd.Timestamp("2021-01-01 03:00", tz="UTC")
    assert episodes["end"].iloc[0] == pd.Timestamp("2021-01-01 04:00", tz="UTC")
    assert episodes["share"].iloc[0] == pytest.approx(3 / 6)  # of the measured bars


def test_the_script_prints_the_spells_and_writes_the_figure(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    ledger = _ledger(tmp_path / "paper.sqlite", STATUSES)
    out = tmp_path / "drift.png"
    assert main(["--state", str(ledger), "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "BTC/USDT: 2021-01-01 to 2021-01-01, 2 drifted spells, 50% of measured" in printed
    assert "ETH/USDT: 2021-01-01 to 2021-01-01, 0 drifted spells, 0%" in printed
    assert "2021-01-01 03:00 to 2021-01-01 04:00 (2 bars): PSI at bar 4" in printed
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_a_ledger_without_drift_rows_says_what_to_do(tmp_path: Path) -> None:
    conn = sqlite3.connect(_ledger(tmp_path / "paper.sqlite", {}))
    with pytest.raises(DataError, match="no drift reference"):
        drift_history(conn)
    with pytest.raises(SystemExit):
        main(["--state", str(tmp_path / "missing.sqlite")])

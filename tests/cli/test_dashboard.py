"""The dashboard in a real headless browser (Debian's chromium, which CI installs)."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from kilo.cli.dashboard import read_ledger
from kilo.config import Config
from kilo.trading.session import SessionOptions, run_session
from tests.trading.test_monitoring import free_port
from tests.trading.test_trader import SYMBOLS

pytestmark = pytest.mark.slow
REPO = Path(__file__).resolve().parents[2]


def chromium(*args: str) -> str:
    """Run headless chromium (as root: --no-sandbox; offline: no background networking)."""
    binary = shutil.which("chromium") or shutil.which("chromium-browser")
    if binary is None:
        pytest.fail(
            "chromium is not installed: apt-get install chromium (.ci/run does)", pytrace=False
        )
    flags = [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
        "--virtual-time-budget=3000",
        "--window-size=1300,1800",
    ]
    done = subprocess.run([binary, *flags, *args], capture_output=True, text=True, timeout=90)
    return done.stdout


def iterations_shown(dom: str) -> int:
    return int(re.search(r"(\d+) iterations; last bar", dom).group(1))


def test_the_dashboard_shows_and_follows_the_ledger(tiny_models: Config, tmp_path) -> None:
    state = tmp_path / "paper.sqlite"
    run_session(tiny_models, SessionOptions(40, SYMBOLS, state=state)).close()
    port = free_port()
    proc = subprocess.Popen(
        [
            sys.executable,
            str(REPO / "scripts" / "dashboard.py"),
            "--state",
            str(state),
            "--port",
            str(port),
            "--refresh",
            "5",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    url = f"http://127.0.0.1:{port}/"
    try:
        deadline = time.time() + 60
        while time.time() < deadline:
            try:
                urllib.request.urlopen(url, timeout=2)
                break
            except OSError:
                assert proc.poll() is None, proc.stderr.read()
                time.sleep(0.3)
        profile = tmp_path / "profile"
        dom = chromium(f"--user-data-dir={profile}", "--dump-dom", url)
        assert 'id="equity-chart"' in dom and "js-plotly-plot" in dom  # plotly drew the chart
        assert "main-svg" in dom
        for symbol in SYMBOLS:
            assert symbol in dom
        assert iterations_shown(dom) == 40
        chromium(f"--user-data-dir={profile}", f"--screenshot={tmp_path / 'dashboard.png'}", url)
        assert (tmp_path / "dashboard.png").read_bytes()[:4] == b"\x89PNG"
        run_session(tiny_models, SessionOptions(15, SYMBOLS, state=state)).close()
        assert iterations_shown(chromium(f"--user-data-dir={profile}", "--dump-dom", url)) == 55
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def test_the_ledger_is_read_without_writing(tiny_models: Config, tmp_path) -> None:
    import sqlite3

    state = tmp_path / "paper.sqlite"
    run_session(tiny_models, SessionOptions(5, SYMBOLS, state=state)).close()
    before = state.read_bytes()
    tables = read_ledger(state)
    assert len(tables["equity"]) == 5 and set(tables["decisions"]["symbol"]) == set(SYMBOLS)
    assert tables["retrain_decisions"].empty  # no retraining yet: an empty table, no error
    assert state.read_bytes() == before
    with pytest.raises(sqlite3.OperationalError):
        read_ledger(tmp_path / "missing.sqlite")


def test_cells_are_formatted_for_a_person() -> None:
    from kilo.cli.dashboard import cell

    assert (
        cell("realised_pnl", -0.00193474) == "-0.00" and cell("mark_price", 90422.6) == "90,422.60"
    )
    assert cell("confidence", 1 / 3) == "33%" and cell("score", 0.25) == "+0.250"
    assert cell("bar_time", "2025-12-03T22:00:00+00:00") == "2025-12-03 22:00"
    assert cell("expected_edge", 0.0123) == "+1.23%" and cell("ppo_signal", float("nan")) == "–"


def test_the_drift_panel_shows_top_features_and_live_ic_against_its_band(tmp_path) -> None:
    import pandas as pd

    from kilo.cli.dashboard import render
    from kilo.registry.drift import ReferenceIC
    from kilo.trading.broker import Portfolio
    from kilo.trading.drift import DriftRecord, LiveIC
    from kilo.trading.ledger import Ledger
    from kilo.trading.records import IterationRecord

    state, bar = tmp_path / "paper.sqlite", pd.Timestamp("2021-03-01 12:00", tz="UTC")
    assert "No drift measures yet" in render_empty(state)
    ledger = Ledger(state)
    ledger.start_run("replay", ["BTC/USDT"], 10_000.0, {})
    record = DriftRecord(
        "BTC/USDT",
        bar,
        "v1",
        "drifted",
        {"atr_14": 1.5, "rsi_14": 0.05},
        {"score": 0.2},
        [("atr_14", 1.5), ("rsi_14", 0.05)],
        0.5,
        {"score": LiveIC(-0.12, -0.3, 0.05, 168)},
        ReferenceIC(ic=0.03, low=-0.05, high=0.12, level=0.95, block=40, rows=3842),
        reason="PSI > 0.25 on 1 of 2 features",
    )
    ledger.write_iteration(
        IterationRecord(bar, bar, [], [], Portfolio(10_000.0), {}, drift=[record])
    )
    ledger.close()
    page = render(state, 10)
    panel = page[page.index("<h2>Drift</h2>") : page.index("<h2>Recent fills")]
    assert "drift-chart" in panel and "atr_14 1.50, rsi_14 0.05" in panel
    assert "-0.120 [-0.300, +0.050]" in panel and "+0.030 [-0.050, +0.120]" in panel
    assert "PSI &gt; 0.25 on 1 of 2 features" in panel


def render_empty(state: Path) -> str:
    """The dashboard of a ledger with one run and no drift row."""
    from kilo.cli.dashboard import render
    from kilo.trading.ledger import Ledger

    Ledger(state).close()
    return render(state, 10)

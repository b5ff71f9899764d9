"""A trader, a retraining pass and the dashboard on one ledger at the same time."""

from __future__ import annotations

import shutil
import subprocess
import threading
import time

import pytest

from kilo.cli.dashboard import render
from kilo.config import Config
from kilo.retrain import retrain_pass
from kilo.trading.ledger import Ledger
from tests.trading.test_trader import SYMBOLS, trader_command

pytestmark = pytest.mark.slow
ITERATIONS = 120


def test_trader_retraining_and_dashboard_lose_nothing(tiny_models: Config, tmp_path) -> None:
    models = tmp_path / "models"
    shutil.copytree(tiny_models.models.dir, models)
    state = tmp_path / "paper.sqlite"
    config = tiny_models.with_overrides(
        {
            "models.dir": str(models),
            "trading.ledger_path": str(state),
            "retrain.log_path": str(tmp_path / "retrain.jsonl"),
        }
    )
    trader = subprocess.Popen(
        [*trader_command(config, state), "--iterations", str(ITERATIONS), "--pace", "0.08"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.time() + 120
    while not state.is_file() and time.time() < deadline:
        time.sleep(0.2)
    pages, failures = [], []

    def dashboard() -> None:
        while trader.poll() is None:
            try:
                pages.append(render(state, 5))
            except Exception as exc:  # every failure is the test's finding
                failures.append(exc)
            time.sleep(0.1)

    reader = threading.Thread(target=dashboard)
    reader.start()
    decisions = retrain_pass(config, ["BTC/USDT"], refresh=False)  # while the trader runs
    retrained_while_trading = trader.poll() is None
    assert trader.wait(timeout=600) == 0, trader.stderr.read()[-2000:]
    reader.join()
    assert retrained_while_trading and not failures and len(pages) > 5

    ledger = Ledger(state)
    ids = ledger.query("SELECT id FROM iterations ORDER BY id")["id"].tolist()
    assert ids == list(range(ids[0], ids[0] + ITERATIONS))  # none lost
    per_iteration = ledger.query(
        "SELECT i.id, COUNT(p.symbol) AS n, (SELECT COUNT(*) FROM equity e "
        "WHERE e.iteration_id = i.id) AS equity FROM iterations i "
        "LEFT JOIN predictions p ON p.iteration_id = i.id GROUP BY i.id"
    )
    assert (per_iteration["n"] == len(SYMBOLS)).all() and (per_iteration["equity"] == 1).all()
    rows = ledger.query("SELECT symbol, reason FROM retrain_decisions")
    ledger.close()
    assert len(decisions) == 1 and rows["symbol"].tolist() == ["BTC/USDT"]

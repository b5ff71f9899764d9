from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import ccxt
import numpy as np
import pandas as pd
import pytest

from kilo.config import Config
from kilo.data import load_candles
from kilo.errors import FeatureContractError
from kilo.features import FeatureEngine
from kilo.inference import PortfolioState
from kilo.trading.ledger import Ledger
from kilo.trading.session import SessionOptions, load_models, run_session
from kilo.trading.sources import LiveSource
from kilo.trading.symbol_model import SymbolModel
from kilo.trading.trader import PaperTrader
from kilo.training.dataset import load_context

pytestmark = pytest.mark.slow
REPO = Path(__file__).resolve().parents[2]
SYMBOLS = ("BTC/USDT", "ETH/USDT", "SOL/USDT")


def equity_curve(ledger: Ledger) -> pd.DataFrame:
    return ledger.query(
        "SELECT i.bar_time, e.cash, e.equity FROM iterations i "
        "JOIN equity e ON e.iteration_id = i.id ORDER BY i.id"
    )


def check_ledger(path: Path, fee: float, n_symbols: int) -> None:
    """Every iteration complete; cash + Σ quantity × mark = equity; fees and cash add up."""
    ledger = Ledger(path)
    snap = ledger.query(
        "SELECT e.iteration_id, e.cash, e.equity, COALESCE(SUM(p.quantity * p.mark_price), 0) AS v "
        "FROM equity e LEFT JOIN positions p ON p.iteration_id = e.iteration_id "
        "GROUP BY e.iteration_id"
    )
    np.testing.assert_allclose(snap["cash"] + snap["v"], snap["equity"], rtol=1e-12)
    counts = ledger.query(
        "SELECT i.id, COUNT(p.symbol) AS n, COUNT(DISTINCT e.iteration_id) AS e "
        "FROM iterations i LEFT JOIN predictions p ON p.iteration_id = i.id "
        "LEFT JOIN equity e ON e.iteration_id = i.id GROUP BY i.id"
    )
    assert (counts["n"] == n_symbols).all() and (counts["e"] == 1).all()
    fills = ledger.query("SELECT side, notional, fee FROM fills").astype(
        {"notional": float, "fee": float}
    )
    np.testing.assert_allclose(fills["fee"], fills["notional"] * fee, rtol=1e-9)
    buys, sells = fills[fills.side == "buy"], fills[fills.side == "sell"]
    initial = ledger.query("SELECT initial_cash FROM runs ORDER BY id LIMIT 1")["initial_cash"][0]
    cash = initial - (buys.notional + buys.fee).sum() + (sells.notional - sells.fee).sum()
    assert cash == pytest.approx(snap["cash"].iloc[-1], rel=1e-9)
    ledger.close()


def trader_command(config: Config, state: Path) -> list[str]:
    """``scripts/trader.py`` on ``config``'s candles and model sets, trading ``SYMBOLS`` (the
    universe the tiny models were trained on) with the ledger at ``state``."""
    return [
        sys.executable,
        str(REPO / "scripts" / "trader.py"),
        "--data-dir",
        str(config.data.dir),
        "--models-dir",
        str(config.models.dir),
        "--state",
        str(state),
        "--symbols",
        *SYMBOLS,
        "--set",
        f"symbols=[{', '.join(SYMBOLS)}]",
    ]


def test_replay_trades_and_keeps_a_consistent_ledger(tiny_models: Config, tmp_path) -> None:
    state = tmp_path / "paper.sqlite"
    ledger = run_session(tiny_models, SessionOptions(120, SYMBOLS, state=state))
    preds = ledger.query("SELECT * FROM predictions")
    assert len(preds) == 120 * 3
    models = load_models(tiny_models, list(SYMBOLS), strict=True)
    first_bar = pd.Timestamp(preds["bar_time"].min())
    assert first_bar == max(m.replay_start for m in models.values())
    for column in (
        "gru_raw",
        "lightgbm_raw",
        "ppo_p_long",
        "score",
        "confidence",
        "expected_edge",
        "volatility",
    ):
        values = preds[column].to_numpy()
        assert np.isfinite(values).all(), column
        if column not in ("confidence", "expected_edge"):  # tiny models: one sign pattern, one step
            for _, group in preds.groupby("symbol"):
                assert group[column].nunique() > 1, column
    assert (preds["ppo_signal"].abs() > 0).any()
    assert ledger.query("SELECT COUNT(*) AS n FROM fills")["n"][0] > 0
    check_ledger(state, tiny_models.trading.fee, 3)


def test_resume_continues_where_it_stopped(tiny_models: Config, tmp_path) -> None:
    whole = equity_curve(
        run_session(tiny_models, SessionOptions(40, SYMBOLS, state=tmp_path / "a.sqlite"))
    )
    run_session(tiny_models, SessionOptions(25, SYMBOLS, state=tmp_path / "b.sqlite"))
    resumed = equity_curve(
        run_session(tiny_models, SessionOptions(15, SYMBOLS, state=tmp_path / "b.sqlite"))
    )
    assert resumed["bar_time"].is_unique and len(resumed) == 40
    hours = pd.to_datetime(resumed["bar_time"]).diff().dropna()
    assert (hours == pd.Timedelta("1h")).all()
    pd.testing.assert_frame_equal(whole, resumed)


def test_kill_9_mid_run_then_restart(tiny_models: Config, tmp_path) -> None:
    state = tmp_path / "paper.sqlite"
    cmd = trader_command(tiny_models, state)
    proc = subprocess.Popen(
        [*cmd, "--iterations", "100000", "--fresh"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.time() + 120
    try:
        while time.time() < deadline:
            time.sleep(0.2)
            if state.exists():
                with sqlite3.connect(state) as conn:
                    try:
                        if conn.execute("SELECT COUNT(*) FROM iterations").fetchone()[0] >= 5:
                            break
                    except sqlite3.OperationalError:
                        pass
        assert proc.poll() is None, "the trader ended before it could be killed"
    finally:
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
    check_ledger(state, tiny_models.trading.fee, 3)
    before = equity_curve(Ledger(state))
    done = subprocess.run([*cmd, "--iterations", "5"], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    after = equity_curve(Ledger(state))
    assert len(after) == len(before) + 5
    pd.testing.assert_frame_equal(after.iloc[: len(before)], before)
    assert pd.Timestamp(after["bar_time"].iloc[len(before)]) == (
        pd.Timestamp(before["bar_time"].iloc[-1]) + pd.Timedelta("1h")
    )
    check_ledger(state, tiny_models.trading.fee, 3)
    assert "equal-weight buy-and-hold" in done.stdout


def test_model_set_with_a_missing_feature(tiny_models: Config) -> None:
    fewer = tiny_models.with_overrides({"features.volatility_windows": [24]})
    with pytest.raises(FeatureContractError, match=r"missing \['volatility_72'\]"):
        SymbolModel.load(fewer, "BTC/USDT")
    with pytest.raises(FeatureContractError):
        load_models(fewer, ["BTC/USDT"], strict=True)
    with pytest.raises(Exception, match="no symbol has a usable model set"):
        load_models(fewer, ["BTC/USDT"], strict=False)


class FakeLiveExchange:
    """Serves BTC/USDT from local candles; every call for another symbol times out."""

    id = "binance"

    def __init__(self, candles: pd.DataFrame) -> None:
        self.rows = [
            [int(t.timestamp() * 1000), *r]
            for t, r in zip(
                candles.index,
                candles[["open", "high", "low", "close", "volume"]].to_numpy().tolist(),
                strict=True,
            )
        ]
        self.timeouts = 0

    def fetch_ohlcv(self, symbol, timeframe, since, limit):
        if symbol != "BTC/USDT":  # traded ETH and followed SOL alike
            self.timeouts += 1
            raise ccxt.RequestTimeout("simulated time-out")
        return [r for r in self.rows if r[0] >= since][:limit]

    def fetch_ticker(self, symbol):
        return {"last": self.rows[-1][4]}


def test_live_source_survives_exchange_timeouts(tiny_models: Config, tmp_path) -> None:
    candles = load_candles(tiny_models.data.dir, "binance", "BTC/USDT", "1h")
    exchange = FakeLiveExchange(candles)
    models = load_models(tiny_models, ["BTC/USDT", "ETH/USDT"], strict=True)
    now_ms = int((candles.index[-1] + pd.Timedelta("61min")).timestamp() * 1000)
    source = LiveSource(
        exchange,
        ["BTC/USDT", "ETH/USDT"],
        "1h",
        {s: m.history_rows for s, m in models.items()},
        interval=0.0,
        max_retries=1,
        base_delay=0.01,
        context_symbols=("SOL/USDT",),
        sleep=lambda s: None,
        clock=lambda: now_ms,
    )
    ledger = Ledger(tmp_path / "live.sqlite")
    records = PaperTrader(tiny_models, models, source, ledger).run(3)
    assert exchange.timeouts == 3 * 2 * 2  # every iteration tried ETH and SOL twice each
    assert len(records) == 1  # BTC's one new closed bar; later polls had nothing new
    assert list(records[0].scores) == ["BTC/USDT"]
    assert records[0].bar_time == candles.index[-1]


def test_engine_features_used_by_the_trader_are_the_trainers(tiny_models: Config) -> None:
    model = SymbolModel.load(tiny_models, "ETH/USDT")
    candles = load_candles(tiny_models.data.dir, "binance", "ETH/USDT", "1h")
    context = load_context(tiny_models, model.engine.context_symbols)
    full = FeatureEngine.from_config(tiny_models, "ETH/USDT").transform(candles, context)
    served = model.features(candles.iloc[-model.history_rows :], context)
    np.testing.assert_allclose(
        served.to_numpy(), full.iloc[-len(served) :].to_numpy(), rtol=1e-6, atol=1e-12
    )


def test_records_keep_their_own_portfolio(tiny_models: Config, tmp_path) -> None:
    models = load_models(tiny_models, ["BTC/USDT"], strict=True)
    candles = load_candles(tiny_models.data.dir, "binance", "BTC/USDT", "1h")
    from kilo.trading.sources import ReplaySource

    model = models["BTC/USDT"]
    source = ReplaySource(
        {"BTC/USDT": candles},
        {"BTC/USDT": model.history_rows},
        model.replay_start,
        load_context(tiny_models, model.engine.context_symbols),
    )
    ledger = Ledger(tmp_path / "r.sqlite")
    records = PaperTrader(tiny_models, models, source, ledger).run(60)
    saved = equity_curve(ledger)
    np.testing.assert_allclose([r.equity for r in records], saved["equity"], rtol=1e-12)
    assert len({r.equity for r in records}) > 1


def test_the_trader_follows_the_reference_it_does_not_trade(tiny_models: Config) -> None:
    from kilo.trading.session import context_symbols, make_source

    models = load_models(tiny_models, ["ETH/USDT"], strict=True)
    assert context_symbols(models) == ["BTC/USDT", "SOL/USDT"]  # reference and universe
    source = make_source(tiny_models, models, SessionOptions(5, ("ETH/USDT",)))
    bar_time, snapshots = next(source.iterations())
    assert list(snapshots) == ["ETH/USDT"]
    context = snapshots["ETH/USDT"].context
    assert {"BTC/USDT", "SOL/USDT"} <= set(context) and context["BTC/USDT"].index[-1] == bar_time
    prediction = models["ETH/USDT"].predict(snapshots["ETH/USDT"], PortfolioState())
    assert np.isfinite(prediction.score)

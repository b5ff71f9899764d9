from __future__ import annotations

import time
from pathlib import Path

import ccxt
import pandas as pd
import pytest

from kilo.data import read_freqtrade
from kilo.data.download import (
    check_reachable,
    download_candles,
    fetch_closed_candles,
    with_retries,
)
from kilo.errors import ExchangeError

HOUR_MS = 3_600_000
START_MS = 1_704_067_200_000  # 2024-01-01 00:00 UTC


class FakeExchange:
    """Serves hourly candles from START_MS; fails the first ``failures`` calls."""

    id = "fakex"
    rateLimit = 0

    def __init__(self, n_candles: int, failures: int = 0, error: type = ccxt.NetworkError):
        self.candles = [
            [START_MS + i * HOUR_MS, 100.0 + i, 101.0 + i, 99.0 + i, 100.5 + i, 1.0]
            for i in range(n_candles)
        ]
        self.failures = failures
        self.error = error
        self.calls: list[int] = []

    def fetch_ohlcv(self, symbol: str, timeframe: str, since: int, limit: int) -> list:
        self.calls.append(since)
        if self.failures:
            self.failures -= 1
            raise self.error("simulated outage")
        return [c for c in self.candles if c[0] >= since][:limit]


def test_retries_network_errors_with_exponential_backoff() -> None:
    exchange = FakeExchange(5, failures=2)
    delays: list[float] = []
    frame = fetch_closed_candles(
        exchange,
        "BTC/USDT",
        "1h",
        START_MS,
        now_ms=START_MS + 5 * HOUR_MS,
        base_delay=0.5,
        sleep=delays.append,
        progress=False,
    )
    assert delays == [0.5, 1.0]
    assert len(frame) == 5


def test_rate_limit_is_retried_and_other_errors_are_not() -> None:
    calls = iter([ccxt.RateLimitExceeded("slow down"), "ok"])

    def call() -> str:
        item = next(calls)
        if isinstance(item, Exception):
            raise item
        return item

    assert with_retries(call, max_retries=1, base_delay=1, sleep=lambda s: None) == "ok"
    with pytest.raises(ccxt.BadSymbol):
        with_retries(
            lambda: (_ for _ in ()).throw(ccxt.BadSymbol("x")),
            max_retries=3,
            base_delay=1,
            sleep=lambda s: None,
        )


def test_pagination_and_closed_candles_only() -> None:
    exchange = FakeExchange(25)
    now = START_MS + 20 * HOUR_MS + HOUR_MS // 2  # candle 20 is still open
    frame = fetch_closed_candles(
        exchange, "BTC/USDT", "1h", START_MS, now_ms=now, limit=7, progress=False
    )
    assert len(frame) == 20
    assert frame["date"].iloc[-1] == pd.Timestamp("2024-01-01 19:00", tz="UTC")
    assert exchange.calls[:3] == [START_MS, START_MS + 7 * HOUR_MS, START_MS + 14 * HOUR_MS]


def test_incremental_download_continues_from_last_candle(tmp_path: Path) -> None:
    first = FakeExchange(30)
    path = download_candles(
        first,
        "BTC/USDT",
        "1h",
        tmp_path,
        "2024-01-01",
        now_ms=START_MS + 10 * HOUR_MS,
        progress=False,
    )
    assert path == tmp_path / "fakex" / "BTC_USDT-1h.feather"
    assert len(read_freqtrade(path)) == 10
    second = FakeExchange(30)
    download_candles(
        second,
        "BTC/USDT",
        "1h",
        tmp_path,
        "2024-01-01",
        now_ms=START_MS + 25 * HOUR_MS,
        progress=False,
    )
    assert second.calls[0] == START_MS + 10 * HOUR_MS
    frame = read_freqtrade(path)
    assert len(frame) == 25 and frame["date"].is_unique


def test_failed_download_leaves_existing_file_byte_identical(tmp_path: Path) -> None:
    path = download_candles(
        FakeExchange(10),
        "BTC/USDT",
        "1h",
        tmp_path,
        "2024-01-01",
        now_ms=START_MS + 10 * HOUR_MS,
        progress=False,
    )
    before = path.read_bytes()
    broken = FakeExchange(30, failures=10**6)
    with pytest.raises(ExchangeError, match="after 4 attempts"):
        download_candles(
            broken,
            "BTC/USDT",
            "1h",
            tmp_path,
            "2024-01-01",
            now_ms=START_MS + 20 * HOUR_MS,
            max_retries=3,
            sleep=lambda s: None,
            progress=False,
        )
    assert path.read_bytes() == before
    assert [p.name for p in path.parent.iterdir()] == [path.name]  # no temp file left


class Unreachable:
    """An exchange whose every call fails as an offline machine's would."""

    id = "binance"
    has = {"fetchTime": True}
    timeout = 10_000

    def __init__(self) -> None:
        self.calls: list[str] = []

    def fetch_time(self):
        self.calls.append("fetch_time")
        raise ccxt.NetworkError("getaddrinfo failed")

    def fetch_ohlcv(self, *args, **kwargs):
        self.calls.append("fetch_ohlcv")
        raise ccxt.NetworkError("getaddrinfo failed")


def test_an_unreachable_exchange_is_found_out_at_once() -> None:
    exchange = Unreachable()
    with pytest.raises(ExchangeError, match="cannot reach binance.*internet.*--source replay"):
        check_reachable(exchange)
    assert exchange.calls == ["fetch_time"] and exchange.timeout == 10_000


def test_download_script_says_it_once_and_fetches_nothing(monkeypatch, tmp_path, caplog) -> None:
    import importlib.util

    spec = importlib.util.spec_from_file_location(
        "download_data", Path(__file__).resolve().parents[2] / "scripts" / "download_data.py"
    )
    script = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(script)
    exchange = Unreachable()
    monkeypatch.setattr(script, "make_exchange", lambda exchange_id: exchange)
    started = time.monotonic()
    code = script.main(["--data-dir", str(tmp_path), "--symbols", "BTCUSDT", "ETHUSDT"])
    assert code == 1 and time.monotonic() - started < 5
    assert exchange.calls == ["fetch_time"]  # no symbol was tried
    assert sum("cannot reach binance" in r.message for r in caplog.records) == 1

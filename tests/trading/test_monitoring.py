"""A trader that runs until stopped: /health, /metrics and signals, on a real subprocess."""

from __future__ import annotations

import json
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from prometheus_client.parser import text_string_to_metric_families

from kilo.config import Config
from kilo.trading.ledger import Ledger
from tests.trading.test_trader import SYMBOLS, check_ledger, trader_command

pytestmark = pytest.mark.slow


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def get(url: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()


def samples(text: str) -> dict[str, float]:
    """Every sample of a Prometheus text page: name{labels} -> value."""
    out = {}
    for family in text_string_to_metric_families(text):
        for s in family.samples:
            labels = ",".join(f"{k}={v}" for k, v in sorted(s.labels.items()))
            out[f"{s.name}{{{labels}}}" if labels else s.name] = s.value
    return out


def start_trader(config: Config, state: Path, port: int) -> subprocess.Popen:
    cmd = [
        *trader_command(config, state),
        "--iterations",
        "0",
        "--pace",
        "0.2",
        "--metrics-port",
        str(port),
        "--fresh",
    ]
    return subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)


def wait_for(url: str, proc: subprocess.Popen, seconds: float = 120) -> tuple[int, str]:
    deadline = time.time() + seconds
    while time.time() < deadline:
        assert proc.poll() is None, proc.stderr.read()[-2000:]
        try:
            status, body = get(url)
            if status == 200:
                return status, body
        except OSError:
            pass
        time.sleep(0.3)
    raise AssertionError(f"{url} never answered 200")


@pytest.mark.parametrize("stop", [signal.SIGTERM, signal.SIGINT])
def test_endpoints_and_a_clean_stop(tiny_models: Config, tmp_path, stop) -> None:
    port, state = free_port(), tmp_path / "paper.sqlite"
    proc = start_trader(tiny_models, state, port)
    try:
        _, body = wait_for(f"http://127.0.0.1:{port}/health", proc)
        health = json.loads(body)
        assert health["status"] == "ok" and set(health["model_versions"]) == set(SYMBOLS)
        assert (
            health["iterations"] >= 1 and health["last_bar_time"] and health["uptime_seconds"] > 0
        )
        first = samples(get(f"http://127.0.0.1:{port}/metrics")[1])
        time.sleep(1.5)
        second = samples(get(f"http://127.0.0.1:{port}/metrics")[1])
        assert second["kilo_iterations_total"] > first["kilo_iterations_total"] >= 1
        assert second["kilo_iteration_seconds_count"] > first["kilo_iteration_seconds_count"]
        assert "kilo_equity" in second and "kilo_cash" in second
        for symbol in SYMBOLS:
            assert f"kilo_exposure{{symbol={symbol}}}" in second
            assert 0.0 <= second[f"kilo_seconds_since_last_bar{{symbol={symbol}}}"] <= 3600.0
        assert any(k.startswith("kilo_model_set_info") for k in second)
    finally:
        proc.send_signal(stop)
        code = proc.wait(timeout=30)  # it runs without end (--iterations 0) unless it stops
    assert code == 0, proc.stderr.read()[-2000:]
    check_ledger(state, tiny_models.trading.fee, 3)  # the last iteration is complete
    assert Ledger(state).saved_state() is not None


def test_health_is_503_starting_before_the_first_iteration(tiny_models: Config) -> None:
    import pandas as pd

    from kilo.trading.monitoring import MonitoringServer, TraderMetrics

    metrics = TraderMetrics(lambda: pd.Timestamp("2025-01-01", tz="UTC"), pd.Timedelta("1h"))
    server = MonitoringServer(metrics, "127.0.0.1", 0)
    try:
        status, body = get(f"http://127.0.0.1:{server.port}/health")
        health = json.loads(body)
        assert status == 503 and health["status"] == "starting" and health["errors"] == []
    finally:
        server.close()

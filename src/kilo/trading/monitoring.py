"""A running trader's health and metrics, served over HTTP with prometheus-client.

``/metrics`` is Prometheus' text format (``prometheus_client.make_wsgi_app``);
``/health`` is JSON: ``status`` (``ok``; ``stale`` when the newest closed bar is older
than two timeframes by the source's clock; ``error`` when the last iteration failed
for a symbol; ``starting`` before the first iteration, so a probe can tell a trader
that is loading its models from a broken one; ``degraded`` when otherwise ok but a
symbol's models have drifted, :mod:`kilo.trading.drift`), ``last_bar_time``,
``iterations``, ``model_versions``, ``uptime_seconds`` and ``drift`` (``drifted``:
symbol -> reason; ``unavailable``: symbols whose model set has no drift reference),
with HTTP 200 when ok or degraded (drift alone never stops trading nor restarts the
trader) and 503 otherwise.
Both are served by prometheus-client's threading WSGI server (``wsgiref``) on
``monitoring.host`` (127.0.0.1 by default).
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterable
from functools import partial
from typing import Any
from wsgiref.simple_server import WSGIRequestHandler, make_server

import pandas as pd
from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, Info, make_wsgi_app
from prometheus_client.exposition import ThreadingWSGIServer

from kilo.trading.drift_gauges import DriftGauges
from kilo.trading.records import IterationRecord

LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)


class TraderMetrics:
    """Every series a trader exports, in its own registry.

    Parameters
    ----------
    now
        The source's clock (UTC): wall time live, the replay's own time in replay.
    timeframe
        One candle, for bar ages and staleness.
    """

    def __init__(self, now: Callable[[], pd.Timestamp], timeframe: pd.Timedelta) -> None:
        r = self.registry = CollectorRegistry()
        self.now, self.timeframe = now, timeframe
        self.iterations = Counter("kilo_iterations", "Iterations written to the ledger", registry=r)
        self.latency = Histogram(
            "kilo_iteration_seconds", "Seconds per iteration", buckets=LATENCY_BUCKETS, registry=r
        )
        self.equity = Gauge("kilo_equity", "Portfolio equity, quote currency", registry=r)
        self.cash = Gauge("kilo_cash", "Cash, quote currency", registry=r)
        self.exposure = Gauge(
            "kilo_exposure",
            "Position value over equity (gross: a short's too)",
            ["symbol"],
            registry=r,
        )
        self.open_positions = Gauge("kilo_open_positions", "Open positions", registry=r)
        self.side = Gauge(
            "kilo_position_side", "Open position: 1 long, -1 short, 0 flat", ["symbol"], registry=r
        )
        self.orders = Counter(
            "kilo_orders",
            "Orders by side, reason and status",
            ["side", "reason", "status"],
            registry=r,
        )
        self.fills = Counter(
            "kilo_fills", "Fills by side and reason", ["side", "reason"], registry=r
        )
        self.risk_events = Counter(
            "kilo_risk_events", "Risk rule events by rule", ["rule"], registry=r
        )
        self.model_set = Info(
            "kilo_model_set", "Model set version per symbol", ["symbol"], registry=r
        )
        self.reloads = Counter(
            "kilo_hot_reloads", "Hot reloads by outcome", ["outcome"], registry=r
        )
        self.exchange_errors = Counter(
            "kilo_exchange_errors", "Exchange errors by class", ["error"], registry=r
        )
        self.symbol_errors = Counter(
            "kilo_symbol_errors", "Symbols skipped by an error", ["symbol"], registry=r
        )
        self.bar_age = Gauge(
            "kilo_seconds_since_last_bar",
            "Seconds since the last closed bar",
            ["symbol"],
            registry=r,
        )
        self.drift = DriftGauges(r)
        self.started = time.monotonic()
        self.last_bar: dict[str, pd.Timestamp] = {}
        self.versions: dict[str, str] = {}
        self.count = 0
        self.failed: list[str] = []

    def set_versions(self, versions: dict[str, str]) -> None:
        """Record the model set version each symbol trades."""
        self.versions = dict(versions)
        for symbol, version in versions.items():
            self.model_set.labels(symbol=symbol).info({"version": version})

    def observe(self, record: IterationRecord, seconds: float) -> None:
        """Update every series with a written iteration that took ``seconds``; the symbols
        it skipped (``record.errors``) turn ``/health`` to ``error`` until an iteration
        without them."""
        self.count += 1
        self.iterations.inc()
        self.latency.observe(seconds)
        equity = record.equity
        self.equity.set(equity)
        self.cash.set(record.portfolio.cash)
        self.open_positions.set(len(record.portfolio.positions))
        for p in record.predictions:
            if p.symbol not in self.last_bar:
                self.bar_age.labels(symbol=p.symbol).set_function(
                    partial(self.bar_age_seconds, p.symbol)
                )
            self.last_bar[p.symbol] = p.bar_time
            position = record.portfolio.positions.get(p.symbol)
            value = position.quantity * record.marks[p.symbol] if position else 0.0
            self.exposure.labels(symbol=p.symbol).set(value / equity if equity > 0 else 0.0)
            self.side.labels(symbol=p.symbol).set(position.sign if position else 0.0)
        for order in record.orders:
            self.orders.labels(
                side=order.side, reason=order.reason, status="filled" if order.fill else "skipped"
            ).inc()
            if order.fill is not None:
                self.fills.labels(side=order.side, reason=order.fill.reason).inc()
        for event in record.risk_events:
            self.risk_events.labels(rule=event.rule).inc()
        self.drift.observe(record.drift)
        self.failed = list(record.errors)
        for symbol in self.failed:
            self.symbol_errors.labels(symbol=symbol).inc()

    def bar_age_seconds(self, symbol: str) -> float:
        """Seconds from the close of ``symbol``'s last bar to the source's now."""
        return (self.now() - (self.last_bar[symbol] + self.timeframe)).total_seconds()

    def health(self) -> dict[str, Any]:
        """The ``/health`` document (module docstring)."""
        newest = max(self.last_bar.values(), default=None)
        status = "ok"
        if self.count == 0:
            status = "starting"  # models loading, first bar not traded yet: not a failure
        elif self.failed:
            status = "error"
        elif newest is not None and self.now() - (newest + self.timeframe) > 2 * self.timeframe:
            status = "stale"
        drift = self.drift.health()
        if status == "ok" and drift["drifted"]:
            status = "degraded"
        return {
            "status": status,
            "last_bar_time": newest.isoformat() if newest else None,
            "iterations": self.count,
            "model_versions": self.versions,
            "uptime_seconds": round(time.monotonic() - self.started, 3),
            "errors": self.failed,
            "drift": drift,
        }


class _QuietHandler(WSGIRequestHandler):
    """No access log on stderr: a scrape every few seconds would drown the trader's log."""

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 (wsgiref's name)
        return


class MonitoringServer:
    """``/metrics`` and ``/health`` of ``metrics`` on ``host:port`` in a daemon thread."""

    def __init__(self, metrics: TraderMetrics, host: str, port: int) -> None:
        prometheus = make_wsgi_app(metrics.registry)

        def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
            if environ.get("PATH_INFO") == "/health":
                body = metrics.health()
                up = body["status"] in ("ok", "degraded")
                code = "200 OK" if up else "503 Service Unavailable"
                start_response(code, [("Content-Type", "application/json")])
                return [json.dumps(body).encode()]
            return prometheus(environ, start_response)

        self.server = make_server(host, port, app, ThreadingWSGIServer, handler_class=_QuietHandler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    @property
    def port(self) -> int:
        return int(self.server.server_port)

    def close(self) -> None:
        """Stop serving and release the port."""
        self.server.shutdown()
        self.server.server_close()

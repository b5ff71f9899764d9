"""Set up and run a paper-trading session: models, source, ledger, loop, summary."""

from __future__ import annotations

import contextlib
import logging
import signal
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from kilo.config import Config
from kilo.data import load_config_candles, timeframe_delta, timeframe_seconds
from kilo.data.download import check_reachable, make_exchange
from kilo.data.market import load_market_candles
from kilo.errors import DataError, ExchangeError, KiloError, ModelSetError
from kilo.trading.ledger import Ledger
from kilo.trading.monitoring import MonitoringServer, TraderMetrics
from kilo.trading.records import IterationRecord
from kilo.trading.reload import HotReloader
from kilo.trading.sources import LiveSource, ReplaySource
from kilo.trading.symbol_model import SymbolModel
from kilo.trading.trader import PaperTrader

logger = logging.getLogger(__name__)


class Stopped(BaseException):
    """SIGINT or SIGTERM asked the trader to stop (raised where the process is, so the
    iteration in flight is abandoned: the ledger's transaction rolls it back whole)."""


@contextlib.contextmanager
def stop_on_signals() -> Iterator[None]:
    """Turn SIGINT and SIGTERM into :class:`Stopped` while the block runs."""

    def handler(signum: int, frame: object) -> None:
        raise Stopped(signal.Signals(signum).name)

    previous = {s: signal.signal(s, handler) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for s, h in previous.items():
            signal.signal(s, h)


@dataclass(frozen=True)
class SessionOptions:
    """The trader's command-line choices (see ``scripts/trader.py --help``).

    ``iterations`` 0 runs until stopped (SIGINT or SIGTERM).
    """

    iterations: int
    symbols: tuple[str, ...] = ()
    source: str = "replay"
    start: pd.Timestamp | None = None
    interval: float | None = None
    state: Path | None = None  # None: trading.ledger_path
    fresh: bool = False
    strict: bool = False
    pace: float = 0.0
    metrics_port: int | None = None  # None: monitoring.port


def load_models(config: Config, symbols: list[str], strict: bool) -> dict[str, SymbolModel]:
    """Load each symbol's LATEST model set; unusable ones are logged and skipped.

    Raises
    ------
    ModelSetError
        With ``strict``, for the first unusable model set; or when none is usable.
    """
    models = {}
    for symbol in symbols:
        try:
            models[symbol] = SymbolModel.load(config, symbol)
        except KiloError as exc:
            if strict:
                raise
            logger.error("%s: skipped: %s", symbol, exc)
    if not models:
        raise ModelSetError("no symbol has a usable model set; train with scripts/trainer.py")
    return models


def context_symbols(models: dict[str, SymbolModel]) -> list[str]:
    """Symbols the models' features read but that are not traded (reference, universe)."""
    return sorted({c for m in models.values() for c in m.engine.context_symbols} - set(models))


def make_source(
    config: Config,
    models: dict[str, SymbolModel],
    options: SessionOptions,
    on_error: Callable[[ExchangeError], None] | None = None,
) -> ReplaySource | LiveSource:
    """A replay source from local candles, or a live one from the configured exchange;
    either also follows the symbols the features read but that are not traded.

    In replay, symbols whose candles cannot be read are skipped and removed from
    ``models`` (:func:`replay_candles`).

    Raises
    ------
    DataError
        In replay, with ``strict`` if any candle file is unreadable, or when no traded
        symbol has readable candles.
    """
    rows = {s: m.history_rows for s, m in models.items()}
    d = config.data
    followed = context_symbols(models)
    if followed:
        logger.info("following %s for the cross-asset features", followed)
    if options.source == "live":
        interval = options.interval or timeframe_seconds(d.timeframe)
        exchange = make_exchange(d.exchange)
        check_reachable(exchange)
        return LiveSource(
            exchange,
            sorted(models),
            d.timeframe,
            rows,
            interval=interval,
            max_retries=d.max_retries,
            base_delay=d.retry_base_delay,
            context_symbols=tuple(followed),
            on_error=on_error,
        )
    candles, context = replay_candles(config, models, followed, options.strict)
    safe_start = max(m.replay_start for m in models.values())
    start = options.start or safe_start
    early = [s for s, m in models.items() if start < m.replay_start]
    if early:
        logger.warning(
            "replay starts at %s, before the first unseen bar of %s: those bars were "
            "used in training, early stopping or a promotion decision, so results "
            "there are not out of sample",
            start,
            early,
        )
    last = min(c.index[-1] for c in candles.values())
    if start >= last:
        logger.warning(
            "no candle after %s to replay: every bar on disk was used to train or "
            "select these model sets; download newer candles or pass --start",
            start,
        )
    rows = {s: rows[s] for s in candles}
    return ReplaySource(candles, rows, start, context, options.pace)


def replay_candles(
    config: Config, models: dict[str, SymbolModel], followed: list[str], strict: bool
) -> tuple[dict[str, pd.DataFrame], dict[str, pd.DataFrame]]:
    """The candles of the traded and followed symbols for a replay.

    A traded symbol whose candles, or whose features' context candles, cannot be read
    is skipped like an unusable model set: removed from ``models``, with every bad file
    logged at once and what to do.

    Raises
    ------
    DataError
        With ``strict``, if any file cannot be read; or when no traded symbol is left.
        The message lists every bad file.
    """
    loaded: dict[str, pd.DataFrame] = {}
    bad: dict[str, str] = {}
    for symbol in dict.fromkeys([*models, *followed]):
        try:
            loaded[symbol] = (
                load_market_candles(config, symbol)
                if symbol in models
                else load_config_candles(config.data, symbol)
            )
        except DataError as exc:
            bad[symbol] = str(exc)
    if bad:
        listing = "; ".join(bad.values())
        advice = (
            "re-download them (scripts/download_data.py --symbol ...) or leave those "
            "symbols out (--symbols)"
        )
        if strict:
            raise DataError(f"unreadable candles ({listing}): {advice}")
        needs = {s: {s, *m.engine.references} for s, m in models.items()}
        for symbol in [s for s, needed in needs.items() if needed & set(bad)]:
            del models[symbol]
            logger.error(
                "%s: skipped: its candles or its reference symbols' are unreadable", symbol
            )
        logger.error(
            "unreadable candles: %s; %s (a universe member left out is absent from the "
            "cross-section)",
            listing,
            advice,
        )
        if not models:
            raise DataError(f"no symbol has readable candles ({listing}): {advice}")
    return {s: loaded[s] for s in models}, {s: loaded[s] for s in followed if s in loaded}


def run_session(
    config: Config,
    options: SessionOptions,
    on_iteration: Callable[[IterationRecord], None] | None = None,
    before_iteration: Callable[[], object] | None = None,
) -> Ledger:
    """Load models, open the ledger, serve the endpoints, run the iterations.

    ``on_iteration`` is called after each iteration is written; ``before_iteration``
    before each iteration takes its bar, ahead of the hot reload (a hook that saves and
    promotes a new set there has it traded from that bar on:
    :class:`kilo.retrain.replay.ReplayRetrainer`). SIGINT or SIGTERM end the run (the
    iteration in flight is abandoned unwritten). Returns the open ledger.

    Raises
    ------
    ModelSetError, DataError, ExchangeError
        If no model set is usable, replay candles are missing, or the exchange cannot
        be reached (live).
    """
    symbols = list(options.symbols) or config.symbols
    models = load_models(config, symbols, options.strict)
    timeframe = timeframe_delta(config.data.timeframe)
    holder: dict[str, ReplaySource | LiveSource] = {}
    metrics = TraderMetrics(lambda: holder["source"].now(), timeframe)
    source = holder["source"] = make_source(
        config,
        models,
        options,
        lambda exc: metrics.exchange_errors.labels(error=type(exc.__cause__ or exc).__name__).inc(),
    )
    state = options.state or config.trading.ledger_path
    ledger = Ledger(state, fresh=options.fresh)
    if options.start is not None and ledger.saved_state() is not None:
        logger.warning("--start is ignored while resuming %s; add --fresh to start over", state)
    metrics.set_versions({s: m.version for s, m in models.items()})
    metrics.drift.set_available({s: m.drift is not None for s, m in models.items()})

    def on_reload(symbol: str, swapped: bool) -> None:
        metrics.reloads.labels(outcome="swapped" if swapped else "failed").inc()
        metrics.set_versions({s: m.version for s, m in models.items()})
        metrics.drift.set_available({s: m.drift is not None for s, m in models.items()})

    reload = HotReloader(config, models, source.history_rows, on_reload=on_reload)

    def before() -> None:
        if before_iteration is not None:
            before_iteration()
        reload()

    port = options.metrics_port or config.monitoring.port
    server = MonitoringServer(metrics, config.monitoring.host, port) if port else None
    if server is not None:
        logger.info("serving /metrics and /health on %s:%d", config.monitoring.host, server.port)
    try:
        with stop_on_signals():
            PaperTrader(config, models, source, ledger).run(
                options.iterations, on_iteration, before, metrics, keep=False
            )
    except Stopped as stop:
        logger.info("%s: stopped; every written iteration is complete", stop)
    finally:
        if server is not None:
            server.close()
    return ledger

"""Set up and run a paper-trading session: models, source, ledger, loop, summary."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from kilo.config import Config
from kilo.data import load_candles, timeframe_seconds
from kilo.data.download import make_exchange
from kilo.errors import KiloError, ModelSetError
from kilo.trading.ledger import Ledger
from kilo.trading.records import IterationRecord
from kilo.trading.reload import HotReloader
from kilo.trading.sources import LiveSource, ReplaySource
from kilo.trading.symbol_model import SymbolModel
from kilo.trading.trader import PaperTrader

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class SessionOptions:
    """The trader's command-line choices (see ``scripts/trader.py --help``)."""

    iterations: int
    symbols: tuple[str, ...] = ()
    source: str = "replay"
    start: pd.Timestamp | None = None
    interval: float | None = None
    state: Path | None = None  # None: trading.ledger_path
    fresh: bool = False
    strict: bool = False


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


def make_source(config: Config, models: dict[str, SymbolModel],
                options: SessionOptions) -> ReplaySource | LiveSource:
    """A replay source from local candles, or a live one from the configured exchange;
    either also follows the symbols the features read but that are not traded.

    Raises
    ------
    DataError
        In replay, if a traded or followed symbol's candles are missing.
    """
    rows = {s: m.history_rows for s, m in models.items()}
    d = config.data
    followed = context_symbols(models)
    if followed:
        logger.info("following %s for the cross-asset features", followed)
    if options.source == "live":
        interval = options.interval or timeframe_seconds(d.timeframe)
        return LiveSource(make_exchange(d.exchange), sorted(models), d.timeframe, rows,
                          interval=interval, max_retries=d.max_retries,
                          base_delay=d.retry_base_delay, context_symbols=tuple(followed))
    candles = {s: load_candles(d.dir, d.exchange, s, d.timeframe) for s in models}
    safe_start = max(m.replay_start for m in models.values())
    start = options.start or safe_start
    early = [s for s, m in models.items() if start < m.replay_start]
    if early:
        logger.warning("replay starts at %s, before the first unseen bar of %s: those bars were "
                       "used in training, early stopping or a promotion decision, so results "
                       "there are not out of sample", start, early)
    last = min(c.index[-1] for c in candles.values())
    if start >= last:
        logger.warning("no candle after %s to replay: every bar on disk was used to train or "
                       "select these model sets; download newer candles or pass --start", start)
    context = {s: load_candles(d.dir, d.exchange, s, d.timeframe) for s in followed}
    return ReplaySource(candles, rows, start, context)


def run_session(config: Config, options: SessionOptions,
                on_iteration: Callable[[IterationRecord], None] | None = None) -> Ledger:
    """Load models, open the ledger, run the iterations; returns the open ledger."""
    symbols = list(options.symbols) or config.symbols
    models = load_models(config, symbols, options.strict)
    source = make_source(config, models, options)
    state = options.state or config.trading.ledger_path
    ledger = Ledger(state, fresh=options.fresh)
    if options.start is not None and ledger.saved_state() is not None:
        logger.warning("--start is ignored while resuming %s; add --fresh to start over", state)
    reload = HotReloader(config, models, source.history_rows)
    PaperTrader(config, models, source, ledger).run(options.iterations, on_iteration, reload)
    return ledger

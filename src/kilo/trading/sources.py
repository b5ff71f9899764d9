"""Market data for the trader: replayed local candles or live candles via ccxt."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from kilo.data import FILLED, timeframe_delta, validate_candles
from kilo.data.download import fetch_closed_candles, with_retries
from kilo.data.funding import FUNDING
from kilo.errors import ExchangeError
from kilo.trading.accounts import Candle

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class MarketSnapshot:
    """One symbol at one closed bar.

    ``history`` holds the trailing validated candles ending with the bar (the feature
    window), ``bar`` that candle, and ``fill_price`` / ``fill_time`` where an order
    decided on this bar executes: the next bar's open in replay, the last price live.
    ``context`` maps every other symbol the source follows to its trailing candles up to
    the bar (the cross-asset features read them). ``funding_rate`` is the funding a
    perpetual position held into ``fill_time`` pays there (fraction of notional; the
    candles' :data:`~kilo.data.funding.FUNDING` column in replay; 0 on spot and live).
    """

    symbol: str
    bar_time: pd.Timestamp
    history: pd.DataFrame
    fill_price: float
    fill_time: pd.Timestamp
    context: Mapping[str, pd.DataFrame] = field(default_factory=dict)
    funding_rate: float = 0.0

    @property
    def bar(self) -> Candle:
        """The closed candle decided on."""
        row = self.history.iloc[-1]
        return Candle(
            float(row["open"]), float(row["high"]), float(row["low"]), float(row["close"])
        )


Iteration = tuple[pd.Timestamp, dict[str, MarketSnapshot]]


class ReplaySource:
    """Steps through local candles one closed bar per iteration, all symbols in step.

    A candle filled in for an exchange outage (``filled``), or one whose next candle
    (where its orders would fill) is, gives no snapshot: as live, where no candle came.

    Parameters
    ----------
    candles
        Symbol -> validated candles (:func:`kilo.data.load_candles`) of the traded symbols.
    history_rows
        Symbol -> candles each snapshot's ``history`` holds.
    start
        First bar to trade; a symbol joins once it has ``history_rows`` candles before.
    end
        Last bar to trade (inclusive); None: to the end of the candles.
    context
        Validated candles of symbols read by the features but not traded.
    pace
        Seconds to sleep between iterations (demonstrations, endpoint tests).
    """

    name = "replay"

    def __init__(
        self,
        candles: dict[str, pd.DataFrame],
        history_rows: dict[str, int],
        start: pd.Timestamp,
        context: Mapping[str, pd.DataFrame] | None = None,
        pace: float = 0.0,
        end: pd.Timestamp | None = None,
    ) -> None:
        self.candles = candles
        self.history_rows = history_rows
        self.start = start
        self.end = end
        self.followed = {**(context or {}), **candles}
        self.pace = pace
        self._now = start

    def now(self) -> pd.Timestamp:
        """The replay's clock: the close of the latest bar it has handed out."""
        return self._now

    def iterations(self, after: pd.Timestamp | None = None) -> Iterator[Iteration]:
        """Yield ``(bar_time, snapshots)`` for bars from ``start`` (or after ``after``)
        to ``end``."""
        first = self.start if after is None else max(self.start, after + pd.Timedelta(1, "ns"))
        times = sorted(set().union(*(c.index[c.index >= first] for c in self.candles.values())))
        if self.end is not None:
            times = [t for t in times if t <= self.end]
        for bar_time in times:
            rows = max(self.history_rows.values())
            context = {
                s: c.iloc[max(0, end - rows) : end]
                for s, c in self.followed.items()
                if (end := int(c.index.searchsorted(bar_time, side="right")))
            }
            snapshots = {}
            for symbol, candles in self.candles.items():
                snap = self._snapshot(symbol, candles, bar_time, context)
                if snap is not None:
                    snapshots[symbol] = snap
            if snapshots:
                self._now = max(s.fill_time for s in snapshots.values())
                yield bar_time, snapshots
                if self.pace:
                    time.sleep(self.pace)

    def _snapshot(
        self,
        symbol: str,
        candles: pd.DataFrame,
        bar_time: pd.Timestamp,
        context: Mapping[str, pd.DataFrame],
    ) -> MarketSnapshot | None:
        pos = int(candles.index.searchsorted(bar_time))
        rows = self.history_rows[symbol]
        if pos >= len(candles) - 1 or candles.index[pos] != bar_time or pos + 1 < rows:
            return None  # no such bar, no next bar to fill at, or too little history
        if FILLED in candles.columns and candles[FILLED].iloc[pos : pos + 2].any():
            return None  # an outage's filled candle, or its fill would be: never traded
        nxt = candles.iloc[pos + 1]
        return MarketSnapshot(
            symbol,
            bar_time,
            candles.iloc[pos + 1 - rows : pos + 1],
            float(nxt["open"]),
            candles.index[pos + 1],
            context,
            float(nxt[FUNDING]) if FUNDING in candles.columns else 0.0,
        )


class LiveSource:
    """Polls an exchange every ``interval`` seconds for the latest closed candles.

    Candles are cached per symbol and fetched incrementally with the download code's
    retry policy; an exchange failure skips that symbol for the iteration with a
    warning, and the loop goes on. Orders fill at the ticker's last price.

    Parameters
    ----------
    exchange
        A ccxt exchange (or an object with ``id``, ``fetch_ohlcv`` and ``fetch_ticker``).
    context_symbols
        Symbols the features read but that are not traded: polled as well, and passed
        in every snapshot's ``context``.
    on_error
        Called with each exchange failure (e.g. to count it by class).
    sleep, clock
        Injectable for tests: ``sleep(seconds)`` and ``clock() -> epoch ms``.
    """

    name = "live"

    def __init__(
        self,
        exchange: Any,
        symbols: list[str],
        timeframe: str,
        history_rows: dict[str, int],
        *,
        interval: float,
        max_retries: int,
        base_delay: float,
        context_symbols: tuple[str, ...] = (),
        on_error: Callable[[ExchangeError], None] | None = None,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], int] = lambda: int(time.time() * 1000),
    ) -> None:
        self.exchange, self.symbols, self.timeframe = exchange, symbols, timeframe
        self.context_symbols = [s for s in context_symbols if s not in symbols]
        self.history_rows, self.interval = history_rows, interval
        self.retry: dict[str, Any] = {
            "max_retries": max_retries,
            "base_delay": base_delay,
            "sleep": sleep,
        }
        self.sleep, self.clock, self.on_error = sleep, clock, on_error
        self._raw: dict[str, pd.DataFrame] = {}
        self._candles: dict[str, pd.DataFrame] = {}
        self._last_bar: dict[str, pd.Timestamp] = {}

    def iterations(self, after: pd.Timestamp | None = None) -> Iterator[Iteration]:
        """Yield ``(time, snapshots)`` once per interval, forever; symbols without a
        new closed bar, or whose exchange calls failed, are left out. A context symbol
        that fails keeps its last candles (the features forward-fill a few bars)."""
        first = True
        while True:
            if not first:
                self.sleep(self.interval)
            first = False
            fresh = set()
            for symbol in [*self.symbols, *self.context_symbols]:
                try:
                    self._refresh(symbol)
                    fresh.add(symbol)
                except ExchangeError as exc:
                    self._failed(symbol, exc)
            snapshots = {}
            for symbol in self.symbols:
                try:
                    snap = self._snapshot(symbol) if symbol in fresh else None
                except ExchangeError as exc:
                    self._failed(symbol, exc)
                    continue
                if snap is not None and (after is None or snap.bar_time > after):
                    snapshots[symbol] = snap
            now = pd.Timestamp(self.clock(), unit="ms", tz="UTC")
            yield max((s.bar_time for s in snapshots.values()), default=now), snapshots

    def now(self) -> pd.Timestamp:
        """The wall clock (UTC)."""
        return pd.Timestamp(self.clock(), unit="ms", tz="UTC")

    def _failed(self, symbol: str, exc: ExchangeError) -> None:
        logger.warning("%s: skipped this iteration: %s", symbol, exc)
        if self.on_error is not None:
            self.on_error(exc)

    def _refresh(self, symbol: str) -> None:
        """Fetch the symbol's new closed candles into its cache and validate the window."""
        step = timeframe_delta(self.timeframe)
        rows = max(self.history_rows.values())
        cached = self._raw.get(symbol)
        since = (
            cached["date"].iloc[-1] + step
            if cached is not None
            else pd.Timestamp(self.clock(), unit="ms", tz="UTC") - step * (rows + 2)
        )
        new = fetch_closed_candles(
            self.exchange,
            symbol,
            self.timeframe,
            int(since.timestamp() * 1000),
            now_ms=self.clock(),
            progress=False,
            **self.retry,
        )
        raw = new if cached is None else pd.concat([cached, new], ignore_index=True)
        self._raw[symbol] = raw.iloc[-(rows + 2) :].reset_index(drop=True)
        self._candles[symbol], _ = validate_candles(
            self._raw[symbol], self.timeframe, source=symbol
        )

    def _snapshot(self, symbol: str) -> MarketSnapshot | None:
        candles, rows = self._candles[symbol], self.history_rows[symbol]
        if len(candles) < rows or candles.index[-1] == self._last_bar.get(symbol):
            return None
        ticker = with_retries(
            lambda: self.exchange.fetch_ticker(symbol), what=f"fetch_ticker {symbol}", **self.retry
        )
        self._last_bar[symbol] = candles.index[-1]
        return MarketSnapshot(
            symbol,
            candles.index[-1],
            candles.iloc[-rows:],
            float(ticker["last"]),
            pd.Timestamp(self.clock(), unit="ms", tz="UTC"),
            dict(self._candles),
        )

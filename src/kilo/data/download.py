"""Download closed candles with ccxt: paginated, incremental, retried, atomic."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import ccxt
import pandas as pd
from tqdm.auto import tqdm

from kilo.data.readers import COLUMNS, read_freqtrade
from kilo.data.symbols import candle_path, timeframe_seconds
from kilo.errors import ConfigError, ExchangeError
from kilo.utils import atomic_path

logger = logging.getLogger(__name__)

T = TypeVar("T")
RETRYABLE = (ccxt.NetworkError, ccxt.RateLimitExceeded)


def make_exchange(exchange_id: str) -> ccxt.Exchange:
    """A ccxt exchange with ``enableRateLimit`` on, so calls respect ``rateLimit``.

    Raises
    ------
    ConfigError
        If ccxt has no exchange of that id.
    """
    cls = getattr(ccxt, exchange_id, None)
    if not isinstance(cls, type) or not issubclass(cls, ccxt.Exchange):
        raise ConfigError(f"ccxt knows no exchange {exchange_id!r}; see ccxt.exchanges")
    return cls({"enableRateLimit": True})


def check_reachable(exchange: Any, timeout_ms: int = 5000) -> None:
    """One quick call to the exchange, so an offline machine learns it at once.

    Calls ``fetch_time`` (or ``load_markets`` where the exchange lacks it) with a
    ``timeout_ms`` time-out and no retry.

    Raises
    ------
    ExchangeError
        If the exchange cannot be reached; the message says what to do instead.
    """
    previous = exchange.timeout
    exchange.timeout = timeout_ms
    try:
        exchange.fetch_time() if exchange.has.get("fetchTime") else exchange.load_markets()
    except (ccxt.NetworkError, ccxt.ExchangeNotAvailable) as exc:
        raise ExchangeError(
            f"cannot reach {exchange.id} ({type(exc).__name__}): check the internet connection, "
            "or work offline with candles you have (--data-dir, KILO_DATA_DIR) and "
            "scripts/trader.py --source replay"
        ) from exc
    finally:
        exchange.timeout = previous


def with_retries(
    call: Callable[[], T],
    *,
    max_retries: int,
    base_delay: float,
    what: str = "exchange call",
    sleep: Callable[[float], None] = time.sleep,
) -> T:
    """Run ``call``, retrying ccxt network and rate-limit errors with exponential back-off.

    The n-th retry waits ``base_delay * 2**(n-1)`` seconds.

    Raises
    ------
    ExchangeError
        When every one of the ``1 + max_retries`` attempts failed with a retryable
        error; other exceptions propagate at once.
    """
    for attempt in range(max_retries + 1):
        try:
            return call()
        except RETRYABLE as exc:
            if attempt == max_retries:
                raise ExchangeError(
                    f"{what} failed after {attempt + 1} attempts: {type(exc).__name__}: {exc}. "
                    "Check the network or try again later."
                ) from exc
            delay = base_delay * 2**attempt
            logger.warning(
                "%s: %s; retry %d in %.1fs", what, type(exc).__name__, attempt + 1, delay
            )
            sleep(delay)
    raise AssertionError("unreachable")


def fetch_closed_candles(
    exchange: Any,
    symbol: str,
    timeframe: str,
    since_ms: int,
    *,
    now_ms: int | None = None,
    limit: int = 1000,
    max_retries: int = 5,
    base_delay: float = 1.0,
    sleep: Callable[[float], None] = time.sleep,
    progress: bool = True,
) -> pd.DataFrame:
    """Page through ``exchange.fetch_ohlcv`` from ``since_ms`` up to now.

    Only closed candles are kept (open time + one timeframe <= ``now_ms``).

    Returns
    -------
    DataFrame with columns date (UTC), open, high, low, close, volume; possibly empty.

    Raises
    ------
    ExchangeError
        If a page still fails after ``max_retries`` retries.
    """
    step_ms = timeframe_seconds(timeframe) * 1000
    now_ms = int(time.time() * 1000) if now_ms is None else now_ms
    rows: list[list[float]] = []
    cursor = since_ms
    total = max(0, (now_ms - since_ms) // step_ms)
    with tqdm(
        total=total, desc=f"{symbol} {timeframe}", unit="candle", disable=not progress
    ) as bar:
        while cursor + step_ms <= now_ms:

            def fetch(since: int = cursor) -> list[list[float]]:
                return list(exchange.fetch_ohlcv(symbol, timeframe, since=since, limit=limit))

            page = with_retries(
                fetch,
                max_retries=max_retries,
                base_delay=base_delay,
                what=f"fetch_ohlcv {symbol} {timeframe}",
                sleep=sleep,
            )
            page = [row for row in page if row[0] >= cursor and row[0] + step_ms <= now_ms]
            if not page:
                break
            rows.extend(page)
            bar.update(len(page))
            cursor = int(page[-1][0]) + step_ms
    frame = pd.DataFrame([r[:6] for r in rows], columns=COLUMNS)
    frame["date"] = pd.to_datetime(frame["date"].astype("int64"), unit="ms", utc=True)
    return frame


def download_candles(
    exchange: Any,
    symbol: str,
    timeframe: str,
    data_dir: str | Path,
    since: str,
    **fetch_kwargs: Any,
) -> Path:
    """Bring ``{data_dir}/{exchange.id}/{BASE}_{QUOTE}-{timeframe}.feather`` up to date.

    An existing file is continued from its last candle (``since`` is then ignored);
    the merged result is written to a temporary file and renamed into place, so a
    failure at any point leaves the existing file byte-identical.

    Parameters
    ----------
    since
        First candle date (UTC, anything ``pandas.Timestamp`` parses) for a new file.
    fetch_kwargs
        Passed to :func:`fetch_closed_candles` (``now_ms``, ``max_retries``...).

    Returns
    -------
    The path of the candle file.

    Raises
    ------
    ExchangeError, DataError
        If the exchange keeps failing, or the existing file is unreadable.
    """
    path = candle_path(Path(data_dir), exchange.id, symbol, timeframe, ".feather")
    existing = read_freqtrade(path) if path.exists() else pd.DataFrame(columns=COLUMNS)
    if len(existing):
        step_ms = timeframe_seconds(timeframe) * 1000
        since_ms = int(existing["date"].max().timestamp() * 1000) + step_ms
    else:
        since_ms = int(pd.Timestamp(since, tz="UTC").timestamp() * 1000)
    new = fetch_closed_candles(exchange, symbol, timeframe, since_ms, **fetch_kwargs)
    logger.info("%s %s: %d new candles", symbol, timeframe, len(new))
    if new.empty and len(existing):
        return path
    parts = [f for f in (existing, new) if len(f)]
    merged = pd.concat(parts, ignore_index=True) if parts else new
    merged = merged.drop_duplicates("date", keep="last").sort_values("date").reset_index(drop=True)
    with atomic_path(path) as tmp:
        merged.to_feather(tmp)
    return path

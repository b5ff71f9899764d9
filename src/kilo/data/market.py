"""The candles a strategy trades: spot, or a USDT-M perpetual with its funding.

On spot these are :func:`kilo.data.load_config_candles`. On futures
(``trading.market: futures``) they are the perpetual's own candles from freqtrade's
futures layout (``{data_dir}/{exchange}/futures/{BASE}_{QUOTE}_{QUOTE}-{tf}-futures.feather``)
where they exist, spot candles as the stated proxy before and after them, and a
:data:`~kilo.data.funding.FUNDING` column with the funding rate charged at each open.
One log line per symbol says which candles were used where.
"""

from __future__ import annotations

import logging
from functools import lru_cache
from pathlib import Path

import pandas as pd

from kilo.config import Config
from kilo.config.venue import FundingConfig
from kilo.data import load_config_candles, read_freqtrade, validate_candles
from kilo.data.funding import (
    FUNDING,
    funding_file,
    funding_per_bar,
    funding_schedule,
    futures_dir,
    futures_pair,
    read_funding_rates,
)

logger = logging.getLogger(__name__)


def perpetual_candles(
    data_dir: str | Path, exchange: str, symbol: str, timeframe: str
) -> pd.DataFrame | None:
    """The perpetual's validated candles, or None without a file. Leading flat candles
    (high == low: the listing's placeholder prices) are dropped."""
    path = futures_dir(data_dir, exchange) / f"{futures_pair(symbol)}-{timeframe}-futures.feather"
    if not path.is_file():
        return None
    raw = read_freqtrade(path)
    traded = (raw["high"] > raw["low"]).to_numpy()
    raw = raw.iloc[int(traded.argmax()) :] if traded.any() else raw
    frame, report = validate_candles(raw, timeframe, source=str(path))
    if not report.clean:
        logger.warning("%s: %s", path, report.as_dict())
    return frame


def _join(
    spot: pd.DataFrame, perp: pd.DataFrame | None, symbol: str, timeframe: str
) -> pd.DataFrame:
    """The perpetual's candles (inside the spot candles' span, both on one regular grid)
    over their span, spot's before and after them; logged."""
    if perp is None or perp.empty:
        logger.info(
            "%s futures: no perpetual candles in the span; spot candles as the proxy throughout",
            symbol,
        )
        return spot
    first, last = perp.index[0], perp.index[-1]
    before, after = spot[spot.index < first], spot[spot.index > last]
    logger.info(
        "%s futures: the perpetual's %s candles %s .. %s; spot candles as the proxy for the "
        "%d candles before and the %d after",
        symbol,
        timeframe,
        f"{first:%Y-%m-%d %H:%M}",
        f"{last:%Y-%m-%d %H:%M}",
        len(before),
        len(after),
    )
    return pd.concat([before, perp, after])


@lru_cache(maxsize=64)
def _events(
    path: Path,
    modified: int,
    first: pd.Timestamp,
    last: pd.Timestamp,
    funding: FundingConfig,
    symbol: str,
) -> pd.Series:
    """:func:`funding_schedule` of a file (``modified``: its mtime in ns, -1 when it
    does not exist), cached so that its warning comes once per file, span and process."""
    rates = read_funding_rates(path) if modified >= 0 else None
    events, coverage = funding_schedule(rates, first, last, funding, symbol, path)
    if coverage.fallback_events:
        logger.warning(coverage.describe(funding))
    return events


def load_market_candles(config: Config, symbol: str) -> pd.DataFrame:
    """The validated candles ``symbol`` trades on ``config.trading.market``, in
    ``data.start`` .. ``data.end``.

    Returns
    -------
    pandas.DataFrame as :func:`kilo.data.load_candles`; on futures with the
    perpetual's candles over their span (spot's elsewhere) and a float64 column
    :data:`~kilo.data.funding.FUNDING`: the funding rate (fraction of notional,
    positive: longs pay) charged at each candle's open, from the rate file, or
    ``trading.funding.fallback_rate`` where it has none (one warning per symbol and span).

    Raises
    ------
    DataError
        If a file is missing (spot candles) or malformed, or the funding file fails
        :func:`~kilo.data.funding.read_funding_rates`' checks.
    """
    spot = load_config_candles(config.data, symbol)
    if config.trading.market == "spot":
        return spot
    d = config.data
    perp = perpetual_candles(d.dir, d.exchange, symbol, d.timeframe)
    if perp is not None:
        perp = perp[(perp.index >= spot.index[0]) & (perp.index <= spot.index[-1])]
    candles = _join(spot, perp, symbol, d.timeframe)
    index = pd.DatetimeIndex(candles.index)
    source = funding_file(d.dir, d.exchange, symbol)
    modified = source.stat().st_mtime_ns if source.is_file() else -1
    events = _events(source, modified, index[0], index[-1], config.trading.funding, symbol)
    return candles.assign(**{FUNDING: funding_per_bar(events, index)})

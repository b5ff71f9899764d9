"""Funding rates of USDT-M perpetuals from freqtrade's futures layout.

freqtrade stores one row per funding event in
``{data_dir}/{exchange}/futures/{BASE}_{QUOTE}_{QUOTE}-1h-funding_rate.feather``
(freqtrade 2026.9's name; older versions wrote ``-8h-funding_rate``): ``date`` (UTC) and
``open``, the rate as a fraction of notional (0.0001 = 0.01 %; positive: longs pay
shorts); high, low, close and volume are 0. Binance pays funding every 8 h, sometimes
every 4, 2 or 1 h.

:func:`read_funding_rates` reads and checks a file; :func:`funding_schedule` completes
its events over a candle span with a configured constant where the file has none
(before it starts, after it ends, in its gaps), and says so; :func:`funding_per_bar`
puts the events on the candles.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from kilo.config.venue import FundingConfig
from kilo.data.readers import read_freqtrade
from kilo.data.symbols import normalize_symbol
from kilo.errors import DataError

logger = logging.getLogger(__name__)

#: Candle column: the funding rate charged at this candle's open (the sum of the
#: events after the previous open, up to this one), fraction of notional.
FUNDING = "funding_rate"
#: The highest median |rate| per event a file may hold: ten times Binance's base rate.
#: Above it the file most likely stores percent where a fraction belongs.
MAX_MEDIAN_RATE = 0.001
#: The largest |rate| of one event (real events reach about 2 %, SOL in 2022-11).
MAX_EVENT_RATE = 0.05
#: File-name endings of a funding file, newest freqtrade first.
FUNDING_SUFFIXES = ("-1h-funding_rate.feather", "-8h-funding_rate.feather")


def futures_pair(symbol: str) -> str:
    """``"BTC/USDT"`` -> ``"BTC_USDT_USDT"``: freqtrade's file name of the USDT-M
    perpetual ``BTC/USDT:USDT`` (the quote currency settles it)."""
    base, quote = normalize_symbol(symbol).split("/")
    return f"{base}_{quote}_{quote}"


def futures_dir(data_dir: str | Path, exchange: str) -> Path:
    """The folder of freqtrade's futures files: ``{data_dir}/{exchange}/futures``."""
    return Path(data_dir) / exchange / "futures"


def funding_file(data_dir: str | Path, exchange: str, symbol: str) -> Path:
    """The symbol's funding-rate file: the first of :data:`FUNDING_SUFFIXES` that
    exists, else the first's path (which does not exist)."""
    tried = [
        futures_dir(data_dir, exchange) / f"{futures_pair(symbol)}{s}" for s in FUNDING_SUFFIXES
    ]
    return next((path for path in tried if path.is_file()), tried[0])


def read_funding_rates(path: Path) -> pd.Series:
    """The funding events of one file, checked.

    Returns
    -------
    pd.Series, float64, the rate of each event (fraction of notional, positive: longs
    pay), indexed by the event's UTC time, sorted, one row per time; named
    :data:`FUNDING`.

    Raises
    ------
    DataError
        If the file is unreadable or holds no event; if two rows of one time disagree;
        if a rate is not finite; if the median |rate| exceeds :data:`MAX_MEDIAN_RATE`
        (rates in percent where a fraction belongs: the file is named); or if one event
        exceeds :data:`MAX_EVENT_RATE` (its row is named).
    """
    frame = read_freqtrade(path).sort_values("date", kind="stable")
    rates = pd.Series(frame["open"].to_numpy(), index=pd.DatetimeIndex(frame["date"]), name=FUNDING)
    dup = rates.index.duplicated(keep=False)
    if dup.any() and (rates[dup].groupby(level=0).nunique() > 1).any():
        raise DataError(f"{path}: rows of one funding time disagree; keep one row per time")
    rates = rates[~rates.index.duplicated()]
    if not np.isfinite(rates.to_numpy()).all():
        raise DataError(f"{path}: funding rates must be finite numbers")
    median = float(rates.abs().median())
    if median > MAX_MEDIAN_RATE:
        raise DataError(
            f"{path}: the median |funding rate| is {median:.4g} per event, above "
            f"{MAX_MEDIAN_RATE} (ten times Binance's base rate): the rates look like percent; "
            "store them as fractions (0.0001 = 0.01 %)"
        )
    beyond = np.flatnonzero(rates.abs().to_numpy() > MAX_EVENT_RATE)
    if len(beyond):
        k = int(beyond[0])
        raise DataError(
            f"{path}: row {k} ({rates.index[k]}) has a funding rate of {rates.iloc[k]:.4g}, "
            f"beyond +-{MAX_EVENT_RATE} per event ({len(beyond)} such rows): fix or drop them"
        )
    return rates


@dataclass(frozen=True)
class FundingCoverage:
    """Where a funding schedule came from the file and where from the constant.

    ``source`` is the file read, or the one looked for (``on_file`` False);
    ``fallback_spans`` are the (first, last) event times of each run of constant
    events; ``gaps`` the number of those runs inside the file's span.
    """

    symbol: str
    source: Path | None
    on_file: bool
    events: int
    fallback_events: int
    fallback_spans: tuple[tuple[pd.Timestamp, pd.Timestamp], ...]
    gaps: int

    def describe(self, funding: FundingConfig) -> str:
        """One line for the log: the symbol, the spans and the constant used."""
        spans = "; ".join(
            f"{a:%Y-%m-%d %H:%M} .. {b:%Y-%m-%d %H:%M}" for a, b in self.fallback_spans
        )
        where = (
            f"no funding file {self.source}"
            if not self.on_file
            else f"{self.source} (no event in the span)"
            if self.events == 0
            else str(self.source)
        )
        return (
            f"{self.symbol} futures: {where}: {self.fallback_events} funding events without a rate "
            f"({self.gaps} gaps inside the file) paid the constant {funding.fallback_rate} "
            f"per {funding.fallback_interval_hours} h event over {spans}"
        )


def _grid(first: pd.Timestamp, last: pd.Timestamp, hours: int) -> pd.DatetimeIndex:
    """Times on the UTC ``hours`` grid (00:00 and every ``hours`` after) in [first, last]."""
    step = pd.Timedelta(hours=hours)
    start = first.floor("D") + step * int(np.ceil((first - first.floor("D")) / step))
    return (
        pd.date_range(start, last, freq=step) if start <= last else pd.DatetimeIndex([], tz="UTC")
    )


def funding_schedule(
    rates: pd.Series | None,
    first: pd.Timestamp,
    last: pd.Timestamp,
    funding: FundingConfig,
    symbol: str,
    source: Path | None = None,
) -> tuple[pd.Series, FundingCoverage]:
    """Every funding event in ``[first, last]``: the file's, and a constant where it has none.

    A fallback event pays ``funding.fallback_rate`` at each time of the
    ``funding.fallback_interval_hours`` UTC grid before the file's first event, after
    its last, and inside each gap (two events further apart than the interval); never
    zero-filled silently: the caller logs :meth:`FundingCoverage.describe`.

    Parameters
    ----------
    rates
        :func:`read_funding_rates`' events, or None without a file.
    first, last
        The span the events must cover (UTC), e.g. the first and last candle's open.

    Returns
    -------
    (events, coverage): a float64 Series of rates indexed by UTC event time, sorted,
    named :data:`FUNDING`; and where they came from.
    """
    step = pd.Timedelta(hours=funding.fallback_interval_hours)
    held = rates[(rates.index >= first) & (rates.index <= last)] if rates is not None else None
    if held is None or held.empty:
        filler = _grid(first, last, funding.fallback_interval_hours)
        gaps, spans = 0, [(first, last)]
    else:
        times = pd.DatetimeIndex(held.index)
        parts = [_grid(first, times[0] - pd.Timedelta(1, "ns"), funding.fallback_interval_hours)]
        wide = [int(k) for k in np.flatnonzero((times[1:] - times[:-1]) > step)]
        parts += [
            _grid(
                times[k] + pd.Timedelta(1, "ns"),
                times[k + 1] - pd.Timedelta(1, "ns"),
                funding.fallback_interval_hours,
            )
            for k in wide
        ]
        parts.append(
            _grid(times[-1] + pd.Timedelta(1, "ns"), last, funding.fallback_interval_hours)
        )
        gaps = sum(len(p) > 0 for p in parts[1:-1])
        spans = [(p[0], p[-1]) for p in parts if len(p)]
        filler = pd.DatetimeIndex(parts[0].append(parts[1:]))
    constant = pd.Series(funding.fallback_rate, index=filler, dtype=np.float64)
    events = pd.concat([held, constant]) if held is not None and not held.empty else constant
    events = events.sort_index().rename(FUNDING)
    coverage = FundingCoverage(
        symbol,
        source,
        rates is not None,
        0 if held is None else len(held),
        len(filler),
        tuple(spans) if len(filler) else (),
        gaps,
    )
    return events, coverage


def funding_per_bar(events: pd.Series, index: pd.DatetimeIndex) -> np.ndarray:
    """The funding rate charged at each candle's open: the sum of the events after the
    previous candle's open, up to and including this one's (the first candle takes
    the events of one timeframe before it).

    Parameters
    ----------
    events
        Rates indexed by UTC event time, sorted (:func:`funding_schedule`).
    index
        Candle open times (UTC), a regular grid.

    Returns
    -------
    ndarray (len(index),), float64, fraction of notional a long held into the candle's
    open pays there.
    """
    if len(index) == 0:
        return np.zeros(0)
    step = index[1] - index[0] if len(index) > 1 else pd.Timedelta(hours=1)
    bins = index.searchsorted(events.index, side="left")
    keep = (events.index > index[0] - step) & (bins < len(index))
    return np.bincount(bins[keep], weights=events.to_numpy()[keep], minlength=len(index))

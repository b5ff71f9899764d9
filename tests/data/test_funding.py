"""Funding rates: the reader's checks on bad files, the schedule's fallbacks, the bars."""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from kilo.config import Config
from kilo.config.venue import FundingConfig
from kilo.data.funding import (
    funding_file,
    funding_per_bar,
    funding_schedule,
    read_funding_rates,
)
from kilo.data.market import load_market_candles
from kilo.errors import DataError

FUNDING = FundingConfig()


def write_rates(path: Path, times: pd.DatetimeIndex, rates: np.ndarray) -> Path:
    """A funding file in freqtrade's layout: rate in ``open``, the rest 0."""
    zeros = np.zeros(len(times))
    frame = pd.DataFrame(
        {"date": times, "open": rates, "high": zeros, "low": zeros, "close": zeros, "volume": zeros}
    )
    frame.to_feather(path)
    return path


def every_8h(n: int, start: str = "2024-01-01") -> pd.DatetimeIndex:
    return pd.date_range(start, periods=n, freq="8h", tz="UTC")


def test_the_real_btc_file_reads_as_fractions(config: Config) -> None:
    rates = read_funding_rates(funding_file(config.data.dir, config.data.exchange, "BTC/USDT"))
    assert rates.index.is_monotonic_increasing and rates.index.is_unique
    assert rates.index[0] == pd.Timestamp("2019-09-10 08:00", tz="UTC")
    assert rates.median() == pytest.approx(0.0001)  # Binance's base rate per 8 h
    assert 0.8 < (rates > 0).mean() < 0.95  # longs pay most of the time (README: 87 %)


def test_rates_in_percent_are_refused_with_the_file(tmp_path: Path) -> None:
    path = write_rates(
        tmp_path / "X_USDT_USDT-1h-funding_rate.feather", every_8h(30), np.full(30, 0.01)
    )
    with pytest.raises(DataError, match=r"X_USDT_USDT-1h-funding_rate.*median.*percent"):
        read_funding_rates(path)


def test_one_event_beyond_5_percent_is_refused_with_its_row(tmp_path: Path) -> None:
    rates = np.full(30, 0.0001)
    rates[7] = -0.06
    path = write_rates(tmp_path / "f.feather", every_8h(30), rates)
    with pytest.raises(DataError, match=r"row 7 \(2024-01-03 08:00:00\+00:00\).*-0.06"):
        read_funding_rates(path)
    rates[7] = -0.02  # a real extreme (SOL, 2022-11) passes
    assert read_funding_rates(write_rates(path, every_8h(30), rates)).iloc[7] == -0.02


def test_gaps_and_spans_without_a_rate_pay_the_constant_and_are_counted() -> None:
    times = every_8h(12).delete([4, 5, 6])  # one gap of three events
    rates = pd.Series(-0.0003, index=times)
    first, last = times[0] - pd.Timedelta(hours=16), times[-1] + pd.Timedelta(hours=8)
    events, coverage = funding_schedule(rates, first, last, FUNDING, "X/USDT")
    filled = events[~events.index.isin(times)]
    assert (filled == FUNDING.fallback_rate).all()  # never zero-filled
    assert list(filled.index) == [
        times[0] - pd.Timedelta(hours=16),
        times[0] - pd.Timedelta(hours=8),
        *every_8h(12)[4:7],
        times[-1] + pd.Timedelta(hours=8),
    ]
    assert (coverage.events, coverage.fallback_events, coverage.gaps) == (9, 6, 1)
    assert len(coverage.fallback_spans) == 3
    assert "X/USDT" in coverage.describe(FUNDING) and "1 gaps" in coverage.describe(FUNDING)


def test_funding_lands_on_the_open_it_is_charged_at() -> None:
    index = pd.date_range("2024-01-01", periods=6, freq="4h", tz="UTC")
    events = pd.Series(
        [1.0, 2.0, 4.0, 8.0],
        index=pd.DatetimeIndex(
            ["2023-12-31 22:00", "2024-01-01 02:00", "2024-01-01 04:00", "2024-01-02 00:00"],
            tz="UTC",
        ),
    )
    # 22:00 is within one bar before the first open; 02:00 and 04:00 reach the 04:00 open
    np.testing.assert_array_equal(funding_per_bar(events, index), [1.0, 6.0, 0, 0, 0, 0])


def test_futures_candles_use_the_perpetual_where_it_trades(config: Config, caplog) -> None:
    futures = config.with_overrides(
        {"trading.market": "futures", "data.start": "2019-09-08", "data.end": "2019-09-12"}
    )
    with caplog.at_level(logging.INFO, logger="kilo.data.market"):
        candles = load_market_candles(futures, "BTC/USDT")
    spot = load_market_candles(
        config.with_overrides({"data.start": "2019-09-08", "data.end": "2019-09-12"}), "BTC/USDT"
    )
    assert "funding_rate" not in spot.columns
    assert candles.index.equals(spot.index)
    first_perp = pd.Timestamp("2019-09-08 19:00", tz="UTC")  # after two flat listing candles
    assert (
        candles.loc[: first_perp - pd.Timedelta(hours=1), "close"]
        == spot.loc[: first_perp - pd.Timedelta(hours=1), "close"]
    ).all()
    assert (candles.loc[first_perp:, "close"] != spot.loc[first_perp:, "close"]).mean() > 0.9
    assert "spot candles as the proxy for the 19 candles before" in caplog.text
    # events every 8 h: the constant until the file's first (2019-09-10 08:00), then the file
    charged = candles["funding_rate"][candles["funding_rate"] != 0]
    assert (charged.index.hour % 8 == 0).all() and charged.index.is_unique
    warnings = [
        r for r in caplog.records if r.levelno == logging.WARNING and "funding" in r.message
    ]
    assert len(warnings) == 1 and "BTC/USDT" in warnings[0].message
    assert "perpetual's 1h candles 2019-09-08 19:00" in caplog.text
    assert "2019-09-08 00:00 .. 2019-09-10 00:00" in warnings[0].message


def test_a_futures_run_without_funding_data_warns_once_with_the_constant(
    config: Config, tmp_path: Path, caplog
) -> None:
    folder = tmp_path / "binance"
    folder.mkdir()
    spot = load_market_candles(
        config.with_overrides({"data.start": "2024-01-01", "data.end": "2024-01-03"}), "BTC/USDT"
    )
    spot.drop(columns="filled").reset_index().to_feather(folder / "BTC_USDT-1h.feather")
    futures = config.with_overrides({"trading.market": "futures", "data.dir": str(tmp_path)})
    with caplog.at_level(logging.INFO, logger="kilo.data.market"):
        candles = load_market_candles(futures, "BTC/USDT")
    assert "spot candles as the proxy throughout" in caplog.text
    warnings = [
        r.message
        for r in caplog.records
        if r.name == "kilo.data.market" and r.levelno == logging.WARNING
    ]
    assert len(warnings) == 1
    assert "no funding file" in warnings[0] and "constant 0.0001 per 8 h" in warnings[0]
    assert candles["funding_rate"].sum() == pytest.approx(0.0001 * 6)  # 00, 08, 16 on two days

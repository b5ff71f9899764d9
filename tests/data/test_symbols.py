"""DESIGN.md invariant 5: symbols, files, timeframes and timestamps."""

from __future__ import annotations

import pytest

from kilo.data import pair_name, timeframe_delta, timeframe_seconds
from kilo.data.symbols import candle_path
from kilo.errors import ConfigError


def test_symbol_and_file_names(tmp_path) -> None:
    assert pair_name("BTC/USDT") == "BTC_USDT"
    assert candle_path(tmp_path, "binance", "ETH/USDT", "4h", ".feather") == (
        tmp_path / "binance" / "ETH_USDT-4h.feather"
    )
    assert pair_name("BTCUSDT") == pair_name("btc_usdt") == "BTC_USDT"
    for bad in ("BTC/", "/USDT", "A/B/C", "BTCXYZ"):
        with pytest.raises(ConfigError, match="unified form BASE/QUOTE.*BASEQUOTE"):
            pair_name(bad)


def test_timeframes() -> None:
    assert timeframe_seconds("15m") == 900 and timeframe_seconds("1h") == 3600
    assert timeframe_delta("4h").total_seconds() == 14_400
    with pytest.raises(ConfigError, match="not valid"):
        timeframe_seconds("fortnight")


def test_candle_times_are_utc_open_times(btc_candles) -> None:
    assert str(btc_candles.index.tz) == "UTC"
    assert btc_candles.index[0].minute == 0 and btc_candles.index.name == "date"

"""``data.start`` / ``data.end``: a window of the history for every script."""

from __future__ import annotations

import pandas as pd
import pytest

from kilo.config import Config
from kilo.data import load_candles, load_config_candles
from kilo.errors import ConfigError, DataError


def test_the_window_keeps_candles_that_open_inside_it(config: Config) -> None:
    d = config.data
    full = load_candles(d.dir, d.exchange, "BTC/USDT", d.timeframe)
    cut = config.with_overrides({"data.start": "2021-01-01", "data.end": "2021-02-01"})
    window = load_config_candles(cut.data, "BTC/USDT")
    assert window.index[0] == pd.Timestamp("2021-01-01", tz="UTC")
    assert window.index[-1] == pd.Timestamp("2021-01-31 23:00", tz="UTC") and len(window) == 744
    pd.testing.assert_frame_equal(window, full.loc[window.index[0] : window.index[-1]])
    assert full.index[0] < window.index[0]  # the file holds more


def test_an_empty_window_names_the_files_span(config: Config) -> None:
    old = config.with_overrides({"data.end": "2010-01-01"})
    with pytest.raises(DataError, match="no candle in the window.*spans 2018-01-01"):
        load_config_candles(old.data, "BTC/USDT")


def test_a_bad_window_is_refused_by_key(config: Config) -> None:
    with pytest.raises(ConfigError, match="data.start: .*not a date"):
        config.with_overrides({"data.start": "yesterday-ish"})
    with pytest.raises(ConfigError, match="must be before data.end"):
        config.with_overrides({"data.start": "2022-01-01", "data.end": "2021-01-01"})


def test_a_date_typed_as_yaml_reads_as_a_date(config: Config) -> None:
    from kilo.config import parse_override

    key, value = parse_override("data.start=2021-01-01")  # YAML reads an unquoted date
    assert config.with_overrides({key: value}).data.start == "2021-01-01"

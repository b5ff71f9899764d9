"""The data-alignment check: silent on the real files, loud on a shifted one."""

from __future__ import annotations

import logging
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from kilo.config import Config
from kilo.data import load_candles
from kilo.data.alignment import check_alignment, check_own_alignment
from kilo.errors import DataError


def _real(config: Config, symbol: str) -> pd.DataFrame:
    return load_candles(config.data.dir, "binance", symbol, "1h")


def test_silent_on_every_real_file(config: Config, caplog) -> None:
    """Every candle file in the shared folder, against BTC and ETH of its timeframe
    (short and ended histories, outages and all)."""
    caplog.set_level(logging.ERROR)
    files = sorted((Path(config.data.dir) / "binance").glob("*-*.feather"))
    candles = {}
    for path in files:
        name, timeframe = path.stem.split("-")
        symbol = name.replace("_", "/")
        candles[symbol, timeframe] = load_candles(config.data.dir, "binance", symbol, timeframe)
    assert len(candles) > 30
    for (symbol, timeframe), frame in candles.items():
        context = {
            ref: candles[ref, timeframe]
            for ref in ("BTC/USDT", "ETH/USDT")
            if ref != symbol and (ref, timeframe) in candles
        }
        check_alignment(symbol, frame, context, config.data)


@pytest.mark.parametrize("bars", [1, 2, -1])
def test_a_shifted_context_file_is_named_with_its_lag(config: Config, bars: int) -> None:
    eth, btc = _real(config, "ETH/USDT").loc["2023"], _real(config, "BTC/USDT").loc["2023"]
    check_alignment("ETH/USDT", eth, {"BTC/USDT": btc}, config.data)
    shifted = btc.shift(-bars).dropna()  # bar t holds bar t + bars
    when = "early" if bars > 0 else "late"
    lag = re.escape(f"lag {bars:+d}")
    with pytest.raises(DataError, match=rf"BTC_USDT-1h.*{abs(bars)} bar\(s\) {when}.*{lag}"):
        check_alignment("ETH/USDT", eth, {"BTC/USDT": shifted}, config.data)


def test_a_close_a_bar_off_its_open_is_caught(config: Config) -> None:
    eth = _real(config, "ETH/USDT").loc["2023"]
    check_own_alignment("ETH/USDT", eth, config.data)
    moved = eth.assign(close=eth["close"].shift(-1)).dropna()
    with pytest.raises(DataError, match="ETH_USDT-1h.*close column is likely a bar off"):
        check_alignment("ETH/USDT", moved, {}, config.data)
    flat = eth.assign(open=eth["close"], high=eth["close"], low=eth["close"])
    check_own_alignment("ETH/USDT", flat)  # no bodies: nothing to compare with
    assert np.isfinite(moved["close"]).all()

"""The freqtrade adapter without freqtrade: stops, candles, causal signals, exits."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from kilo.config import Config
from kilo.data import FILLED, load_candles
from kilo.errors import ConfigError
from kilo.trading.freqtrade import SIGNAL_COLUMNS, FreqtradeSignals
from kilo.trading.freqtrade_venue import (
    candles_from_freqtrade,
    check_venue,
    freqtrade_pair,
    freqtrade_stoploss,
    kilo_symbol,
    take_profit_level,
)


def _frame(config: Config, symbol: str) -> pd.DataFrame:
    """A symbol's candles as freqtrade hands them to a strategy: a ``date`` column."""
    candles = load_candles(config.data.dir, "binance", symbol, config.data.timeframe)
    return candles.drop(columns=FILLED).reset_index()


def _context(config: Config, signals: FreqtradeSignals) -> dict[str, pd.DataFrame]:
    return {s: _frame(config, s) for s in signals.context_symbols}


def test_stops_map_kilo_levels_and_refuse_what_freqtrade_cannot_reproduce(config: Config) -> None:
    trading = config.trading.model_copy(update={"stop_loss": 0.05, "take_profit": 0.1})
    assert freqtrade_stoploss(trading) == -0.05
    assert take_profit_level(trading, 100.0, "long") == pytest.approx(110.0)
    assert take_profit_level(trading, 100.0, "short") == pytest.approx(90.0)
    off = trading.model_copy(update={"stop_loss": None, "take_profit": None})
    assert freqtrade_stoploss(off) == -1.0 and take_profit_level(off, 100.0, "long") is None
    with pytest.raises(ConfigError, match="trailing_stop"):
        freqtrade_stoploss(trading.model_copy(update={"trailing_stop": 0.03}))
    partial = config.model_copy(deep=True)
    partial.trading.partial_take_profit = [{"at": 0.05, "sell": 0.5}]  # type: ignore[list-item]
    with pytest.raises(ConfigError, match="partial_take_profit"):
        freqtrade_stoploss(partial.trading)


def test_venue_must_match_and_fee_differences_are_named(
    config: Config, caplog: pytest.LogCaptureFixture
) -> None:
    futures = config.with_overrides(["trading.market=futures"]).trading
    assert freqtrade_pair("ETH/USDT", "futures") == "ETH/USDT:USDT"
    assert kilo_symbol("ETH/USDT:USDT") == kilo_symbol("ETH/USDT") == "ETH/USDT"
    with pytest.raises(ConfigError, match="trading_mode"):
        check_venue(futures, "spot", futures.fee)
    with pytest.raises(ConfigError, match="trading_mode"):
        check_venue(config.trading, "futures", config.trading.fee)
    with caplog.at_level("WARNING", logger="kilo.trading.freqtrade"):
        check_venue(config.trading, "spot", config.trading.fee)  # spot: one fee, agreed
        assert not caplog.records
        check_venue(futures, "futures", futures.fee)  # maker 0.02 %, taker 0.05 %
    assert len(caplog.records) == 1 and "maker_fee" in caplog.text
    one_fee = config.with_overrides(["trading.market=futures", "trading.fee=0.0005"]).trading
    caplog.clear()
    with caplog.at_level("WARNING", logger="kilo.trading.freqtrade"):
        check_venue(one_fee, "futures", 0.0005)
        assert not caplog.records
        check_venue(one_fee, "futures", 0.001)
    assert "not Kilo's taker fee" in caplog.text


def test_freqtrade_fill_candles_are_marked_filled_and_real_quiet_ones_are_not() -> None:
    dates = pd.date_range("2025-01-01", periods=5, freq="1h", tz="UTC")
    frame = pd.DataFrame(
        {
            "date": dates,
            "open": [10.0, 10.5, 11.0, 11.0, 11.0],
            "high": [11.0, 11.5, 11.0, 11.2, 11.0],
            "low": [9.5, 10.0, 11.0, 10.9, 11.0],
            "close": [10.5, 11.0, 11.0, 11.0, 11.0],
            "volume": [5.0, 4.0, 0.0, 0.0, 3.0],
        }
    )
    candles = candles_from_freqtrade(frame, "1h", "test")
    # row 2: freqtrade's fill (flat at the previous close, no volume); row 3 moved
    # inside the bar, row 4 traded: both real
    assert candles[FILLED].tolist() == [False, False, True, False, False]


def test_signals_are_causal_and_never_enter_on_a_filled_candle(
    tiny_config: Config, tiny_report
) -> None:
    signals = FreqtradeSignals.load(tiny_config, "BTC/USDT")
    frame = _frame(tiny_config, "BTC/USDT")
    context = _context(tiny_config, signals)
    full = signals.analyze(frame, context)
    assert set(SIGNAL_COLUMNS) <= set(full.columns) and len(full) == len(frame)
    cut = len(frame) - 100
    early = signals.analyze(frame.iloc[:cut], context)
    np.testing.assert_array_equal(  # to the bit, as freqtrade's lookahead-analysis checks
        early["kilo_score"].to_numpy(), full["kilo_score"].to_numpy()[:cut]
    )
    assert (early["kilo_enter"].to_numpy() == full["kilo_enter"].to_numpy()[:cut]).all()
    short = signals.analyze(frame.iloc[:300], context)  # shorter than the warm-up
    assert short["kilo_score"].isna().all() and short["kilo_enter"].sum() == 0
    assert full["kilo_score"].notna().sum() > 1000 and full["kilo_enter"].sum() > 0
    entered = full["kilo_enter"] == 1
    assert (full.loc[entered, "kilo_fraction"] > 0).all()
    assert (full.loc[~entered, "kilo_fraction"] == 0).all()
    # an outage as freqtrade fills it, on a candle the real one entered on
    gap = int(np.flatnonzero(entered.to_numpy())[-1])
    outage = frame.copy()
    previous = float(outage.loc[gap - 1, "close"])
    outage.loc[gap, ["open", "high", "low", "close", "volume"]] = [previous] * 4 + [0.0]
    assert signals.analyze(outage, context)["kilo_enter"].iloc[gap] == 0


def test_an_exit_waits_for_a_whole_candle_in_the_trade(tiny_config: Config, tiny_report) -> None:
    signals = FreqtradeSignals.load(tiny_config, "BTC/USDT")
    frame = signals.analyze(_frame(tiny_config, "BTC/USDT"), _context(tiny_config, signals))
    last = pd.Timestamp(frame["date"].iloc[-1])
    hour = pd.Timedelta(hours=1)
    price = float(frame["close"].iloc[-1])
    # entered at the open after `last`: the strategy is asked about `last` on that same candle
    assert signals.exit_reason(last, price, last + hour) is None
    answers = {signals.exit_reason(last, price * k, last - 5 * hour) for k in (0.5, 1.0, 2.0)}
    assert answers <= {None, "kilo_exit"}
    assert signals.stake(0.2, 10_000.0) == pytest.approx(2_000.0)
    assert signals.stake(0.0001, 10_000.0) == 0.0  # below trading.min_notional


def test_a_missing_universe_file_takes_training_medians_with_one_warning(
    tiny_config: Config, tiny_report, caplog
) -> None:
    """freqtrade hands an empty frame for a pair without a data file (or none at all):
    the strategy goes on as Kilo's trader does, and says which files to download."""
    signals = FreqtradeSignals.load(tiny_config, "BTC/USDT")
    assert "SOL/USDT" in signals.context_symbols
    frame = _frame(tiny_config, "BTC/USDT")
    context = _context(tiny_config, signals)
    empty = context["SOL/USDT"].iloc[:0].astype({"date": object})  # as freqtrade's dp
    with caplog.at_level("WARNING", logger="kilo.trading.freqtrade"):
        given = signals.analyze(frame, {**context, "SOL/USDT": empty})
        signals.analyze(frame, {**context, "SOL/USDT": empty})  # live: every candle
        absent = signals.analyze(frame, {k: v for k, v in context.items() if k != "SOL/USDT"})
    warnings = [r.getMessage() for r in caplog.records]
    assert len(warnings) == 1, "one warning, not one per analysed candle"
    assert "SOL_USDT-1h.feather" in warnings[0] and "download-data" in warnings[0]
    assert "training medians" in warnings[0]
    assert given["kilo_score"].notna().sum() > 1000
    np.testing.assert_array_equal(given["kilo_score"].to_numpy(), absent["kilo_score"].to_numpy())

"""freqtrade's venue, pairs, stops and candles as Kilo reads them.

The small translations :mod:`kilo.trading.freqtrade`'s strategy adapter and
``integrations/freqtrade/KiloStrategy.py`` share: pair names on spot and the USDT-M
perpetual, the venue and fee check, the stop-loss and take-profit levels, and
freqtrade's candle frame as Kilo's validated candles.
"""

from __future__ import annotations

import logging

import pandas as pd

from kilo.config import TradingConfig
from kilo.config.venue import Market
from kilo.data import FILLED, validate_candles
from kilo.data.readers import COLUMNS
from kilo.errors import ConfigError
from kilo.trading.accounts import SIGN, PositionSide

logger = logging.getLogger(__name__)


def freqtrade_pair(symbol: str, market: Market) -> str:
    """Kilo's ``"BTC/USDT"`` as freqtrade names it on ``market``: the same on spot,
    ``"BTC/USDT:USDT"`` (the USDT-M perpetual, settled in its quote) on futures."""
    if market == "spot":
        return symbol
    return f"{symbol}:{symbol.split('/')[1]}"


def kilo_symbol(pair: str) -> str:
    """freqtrade's pair (``"BTC/USDT"`` or the perpetual ``"BTC/USDT:USDT"``) as Kilo's
    symbol ``"BTC/USDT"``."""
    return pair.split(":")[0]


def check_venue(trading: TradingConfig, trading_mode: str, fee: float | None) -> None:
    """Check that freqtrade's venue settings are Kilo's ``trading`` section's.

    Parameters
    ----------
    trading_mode
        freqtrade's ``trading_mode`` (``spot`` or ``futures``).
    fee
        freqtrade's ``fee`` (fraction of notional, every fill), or None where it takes
        the exchange market's.

    Raises
    ------
    ConfigError
        If ``trading_mode`` is not ``trading.market``. A fee that differs from
        ``trading.fee``, or a ``trading.maker_fee`` freqtrade cannot charge (it has one
        fee for every fill), is logged as a warning: both then trade the same bars at
        different costs.
    """
    if (trading_mode or "spot") != trading.market:
        raise ConfigError(
            f"freqtrade's trading_mode is {trading_mode!r} but Kilo's trading.market is "
            f"{trading.market!r}: set both to the same venue (futures also needs "
            '"margin_mode": "isolated")'
        )
    if fee is None or fee != trading.fee:
        logger.warning(
            "freqtrade's fee %s is not Kilo's taker fee trading.fee %s: set \"fee\": %s",
            fee,
            trading.fee,
            trading.fee,
        )
    if trading.maker_fee != trading.fee:
        logger.warning(
            "freqtrade charges one fee per fill; Kilo's take-profits pay the maker fee "
            "%s, its market orders %s: set trading.maker_fee=%s to compare the two",
            trading.maker_fee,
            trading.fee,
            trading.fee,
        )


def freqtrade_stoploss(trading: TradingConfig) -> float:
    """freqtrade's ``stoploss`` (a negative ratio; -1: none) for Kilo's ``trading``
    section. At leverage 1 freqtrade puts it ``stop_loss`` below a long's entry and
    above a short's, as Kilo's broker does.

    Raises
    ------
    ConfigError
        If ``trading.trailing_stop`` or ``trading.partial_take_profit`` is set: Kilo
        trails the best close and sells parts at levels, which freqtrade's trailing
        stop (on highs and lows) and ROI cannot reproduce.
    """
    unmapped = [
        key
        for key, value in (
            ("trailing_stop", trading.trailing_stop),
            ("partial_take_profit", trading.partial_take_profit),
        )
        if value
    ]
    if unmapped:
        raise ConfigError(
            f"trading.{' and trading.'.join(unmapped)} cannot be reproduced in freqtrade; "
            "set them to null for the freqtrade strategy, or trade with scripts/trader.py"
        )
    return -trading.stop_loss if trading.stop_loss is not None else -1.0


def take_profit_level(
    trading: TradingConfig, entry_price: float, side: PositionSide
) -> float | None:
    """Kilo's take-profit price of a position entered at ``entry_price`` (quote
    currency): ``take_profit`` above a long's entry, below a short's; None without one.
    The strategy's ``custom_roi`` answers freqtrade's profit ratio at this price
    (``Trade.calc_profit_ratio``: fees and the funding so far included), so freqtrade's
    take-profit fills at Kilo's level."""
    if trading.take_profit is None:
        return None
    return entry_price * (1.0 + SIGN[side] * trading.take_profit)


def candles_from_freqtrade(frame: pd.DataFrame, timeframe: str, source: str) -> pd.DataFrame:
    """freqtrade's candle frame as Kilo's validated candles.

    Parameters
    ----------
    frame
        Columns ``date`` (UTC open time), open, high, low, close (quote currency),
        volume (base currency), one row per candle; other columns are ignored.

    Returns
    -------
    DataFrame as :func:`kilo.data.load_candles` returns: UTC ``DatetimeIndex`` and
    OHLCV plus ``filled``. A candle freqtrade inserted for a missing one (volume 0 and
    open = high = low = close = the previous close, freqtrade's fill) is marked
    ``filled``, as Kilo's data layer marks its own fills.

    Raises
    ------
    DataError
        If a column is missing or no valid candle remains.
    """
    candles, _ = validate_candles(frame[COLUMNS], timeframe, source)
    close = candles["close"]
    flat = (
        (candles["volume"] == 0)
        & (candles["open"] == close)
        & (candles["high"] == close)
        & (candles["low"] == close)
        & (close == close.shift(1))
    )
    candles[FILLED] = candles[FILLED] | flat
    return candles

"""Symbol and timeframe conventions (DESIGN.md invariant 5), without importing ccxt.

Symbols use ccxt's unified form ``BTC/USDT``; users may also type the exchange's
native id (``BTCUSDT``), the file form (``BTC_USDT``) or a dash (``BTC-USDT``), in any
case. Timeframes use ccxt's notation (``15m``, ``1h``, ``4h``, ``1d``).
"""

from __future__ import annotations

import re
from typing import Annotated

import pandas as pd
from pydantic import BeforeValidator

from kilo.errors import ConfigError

#: Quote currencies recognised at the end of an exchange-native id such as ``BTCEUR``,
#: longest first so that ``FDUSD`` wins over ``USD``.
KNOWN_QUOTES = tuple(
    sorted(
        (
            "USDT",
            "USDC",
            "FDUSD",
            "BUSD",
            "TUSD",
            "DAI",
            "USD",
            "EUR",
            "GBP",
            "TRY",
            "BRL",
            "JPY",
            "AUD",
            "BTC",
            "ETH",
            "BNB",
        ),
        key=len,
        reverse=True,
    )
)

#: Seconds per timeframe unit, as ccxt's ``Exchange.parse_timeframe`` defines them
#: (a month is 30 days, a year 365).
TIMEFRAME_UNITS = {
    "s": 1,
    "m": 60,
    "h": 3600,
    "d": 86_400,
    "w": 604_800,
    "M": 2_592_000,
    "y": 31_536_000,
}

_ASSET = re.compile(r"^[A-Z0-9]+$")


def normalize_symbol(text: str) -> str:
    """A symbol as a user types it -> ccxt's unified form ``BASE/QUOTE``.

    ``"BTC/EUR"``, ``"btc/eur"``, ``"BTCEUR"``, ``"BTC_EUR"`` and ``"BTC-EUR"`` all give
    ``"BTC/EUR"``. An id without a separator is split at the longest quote currency of
    :data:`KNOWN_QUOTES` it ends with.

    Raises
    ------
    ConfigError
        If the text fits none of these forms; the message names both accepted forms.
    """
    raw = str(text).strip().upper()
    parts = re.split(r"[/_\-]", raw)
    if len(parts) == 1:
        quote = next((q for q in KNOWN_QUOTES if raw.endswith(q) and len(raw) > len(q)), None)
        parts = [raw[: -len(quote)], quote] if quote else parts
    if len(parts) != 2 or not all(_ASSET.match(p) for p in parts):
        raise ConfigError(
            f"symbol {text!r} is not understood: write it in ccxt's unified form BASE/QUOTE "
            f"(e.g. BTC/USDT) or as the exchange's id BASEQUOTE (e.g. BTCUSDT) with a known "
            f"quote currency ({', '.join(sorted(KNOWN_QUOTES))})"
        )
    return f"{parts[0]}/{parts[1]}"


def _validated_symbol(value: object) -> object:
    """:func:`normalize_symbol` for Pydantic: its error as the ValueError Pydantic reports."""
    if not isinstance(value, str):
        return value
    try:
        return normalize_symbol(value)
    except ConfigError as exc:
        raise ValueError(str(exc)) from None


#: A configured symbol: typed as users type it (``BTCUSDT``, ``btc/usdt``), validated and
#: stored in ccxt's unified form ``BTC/USDT`` (:func:`normalize_symbol`).
Symbol = Annotated[str, BeforeValidator(_validated_symbol)]


def timeframe_seconds(timeframe: str) -> int:
    """Length of one candle in seconds, e.g. ``"1h"`` -> 3600 (ccxt's notation and units).

    Raises
    ------
    ConfigError
        If ``timeframe`` is not a positive count followed by one of s, m, h, d, w, M, y.
    """
    match = re.fullmatch(r"([1-9][0-9]*)([smhdwMy])", str(timeframe).strip())
    if match is None:
        raise ConfigError(f"timeframe {timeframe!r} is not valid (use e.g. 15m, 1h, 4h, 1d)")
    return int(match.group(1)) * TIMEFRAME_UNITS[match.group(2)]


def bars_per_year(timeframe_seconds: int | float) -> float:
    """Bars in a 365-day year (crypto trades around the clock), e.g. 8,760 for 1h."""
    return 365 * 24 * 3600 / timeframe_seconds


def utc_timestamp(date: str) -> pd.Timestamp:
    """A date or time as typed in the config (``2021-01-01``) as a UTC timestamp; a
    value without a time zone is taken as UTC.

    Raises
    ------
    ValueError
        If ``date`` is not a date.
    """
    stamp = pd.Timestamp(date)
    return stamp.tz_localize("UTC") if stamp.tzinfo is None else stamp.tz_convert("UTC")

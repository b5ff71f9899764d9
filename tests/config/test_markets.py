"""Symbol and timeframe conventions: what users type, what Kilo uses."""

from __future__ import annotations

import pytest

from kilo.config.markets import normalize_symbol, timeframe_seconds
from kilo.errors import ConfigError


@pytest.mark.parametrize(
    ("typed", "unified"),
    [
        ("BTC/USDT", "BTC/USDT"),
        ("btc/usdt", "BTC/USDT"),
        ("BTCUSDT", "BTC/USDT"),
        ("BTCEUR", "BTC/EUR"),
        ("BTC/EUR", "BTC/EUR"),
        ("ETH_BTC", "ETH/BTC"),
        ("SOL-USDC", "SOL/USDC"),
        ("BTCFDUSD", "BTC/FDUSD"),
        (" ethbtc ", "ETH/BTC"),
        ("1000SATSUSDT", "1000SATS/USDT"),
    ],
)
def test_accepted_forms(typed: str, unified: str) -> None:
    assert normalize_symbol(typed) == unified


@pytest.mark.parametrize("typed", ["USDT", "BTC/", "/USDT", "A/B/C", "BTCXYZ", "BTC USDT", ""])
def test_unknown_forms_name_both_accepted_forms(typed: str) -> None:
    with pytest.raises(
        ConfigError, match=r"BASE/QUOTE \(e.g. BTC/USDT\).*BASEQUOTE \(e.g. BTCUSDT\)"
    ):
        normalize_symbol(typed)


def test_timeframes_follow_ccxt_units() -> None:
    assert [timeframe_seconds(t) for t in ("30s", "15m", "1h", "4h", "1d", "1w", "1M", "1y")] == [
        30,
        900,
        3600,
        14_400,
        86_400,
        604_800,
        2_592_000,
        31_536_000,
    ]
    for bad in ("h", "0h", "1.5h", "1x", "fortnight"):
        with pytest.raises(ConfigError, match="not valid"):
            timeframe_seconds(bad)

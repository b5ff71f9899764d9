"""The venue: spot or futures fees by order type, and the keys that follow a switch."""

from __future__ import annotations

import pytest

from kilo.config import Config, TradingConfig, load_config
from kilo.errors import ConfigError
from tests.conftest import REPO


def test_fees_follow_the_market_binance_base_tier() -> None:
    spot = load_config(REPO / "config" / "config.yaml", environ={}).trading
    assert (spot.market, spot.fee, spot.maker_fee) == ("spot", 0.001, 0.001)
    futures = Config().with_overrides(["trading.market=futures"]).trading
    assert (futures.fee, futures.maker_fee) == (0.0005, 0.0002)
    back = (
        Config().with_overrides(["trading.market=futures"]).with_overrides(["trading.market=spot"])
    )
    assert (back.trading.fee, back.trading.maker_fee) == (0.001, 0.001)


def test_a_fee_given_alone_is_every_fills_and_an_explicit_one_wins() -> None:
    assert TradingConfig(fee=0.0, slippage=0.0).maker_fee == 0.0
    both = Config().with_overrides(["trading.market=futures", "trading.fee=0.0004"]).trading
    assert (both.fee, both.maker_fee) == (0.0004, 0.0004)
    kept = Config().with_overrides(["trading.market=futures", "trading.maker_fee=0.0001"])
    assert (kept.trading.fee, kept.trading.maker_fee) == (0.0005, 0.0001)
    tier = Config().with_overrides(
        ["trading.market=futures", "trading.fees.futures={maker: 0.00018, taker: 0.00045}"]
    )
    assert (tier.trading.fee, tier.trading.maker_fee) == (0.00045, 0.00018)


def test_a_bad_venue_is_refused_with_its_key() -> None:
    with pytest.raises(ConfigError, match="trading.market"):
        Config().with_overrides(["trading.market=options"])
    with pytest.raises(ConfigError, match="trading.order_type"):
        Config().with_overrides(["trading.order_type=stop"])
    with pytest.raises(ConfigError, match="fallback_rate"):
        Config().with_overrides(["trading.funding.fallback_rate=0.5"])


def test_shorts_follow_the_venue_and_a_switch_rederives_them() -> None:
    futures = Config().with_overrides(["trading.market=futures"])
    assert futures.trading.allow_short and futures.models.ppo.allow_short
    back = futures.with_overrides(["trading.market=spot"])
    assert not back.trading.allow_short and not back.models.ppo.allow_short
    long_only = Config().with_overrides(["trading.market=futures", "trading.allow_short=false"])
    assert not long_only.models.ppo.allow_short
    # a search trial sets trading.allow_short on a futures config: PPO's follows it
    assert not futures.with_overrides(["trading.allow_short=false"]).models.ppo.allow_short
    with pytest.raises(ConfigError, match="spot is long only"):
        Config().with_overrides(["trading.allow_short=true"])
    with pytest.raises(ConfigError, match="leverage 3.0: only 1 is modelled"):
        futures.with_overrides(["trading.leverage=3"])

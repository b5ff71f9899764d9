"""The venue a strategy trades on: spot or USDT-M perpetual futures, its maker and taker
fees, the order type that decides which fee a fill pays, and funding.

Fees are fractions of notional (0.001 = 0.1 %). The defaults are Binance's base tier
(VIP 0, no BNB discount), read from https://www.binance.com/en/fee/schedule (spot:
0.1 % maker and taker) and https://www.binance.com/en/fee/futureFee (USDT-M
perpetuals: 0.02 % maker, 0.05 % taker) on 2026-02-20. A market order pays the taker
fee and slippage; a limit order (a take-profit level, or every entry and signal exit
with ``order_type: limit``) pays the maker fee and no slippage.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field

Market = Literal["spot", "futures"]
OrderType = Literal["market", "limit"]


class FeeSchedule(BaseModel, extra="forbid"):
    """One venue's fees, fractions of notional per fill."""

    maker: float = Field(
        ge=0, lt=1, description="a limit order's fee (adds liquidity) [fraction of notional]"
    )
    taker: float = Field(
        ge=0, lt=1, description="a market order's fee (takes liquidity) [fraction of notional]"
    )


#: Binance base tier (VIP 0, no BNB discount), read 2026-02-20 from
#: binance.com/en/fee/schedule (spot) and binance.com/en/fee/futureFee (USDT-M).
VENUE_FEES: dict[Market, FeeSchedule] = {
    "spot": FeeSchedule(maker=0.001, taker=0.001),
    "futures": FeeSchedule(maker=0.0002, taker=0.0005),
}


class FundingConfig(BaseModel, extra="forbid", frozen=True):
    """Funding of a perpetual position where the rate files have no event.

    A long pays and a short receives ``rate x notional`` at each funding time (a
    negative rate reverses it). The rates come from freqtrade's futures layout
    (:func:`kilo.data.funding.load_funding_rates`); where the file is missing, starts
    later, ends earlier or has a gap, events on the ``fallback_interval_hours`` grid
    (UTC) pay ``fallback_rate``, with a warning naming the symbol and the span.
    """

    fallback_rate: float = Field(
        0.0001,
        ge=-0.05,
        le=0.05,
        description="fraction of notional per funding event where no rate is on file "
        "(Binance's base rate: 0.01 % per 8 h, the interest rate with a zero premium) "
        "[fraction of notional]",
    )
    fallback_interval_hours: int = Field(
        8, ge=1, le=24, description="between funding events where no rate is on file [hours]"
    )


def venue_fees(data: Any) -> Any:
    """Fill a raw ``trading`` mapping's ``fee`` (taker) and ``maker_fee`` from its
    ``fees[market]`` schedule where they are not given; ``fee`` alone sets both (one fee
    for every fill, the spot-only configs' meaning). ``allow_short`` not given follows
    the market: true on futures, false on spot. Other inputs pass unchanged, for
    validation to report."""
    if not isinstance(data, dict):
        return data
    data = {"allow_short": data.get("market", "spot") == "futures", **data}
    given = data.get("fees") or {}
    if not isinstance(given, dict):
        return data
    schedule = {**VENUE_FEES, **given}.get(data.get("market", "spot"))
    if isinstance(schedule, dict):
        schedule = FeeSchedule.model_validate(schedule)
    if not isinstance(schedule, FeeSchedule):
        return data
    out = dict(data)
    fee = out.setdefault("fee", schedule.taker)
    alone = "fee" in data and isinstance(fee, (int, float)) and 0 <= fee < 1
    out.setdefault("maker_fee", fee if alone else schedule.maker)  # a bad fee: one error
    return out


def switch_venue(tree: dict[str, Any], overridden: set[str]) -> None:
    """After overrides of a full config tree: a new ``trading.market`` or fee schedule
    re-derives ``trading.fee`` and ``trading.maker_fee`` from it, and a new ``fee``
    alone sets ``maker_fee`` too; a new market re-derives ``trading.allow_short``, and a
    new market or ``trading.allow_short`` re-derives ``models.ppo.allow_short``; unless
    the overrides set those keys themselves."""
    trading = tree.get("trading")
    if not isinstance(trading, dict):
        return
    if "trading.market" in overridden and "trading.allow_short" not in overridden:
        trading.pop("allow_short", None)
    if "trading.market" in overridden or "trading.allow_short" in overridden:
        ppo = tree.get("models", {}).get("ppo")
        if isinstance(ppo, dict) and "models.ppo.allow_short" not in overridden:
            ppo.pop("allow_short", None)
    venue = any(k == "trading.market" or k.startswith("trading.fees") for k in overridden)
    for key in ("fee", "maker_fee"):
        if f"trading.{key}" in overridden:
            continue
        if venue or (key == "maker_fee" and "trading.fee" in overridden):
            trading.pop(key, None)

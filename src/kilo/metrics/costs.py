"""What trading costs, one definition for the broker, the simulator, the PPO reward,
the baselines and the hurdle: fills (fee and slippage) and funding.

A market order fills at its reference price (the next bar's open, or a stop level)
moved against the trader by ``slippage``, and pays the taker fee on its notional, both
fractions (0.001 = 0.1 %); a limit order fills at its price and pays the maker fee
(:func:`order_costs`). So a buy of cash ``C`` holds ``C / ((1 + fee)(1 + slippage))``
worth of the asset at the reference price, and a sale of a holding worth ``V`` there
returns ``V (1 - fee)(1 - slippage)`` in cash.

On a perpetual, a position pays ``side x rate x notional`` at each funding time
(:func:`funding_payment`): a long (side +1) pays a positive rate, a short (side -1)
receives it.
"""

from __future__ import annotations

import math
from typing import Literal, NamedTuple, TypeVar

import numpy as np

from kilo.config import TradingConfig
from kilo.config.venue import OrderType

Side = Literal["buy", "sell"]
FloatOrArray = TypeVar("FloatOrArray", float, np.ndarray)


class OrderCosts(NamedTuple):
    """What one fill of an order type pays: fee (fraction of notional) and slippage
    (fraction of price)."""

    fee: float
    slippage: float


def order_costs(trading: TradingConfig, order: OrderType) -> OrderCosts:
    """A market order pays the taker fee (``trading.fee``) and slippage; a limit order
    the maker fee (``trading.maker_fee``) and no slippage."""
    if order == "market":
        return OrderCosts(trading.fee, trading.slippage)
    return OrderCosts(trading.maker_fee, 0.0)


def signal_costs(trading: TradingConfig) -> OrderCosts:
    """The costs of an entry or a signal exit: :func:`order_costs` of
    ``trading.order_type``."""
    return order_costs(trading, trading.order_type)


def round_trip_log_cost(trading: TradingConfig) -> float:
    """Log return one entry and one signal exit cost at full size: :func:`fill_log_cost`
    of a buy plus a sale, both of ``trading.order_type``."""
    fee, slippage = signal_costs(trading)
    return fill_log_cost(fee, slippage, "buy") + fill_log_cost(fee, slippage, "sell")


def funding_payment(rate: FloatOrArray, notional: float, side: float) -> FloatOrArray:
    """Quote currency a perpetual position pays at one funding time: ``side x rate x
    notional``; negative: received. ``rate`` may be an array of events (the PPO
    reward's bars), then so is the result.

    Parameters
    ----------
    rate
        The funding rate of the event, a fraction (0.0001 = 0.01 %); positive when
        longs pay shorts.
    notional
        The position's size times the mark price at the funding time (quote, >= 0).
    side
        +1 for a long, -1 for a short.
    """
    return side * rate * notional


def fill_price(reference: float, slippage: float, side: Side) -> float:
    """The price a market order fills at: ``reference`` moved by ``slippage`` against
    the trader (up for a buy, down for a sale); quote currency."""
    return reference * (1.0 + slippage) if side == "buy" else reference * (1.0 - slippage)


def fill_log_cost(fee: float, slippage: float, side: Side) -> float:
    """Log return of equity lost by a fill of the whole equity, valued at the reference
    price: ``log((1 + fee)(1 + slippage))`` for a buy, ``-log((1 - fee)(1 - slippage))``
    for a sale. Both about ``fee + slippage``; 0 when both are 0.

    Raises
    ------
    ValueError
        If ``fee`` or ``slippage`` is outside [0, 1).
    """
    if not (0.0 <= fee < 1.0 and 0.0 <= slippage < 1.0):
        raise ValueError(f"fee {fee} and slippage {slippage} must be fractions in [0, 1)")
    if side == "buy":
        return math.log1p(fee) + math.log1p(slippage)
    return -(math.log1p(-fee) + math.log1p(-slippage))


def fill_cost_fraction(fee: float, slippage: float, side: Side) -> float:
    """The share of the traded value a fill loses: ``1 - exp(-fill_log_cost)``."""
    return -math.expm1(-fill_log_cost(fee, slippage, side))

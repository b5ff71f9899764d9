"""The cost of a fill, one definition for the broker, the PPO reward and the baselines.

A market order fills at its reference price (the next bar's open, or a stop level)
moved against the trader by ``slippage``, and pays ``fee`` on its notional, both
fractions (0.001 = 0.1 %). So a buy of cash ``C`` holds ``C / ((1 + fee)(1 + slippage))``
worth of the asset at the reference price, and a sale of a holding worth ``V`` there
returns ``V (1 - fee)(1 - slippage)`` in cash.
"""

from __future__ import annotations

import math
from typing import Literal

Side = Literal["buy", "sell"]


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

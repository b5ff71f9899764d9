"""The accounts a broker trades: candles, positions, fills, funding payments, orders and
the portfolio that holds them.

Prices are in the quote currency, quantities in the base currency (positive for either
side; ``side`` says which), fees and funding rates fractions of notional (DESIGN.md
invariant 5). Equity is cash plus each position's signed value (+ quantity x mark for a
long, - for a short).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Literal, NamedTuple

import pandas as pd

PositionSide = Literal["long", "short"]
#: The sign of each side's position (+1 long, -1 short), as
#: :func:`~kilo.metrics.funding_payment` and the equity read it.
SIGN: dict[PositionSide, float] = {"long": 1.0, "short": -1.0}


class Candle(NamedTuple):
    """One closed candle's prices (quote currency); a ``pd.Series`` row works as well."""

    open: float
    high: float
    low: float
    close: float


@dataclass
class Position:
    """An open position: ``quantity`` (base currency, > 0) bought (``side`` long) or
    sold short at ``entry_price`` (quote currency, after slippage)."""

    symbol: str
    quantity: float
    entry_price: float
    entry_time: pd.Timestamp
    entry_fee: float
    bars_held: int = 0
    # the best close since entry, the trailing stop's anchor: a long's highest, a
    # short's lowest (the entry price until a close beats it)
    best_close: float = 0.0
    partials_done: int = 0  # partial take-profit levels already closed
    funding: float = 0.0  # quote currency paid since entry (negative: received)
    side: PositionSide = "long"

    def __post_init__(self) -> None:
        self.best_close = self.best_close or self.entry_price

    @property
    def sign(self) -> float:
        """+1 for a long, -1 for a short."""
        return SIGN[self.side]


@dataclass
class Fill:
    """One executed order: ``side`` the order's (buy or sell), ``position_side`` the
    position it opened or closed (a long's entry is a buy, a short's a sale)."""

    symbol: str
    side: str  # "buy" or "sell"
    quantity: float
    price: float  # after slippage
    notional: float
    fee: float
    time: pd.Timestamp
    # "signal", "stop_loss", "take_profit", "trailing_stop", "partial_take_profit",
    # "drawdown" (closed by the risk manager's breaker) or "fold_end" (the evaluation)
    reason: str
    reference_price: float  # before slippage: the open, or the stop level
    realised_pnl: float = 0.0  # closes: side x (exit - entry) x quantity less fees, funding
    position_side: PositionSide = "long"

    @property
    def opens(self) -> bool:
        """Whether it opened its position (a long's buy, a short's sale)."""
        return (self.side == "buy") == (self.position_side == "long")


@dataclass(frozen=True)
class FundingPayment:
    """One funding event on an open perpetual position.

    ``notional`` is the position's quantity times the mark price at ``time`` (quote);
    ``amount`` what it paid (quote, :func:`~kilo.metrics.funding_payment`; negative:
    received); ``equity`` the portfolio's equity just before, at the same marks.
    """

    symbol: str
    time: pd.Timestamp
    rate: float
    notional: float
    amount: float
    equity: float

    @property
    def log_cost(self) -> float:
        """Log return of equity the payment took (negative when received); inf when it
        took all of it (the position is then liquidated)."""
        share = self.amount / self.equity
        return -math.log1p(-share) if share < 1 else math.inf


@dataclass
class Order:
    """A requested order and what became of it: a fill, or a skip with its reason."""

    symbol: str
    side: str
    requested_notional: float
    reason: str
    fill: Fill | None = None
    skip_reason: str | None = None


@dataclass
class Portfolio:
    """Cash and open positions."""

    cash: float
    positions: dict[str, Position] = field(default_factory=dict)

    def positions_value(self, marks: Mapping[str, float]) -> float:
        """Σ sign × quantity × mark price over open positions (a short counts negative)."""
        return sum(p.sign * p.quantity * marks[s] for s, p in self.positions.items())

    def gross_exposure(self, marks: Mapping[str, float]) -> float:
        """Σ quantity × mark price over open positions, longs and shorts alike (quote)."""
        return sum(p.quantity * marks[s] for s, p in self.positions.items())

    def equity(self, marks: Mapping[str, float]) -> float:
        """Cash plus positions marked at ``marks`` (symbol -> price)."""
        return self.cash + self.positions_value(marks)

    def copy(self) -> Portfolio:
        """An independent copy (positions copied too)."""
        return Portfolio(self.cash, {s: replace(p) for s, p in self.positions.items()})

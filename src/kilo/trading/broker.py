"""Paper broker and portfolio: market fills with slippage and fees, sizing, stops.

Prices are in the quote currency, quantities in the base currency, fees and slippage
fractions of notional and price (DESIGN.md invariant 5). Spot, long or flat.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import NamedTuple

import pandas as pd

from kilo.config import TradingConfig


class Candle(NamedTuple):
    """One closed candle's prices (quote currency); a ``pd.Series`` row works as well."""

    open: float
    high: float
    low: float
    close: float


@dataclass
class Position:
    """An open long position."""

    symbol: str
    quantity: float
    entry_price: float
    entry_time: pd.Timestamp
    entry_fee: float
    bars_held: int = 0

    @property
    def cost(self) -> float:
        """Quote currency paid to open it, fee included."""
        return self.quantity * self.entry_price + self.entry_fee


@dataclass
class Fill:
    """One executed market order."""

    symbol: str
    side: str  # "buy" or "sell"
    quantity: float
    price: float  # after slippage
    notional: float
    fee: float
    time: pd.Timestamp
    reason: str  # "signal", "stop_loss", "take_profit" or "fold_end"
    reference_price: float  # before slippage: the open, or the stop level
    realised_pnl: float = 0.0  # sells: proceeds after fee minus the position's cost


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

    def positions_value(self, marks: dict[str, float]) -> float:
        """Σ quantity × mark price over open positions."""
        return sum(p.quantity * marks[s] for s, p in self.positions.items())

    def equity(self, marks: dict[str, float]) -> float:
        """Cash plus positions marked at ``marks`` (symbol -> price)."""
        return self.cash + self.positions_value(marks)

    def copy(self) -> Portfolio:
        """An independent copy (positions copied too)."""
        return Portfolio(self.cash, {s: replace(p) for s, p in self.positions.items()})


class PaperBroker:
    """Executes market orders against a :class:`Portfolio` with the config's costs.

    Parameters
    ----------
    config
        The ``trading`` section: fee, slippage, sizing, minimum notional, stops.
    """

    def __init__(self, config: TradingConfig) -> None:
        self.config = config

    def buy(self, portfolio: Portfolio, symbol: str, price: float, time: pd.Timestamp,
            marks: dict[str, float], reason: str = "signal", fraction: float | None = None
            ) -> Order:
        """Open a long of ``fraction`` of equity (at most ``max_position_fraction``, its
        default), within every limit.

        The notional is the smallest of the per-symbol target, the room left under
        ``max_total_exposure`` and what the cash pays for with the fee, so cash never
        goes negative; below ``min_notional`` the order is skipped with the reason.
        """
        c = self.config
        equity = portfolio.equity(marks)
        share = c.max_position_fraction if fraction is None else min(fraction,
                                                                     c.max_position_fraction)
        limits = {
            "position size": share * equity,
            "total exposure cap": c.max_total_exposure * equity - portfolio.positions_value(marks),
            "cash": portfolio.cash / (1.0 + c.fee),
        }
        binding = min(limits, key=limits.get)
        notional = max(0.0, limits[binding])
        order = Order(symbol, "buy", limits["position size"], reason)
        if symbol in portfolio.positions:
            order.skip_reason = "already long"
        elif notional < c.min_notional:
            order.skip_reason = (f"notional {notional:.2f} below the minimum {c.min_notional:.2f} "
                                 f"(limited by {binding})")
        if order.skip_reason:
            return order
        fill_price = price * (1.0 + c.slippage)
        fee = min(notional * c.fee, portfolio.cash - notional)  # rounding must not overdraw
        quantity = notional / fill_price
        portfolio.cash -= notional + fee
        portfolio.positions[symbol] = Position(symbol, quantity, fill_price, time, fee)
        order.fill = Fill(symbol, "buy", quantity, fill_price, notional, fee, time, reason, price)
        return order

    def sell(self, portfolio: Portfolio, symbol: str, price: float, time: pd.Timestamp,
             reason: str = "signal", slippage: bool = True) -> Order:
        """Close the whole position at ``price`` less slippage, paying the fee.

        ``slippage=False`` for take-profit exits, limit orders that fill at their level.
        """
        position = portfolio.positions.get(symbol)
        order = Order(symbol, "sell", 0.0 if position is None else position.quantity * price, reason)
        if position is None:
            order.skip_reason = "no position"
            return order
        fill_price = price * (1.0 - self.config.slippage) if slippage else price
        notional = position.quantity * fill_price
        fee = notional * self.config.fee
        portfolio.cash += notional - fee
        del portfolio.positions[symbol]
        order.fill = Fill(symbol, "sell", position.quantity, fill_price, notional, fee, time,
                          reason, price, realised_pnl=notional - fee - position.cost)
        return order

    def stop_exit(self, position: Position, bar: Candle) -> tuple[float, str] | None:
        """Stop-loss or take-profit level hit within ``bar`` (open, high, low), if any.

        A gap through a level fills at the open. If both levels lie inside one bar the
        stop is assumed to come first (the conservative reading).
        """
        c = self.config
        if c.stop_loss is not None:
            stop = position.entry_price * (1.0 - c.stop_loss)
            if bar.open <= stop:
                return float(bar.open), "stop_loss"
            if bar.low <= stop:
                return stop, "stop_loss"
        if c.take_profit is not None:
            target = position.entry_price * (1.0 + c.take_profit)
            if bar.open >= target:
                return float(bar.open), "take_profit"
            if bar.high >= target:
                return target, "take_profit"
        return None

    def close_on_stop(self, portfolio: Portfolio, symbol: str, bar: Candle,
                      time: pd.Timestamp) -> Order | None:
        """Sell ``symbol``'s position if ``bar`` hit its stop-loss or take-profit.

        A stop-loss is a market order once triggered and pays slippage below its level
        (or below the open it gapped to); a take-profit is a limit order and fills at
        its level (or the better open).
        """
        position = portfolio.positions.get(symbol)
        hit = None if position is None else self.stop_exit(position, bar)
        if hit is None:
            return None
        price, reason = hit
        return self.sell(portfolio, symbol, price, time, reason, slippage=reason == "stop_loss")

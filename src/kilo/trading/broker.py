"""Paper broker and portfolio: market fills with slippage and fees, sizing, stops.

Prices are in the quote currency, quantities in the base currency, fees and slippage
fractions of notional and price (DESIGN.md invariant 5). Spot, long or flat.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import NamedTuple

import pandas as pd

from kilo.config import TradingConfig
from kilo.metrics import costs


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
    highest_close: float = 0.0  # since entry (the entry price until a close beats it)
    partials_done: int = 0  # partial take-profit levels already sold

    def __post_init__(self) -> None:
        self.highest_close = self.highest_close or self.entry_price

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
    # "signal", "stop_loss", "take_profit", "trailing_stop", "partial_take_profit",
    # "drawdown" (closed by the risk manager's breaker) or "fold_end" (the evaluation)
    reason: str
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

    def positions_value(self, marks: Mapping[str, float]) -> float:
        """Σ quantity × mark price over open positions."""
        return sum(p.quantity * marks[s] for s, p in self.positions.items())

    def equity(self, marks: Mapping[str, float]) -> float:
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

    def buy(
        self,
        portfolio: Portfolio,
        symbol: str,
        price: float,
        time: pd.Timestamp,
        marks: dict[str, float],
        reason: str = "signal",
        fraction: float | None = None,
    ) -> Order:
        """Open a long of ``fraction`` of equity (at most ``max_position_fraction``, its
        default), within every limit.

        The notional is the smallest of the per-symbol target, the room left under
        ``max_total_exposure`` and what the cash pays for with the fee, so cash never
        goes negative; below ``min_notional`` the order is skipped with the reason.
        """
        c = self.config
        equity = portfolio.equity(marks)
        share = (
            c.max_position_fraction if fraction is None else min(fraction, c.max_position_fraction)
        )
        limits = {
            "position size": share * equity,
            "total exposure cap": c.max_total_exposure * equity - portfolio.positions_value(marks),
            "cash": portfolio.cash / (1.0 + c.fee),
        }
        binding = min(limits, key=lambda name: limits[name])
        notional = max(0.0, limits[binding])
        order = Order(symbol, "buy", limits["position size"], reason)
        if symbol in portfolio.positions:
            order.skip_reason = "already long"
        elif notional < c.min_notional:
            order.skip_reason = (
                f"notional {notional:.2f} below the minimum {c.min_notional:.2f} "
                f"(limited by {binding})"
            )
        if order.skip_reason:
            return order
        fill_price = costs.fill_price(price, c.slippage, "buy")
        fee = min(notional * c.fee, portfolio.cash - notional)  # rounding must not overdraw
        quantity = notional / fill_price
        portfolio.cash -= notional + fee
        portfolio.positions[symbol] = Position(
            symbol, quantity, fill_price, time, fee, highest_close=fill_price
        )
        order.fill = Fill(symbol, "buy", quantity, fill_price, notional, fee, time, reason, price)
        return order

    def sell(
        self,
        portfolio: Portfolio,
        symbol: str,
        price: float,
        time: pd.Timestamp,
        reason: str = "signal",
        slippage: bool = True,
        share: float = 1.0,
    ) -> Order:
        """Sell ``share`` of the position (all of it by default) at ``price`` less
        slippage, paying the fee.

        ``slippage=False`` for take-profit exits, limit orders that fill at their level.
        A partial sale keeps the rest open with its entry fee reduced in proportion.
        """
        position = portfolio.positions.get(symbol)
        order = Order(
            symbol, "sell", 0.0 if position is None else position.quantity * share * price, reason
        )
        if position is None:
            order.skip_reason = "no position"
            return order
        fill_price = costs.fill_price(price, self.config.slippage if slippage else 0.0, "sell")
        quantity = position.quantity * min(share, 1.0)
        notional = quantity * fill_price
        fee = notional * self.config.fee
        cost = position.cost * quantity / position.quantity
        portfolio.cash += notional - fee
        if share >= 1.0:
            del portfolio.positions[symbol]
        else:
            position.entry_fee *= 1.0 - share
            position.quantity -= quantity
        order.fill = Fill(
            symbol,
            "sell",
            quantity,
            fill_price,
            notional,
            fee,
            time,
            reason,
            price,
            realised_pnl=notional - fee - cost,
        )
        return order

    def stop_exit(self, position: Position, bar: Candle) -> tuple[float, str] | None:
        """Stop-loss, trailing stop or take-profit level hit within ``bar``, if any.

        The stop is the higher of the stop-loss (below the entry) and the trailing
        stop (below the highest close since entry). A gap through a level fills at the
        open. If a stop and the take-profit both lie inside one bar the stop is assumed
        to come first (the conservative reading).
        """
        c = self.config
        stops = []
        if c.stop_loss is not None:
            stops.append((position.entry_price * (1.0 - c.stop_loss), "stop_loss"))
        if c.trailing_stop is not None:
            stops.append((position.highest_close * (1.0 - c.trailing_stop), "trailing_stop"))
        if stops:
            level, reason = max(stops)
            if bar.open <= level:
                return float(bar.open), reason
            if bar.low <= level:
                return level, reason
        if c.take_profit is not None:
            target = position.entry_price * (1.0 + c.take_profit)
            if bar.open >= target:
                return float(bar.open), "take_profit"
            if bar.high >= target:
                return target, "take_profit"
        return None

    def bar_exits(
        self, portfolio: Portfolio, symbol: str, bar: Candle, time: pd.Timestamp
    ) -> list[Order]:
        """The exits ``bar`` triggers for ``symbol``'s position, in order.

        First the stops (:meth:`stop_exit`; a stop is a market order once triggered and
        pays slippage below its level or the open it gapped to); then each partial
        take-profit level the bar reached, selling its share of what is left at the
        level (limit orders, no slippage); then the full take-profit. The highest close
        since entry is updated with this bar's close for the next bar.
        """
        position = portfolio.positions.get(symbol)
        if position is None:
            return []
        orders = []
        hit = self.stop_exit(position, bar)
        if hit is not None and hit[1] != "take_profit":
            price, reason = hit
            return [self.sell(portfolio, symbol, price, time, reason, slippage=True)]
        for level in (self.config.partial_take_profit or [])[position.partials_done :]:
            target = position.entry_price * (1.0 + level.at)
            if bar.high < target:
                break
            position.partials_done += 1
            orders.append(
                self.sell(
                    portfolio,
                    symbol,
                    max(target, float(bar.open)),
                    time,
                    "partial_take_profit",
                    slippage=False,
                    share=level.sell,
                )
            )
            if symbol not in portfolio.positions:
                return orders
        if hit is not None:
            price, reason = hit
            return [*orders, self.sell(portfolio, symbol, price, time, reason, slippage=False)]
        position.highest_close = max(position.highest_close, float(bar.close))
        return orders

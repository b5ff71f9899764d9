"""Paper broker and portfolio: fills with slippage and fees, funding, sizing, stops.

Prices are in the quote currency, quantities in the base currency, fees, slippage and
funding rates fractions of notional and price (DESIGN.md invariant 5). Long or flat, on
spot or a perpetual (:mod:`kilo.config.venue`); every cost is
:mod:`kilo.metrics.costs`'.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import NamedTuple

import pandas as pd

from kilo.config import TradingConfig
from kilo.config.venue import OrderType
from kilo.metrics import costs

#: The side of every position the broker opens today (+1 long; shorts will be -1).
LONG = 1.0


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
    funding: float = 0.0  # quote currency paid since entry (negative: received)

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
    realised_pnl: float = 0.0  # sells: proceeds after fee minus cost and funding paid


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
        """Log return of equity the payment took (negative when received)."""
        return -math.log1p(-self.amount / self.equity)


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
        The ``trading`` section: fees, order type, slippage, sizing, minimum
        notional, stops.
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
        The order is of ``trading.order_type`` (:func:`~kilo.metrics.order_costs`).
        """
        c = self.config
        paid = costs.signal_costs(c)
        equity = portfolio.equity(marks)
        share = (
            c.max_position_fraction if fraction is None else min(fraction, c.max_position_fraction)
        )
        limits = {
            "position size": share * equity,
            "total exposure cap": c.max_total_exposure * equity - portfolio.positions_value(marks),
            "cash": portfolio.cash / (1.0 + paid.fee),
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
        fill_price = costs.fill_price(price, paid.slippage, "buy")
        fee = min(notional * paid.fee, portfolio.cash - notional)  # rounding must not overdraw
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
        order_type: OrderType | None = None,
        share: float = 1.0,
    ) -> Order:
        """Sell ``share`` of the position (all of it by default) at ``price``, paying
        :func:`~kilo.metrics.order_costs` of ``order_type`` (None: ``trading.order_type``):
        a market order less slippage at the taker fee (stops), a limit order at its
        level at the maker fee (take-profit levels). A partial sale keeps the rest open
        with its entry fee and funding paid reduced in proportion.
        """
        position = portfolio.positions.get(symbol)
        order = Order(
            symbol, "sell", 0.0 if position is None else position.quantity * share * price, reason
        )
        if position is None:
            order.skip_reason = "no position"
            return order
        paid = costs.order_costs(self.config, order_type or self.config.order_type)
        fill_price = costs.fill_price(price, paid.slippage, "sell")
        quantity = position.quantity * min(share, 1.0)
        notional = quantity * fill_price
        fee = notional * paid.fee
        cost = (position.cost + position.funding) * quantity / position.quantity
        portfolio.cash += notional - fee
        if share >= 1.0:
            del portfolio.positions[symbol]
        else:
            position.entry_fee *= 1.0 - share
            position.funding *= 1.0 - share
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
            return [self.sell(portfolio, symbol, price, time, reason, order_type="market")]
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
                    order_type="limit",
                    share=level.sell,
                )
            )
            if symbol not in portfolio.positions:
                return orders
        if hit is not None:
            price, reason = hit
            return [*orders, self.sell(portfolio, symbol, price, time, reason, order_type="limit")]
        position.highest_close = max(position.highest_close, float(bar.close))
        return orders

    def pay_funding(
        self,
        portfolio: Portfolio,
        symbol: str,
        rate: float,
        mark: float,
        time: pd.Timestamp,
        marks: Mapping[str, float],
    ) -> FundingPayment | None:
        """Charge ``symbol``'s open position one funding event: ``rate`` x its notional
        at ``mark`` (:func:`~kilo.metrics.funding_payment`), from cash (a negative
        payment is received). Nothing on spot, without a position or at rate 0.

        Parameters
        ----------
        rate
            Funding rate of the events at ``time`` (fraction; positive: longs pay).
        mark
            The symbol's price at ``time`` (quote currency).
        marks
            Every open position's price (the equity the payment is measured against).
        """
        position = portfolio.positions.get(symbol)
        if self.config.market != "futures" or position is None or rate == 0.0:
            return None
        notional = position.quantity * mark
        amount = costs.funding_payment(rate, notional, LONG)
        equity = portfolio.equity({**marks, symbol: mark})
        portfolio.cash -= amount
        position.funding += amount
        return FundingPayment(symbol, time, rate, notional, amount, equity)

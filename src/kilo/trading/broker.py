"""Paper broker and portfolio: fills with slippage and fees, funding, sizing, stops.

Prices are in the quote currency, quantities in the base currency, fees, slippage and
funding rates fractions of notional and price (DESIGN.md invariant 5). A position is a
long (bought, sold to close) or, on a perpetual with ``trading.allow_short``, a short
(sold first, bought back to close); its quantity is positive either way and its
``side`` says which (:mod:`kilo.config.venue`). Equity is cash plus each position's
signed value (+ quantity x mark for a long, - for a short), so a short earns entry
minus exit. Every cost is :mod:`kilo.metrics.costs`': slippage moves each fill against
the trader (a buy up, a sale down), a short receives the funding a long pays.
"""

from __future__ import annotations

from collections.abc import Mapping

import pandas as pd

from kilo.config import TradingConfig
from kilo.config.venue import OrderType
from kilo.metrics import costs
from kilo.trading.accounts import (
    SIGN,
    Candle,
    Fill,
    FundingPayment,
    Order,
    Portfolio,
    Position,
    PositionSide,
)


class PaperBroker:
    """Opens and closes positions of a :class:`Portfolio` with the config's costs.

    Parameters
    ----------
    config
        The ``trading`` section: fees, order type, slippage, sizing, minimum
        notional, stops.
    """

    def __init__(self, config: TradingConfig) -> None:
        self.config = config

    def open(
        self,
        portfolio: Portfolio,
        symbol: str,
        price: float,
        time: pd.Timestamp,
        marks: dict[str, float],
        reason: str = "signal",
        fraction: float | None = None,
        side: PositionSide = "long",
    ) -> Order:
        """Open a long (a buy) or a short (a sale) of ``fraction`` of equity (at most
        ``max_position_fraction``, its default), within every limit.

        The notional is the smallest of the per-symbol target, the room left under
        ``max_total_exposure`` (gross: longs and shorts both count) and, for a long,
        what the cash pays for with the fee, so cash never goes negative; below
        ``min_notional`` the order is skipped with the reason. The order is of
        ``trading.order_type`` (:func:`~kilo.metrics.order_costs`).

        Raises
        ------
        ValueError
            If ``side`` is short and ``trading.allow_short`` is off (spot).
        """
        c = self.config
        if side == "short" and not c.allow_short:
            raise ValueError(f"{symbol}: shorts are off (trading.market {c.market})")
        paid = costs.signal_costs(c)
        equity = portfolio.equity(marks)
        share = (
            c.max_position_fraction if fraction is None else min(fraction, c.max_position_fraction)
        )
        limits = {
            "position size": share * equity,
            "total exposure cap": c.max_total_exposure * equity - portfolio.gross_exposure(marks),
        }
        if side == "long":
            limits["cash"] = portfolio.cash / (1.0 + paid.fee)
        binding = min(limits, key=lambda name: limits[name])
        notional = max(0.0, limits[binding])
        order_side: costs.Side = "buy" if side == "long" else "sell"
        order = Order(symbol, order_side, limits["position size"], reason)
        if symbol in portfolio.positions:
            order.skip_reason = f"already {portfolio.positions[symbol].side}"
        elif notional < c.min_notional:
            order.skip_reason = (
                f"notional {notional:.2f} below the minimum {c.min_notional:.2f} "
                f"(limited by {binding})"
            )
        if order.skip_reason:
            return order
        fill_price = costs.fill_price(price, paid.slippage, order_side)
        fee = notional * paid.fee
        if side == "long":
            fee = min(fee, portfolio.cash - notional)  # rounding must not overdraw
        quantity = notional / fill_price
        portfolio.cash -= SIGN[side] * notional + fee
        portfolio.positions[symbol] = Position(
            symbol, quantity, fill_price, time, fee, best_close=fill_price, side=side
        )
        order.fill = Fill(
            symbol,
            order_side,
            quantity,
            fill_price,
            notional,
            fee,
            time,
            reason,
            price,
            position_side=side,
        )
        return order

    def close(
        self,
        portfolio: Portfolio,
        symbol: str,
        price: float,
        time: pd.Timestamp,
        reason: str = "signal",
        order_type: OrderType | None = None,
        share: float = 1.0,
    ) -> Order:
        """Close ``share`` of the position (all of it by default) at ``price``: sell a
        long, buy back a short, paying :func:`~kilo.metrics.order_costs` of
        ``order_type`` (None: ``trading.order_type``): a market order with slippage
        against the trader at the taker fee (stops), a limit order at its level at the
        maker fee (take-profit levels). A partial close keeps the rest open with its
        entry fee and funding paid reduced in proportion.
        """
        position = portfolio.positions.get(symbol)
        order_side: costs.Side = "buy" if position and position.side == "short" else "sell"
        order = Order(
            symbol,
            order_side,
            0.0 if position is None else position.quantity * share * price,
            reason,
        )
        if position is None:
            order.skip_reason = "no position"
            return order
        paid = costs.order_costs(self.config, order_type or self.config.order_type)
        fill_price = costs.fill_price(price, paid.slippage, order_side)
        quantity = position.quantity * min(share, 1.0)
        notional = quantity * fill_price
        fee = notional * paid.fee
        sign = position.sign
        # what opening it cost (a short: brought in), fee and funding included, pro rata
        basis = position.quantity * position.entry_price + sign * position.entry_fee
        cost = (basis + sign * position.funding) * quantity / position.quantity
        portfolio.cash += sign * notional - fee
        if share >= 1.0:
            del portfolio.positions[symbol]
        else:
            position.entry_fee *= 1.0 - share
            position.funding *= 1.0 - share
            position.quantity -= quantity
        order.fill = Fill(
            symbol,
            order_side,
            quantity,
            fill_price,
            notional,
            fee,
            time,
            reason,
            price,
            realised_pnl=sign * notional - fee - sign * cost,
            position_side=position.side,
        )
        return order

    def stop_exit(self, position: Position, bar: Candle) -> tuple[float, str] | None:
        """Stop-loss, trailing stop, liquidation or take-profit level hit within ``bar``,
        if any.

        For a long the stop is the highest of the stop-loss (below the entry), the
        trailing stop (below the highest close since entry) and, on a perpetual, the
        :meth:`liquidation_price` (reason ``liquidation``), the take-profit above the
        entry; a short's are mirrored (stops above the entry and the lowest close, the
        take-profit below). A gap through a level fills at the open. If a stop and the
        take-profit both lie inside one bar the stop is assumed to come first (the
        conservative reading).
        """
        c, s = self.config, position.sign
        long = position.side == "long"
        # s * (price - level) <= 0: the price is at or past the level against the position
        adverse, favourable = (bar.low, bar.high) if long else (bar.high, bar.low)
        stops = []
        if c.stop_loss is not None:
            stops.append((position.entry_price * (1.0 - s * c.stop_loss), "stop_loss"))
        if c.trailing_stop is not None:
            stops.append((position.best_close * (1.0 - s * c.trailing_stop), "trailing_stop"))
        liquidation = self.liquidation_price(position)
        if liquidation is not None:
            stops.append((liquidation, "liquidation"))
        if stops:
            level, reason = max(stops) if long else min(stops)
            if s * (bar.open - level) <= 0:
                return float(bar.open), reason
            if s * (adverse - level) <= 0:
                return level, reason
        if c.take_profit is not None:
            target = position.entry_price * (1.0 + s * c.take_profit)
            if s * (bar.open - target) >= 0:
                return float(bar.open), "take_profit"
            if s * (favourable - target) >= 0:
                return target, "take_profit"
        return None

    def bar_exits(
        self, portfolio: Portfolio, symbol: str, bar: Candle, time: pd.Timestamp
    ) -> list[Order]:
        """The exits ``bar`` triggers for ``symbol``'s position, in order.

        First the stops (:meth:`stop_exit`; a stop is a market order once triggered and
        pays slippage past its level or the open it gapped to); then each partial
        take-profit level the bar reached (above a long's entry, below a short's),
        closing its share of what is left at the level (limit orders, no slippage);
        then the full take-profit. The best close since entry (a long's highest, a
        short's lowest) is updated with this bar's close for the next bar.
        """
        position = portfolio.positions.get(symbol)
        if position is None:
            return []
        orders = []
        hit = self.stop_exit(position, bar)
        if hit is not None and hit[1] != "take_profit":
            price, reason = hit
            return [self.close(portfolio, symbol, price, time, reason, order_type="market")]
        s, long = position.sign, position.side == "long"
        favourable = bar.high if long else bar.low
        for level in (self.config.partial_take_profit or [])[position.partials_done :]:
            target = position.entry_price * (1.0 + s * level.at)
            if s * (favourable - target) < 0:
                break
            position.partials_done += 1
            orders.append(
                self.close(
                    portfolio,
                    symbol,
                    max(target, float(bar.open)) if long else min(target, float(bar.open)),
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
            return [*orders, self.close(portfolio, symbol, price, time, reason, order_type="limit")]
        best = max if long else min
        position.best_close = best(position.best_close, float(bar.close))
        return orders

    def liquidation_price(self, position: Position) -> float | None:
        """The price at which a perpetual's position has lost its margin down to
        ``trading.maintenance_margin`` of its notional there (quote currency; None on spot).

        Isolated margin at leverage 1: the margin is the entry notional ``q e``, less the
        funding ``F`` paid since (``position.funding``; received: negative). A long's
        equity ``q p - F`` meets ``m q p`` at ``F / (q (1 - m))`` (at or below 0, never,
        while it has paid no funding); a short's ``2 q e - q p - F`` at
        ``(2 q e - F) / (q (1 + m))``.
        """
        if self.config.market != "futures":
            return None
        m, q, paid = self.config.maintenance_margin, position.quantity, position.funding
        if position.side == "long":
            return paid / (q * (1.0 - m))
        return (2.0 * q * position.entry_price - paid) / (q * (1.0 + m))

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
        payment is received: a short receives a positive rate). Nothing on spot,
        without a position or at rate 0.

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
        amount = costs.funding_payment(rate, notional, position.sign)
        equity = portfolio.equity({**marks, symbol: mark})
        portfolio.cash -= amount
        position.funding += amount
        return FundingPayment(symbol, time, rate, notional, amount, equity)

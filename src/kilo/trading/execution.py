"""One symbol, one closed bar: stops, prediction, decision, order.

:class:`~kilo.trading.trader.PaperTrader` runs this for every symbol of an iteration;
the walk-forward evaluation runs it bar by bar on precomputed predictions. Both trade
through the same broker, rule and order of steps, so they cannot drift apart.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Protocol

import pandas as pd

from kilo.blend import DecisionRule
from kilo.config import TradingConfig
from kilo.inference import FLAT, PortfolioState, Prediction
from kilo.trading.accounts import Candle, FundingPayment, Order, Portfolio, PositionSide
from kilo.trading.broker import PaperBroker


def volatility_scale(volatility: float | None, target: float | None) -> float:
    """Volatility targeting: ``min(1, target / volatility)`` (both annualised); 1 when
    either is unknown."""
    if target is None or volatility is None or not volatility > 0:
        return 1.0
    return min(1.0, target / volatility)


def entry_fraction(
    trading: TradingConfig, rule: DecisionRule, score: float, volatility: float | None
) -> float:
    """Share of equity an entry at ``score`` asks for, before the risk rules:
    ``max_position_fraction`` x ``rule.size(score)`` x :func:`volatility_scale`
    (``volatility`` annualised, ``trading.target_volatility``)."""
    return (
        trading.max_position_fraction
        * rule.size(score)
        * volatility_scale(volatility, trading.target_volatility)
    )


class RiskGate(Protocol):
    """What the execution asks of the portfolio's risk rules.

    :class:`~kilo.trading.risk.RiskManager` is the implementation.
    """

    def forced_exit(self, symbol: str) -> str | None:
        """The rule that closes the symbol's open position now, if any."""
        ...

    def entry_fraction(
        self, symbol: str, fraction: float, portfolio: Portfolio, marks: Mapping[str, float]
    ) -> float:
        """The share of equity an entry may take (``fraction`` asked, 0 blocks it)."""
        ...


@dataclass(frozen=True)
class BarOutcome:
    """What one symbol's bar produced: the prediction, the decision and the orders."""

    prediction: Prediction
    decision: str
    orders: list[Order]
    funding: FundingPayment | None = None


def execute_bar(
    broker: PaperBroker,
    portfolio: Portfolio,
    marks: dict[str, float],
    symbol: str,
    bar: Candle,
    bar_time: pd.Timestamp,
    fill_price: float,
    fill_time: pd.Timestamp,
    predict: Callable[[PortfolioState], Prediction],
    rule: DecisionRule,
    risk: RiskGate | None = None,
    funding_rate: float = 0.0,
    entry_scale: float = 1.0,
) -> BarOutcome:
    """Trade one symbol on one closed bar; mutates ``portfolio``.

    Steps: an open position ages a bar, and the exits the bar triggered fill inside it
    (stops, trailing stop, partial and full take-profit); what is still open at
    ``fill_time`` pays the funding events there (``funding_rate`` x its notional at
    ``fill_price``, futures only: :meth:`PaperBroker.pay_funding`); ``risk`` may close it at
    ``fill_price``; the model predicts with the position it now sees; ``rule`` decides;
    an entry (a long, or a short where the rule and venue allow) or exit fills at
    ``fill_price``. An entry of either side takes ``max_position_fraction`` of equity
    times ``rule.size(score)`` times :func:`volatility_scale`
    (``trading.target_volatility``), as far as ``risk`` allows. A position is closed
    on one bar and the other side opened on a later one at the earliest.

    Parameters
    ----------
    bar
        The closed candle decided on (quote currency).
    fill_price, fill_time
        Where orders decided on this bar execute: the next bar's open in replay.
    funding_rate
        Sum of the funding rates of the events after the bar's open up to
        ``fill_time`` (fraction; positive: longs pay); 0 on spot.
    predict
        Position state -> :class:`~kilo.inference.Prediction` for this bar.
    entry_scale
        Factor on an entry's size (``trading.drift_action`` while drifted: 1 none,
        ``drift_reduce``, 0 refuses the entry).

    Returns
    -------
    BarOutcome; ``decision`` is ``enter`` (long) or ``enter_short``, either followed
    by `` skipped`` (too small) or `` blocked`` (risk), ``drift blocked`` (an entry
    refused by ``entry_scale`` 0), ``exit``, ``risk exit``,
    ``hold`` or ``wait``.
    """
    orders = []
    position = portfolio.positions.get(symbol)
    if position is not None:
        position.bars_held += 1
        orders += broker.bar_exits(portfolio, symbol, bar, bar_time)
        position = portfolio.positions.get(symbol)
    funding = broker.pay_funding(portfolio, symbol, funding_rate, fill_price, fill_time, marks)
    forced = risk.forced_exit(symbol) if risk is not None and position is not None else None
    if forced is not None:
        orders.append(broker.close(portfolio, symbol, fill_price, fill_time, forced))
        return BarOutcome(predict(FLAT), "risk exit", orders, funding)
    state = (
        PortfolioState(
            position.sign, math.log(bar.close / position.entry_price), position.bars_held
        )
        if position is not None
        else FLAT
    )
    prediction = predict(state)
    decision: str = rule.decide(prediction.score, int(state.position), state.bars_held)
    if decision in ("enter", "enter_short"):
        if entry_scale <= 0:
            return BarOutcome(prediction, "drift blocked", orders, funding)
        fraction = entry_scale * entry_fraction(
            broker.config, rule, prediction.score, prediction.volatility
        )
        if risk is not None:
            fraction = risk.entry_fraction(symbol, fraction, portfolio, marks)
        if fraction <= 0:
            return BarOutcome(prediction, f"{decision} blocked", orders, funding)
        side: PositionSide = "long" if decision == "enter" else "short"
        order = broker.open(
            portfolio, symbol, fill_price, fill_time, marks, fraction=fraction, side=side
        )
        decision = decision if order.fill else f"{decision} skipped"
        orders.append(order)
    elif decision == "exit":
        orders.append(broker.close(portfolio, symbol, fill_price, fill_time))
    return BarOutcome(prediction, decision, orders, funding)

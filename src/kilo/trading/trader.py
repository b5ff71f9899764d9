"""The paper-trading loop: per iteration, score every symbol and trade the blend."""

from __future__ import annotations

import logging
import math
from collections.abc import Callable
from typing import Protocol

import pandas as pd

from kilo.config import Config
from kilo.inference import PortfolioState, Prediction
from kilo.trading.broker import Order, PaperBroker, Portfolio
from kilo.trading.ledger import Ledger
from kilo.trading.records import IterationRecord, PredictionRecord
from kilo.trading.sources import Iteration, LiveSource, MarketSnapshot, ReplaySource

logger = logging.getLogger(__name__)


class Scorer(Protocol):
    """What the trader needs of a symbol's model: a score per bar and thresholds.

    :class:`~kilo.trading.symbol_model.SymbolModel` is the live implementation; the
    walk-forward evaluation plugs in scorers over precomputed outputs.
    """

    enter_threshold: float
    exit_threshold: float

    @property
    def version(self) -> str: ...

    def predict(self, history: pd.DataFrame, state: PortfolioState) -> Prediction: ...


class PaperTrader:
    """Runs iterations of: stops, predictions, blend, orders, ledger.

    For each symbol with a new closed bar: a stop-loss or take-profit inside that bar
    closes the position; the models score the bar; a flat symbol whose score exceeds
    its enter threshold buys, a long one below its exit threshold sells, at the
    snapshot's fill price. The iteration is written to the ledger in one transaction.

    Parameters
    ----------
    models
        Symbol -> :class:`Scorer`, usually a loaded :class:`SymbolModel`.
    """

    def __init__(self, config: Config, models: dict[str, Scorer],
                 source: ReplaySource | LiveSource,
                 ledger: Ledger) -> None:
        self.config = config
        self.models = models
        self.source = source
        self.ledger = ledger
        self.broker = PaperBroker(config.trading)

    def run(self, iterations: int,
            on_iteration: Callable[[IterationRecord], None] | None = None,
            before_iteration: Callable[[], object] | None = None) -> list[IterationRecord]:
        """Run up to ``iterations`` iterations, resuming the ledger's saved state.

        ``before_iteration`` is called before each iteration takes its bar (the hot
        reload hook); ``on_iteration`` after each is written. Returns the records
        written, in order.
        """
        saved = self.ledger.saved_state()
        portfolio = saved.portfolio if saved else Portfolio(self.config.trading.initial_cash)
        marks = dict(saved.marks) if saved else {}
        if saved:
            logger.info("resuming after %s with equity %.2f", saved.last_bar_time,
                        portfolio.equity(marks))
        self.ledger.start_run(self.source.name, sorted(self.models), self.config.trading.initial_cash,
                              self.config.model_dump(mode="json"))
        records: list[IterationRecord] = []
        stream = self.source.iterations(saved.last_bar_time if saved else None)
        for _ in range(iterations):
            if before_iteration:
                before_iteration()
            item = next(stream, None)
            if item is None:
                break
            if not item[1]:
                continue
            record = self.step(item, portfolio, marks)
            self.ledger.write_iteration(record)
            records.append(record)
            if on_iteration:
                on_iteration(record)
        return records

    def step(self, iteration: Iteration, portfolio: Portfolio,
             marks: dict[str, float]) -> IterationRecord:
        """One iteration over every symbol's snapshot; mutates ``portfolio`` and ``marks``."""
        bar_time, snapshots = iteration
        marks.update({s: snap.fill_price for s, snap in snapshots.items()})
        predictions, orders = [], []
        for symbol in sorted(snapshots):
            snap = snapshots[symbol]
            orders += self._stops(portfolio, snap)
            prediction, order = self._trade(self.models[symbol], snap, portfolio, marks)
            predictions.append(prediction)
            if order is not None:
                orders.append(order)
        mark_time = max(s.fill_time for s in snapshots.values())
        return IterationRecord(bar_time, mark_time, predictions, orders, portfolio.copy(),
                               dict(marks))

    def _stops(self, portfolio: Portfolio, snap: MarketSnapshot) -> list[Order]:
        position = portfolio.positions.get(snap.symbol)
        if position is None:
            return []
        position.bars_held += 1
        hit = self.broker.stop_exit(position, snap.bar)
        if hit is None:
            return []
        price, reason = hit
        return [self.broker.sell(portfolio, snap.symbol, price, snap.bar_time, reason, slippage=False)]

    def _trade(self, model: Scorer, snap: MarketSnapshot, portfolio: Portfolio,
               marks: dict[str, float]) -> tuple[PredictionRecord, Order | None]:
        position = portfolio.positions.get(snap.symbol)
        state = (PortfolioState(1.0, math.log(snap.bar["close"] / position.entry_price),
                                position.bars_held) if position else PortfolioState())
        prediction = model.predict(snap.history, state)
        score, order = prediction.score, None
        if position is None and score > model.enter_threshold:
            order = self.broker.buy(portfolio, snap.symbol, snap.fill_price, snap.fill_time, marks)
            decision = "enter" if order.fill else "enter skipped"
        elif position is not None and score < model.exit_threshold:
            order = self.broker.sell(portfolio, snap.symbol, snap.fill_price, snap.fill_time)
            decision = "exit"
        else:
            decision = "hold" if position else "wait"
        return PredictionRecord(snap.symbol, snap.bar_time, model.version, decision,
                                snap.fill_price, prediction), order

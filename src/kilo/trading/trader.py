"""The paper-trading loop: per iteration, score every symbol and trade the blend."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping
from functools import partial
from typing import Protocol, runtime_checkable

from kilo.blend import DecisionRule
from kilo.config import Config, TradingConfig
from kilo.inference import PortfolioState, Prediction
from kilo.trading.accounts import Portfolio
from kilo.trading.broker import PaperBroker
from kilo.trading.drift import DriftMonitor, DriftRecord
from kilo.trading.execution import execute_bar
from kilo.trading.ledger import Ledger
from kilo.trading.monitoring import TraderMetrics
from kilo.trading.records import IterationRecord, PredictionRecord
from kilo.trading.risk import RiskManager
from kilo.trading.sources import Iteration, LiveSource, MarketSnapshot, ReplaySource

logger = logging.getLogger(__name__)


class Scorer(Protocol):
    """What the trader needs of a symbol's model: a prediction per bar and a rule.

    :class:`~kilo.trading.symbol_model.SymbolModel` is the live implementation.
    """

    @property
    def rule(self) -> DecisionRule: ...

    @property
    def version(self) -> str: ...

    def predict(self, snapshot: MarketSnapshot, state: PortfolioState) -> Prediction: ...


@runtime_checkable
class DriftObserved(Protocol):
    """A scorer that measures its drift (:class:`~kilo.trading.symbol_model.SymbolModel`);
    ``drift`` None where unavailable."""

    drift: DriftMonitor | None

    def observe_drift(
        self, snapshot: MarketSnapshot, prediction: Prediction, decision: str
    ) -> DriftRecord | None: ...


def drift_scale(trading: TradingConfig, model: Scorer) -> float:
    """Factor on the symbol's entry size from ``trading.drift_action``: 1 unless its
    drift measures say drifted (after the previous bar); then ``drift_reduce``
    (``reduce``) or 0 (``flat``)."""
    if trading.drift_action == "none" or not isinstance(model, DriftObserved):
        return 1.0
    if model.drift is None or not model.drift.drifted:
        return 1.0
    return trading.drift_reduce if trading.drift_action == "reduce" else 0.0


class PaperTrader:
    """Runs iterations of: stops, predictions, blend, orders, ledger.

    Each iteration marks the portfolio at the snapshots' fill prices and lets the
    :class:`~kilo.trading.risk.RiskManager` see the equity; then, for each symbol with
    a new closed bar, :func:`~kilo.trading.execution.execute_bar`: the bar's stops and
    take-profits fill, the risk rules may force an exit, the models score the bar, the
    symbol's rule decides within what the risk rules allow (and ``trading.drift_action``,
    :func:`drift_scale`), and orders fill at the snapshot's fill price; then the
    symbol's drift measures take the bar (:class:`DriftObserved`). The iteration, its
    risk events, the risk state and the drift measures are written to the ledger in one
    transaction.

    Parameters
    ----------
    models
        Symbol -> :class:`Scorer`, usually a loaded :class:`SymbolModel`.
    """

    def __init__(
        self,
        config: Config,
        models: Mapping[str, Scorer],
        source: ReplaySource | LiveSource,
        ledger: Ledger,
    ) -> None:
        self.config = config
        self.models = models
        self.source = source
        self.ledger = ledger
        self.broker = PaperBroker(config.trading)
        self.risk = RiskManager(config.risk)

    def run(
        self,
        iterations: int | None,
        on_iteration: Callable[[IterationRecord], None] | None = None,
        before_iteration: Callable[[], object] | None = None,
        metrics: TraderMetrics | None = None,
        keep: bool = True,
    ) -> list[IterationRecord]:
        """Run up to ``iterations`` iterations (None or 0: until the source ends or the
        process is stopped), resuming the ledger's saved state.

        ``before_iteration`` is called before each iteration takes its bar (the hot
        reload hook); ``on_iteration`` after each is written; ``metrics`` observes each.
        Returns the records written, in order; none when running forever or without
        ``keep`` (the ledger has them: a long run holds no growing list).
        """
        saved = self.ledger.saved_state()
        portfolio = saved.portfolio if saved else Portfolio(self.config.trading.initial_cash)
        marks = dict(saved.marks) if saved else {}
        self.risk = RiskManager(self.config.risk, saved.risk_state if saved else None)
        if saved:
            logger.info(
                "resuming after %s with equity %.2f", saved.last_bar_time, portfolio.equity(marks)
            )
        self.ledger.start_run(
            self.source.name,
            sorted(self.models),
            self.config.trading.initial_cash,
            self.config.model_dump(mode="json"),
        )
        records: list[IterationRecord] = []
        stream = self.source.iterations(saved.last_bar_time if saved else None)
        done = 0
        while not iterations or done < iterations:
            done += 1
            if before_iteration:
                before_iteration()
            item = next(stream, None)
            if item is None:
                break
            if not item[1]:
                continue
            started = time.perf_counter()
            record = self.step(item, portfolio, marks)
            self.ledger.write_iteration(record)
            if metrics is not None:
                metrics.observe(record, time.perf_counter() - started)
            if iterations and keep:
                records.append(record)
            if on_iteration:
                on_iteration(record)
        return records

    def step(
        self, iteration: Iteration, portfolio: Portfolio, marks: dict[str, float]
    ) -> IterationRecord:
        """One iteration over every symbol's snapshot; mutates ``portfolio`` and ``marks``.

        A symbol whose bar raises (a model or data error) is logged and left out of the
        iteration with the portfolio as it was before it; the others trade on.
        """
        bar_time, snapshots = iteration
        marks.update({s: snap.fill_price for s, snap in snapshots.items()})
        closes = {s: snap.history["close"].to_numpy() for s, snap in snapshots.items()}
        self.risk.after_mark(bar_time, portfolio.equity(marks), closes)
        predictions, orders, funding, errors = [], [], [], {}
        drift: list[DriftRecord] = []
        for symbol in sorted(snapshots):
            snap, model = snapshots[symbol], self.models[symbol]
            before = portfolio.copy()
            try:
                outcome = execute_bar(
                    self.broker,
                    portfolio,
                    marks,
                    symbol,
                    snap.bar,
                    snap.bar_time,
                    snap.fill_price,
                    snap.fill_time,
                    partial(model.predict, snap),
                    model.rule,
                    self.risk,
                    snap.funding_rate,
                    drift_scale(self.config.trading, model),
                )
            except Exception as exc:  # per-symbol boundary: skip it, trade the others
                logger.exception("%s: skipped at %s", symbol, bar_time)
                portfolio.cash, portfolio.positions = before.cash, before.positions
                errors[symbol] = f"{type(exc).__name__}: {exc}"
                continue
            predictions.append(
                PredictionRecord(
                    symbol,
                    snap.bar_time,
                    model.version,
                    outcome.decision,
                    snap.fill_price,
                    outcome.prediction,
                )
            )
            orders += outcome.orders
            funding += [outcome.funding] if outcome.funding else []
            if isinstance(model, DriftObserved):
                measured = model.observe_drift(snap, outcome.prediction, outcome.decision)
                drift += [measured] if measured is not None else []
        mark_time = max(s.fill_time for s in snapshots.values())
        return IterationRecord(
            bar_time,
            mark_time,
            predictions,
            orders,
            portfolio.copy(),
            dict(marks),
            self.risk.end_iteration(),
            self.risk.state.model_copy(),
            errors,
            funding,
            drift,
        )

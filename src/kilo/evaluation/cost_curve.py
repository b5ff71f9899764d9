"""Trading a fold's strategies again at other costs: the runs of the cost curve.

A :class:`Plan` is what a strategy trades with, its costs left open: the fold trades
it under the venue's config, and :func:`curve_runs` under each cost of
``evaluation.cost_curve`` on the same predictions (the models do not depend on costs,
so nothing is refit), with its decisions re-taken: the edge rule's hurdle and sizing
read the round-trip cost of the config they trade under
(:meth:`kilo.blend.Calibration.rule`).

Convention: a cost ``c`` per round trip is a fraction of price (0.001 = 0.1 %) split
evenly over the two fills, every fill paying a fee of ``c / 2`` (taker and maker alike)
and no slippage (:func:`cost_config`), so a round trip's log cost is ``log(1 + c/2) -
log(1 - c/2) = 2 atanh(c/2)`` (:func:`kilo.metrics.costs.round_trip_log_cost`; within
``c^3 / 12`` of ``c``) and :func:`price_cost` is its inverse. Funding stays the venue's:
it is paid for holding, not per round trip. Random paths are not traded again at each
cost (a hundred draws six times over would cost more than the fold's models).
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace

import numpy as np

from kilo.backtest.simulate import Book, Predictor, StrategyRun, evaluation_trading
from kilo.backtest.strategies import LONG_FLAT, opening
from kilo.blend import Calibration, DecisionRule
from kilo.config import Config, TradingConfig
from kilo.inference import PortfolioState, Prediction


@dataclass(frozen=True)
class Plan:
    """What one strategy trades with, whatever the costs: its predictor, the calibration
    its rule comes from (None: the ``fixed`` rule on the score, by default long on a
    positive score and flat otherwise, :data:`~kilo.backtest.strategies.LONG_FLAT`),
    whether the configured stops apply (baselines hold without them), and whether the
    predictor reads the position state (PPO does; False promises that its answer depends
    on the candle position alone)."""

    predict: Predictor
    calibration: Calibration | None = None
    stops: bool = True
    reads_state: bool = True
    fixed: DecisionRule = LONG_FLAT

    def rule(self, config: Config) -> DecisionRule:
        """The decision rule under ``config`` (the edge rule's hurdle reads its costs)."""
        return self.fixed if self.calibration is None else self.calibration.rule(config)

    def trading(self, config: Config) -> TradingConfig:
        """The trading section under ``config``
        (:func:`~kilo.backtest.simulate.evaluation_trading`)."""
        return evaluation_trading(
            config.trading, config.evaluation.position_fraction, stops=self.stops
        )

    def memoised(self) -> Plan:
        """This plan with its predictor's answers kept by candle position, and by state
        too where the predictor reads it.

        A predictor is a pure function of the two, so the answers are the same, and every
        run of the plan (at the venue's cost and along the curve) shares them where
        their paths meet: a regressor's blend is asked once per bar in all; and with no
        slippage, entry prices, and so PPO's state, do not depend on the fee, so a
        policy's path at one cost of the curve is its path at every other, PPO asked
        once per bar, not once per cost.
        """
        answers: dict[tuple[int, PortfolioState | None], Prediction] = {}
        predict, reads_state = self.predict, self.reads_state

        def remembered(i: int, state: PortfolioState) -> Prediction:
            key = (i, state if reads_state else None)
            if key not in answers:
                answers[key] = predict(i, state)
            return answers[key]

        return replace(self, predict=remembered)


#: ``(plan, config, book) -> run``: a plan traded over the fold's rows under ``config``
#: from ``book`` (None: flat), as :func:`kilo.backtest.simulate.simulate` trades it.
Trade = Callable[[Plan, Config, Book | None], StrategyRun]


@dataclass(frozen=True)
class CurveRun:
    """A strategy's run at one cost of the curve, kept small for the trip back from a
    worker: ``log_returns`` of equity per bar, shape (n_bars,), float64; ``n_trades``
    the closed trades (closes of a long or a short, as
    :class:`~kilo.backtest.strategies.StrategyMetrics` counts them); ``book`` the
    accounts the next fold carries on from."""

    log_returns: np.ndarray
    n_trades: int
    book: Book

    @classmethod
    def of(cls, run: StrategyRun) -> CurveRun:
        return cls(
            run.log_returns.to_numpy(),
            int((~opening(run.fills)).sum()),
            run.book,
        )


@dataclass(frozen=True)
class CurveRuns:
    """Every strategy's :class:`CurveRun` at each cost (cost -> strategy -> run) of one
    fold, and the seconds they took."""

    runs: dict[float, dict[str, CurveRun]]
    seconds: float = 0.0


def cost_config(config: Config, cost: float) -> Config:
    """``config`` with one round trip costing ``cost`` (fraction of price): a fee of
    ``cost / 2`` on every fill (``trading.fee`` and ``trading.maker_fee``) and no
    slippage; funding and everything else unchanged.

    Raises
    ------
    ConfigError
        If ``cost / 2`` is not a valid fee (outside [0, 1)).
    """
    fee = cost / 2
    return config.with_overrides(
        {"trading.fee": fee, "trading.maker_fee": fee, "trading.slippage": 0.0}
    )


def price_cost(log_cost: float) -> float:
    """The cost per round trip in price units (fraction of price) whose log cost under
    :func:`cost_config` is ``log_cost``: ``2 tanh(log_cost / 2)``; the venue's own
    ``round_trip_log_cost(config.trading)`` so becomes a point on the curve's axis."""
    return 2.0 * math.tanh(log_cost / 2.0)


def curve_runs(
    config: Config,
    plans: dict[str, Plan],
    costs: Sequence[float],
    trade: Trade,
    previous: CurveRuns | None = None,
) -> CurveRuns:
    """Every plan traded by ``trade`` under :func:`cost_config` at each of ``costs``,
    each strategy and cost from its own accounts of ``previous`` (the fold before in
    the chain; flat without). Plans :meth:`Plan.memoised` share their predictor's
    answers between costs."""
    started = time.perf_counter()
    before = previous.runs if previous is not None else {}
    runs = {}
    for cost in costs:
        at = cost_config(config, cost)
        books = before.get(cost, {})
        runs[cost] = {
            name: CurveRun.of(trade(plan, at, books[name].book if name in books else None))
            for name, plan in plans.items()
        }
    return CurveRuns(runs, time.perf_counter() - started)

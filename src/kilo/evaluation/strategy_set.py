"""The registry of what a fold trades: the blend, each model kind, and the baselines.

Each :class:`Strategy` builds its :class:`~kilo.evaluation.cost_curve.Plan` from a
fold's validation and outputs; the fold runner, the summary's order and the trials
look strategies up here, never by an if/elif on their names. A model kind's strategy
is derived from the kind (:data:`~kilo.models.kinds.KINDS`): a regressor trades a
blend of itself alone, a policy its own actions.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from kilo.backtest.simulate import CandleArrays
from kilo.backtest.strategies import FoldOutputs, momentum_scores, rule_predictor, side_rule
from kilo.config import Config
from kilo.evaluation.cost_curve import Plan
from kilo.models.kinds import KINDS
from kilo.training.trainer import Validation

#: The blended model strategy, the one the trader runs.
BLEND = "blend"
#: The passive baseline every verdict compares with.
BUY_AND_HOLD = "buy_and_hold"
#: The matched random paths of the blend's spells (not a plan: drawn after the blend).
RANDOM = "random"

#: ``(config, validation, outputs, candles) -> Plan`` of one fold.
PlanBuilder = Callable[[Config, Validation, FoldOutputs, CandleArrays], Plan]


@dataclass(frozen=True)
class Strategy:
    """One strategy: its name, how a fold's plan is built, and the model kind it needs
    (None: traded whatever ``models.enabled`` holds)."""

    name: str
    plan: PlanBuilder
    kind: str | None = None

    @property
    def model(self) -> bool:
        """Whether it trades models (the blend or a kind): a trial of the deflation."""
        return self.kind is not None or self.name == BLEND


def _blend_of(
    weights: dict[str, float], config: Config, validation: Validation, outputs: FoldOutputs
) -> Plan:
    calibration = validation.calibrate(config, weights)
    asks_policy = any(w > 0 and not KINDS[m].regressor for m, w in weights.items())
    return Plan(outputs.blend(calibration, weights), calibration, reads_state=asks_policy)


def _blend(config: Config, validation: Validation, outputs: FoldOutputs, _: CandleArrays) -> Plan:
    """The configured blend over the models validation saw (a policy reads the state)."""
    weights = {m: w for m, w in config.blend.weights.items() if m in validation.outputs}
    return _blend_of(weights, config, validation, outputs)


def _kind(name: str) -> PlanBuilder:
    """A regressor as a blend of itself alone; a policy trading its own actions, short
    where the agent shorts."""

    def plan(config: Config, validation: Validation, outputs: FoldOutputs, _: CandleArrays) -> Plan:
        if KINDS[name].regressor:
            return _blend_of({name: 1.0}, config, validation, outputs)
        return Plan(outputs.policy(name), fixed=side_rule(outputs.shorts(name)))

    return plan


def _constant(sign: float) -> PlanBuilder:
    """Long (+1) or flat (-1) on every bar, without stops."""

    def plan(
        config: Config, validation: Validation, outputs: FoldOutputs, candles: CandleArrays
    ) -> Plan:
        scores = np.full(len(candles.index), sign)
        return Plan(rule_predictor(scores), stops=False, reads_state=False)

    return plan


def _momentum(
    config: Config, validation: Validation, outputs: FoldOutputs, candles: CandleArrays
) -> Plan:
    """Long after a positive ``evaluation.momentum_lookback``-bar return."""
    scores = momentum_scores(candles.close, config.evaluation.momentum_lookback)
    return Plan(rule_predictor(scores), reads_state=False)


STRATEGIES: dict[str, Strategy] = {
    s.name: s
    for s in (
        Strategy(BLEND, _blend),
        *(Strategy(name, _kind(name), kind=name) for name in KINDS),
        Strategy(BUY_AND_HOLD, _constant(1.0)),
        Strategy("flat", _constant(-1.0)),
        Strategy("momentum", _momentum),
    )
}
#: Every strategy in the order summaries list them, the random paths last.
STRATEGY_ORDER: tuple[str, ...] = (*STRATEGIES, RANDOM)
#: The strategies whose Sharpe ratios are the trials of the deflation.
MODEL_STRATEGIES: tuple[str, ...] = tuple(n for n, s in STRATEGIES.items() if s.model)


def real_strategies(config: Config) -> tuple[str, ...]:
    """Every strategy of :data:`STRATEGIES` less the kinds ``models.enabled`` leaves out."""
    return tuple(
        name for name, s in STRATEGIES.items() if s.kind is None or s.kind in config.models.enabled
    )


def plan(
    config: Config, name: str, validation: Validation, outputs: FoldOutputs, candles: CandleArrays
) -> Plan:
    """What strategy ``name`` trades with in one fold.

    Raises
    ------
    ValueError
        If ``name`` is no strategy of :data:`STRATEGIES`.
    """
    if name not in STRATEGIES:
        raise ValueError(f"unknown strategy {name!r}: known are {list(STRATEGIES)}")
    return STRATEGIES[name].plan(config, validation, outputs, candles)

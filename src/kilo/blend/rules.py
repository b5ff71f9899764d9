"""Decision rules: a blended score and the current position -> what to do next bar.

The trader and the walk-forward evaluation call the same rule, so their decisions
cannot drift apart. :meth:`kilo.blend.Calibration.rule` builds the configured one.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, Protocol

from kilo.blend.edge import EdgeMap
from kilo.config import Config
from kilo.metrics.costs import round_trip_log_cost

Decision = Literal["enter", "enter_short", "exit", "hold", "wait"]


class DecisionRule(Protocol):
    """What the trader asks of a rule."""

    def decide(self, score: float, side: int, bars_held: int) -> Decision:
        """``enter`` (a long), ``enter_short`` or ``wait`` when flat (``side`` 0);
        ``exit`` or ``hold`` when long (``side`` +1, or True) or short (-1)."""
        ...

    def size(self, score: float) -> float:
        """Share in [0, 1] of the largest allowed position to enter with at ``score``."""
        ...


@dataclass(frozen=True)
class ThresholdRule:
    """Hysteresis on the score: enter above ``enter``, exit below ``exit`` (score units);
    every entry takes ``fraction`` of the largest allowed position. With ``short``,
    mirrored below zero: a short enters below ``-enter`` and exits above ``-exit``.

    Raises
    ------
    ValueError
        If ``exit > enter`` (the rule would flip every bar).
    """

    enter: float
    exit: float
    fraction: float = 1.0
    short: bool = False

    def __post_init__(self) -> None:
        if self.exit > self.enter:
            raise ValueError(
                f"exit threshold {self.exit} is above the enter threshold {self.enter}"
            )

    def decide(self, score: float, side: int, bars_held: int = 0) -> Decision:
        if side > 0:
            return "exit" if score < self.exit else "hold"
        if side < 0:
            return "exit" if score > -self.exit else "hold"
        if score > self.enter:
            return "enter"
        return "enter_short" if self.short and score < -self.enter else "wait"

    def size(self, score: float) -> float:
        return self.fraction


@dataclass(frozen=True)
class EdgeRule:
    """Trade only when the expected edge pays for the costs.

    A flat symbol goes long when the expected edge (``edge_map(score)``, log return
    over the label horizon) exceeds ``hurdle`` (the round-trip cost times
    ``blend.cost_multiple``) and, with ``short`` (futures), short when the edge is
    below ``-hurdle``; a position is held at least ``min_hold_bars`` bars, then a long
    exits once the edge falls below ``exit_edge``, a short once it rises above
    ``-exit_edge``. Entries are sized by the edge's size: full at twice the hurdle,
    half at the hurdle.
    """

    edge_map: EdgeMap
    hurdle: float
    min_hold_bars: int
    exit_edge: float
    short: bool = False

    def decide(self, score: float, side: int, bars_held: int) -> Decision:
        edge = float(self.edge_map(score))
        if not side:
            if edge > self.hurdle:
                return "enter"
            return "enter_short" if self.short and edge < -self.hurdle else "wait"
        if bars_held < self.min_hold_bars:
            return "hold"
        if side > 0:
            return "exit" if edge < self.exit_edge else "hold"
        return "exit" if edge > -self.exit_edge else "hold"

    def size(self, score: float) -> float:
        if self.hurdle <= 0:
            return 1.0
        return min(1.0, max(0.0, abs(float(self.edge_map(score))) / (2.0 * self.hurdle)))


def round_trip_cost(config: Config) -> float:
    """Log return one entry and one exit cost at full size: the broker's fills
    (:func:`~kilo.metrics.round_trip_log_cost`, buy plus sell at the venue's fees)."""
    return round_trip_log_cost(config.trading)

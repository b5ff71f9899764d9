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

Decision = Literal["enter", "exit", "hold", "wait"]


class DecisionRule(Protocol):
    """What the trader asks of a rule."""

    def decide(self, score: float, long: bool, bars_held: int) -> Decision:
        """``enter`` or ``wait`` when flat; ``exit`` or ``hold`` when long."""
        ...

    def size(self, score: float) -> float:
        """Share in [0, 1] of the largest allowed position to enter with at ``score``."""
        ...


@dataclass(frozen=True)
class ThresholdRule:
    """Hysteresis on the score: enter above ``enter``, exit below ``exit`` (score units);
    every entry takes ``fraction`` of the largest allowed position.

    Raises
    ------
    ValueError
        If ``exit > enter`` (the rule would flip every bar).
    """

    enter: float
    exit: float
    fraction: float = 1.0

    def __post_init__(self) -> None:
        if self.exit > self.enter:
            raise ValueError(
                f"exit threshold {self.exit} is above the enter threshold {self.enter}"
            )

    def decide(self, score: float, long: bool, bars_held: int = 0) -> Decision:
        if long:
            return "exit" if score < self.exit else "hold"
        return "enter" if score > self.enter else "wait"

    def size(self, score: float) -> float:
        return self.fraction


@dataclass(frozen=True)
class EdgeRule:
    """Trade only when the expected edge pays for the costs.

    A flat symbol enters when the expected edge (``edge_map(score)``, log return over
    the label horizon) exceeds ``hurdle`` (the round-trip cost times
    ``blend.cost_multiple``); a long one is held at least ``min_hold_bars`` bars, then
    exits once the edge falls below ``exit_edge``. Entries are sized by the edge: full
    size at twice the hurdle, half at the hurdle.
    """

    edge_map: EdgeMap
    hurdle: float
    min_hold_bars: int
    exit_edge: float

    def decide(self, score: float, long: bool, bars_held: int) -> Decision:
        edge = float(self.edge_map(score))
        if not long:
            return "enter" if edge > self.hurdle else "wait"
        if bars_held < self.min_hold_bars:
            return "hold"
        return "exit" if edge < self.exit_edge else "hold"

    def size(self, score: float) -> float:
        if self.hurdle <= 0:
            return 1.0
        return min(1.0, max(0.0, float(self.edge_map(score)) / (2.0 * self.hurdle)))


def round_trip_cost(config: Config) -> float:
    """Log return one entry and one exit cost at full size: the broker's fills
    (:func:`~kilo.metrics.round_trip_log_cost`, buy plus sell at the venue's fees)."""
    return round_trip_log_cost(config.trading)

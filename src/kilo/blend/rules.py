"""Decision rules: a blended prediction and the current position -> what to do next bar.

The trader and the walk-forward evaluation call the same rule, so their decisions
cannot drift apart.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Decision = Literal["enter", "exit", "hold", "wait"]


@dataclass(frozen=True)
class ThresholdRule:
    """Hysteresis on the score: enter above ``enter``, exit below ``exit`` (score units).

    Raises
    ------
    ValueError
        If ``exit > enter`` (the rule would flip every bar).
    """

    enter: float
    exit: float

    def __post_init__(self) -> None:
        if self.exit > self.enter:
            raise ValueError(f"exit threshold {self.exit} is above the enter threshold {self.enter}")

    def decide(self, score: float, long: bool) -> Decision:
        """``enter`` or ``wait`` when flat, ``exit`` or ``hold`` when long."""
        if long:
            return "exit" if score < self.exit else "hold"
        return "enter" if score > self.enter else "wait"

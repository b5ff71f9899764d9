"""The PPO agent's discrete actions, defined once for the environment, agent and blend.

They live in :mod:`kilo.blend`, the lowest layer that reads them (the blend interprets
the policy's action probabilities); :mod:`kilo.rl` imports them from here.
"""

from __future__ import annotations

from enum import IntEnum


class Action(IntEnum):
    """Index of each action in the policy's action space.

    ``HOLD`` keeps the current position; ``LONG`` holds +1; ``FLAT`` holds 0; ``SHORT``
    holds -1 and exists only where the agent may short (``models.ppo.allow_short``):
    the space is ``Discrete(3)`` on a long-only venue, ``Discrete(4)`` with shorts.
    """

    HOLD = 0
    LONG = 1
    FLAT = 2
    SHORT = 3


#: Action names in index order, as the manifest's action counts are keyed.
ACTION_NAMES = tuple(a.name.lower() for a in Action)
#: Columns of every action-probability array: one per :class:`Action` (``SHORT``'s is 0
#: where the agent may not short).
N_ACTIONS = len(Action)


def n_actions(allow_short: bool) -> int:
    """Size of the policy's action space: 4 with shorts, 3 (no ``SHORT``) without."""
    return N_ACTIONS if allow_short else N_ACTIONS - 1


#: The position each action other than ``HOLD`` holds after it (+1 long, 0 flat, -1 short).
TARGETS: dict[int, float] = {int(Action.LONG): 1.0, int(Action.FLAT): 0.0, int(Action.SHORT): -1.0}

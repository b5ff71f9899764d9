"""The PPO agent's discrete actions, defined once for the environment, agent and blend.

They live in :mod:`kilo.blend`, the lowest layer that reads them (the blend interprets
the policy's action probabilities); :mod:`kilo.rl` imports them from here.
"""

from __future__ import annotations

from enum import IntEnum


class Action(IntEnum):
    """Index of each action in the policy's ``Discrete(3)`` action space.

    ``HOLD`` keeps the current position; ``LONG`` holds +1; ``FLAT_OR_SHORT`` holds 0,
    or -1 when the agent may short (``models.ppo.allow_short``).
    """

    HOLD = 0
    LONG = 1
    FLAT_OR_SHORT = 2


#: Action names in index order, as the manifest's action counts are keyed.
ACTION_NAMES = tuple(a.name.lower() for a in Action)

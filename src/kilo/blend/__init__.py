"""Blend the three models' outputs into one score in [-1, 1] and a confidence.

Formulas
--------
Each regressor's predicted log return ``p`` becomes a signal with the mean ``m`` and
standard deviation ``s`` of that model's predictions on the validation split::

    signal = tanh((p - m) / s)                       in (-1, 1)

PPO's action probabilities become a signal through the probability of holding a long
after the next action, given the current position (HOLD keeps it)::

    p      = P(long) + P(hold) * 1[long now]
    signal = p - (1 - p) = 2 p - 1                   in [-1, 1]

With config weights ``w_i`` (default equal)::

    score      = sum_i w_i * signal_i / sum_i w_i    in [-1, 1]
    confidence = |sum_i w_i * sign(signal_i)| / sum_i w_i   in [0, 1]

A :class:`~kilo.blend.rules.ThresholdRule` turns a score into a decision: a flat symbol
enters (goes long) when ``score > enter``; a long one exits when ``score < exit``.
Thresholds come from config when given, otherwise from the ``enter_quantile`` /
``exit_quantile`` of the symbol's validation scores, with PPO's signal taken along the
policy's own simulated positions, stored in the manifest by the trainer.
"""

from kilo.blend.blend import (
    BLEND_MODELS,
    Calibration,
    blend,
    calibrate,
    ppo_signal,
    regressor_signal,
)
from kilo.blend.rules import Decision, ThresholdRule

__all__ = ["BLEND_MODELS", "Calibration", "Decision", "ThresholdRule", "blend", "calibrate",
           "ppo_signal", "regressor_signal"]

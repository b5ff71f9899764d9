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

A rule turns a score into a decision (``blend.rule``):

- ``edge`` (:class:`~kilo.blend.rules.EdgeRule`, default): the score is mapped to an
  expected log return over the label horizon (isotonic regression on validation); a
  flat symbol enters when that edge exceeds the round-trip cost (the broker's buy and
  sell, :func:`~kilo.metrics.fill_log_cost`) times ``cost_multiple``, holds
  ``min_hold_bars`` at least, and exits once the edge falls below ``exit_edge``;
- ``quantile`` (:class:`~kilo.blend.rules.ThresholdRule`): enter when ``score > enter``,
  exit when ``score < exit``, thresholds from config or at the ``enter_quantile`` /
  ``exit_quantile`` of the validation scores (stored in the calibration as
  :class:`~kilo.blend.blend.Thresholds`, for this rule only).

Validation scores take PPO's signal along the policy's own simulated positions.
"""

from kilo.blend.blend import (
    Calibration,
    Thresholds,
    blend,
    calibrate,
    ppo_signal,
    regressor_signal,
)
from kilo.blend.edge import EdgeMap, fit_edge_map
from kilo.blend.rules import Decision, DecisionRule, EdgeRule, ThresholdRule, round_trip_cost

__all__ = [
    "Calibration",
    "Decision",
    "DecisionRule",
    "EdgeMap",
    "EdgeRule",
    "ThresholdRule",
    "Thresholds",
    "blend",
    "calibrate",
    "fit_edge_map",
    "ppo_signal",
    "regressor_signal",
    "round_trip_cost",
]

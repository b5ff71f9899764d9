"""Blend the three models' outputs into one score in [-1, 1] and a confidence.

Formulas
--------
Each regressor's predicted log return ``p`` becomes a signal with the mean ``m`` and
standard deviation ``s`` of that model's predictions on the validation split::

    signal = tanh((p - m) / s)                       in (-1, 1)

PPO's action probabilities become ``signal = P(long) - P(flat or short)`` in [-1, 1].
With config weights ``w_i`` (default equal)::

    score      = sum_i w_i * signal_i / sum_i w_i    in [-1, 1]
    confidence = |sum_i w_i * sign(signal_i)| / sum_i w_i   in [0, 1]

A flat symbol enters (goes long) when ``score > enter_threshold``; a long one exits when
``score < exit_threshold``. Thresholds come from config when given, otherwise from the
``enter_quantile`` / ``exit_quantile`` of the symbol's validation scores, stored in the
manifest by the trainer, so a volatile and a quiet symbol both trade.
"""

from kilo.blend.blend import (
    BLEND_MODELS,
    Calibration,
    blend,
    calibrate,
    ppo_signal,
    regressor_signal,
)

__all__ = ["BLEND_MODELS", "Calibration", "blend", "calibrate", "ppo_signal", "regressor_signal"]

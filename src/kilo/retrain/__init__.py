"""Retraining: champion/challenger on a schedule, above evaluation in the layer order.

:func:`~kilo.retrain.champion.retrain_pass` trains challengers with the trainer's code,
compares them with the champions on bars neither model saw using the evaluation's
backtest, promotes by moving ``LATEST`` and records each
:class:`~kilo.retrain.decisions.RetrainDecision`; :func:`~kilo.retrain.on_drift.drift_pass`
does so for the symbols whose trader measures drift; :mod:`kilo.retrain.replay` retrains
inside a replay, on drift or on dates (a research instrument, no promotion rule).
"""

from kilo.retrain.champion import retrain_pass, retrain_symbol
from kilo.retrain.decisions import DriftTrigger, RetrainDecision
from kilo.retrain.on_drift import drift_pass
from kilo.retrain.schedule import run_every

__all__ = [
    "DriftTrigger",
    "RetrainDecision",
    "drift_pass",
    "retrain_pass",
    "retrain_symbol",
    "run_every",
]

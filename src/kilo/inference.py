"""Inference: a loaded model set's raw outputs per bar, and the blended prediction record.

Sits between the registry (which loads model sets) and trading (which acts on
predictions). The portfolio state goes in, because a policy observes its own
position; model outputs, signals and the blend score come out. Every kind is served
through its contract (:data:`~kilo.models.kinds.KINDS`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np

from kilo.blend import Calibration, blend
from kilo.models.kind import FLAT, PortfolioState
from kilo.models.kinds import KINDS, raw_columns, signals

__all__ = [
    "FLAT",
    "FittedModels",
    "PortfolioState",
    "Prediction",
    "Predictors",
    "RawOutputs",
    "context_rows",
    "predict_rows",
    "score_outputs",
    "signal_columns",
]

#: Kind name -> its raw outputs for n bars (:attr:`~kilo.models.kind.ModelKind.predict`):
#: (n,) for a regressor, (n, N_ACTIONS) for a policy; a kind not held (or not asked) is absent.
RawOutputs = dict[str, np.ndarray]


class Predictors(Protocol):
    """The fitted models, as a :class:`~kilo.registry.ModelSet` holds them: kind name ->
    model, for the kinds held."""

    @property
    def models(self) -> Mapping[str, Any]: ...


@dataclass(frozen=True)
class FittedModels:
    """Fitted models not yet saved as a model set (kind name -> model): the evaluation's
    controls use the regressors alone."""

    models: dict[str, Any]


def context_rows(models: Predictors) -> int:
    """Feature rows needed before the first predicted bar: the longest context of the
    models held (:attr:`~kilo.models.kind.ModelKind.context`)."""
    return max((KINDS[name].context(m) for name, m in models.models.items()), default=0)


def signal_columns() -> tuple[str, ...]:
    """The ledger's per-kind signal columns, ``{kind}_signal``, in kinds order."""
    return tuple(f"{name}_signal" for name in KINDS)


@dataclass(frozen=True)
class Prediction:
    """One bar's model outputs, their signals and the blend: what a scorer returns.

    ``raw`` maps each ledger column of a kind's raw output (its
    :attr:`~kilo.models.kind.ModelKind.columns`: a regressor's predicted label, a
    policy's action probabilities) to its value; ``signals`` maps a kind to its signal
    in [-1, 1]. ``score`` in [-1, 1] and ``confidence`` in [0, 1] (formulas in
    :mod:`kilo.blend`); ``expected_edge`` is the score's expected log return over the
    label horizon (the calibration's edge map); ``volatility`` the symbol's trailing
    annualised volatility, which sizing reads. Both maps are empty for rule-based
    baselines.
    """

    score: float
    confidence: float
    expected_edge: float | None = None
    volatility: float | None = None
    raw: Mapping[str, float] = field(default_factory=dict)
    signals: Mapping[str, float] = field(default_factory=dict)

    def row(self) -> dict[str, float | None]:
        """The flat ledger row: the scalar fields, then every kind's raw and signal
        columns (None for a kind without output), in :meth:`columns` order."""
        own = {
            "score": self.score,
            "confidence": self.confidence,
            "expected_edge": self.expected_edge,
            "volatility": self.volatility,
        }
        raw = {col: self.raw.get(col) for col in raw_columns()}
        sig = {f"{name}_signal": self.signals.get(name) for name in KINDS}
        return {**own, **raw, **sig}

    @staticmethod
    def columns() -> list[tuple[str, bool]]:
        """``(name, nullable)`` of every column of :meth:`row` (all REAL), in order."""
        required = ("score", "confidence")
        names = ("score", "confidence", "expected_edge", "volatility")
        return [(n, n not in required) for n in (*names, *raw_columns(), *signal_columns())]


def predict_rows(
    models: Predictors,
    X: np.ndarray,
    n_out: int,
    state: PortfolioState = FLAT,
    *,
    with_policies: bool = True,
) -> RawOutputs:
    """Outputs of the models held for the last ``n_out`` rows of ``X``.

    Parameters
    ----------
    X
        Array of shape (n_rows, n_features), float32, preprocessed rows ending at the
        last bar to predict; ``n_rows >= n_out + context_rows(models)``.
    state
        The portfolio state shown to a policy for every one of the ``n_out`` bars.
    with_policies
        False leaves the policies out, for callers that query them per bar.

    Raises
    ------
    ValueError
        If ``X`` has too few rows.
    """
    needed = n_out + context_rows(models)
    if len(X) < needed:
        raise ValueError(f"need {needed} feature rows, got {len(X)}")
    return {
        name: KINDS[name].predict(model, X, n_out, state)
        for name, model in models.models.items()
        if with_policies or KINDS[name].regressor
    }


def score_outputs(
    out: RawOutputs,
    calibration: Calibration,
    weights: dict[str, float],
    state: PortfolioState,
    volatility: float | None = None,
) -> Prediction:
    """The first bar of ``out`` as a :class:`Prediction`: signals, score, confidence and
    expected edge.

    ``state`` is the position a policy was queried with; its signal depends on it.
    ``volatility`` (annualised) is passed through for sizing.
    """
    sig = signals(calibration, out, state.position > 0)
    score, confidence = blend(sig, weights)
    raw = {
        col: value
        for name, values in out.items()
        for col, value in KINDS[name].raw_columns(values).items()
    }
    return Prediction(
        score=float(score[0]),
        confidence=float(confidence[0]),
        expected_edge=float(calibration.edge_map(score[0])),
        volatility=volatility,
        raw=raw,
        signals={name: float(np.asarray(s)[0]) for name, s in sig.items()},
    )

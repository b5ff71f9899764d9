"""The drift reference a model set stores: what its features and outputs looked like.

Written at training (:func:`kilo.training.reference.drift_reference`), stored in the
manifest (``Manifest.drift``, with its sha256 checked at load like every file), read by
the trader's live drift measures (:mod:`kilo.trading.drift`). Sets saved before it have
none: they load and trade, with drift reported as unavailable.
"""

from __future__ import annotations

import hashlib

from pydantic import BaseModel, ConfigDict, Field


class _Record(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", ser_json_inf_nan="constants")


class Bins(_Record):
    """One variable's reference: interior quantile ``edges`` (k, increasing) and the
    reference ``shares`` of the k + 1 bins they make (summing to 1); binning as in
    :mod:`kilo.metrics.drift`. ``null_psi`` (features only): a high quantile of the PSI
    of the reference's own trailing windows (:attr:`DriftReference.window` rows), what
    a persistent feature scores with no drift at all; None in sets saved before it."""

    edges: list[float]
    shares: list[float]
    null_psi: float | None = None


class ReferenceIC(_Record):
    """Spearman IC of an output with the held return on validation, its moving-block
    bootstrap interval (``level``, block of ``block`` bars) and the ``rows`` it used."""

    ic: float
    low: float
    high: float
    level: float
    block: int
    rows: int


class DriftReference(_Record):
    """Reference distributions and validation ICs of a model set.

    ``features``: each preprocessed feature (the model input, after the NaN policy and
    scaling) on the training split; ``outputs``: each model's output and the blend's
    ``score`` on validation, out of sample (each kind's monitored output,
    :attr:`~kilo.models.kind.ModelKind.monitored`: a regressor's predicted log return, a
    policy's probability of the long action); ``validation_ic``: the same
    outputs' IC against the held return (``Dataset.held_return``, DESIGN.md invariant 9).
    ``window`` and ``null_quantile`` say how each feature's ``null_psi`` was measured.
    """

    bins: int = Field(ge=2)
    window: int | None = None
    null_quantile: float | None = None
    features: dict[str, Bins]
    outputs: dict[str, Bins]
    validation_ic: dict[str, ReferenceIC]

    def sha256(self) -> str:
        """sha256 of the reference's JSON without default values, as the manifest records
        it (``drift_sha256``): a field added later with a default leaves it unchanged."""
        return hashlib.sha256(self.model_dump_json(exclude_defaults=True).encode()).hexdigest()

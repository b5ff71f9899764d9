"""The drift reference of a model set, built at training from its own splits."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import numpy as np

from kilo.blend import Calibration, blend
from kilo.config import Config
from kilo.metrics import ic_block_length, ic_bootstrap_ci, spearman_ic
from kilo.metrics.drift import bin_shares, quantile_edges, window_psi
from kilo.models.kinds import KINDS, signals
from kilo.registry.drift import Bins, DriftReference, ReferenceIC
from kilo.training.dataset import Dataset

#: Level of the validation IC's bootstrap interval.
IC_LEVEL = 0.95


def reference_bins(x: np.ndarray, bins: int) -> Bins:
    """Quantile edges of ``x`` (n,) and the share of ``x`` in each of their bins."""
    edges = quantile_edges(x, bins)
    return Bins(edges=edges.tolist(), shares=bin_shares(x, edges).tolist())


def with_null(x: np.ndarray, bins: Bins, window: int, quantile: float, epsilon: float) -> Bins:
    """``bins`` with ``null_psi``: the ``quantile`` of the PSI of ``x``'s (n,) trailing
    windows of ``window`` rows (ending every ``window // 7`` rows); unchanged when ``x``
    holds fewer than two windows."""
    if len(x) < 2 * window:
        return bins
    values = window_psi(
        x, np.array(bins.edges), np.array(bins.shares), window, max(1, window // 7), epsilon
    )
    return bins.model_copy(update={"null_psi": float(np.quantile(values, quantile))})


def validation_outputs(
    outputs: Mapping[str, Any], calibration: Calibration, weights: dict[str, float]
) -> dict[str, np.ndarray]:
    """Each model's validation output and the blend's score, shape (n,) each.

    ``outputs`` as :class:`~kilo.training.trainer.Validation` holds them (each kind's
    :attr:`~kilo.models.kind.ModelKind.as_outputs` reads them; a policy's path is one
    bar shorter, so every series is cut to the shortest). Each enters as its monitored
    output (:attr:`~kilo.models.kind.ModelKind.monitored`: a regressor's predicted log
    return, a policy's probability of the long action); the score is
    :func:`~kilo.blend.blend` of the calibrated signals.
    """
    read = {name: KINDS[name].as_outputs(out) for name, out in outputs.items()}
    n = min((len(out) for out, _ in read.values()), default=0)
    series = {}
    sig = {}
    for name, (out, long) in read.items():
        kind, out = KINDS[name], np.asarray(out[:n], dtype=np.float64)
        series[name] = out.reshape(n, -1)[:, kind.monitored]
        queried = False if long is None else long[:n]
        sig.update(signals(calibration, {name: out}, queried))
    series["score"] = np.asarray(blend(sig, weights)[0], dtype=np.float64)
    return series


def reference_ic(pred: np.ndarray, held: np.ndarray, horizon: int, config: Config) -> ReferenceIC:
    """IC of ``pred`` with ``held`` (both (n,)) and its moving-block bootstrap interval;
    the block is the Politis-White length of :func:`~kilo.metrics.ic_block_length`,
    at least ``horizon`` bars (overlapping returns stay in one block).

    Raises
    ------
    ValueError
        If fewer than 3 pairs are finite.
    """
    block = max(horizon, math.ceil(ic_block_length(pred, held)))
    low, high = ic_bootstrap_ci(
        pred,
        held,
        block,
        n_boot=config.evaluation.bootstrap,
        level=IC_LEVEL,
        seed=config.seed,
    )
    rows = int((np.isfinite(pred) & np.isfinite(held)).sum())
    return ReferenceIC(
        ic=spearman_ic(pred, held), low=low, high=high, level=IC_LEVEL, block=block, rows=rows
    )


def drift_reference(
    config: Config,
    data: Dataset,
    X: np.ndarray,
    outputs: Mapping[str, Any],
    calibration: Calibration,
) -> DriftReference:
    """The reference the trader's drift measures compare with.

    Parameters
    ----------
    X
        Shape (n_rows, n_features), float32, the preprocessed features of ``data``;
        each feature's bins come from its training rows, and with
        ``drift.null_quantile`` its ``null_psi`` (:func:`with_null`) too.
    outputs
        The validation outputs (:func:`validation_outputs`); their bins and their IC
        against ``data.held_return`` on validation come from them.
    """
    d = config.drift
    train = X[data.split.train]
    features = {
        str(name): reference_bins(train[:, j], d.bins)
        for j, name in enumerate(data.features.columns)
    }
    if d.null_quantile is not None:
        features = {
            name: with_null(train[:, j], b, d.window, d.null_quantile, d.epsilon)
            for j, (name, b) in enumerate(features.items())
        }
    series = validation_outputs(outputs, calibration, config.blend.weights)
    held = data.held_return[data.split.val]
    ics = {}
    for name, pred in series.items():
        y = held[: len(pred)]
        if (np.isfinite(pred) & np.isfinite(y)).sum() >= 3:
            ics[name] = reference_ic(pred, y, config.target.horizon, config)
    return DriftReference(
        bins=d.bins,
        window=d.window,
        null_quantile=d.null_quantile,
        features=features,
        outputs={name: reference_bins(v, d.bins) for name, v in series.items()},
        validation_ic=ics,
    )

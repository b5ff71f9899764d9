"""The GRU kind: a sequence regressor of the label (:class:`~kilo.models.gru.GRURegressor`).

Fit on the training rows with early stopping on validation; with ``training.refit``
the served model is fit again on train + validation for the epochs early stopping
chose, and test is scored on it.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np

from kilo.config import Config
from kilo.metrics import RegressionScores, regression_metrics
from kilo.models.gru import (
    PARAMS_FILE,
    PREDICT_BATCH,
    SERVE_BATCH,
    WEIGHTS_FILE,
    GRURegressor,
    resolve_device,
)
from kilo.models.kind import FitData, Fitted, KindReport, ModelKind, PortfolioState, Upstream
from kilo.models.rows import refit_rows, segment_ids, stack_blocks, stack_segments, with_context

logger = logging.getLogger(__name__)


class GRUReport(KindReport):
    """Validation scores of the model fit on train (early-stopped); test scores of the
    served one (refit on train + validation for ``best_epochs`` epochs when ``refit``)."""

    validation: RegressionScores
    test: RegressionScores
    epochs: int
    best_epochs: int
    refit: bool


def _context(model: GRURegressor) -> int:
    return model.params.sequence_length - 1


def fit(
    config: Config,
    data: FitData,
    X: np.ndarray,
    y: np.ndarray,
    progress: bool,
    upstream: Mapping[str, Upstream],
) -> Fitted:
    """Fit the GRU (early stopping on validation, then the refit) and score it.

    ``X`` has shape (n_rows, n_features), float32, preprocessed; ``y`` (n_rows,) labels.
    """
    p, s, w = config.models.gru, data.split, data.weights
    ctx = p.sequence_length - 1
    X_val, y_val = with_context(X, y, s.val, ctx)
    segments = segment_ids(data.index, config.data.timeframe)
    val_rows = slice(s.val.start - ctx, s.val.stop)
    logger.info("%s: GRU on %s", data.symbol, resolve_device(p.device))
    model = GRURegressor(p, seed=config.seed).fit(
        X[s.train],
        y[s.train],
        X_val=X_val,
        y_val=y_val,
        weights=w[s.train],
        val_weights=w[val_rows],
        segments=segments[s.train],
        val_segments=segments[val_rows],
        progress=progress,
    )
    validation = model.predict(X_val)[ctx:]
    served = model
    if config.training.refit:
        rows = refit_rows(data)
        served = GRURegressor(p, seed=config.seed).fit(
            X[rows],
            y[rows],
            weights=w[rows],
            segments=segments[rows],
            epochs=model.best_epochs_,
            progress=progress,
        )
    report = score(data, X, y, model, served, validation, config.training.refit)
    return Fitted(served, validation, report, model if served is not model else None)


def refit(
    config: Config, data: FitData, X: np.ndarray, y: np.ndarray, rows: slice, model: GRURegressor
) -> GRURegressor:
    """A GRU like ``model`` (its parameters and epochs) fit on ``rows`` of ``X`` with the
    finite labels of ``y`` (:data:`~kilo.models.kind.Refit`)."""
    segments = segment_ids(data.index, config.data.timeframe)[rows]
    return GRURegressor(model.params, seed=config.seed).fit(
        X[rows],
        y[rows],
        weights=data.weights[rows],
        segments=segments,
        epochs=model.best_epochs_,
        progress=False,
    )


def score(
    data: FitData,
    X: np.ndarray,
    y: np.ndarray,
    model: GRURegressor,
    served: GRURegressor,
    validation: np.ndarray,
    refit: bool,
) -> GRUReport:
    """Scores of the early-stopped ``model``'s ``validation`` predictions (n_val,) and of
    ``served`` on ``data.split.test`` (``X``: (n_rows, n_features) preprocessed, ``y``:
    (n_rows,) labels)."""
    s, ctx = data.split, _context(served)
    X_test, _ = with_context(X, y, s.test, ctx)
    return GRUReport(
        validation=regression_metrics(y[s.val], validation),
        test=regression_metrics(y[s.test], served.predict(X_test)[ctx:]),
        epochs=len(model.history_),
        best_epochs=model.best_epochs_,
        refit=refit,
    )


def validate(config: Config, data: FitData, X: np.ndarray, model: GRURegressor) -> np.ndarray:
    """Predictions (n_val,) of a fitted ``model`` on ``data.split.val``."""
    ctx = _context(model)
    X_val, _ = with_context(X, data.target, data.split.val, ctx)
    return model.predict(X_val)[ctx:]


def predict(model: GRURegressor, X: np.ndarray, n_out: int, state: PortfolioState) -> np.ndarray:
    """Predicted log returns (n_out,) of the last ``n_out`` rows of ``X``; a few bars
    are scored in passes of :data:`~kilo.models.gru.SERVE_BATCH` windows."""
    L = model.params.sequence_length
    batch = SERVE_BATCH if n_out <= SERVE_BATCH else PREDICT_BATCH
    return model.predict(X[len(X) - n_out - L + 1 :], batch)[L - 1 :]


def pooled_fit(
    config: Config, blocks: Sequence[tuple[FitData, np.ndarray]], progress: bool
) -> GRURegressor:
    """The GRU fit on every member's training rows together, early-stopped on theirs."""
    context, timeframe = config.models.gru.sequence_length - 1, config.data.timeframe
    X, y, w = stack_blocks(blocks, "train", context)
    X_val, y_val, w_val = stack_blocks(blocks, "val", context)
    return GRURegressor(config.models.gru, seed=config.seed).fit(
        X,
        y,
        X_val=X_val,
        y_val=y_val,
        weights=w,
        val_weights=w_val,
        segments=stack_segments(blocks, "train", context, timeframe),
        val_segments=stack_segments(blocks, "val", context, timeframe),
        progress=progress,
    )


def load(folder: Path, config: Config) -> GRURegressor:
    """The saved GRU of ``folder`` (:meth:`~kilo.models.gru.GRURegressor.load`)."""
    return GRURegressor.load(folder)


KIND = ModelKind(
    name="gru",
    label="GRU",
    signal="regressor",
    report=GRUReport,
    fit=fit,
    validate=validate,
    predict=predict,
    context=_context,
    config_context=lambda config: config.models.gru.sequence_length - 1,
    load=load,
    files=(WEIGHTS_FILE, PARAMS_FILE),
    columns=("gru_raw",),
    pooled_fit=pooled_fit,
    score=score,
    packages=("torch",),
    refit=refit,
)

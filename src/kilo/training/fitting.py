"""Fit each model on a dataset's split: early stopping on validation, then a refit.

Each regressor is fit on the training rows with early stopping on validation; its
validation predictions calibrate the blend. With ``training.refit`` the model that is
served is then fit again on train + validation with the epochs or trees early stopping
chose, and test is scored on it (PPO: :mod:`kilo.training.policy`).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Generic, TypeVar

import numpy as np
import pandas as pd

from kilo.config import Config, timeframe_seconds
from kilo.metrics import regression_metrics
from kilo.models.gru import GRURegressor, resolve_device
from kilo.models.lightgbm import LightGBMRegressor
from kilo.registry.manifest import GRUReport, LightGBMReport
from kilo.training.dataset import Dataset

logger = logging.getLogger(__name__)


Model = TypeVar("Model", GRURegressor, LightGBMRegressor)
Report = TypeVar("Report", GRUReport, LightGBMReport)


@dataclass(frozen=True)
class Fitted(Generic[Model, Report]):
    """A regressor as served, its validation predictions (from the validation-fit
    model, shape (n_val,)), its report, and the model fit on the training rows alone
    (``model`` itself without ``training.refit``)."""

    model: Model
    validation: np.ndarray
    report: Report
    trained: Model


def with_context(
    X: np.ndarray, y: np.ndarray, part: slice, context: int
) -> tuple[np.ndarray, np.ndarray]:
    """Rows of ``part`` preceded by ``context`` rows whose targets are masked with NaN.

    Returns ``(X_part, y_part)`` of ``context + len(part)`` rows, so that a model
    with a look-back window predicts every row of ``part``.

    Raises
    ------
    ValueError
        If ``part`` starts fewer than ``context`` rows into ``X``.
    """
    start = part.start - context
    if start < 0:
        raise ValueError(f"split starts at row {part.start}, before {context} rows of context")
    y_part = y[start : part.stop].astype(np.float32, copy=True)
    y_part[:context] = np.nan
    return X[start : part.stop], y_part


def segment_ids(index: pd.DatetimeIndex, timeframe: str) -> np.ndarray:
    """Stretches of contiguous rows: shape (n_rows,), int64, a new value wherever a row
    is more than one ``timeframe`` after the row before it (dropped rows, an outage).

    What the GRU's sequence mode keeps its chunks inside
    (:meth:`~kilo.models.gru.GRURegressor.fit`).
    """
    gaps = np.diff(index.to_numpy()) > np.timedelta64(timeframe_seconds(timeframe), "s")
    return np.r_[0, np.cumsum(gaps)].astype(np.int64)


def refit_rows(data: Dataset) -> slice:
    """Training and validation rows together (with the embargo between them)."""
    return slice(data.split.train.start, data.split.val.stop)


def fit_gru(
    config: Config, data: Dataset, X: np.ndarray, y: np.ndarray, progress: bool
) -> Fitted[GRURegressor, GRUReport]:
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
    report = gru_report(data, X, y, model, served, validation, config.training.refit)
    return Fitted(served, validation, report, model)


def gru_report(
    data: Dataset,
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
    s, ctx = data.split, served.params.sequence_length - 1
    X_test, _ = with_context(X, y, s.test, ctx)
    return GRUReport(
        validation=regression_metrics(y[s.val], validation),
        test=regression_metrics(y[s.test], served.predict(X_test)[ctx:]),
        epochs=len(model.history_),
        best_epochs=model.best_epochs_,
        refit=refit,
    )


def fit_lightgbm(
    config: Config, data: Dataset, X: np.ndarray, y: np.ndarray
) -> Fitted[LightGBMRegressor, LightGBMReport]:
    """Fit LightGBM (early stopping on validation, then the refit) and score it."""
    s, w = data.split, data.weights
    names = list(data.features.columns)
    model = LightGBMRegressor(config.models.lightgbm, seed=config.seed).fit(
        X[s.train],
        y[s.train],
        X_val=X[s.val],
        y_val=y[s.val],
        weights=w[s.train],
        val_weights=w[s.val],
        feature_names=names,
    )
    validation = model.predict(X[s.val])
    served = model
    if config.training.refit:
        rows = refit_rows(data)
        served = LightGBMRegressor(config.models.lightgbm, seed=config.seed).fit(
            X[rows],
            y[rows],
            weights=w[rows],
            n_estimators=model.best_iteration_,
            feature_names=names,
        )
    report = lightgbm_report(data, X, y, model, served, validation, config.training.refit)
    return Fitted(served, validation, report, model)


def lightgbm_report(
    data: Dataset,
    X: np.ndarray,
    y: np.ndarray,
    model: LightGBMRegressor,
    served: LightGBMRegressor,
    validation: np.ndarray,
    refit: bool,
) -> LightGBMReport:
    """As :func:`gru_report`, for LightGBM."""
    s = data.split
    return LightGBMReport(
        validation=regression_metrics(y[s.val], validation),
        test=regression_metrics(y[s.test], served.predict(X[s.test])),
        best_iteration=model.best_iteration_,
        refit=refit,
    )

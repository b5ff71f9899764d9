"""The LightGBM kind: a tabular regressor of the label
(:class:`~kilo.models.lightgbm.LightGBMRegressor`), early-stopped on validation and
refit on train + validation with the trees it chose (``training.refit``)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np

from kilo.config import Config
from kilo.metrics import RegressionScores
from kilo.models.kind import FitData, Fitted, KindReport, ModelKind, PortfolioState, Upstream
from kilo.models.lightgbm import MODEL_FILE, LightGBMRegressor
from kilo.models.rows import refit_rows, stack_blocks, tabular_scores


class LightGBMReport(KindReport):
    """Validation scores of the model fit on train (early-stopped, ``best_iteration``
    trees); test scores of the served one (refit on train + validation when ``refit``)."""

    validation: RegressionScores
    test: RegressionScores
    best_iteration: int
    refit: bool


def fit(
    config: Config,
    data: FitData,
    X: np.ndarray,
    y: np.ndarray,
    progress: bool,
    upstream: Mapping[str, Upstream],
) -> Fitted:
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
    report = score(data, X, y, model, served, validation, config.training.refit)
    return Fitted(served, validation, report, model if served is not model else None)


def refit(
    config: Config,
    data: FitData,
    X: np.ndarray,
    y: np.ndarray,
    rows: slice,
    model: LightGBMRegressor,
) -> LightGBMRegressor:
    """A LightGBM model like ``model`` (its parameters and trees) fit on ``rows`` of ``X``
    with the finite labels of ``y`` (:data:`~kilo.models.kind.Refit`)."""
    return LightGBMRegressor(model.params, seed=config.seed).fit(
        X[rows],
        y[rows],
        weights=data.weights[rows],
        n_estimators=model.best_iteration_,
        feature_names=list(data.features.columns),
    )


def score(
    data: FitData,
    X: np.ndarray,
    y: np.ndarray,
    model: LightGBMRegressor,
    served: LightGBMRegressor,
    validation: np.ndarray,
    refit: bool,
) -> LightGBMReport:
    """As :func:`kilo.models.kinds.gru.score`, for LightGBM."""
    return LightGBMReport(
        **tabular_scores(data, X, y, served, validation),
        best_iteration=model.best_iteration_,
        refit=refit,
    )


def validate(config: Config, data: FitData, X: np.ndarray, model: LightGBMRegressor) -> np.ndarray:
    """Predictions (n_val,) of a fitted ``model`` on ``data.split.val``."""
    return model.predict(X[data.split.val])


def predict(
    model: LightGBMRegressor, X: np.ndarray, n_out: int, state: PortfolioState
) -> np.ndarray:
    """Predicted log returns (n_out,) of the last ``n_out`` rows of ``X``."""
    return model.predict(X[len(X) - n_out :])


def pooled_fit(
    config: Config, blocks: Sequence[tuple[FitData, np.ndarray]], progress: bool
) -> LightGBMRegressor:
    """LightGBM fit on every member's training rows together, early-stopped on theirs."""
    X, y, w = stack_blocks(blocks, "train", 0)
    X_val, y_val, w_val = stack_blocks(blocks, "val", 0)
    return LightGBMRegressor(config.models.lightgbm, seed=config.seed).fit(
        X,
        y,
        X_val=X_val,
        y_val=y_val,
        weights=w,
        val_weights=w_val,
        feature_names=list(blocks[0][0].features.columns),
    )


def load(folder: Path, config: Config) -> LightGBMRegressor:
    """The saved model of ``folder`` (:meth:`~kilo.models.lightgbm.LightGBMRegressor.load`)."""
    return LightGBMRegressor.load(folder)


KIND = ModelKind(
    name="lightgbm",
    label="LightGBM",
    signal="regressor",
    report=LightGBMReport,
    fit=fit,
    validate=validate,
    predict=predict,
    context=lambda model: 0,
    config_context=lambda config: 0,
    load=load,
    files=(MODEL_FILE,),
    columns=("lightgbm_raw",),
    pooled_fit=pooled_fit,
    score=score,
    packages=("lightgbm",),
    refit=refit,
)

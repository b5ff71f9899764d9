"""The linear kind: ridge regression of the label on the preprocessed features, the
baseline a forecaster has to beat (a ``StandardScaler`` then scikit-learn's ``Ridge``).

Fit on the training rows (weighted by label uniqueness); with ``training.refit`` the
served model is fit again on train + validation (nothing is early-stopped, so the
refit chooses nothing). Saved with joblib as ``linear.joblib``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

import joblib
import numpy as np
from sklearn.linear_model import Ridge
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import StandardScaler

from kilo.config import Config, LinearConfig
from kilo.errors import UNREADABLE_FILE_ERRORS, ModelSetError
from kilo.metrics import RegressionScores
from kilo.models.kind import FitData, Fitted, KindReport, ModelKind, Upstream
from kilo.models.rows import refit_rows, stack_blocks, tabular_scores

MODEL_FILE = "linear.joblib"
#: What loading a damaged file raises (other errors propagate).
LOAD_ERRORS: tuple[type[Exception], ...] = (*UNREADABLE_FILE_ERRORS, KeyError)


class LinearReport(KindReport):
    """Validation scores of the model fit on train; test scores of the served one (refit
    on train + validation when ``refit``)."""

    validation: RegressionScores
    test: RegressionScores
    refit: bool


class LinearRegressor:
    """Standardised features, then ridge regression (``alpha`` of ``models.linear``).

    Learned: ``pipeline_`` (scikit-learn ``Pipeline``).
    """

    def __init__(self, params: LinearConfig) -> None:
        self.params = params
        self.pipeline_: Pipeline | None = None

    def fit(self, X: np.ndarray, y: np.ndarray, weights: np.ndarray) -> LinearRegressor:
        """Fit on the rows of ``X`` (n, n_features) whose label ``y`` (n,) is finite,
        each weighted by ``weights`` (n,)."""
        keep = np.isfinite(y)
        pipeline = make_pipeline(StandardScaler(), Ridge(alpha=self.params.alpha))
        pipeline.fit(X[keep], y[keep], ridge__sample_weight=weights[keep])
        self.pipeline_ = pipeline
        return self

    def predict(self, X: np.ndarray) -> np.ndarray:
        """Predicted log return, shape (n_rows,), float32.

        Raises
        ------
        RuntimeError
            Before :meth:`fit` or :meth:`load`.
        """
        if self.pipeline_ is None:
            raise RuntimeError("LinearRegressor is not fitted; call fit() or load() first")
        return self.pipeline_.predict(X).astype(np.float32)

    def save(self, folder: Path) -> list[str]:
        """Write ``linear.joblib`` (the pipeline and its parameters); return the names."""
        joblib.dump(
            {"params": self.params.model_dump(), "pipeline": self.pipeline_}, folder / MODEL_FILE
        )
        return [MODEL_FILE]

    @classmethod
    def load(cls, folder: Path) -> LinearRegressor:
        """Read :meth:`save`'s file.

        Raises
        ------
        ModelSetError
            If the file is missing or unreadable.
        """
        try:
            saved = joblib.load(Path(folder) / MODEL_FILE)
        except LOAD_ERRORS as exc:
            raise ModelSetError(f"{folder}: cannot load the linear model ({exc})") from exc
        model = cls(LinearConfig(**saved["params"]))
        model.pipeline_ = saved["pipeline"]
        return model


def fit(
    config: Config,
    data: FitData,
    X: np.ndarray,
    y: np.ndarray,
    progress: bool,
    upstream: Mapping[str, Upstream],
) -> Fitted:
    """Fit on the training rows, predict validation, refit on train + validation."""
    s, w = data.split, data.weights
    model = LinearRegressor(config.models.linear).fit(X[s.train], y[s.train], w[s.train])
    validation = model.predict(X[s.val])
    served = model
    if config.training.refit:
        rows = refit_rows(data)
        served = LinearRegressor(config.models.linear).fit(X[rows], y[rows], w[rows])
    report = score(data, X, y, model, served, validation, config.training.refit)
    return Fitted(served, validation, report, model if served is not model else None)


def refit(
    config: Config, data: FitData, X: np.ndarray, y: np.ndarray, rows: slice, model: LinearRegressor
) -> LinearRegressor:
    """A ridge like ``model`` (its ``alpha``) fit on ``rows`` of ``X`` with the finite
    labels of ``y`` (:data:`~kilo.models.kind.Refit`)."""
    return LinearRegressor(model.params).fit(X[rows], y[rows], data.weights[rows])


def score(
    data: FitData,
    X: np.ndarray,
    y: np.ndarray,
    model: LinearRegressor,
    served: LinearRegressor,
    validation: np.ndarray,
    refit: bool,
) -> LinearReport:
    """Scores of ``validation`` (n_val,) and of ``served`` on ``data.split.test``."""
    return LinearReport(**tabular_scores(data, X, y, served, validation), refit=refit)


def pooled_fit(
    config: Config, blocks: Sequence[tuple[FitData, np.ndarray]], progress: bool
) -> LinearRegressor:
    """Ridge fit on every member's training rows together."""
    X, y, w = stack_blocks(blocks, "train", 0)
    return LinearRegressor(config.models.linear).fit(X, y, w)


KIND = ModelKind(
    name="linear",
    label="linear",
    signal="regressor",
    report=LinearReport,
    fit=fit,
    validate=lambda config, data, X, model: model.predict(X[data.split.val]),
    predict=lambda model, X, n_out, state: model.predict(X[len(X) - n_out :]),
    context=lambda model: 0,
    config_context=lambda config: 0,
    load=lambda folder, config: LinearRegressor.load(folder),
    files=(MODEL_FILE,),
    columns=("linear_raw",),
    pooled_fit=pooled_fit,
    score=score,
    packages=("scikit-learn",),
    refit=refit,
)

"""The regressors' forecasts a policy observes (``models.ppo.observation``): out of fold
on the training rows, as served elsewhere.

On the training rows each forecast comes from a regressor refit without the row's
block (:func:`~kilo.models.crossfit.cross_fit`, K = ``models.ppo.crossfit_folds``
blocks, an embargo of the label horizon) by its kind's
:attr:`~kilo.models.kind.ModelKind.refit` (the epochs or trees early stopping chose for
the served model), so the policy never learns from in-sample outputs. After them, up
to the validation rows' end, the forecasts are those of the regressor fit on the
training rows (the predictions the blend calibrates on); after that, the served
regressor's (refit on train + validation with ``training.refit``), as the trader and
the evaluation's test folds see them.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from kilo.config import Config
from kilo.errors import ConfigError
from kilo.metrics import round_trip_log_cost
from kilo.models.crossfit import cross_fit
from kilo.models.kind import FitData, Upstream
from kilo.rl.observation import FEATURES, ObservationSpec


def _predict_rows(up: Upstream, model: Any, X: np.ndarray, rows: slice) -> np.ndarray:
    """``model``'s predictions (label units) for ``rows`` of ``X``, shape (n,), float64;
    NaN for the first rows without the context it needs before them."""
    context = up.context(model)
    first = max(rows.start, context)
    out = np.full(rows.stop - rows.start, np.nan)
    if first < rows.stop:
        out[first - rows.start :] = up.predict(model, X[: rows.stop], rows.stop - first)
    return out


def forecast_matrix(
    config: Config, data: FitData, X: np.ndarray, upstream: Mapping[str, Upstream]
) -> np.ndarray:
    """Forecasts of the regressors ``upstream`` (by name, in that order) for every row.

    Parameters
    ----------
    X
        Array of shape (n_rows, n_features), float32, preprocessed rows of ``data``.
    upstream
        The regressors, fitted, with their kinds' predict and refit.

    Returns
    -------
    ndarray of shape (n_rows, len(upstream)), float64, in label units (``target.kind``):
    out of fold on the training rows (NaN where a model has no context yet), from the
    model fit on the training rows up to the end of validation, from the served one
    after (module docstring).
    """
    s = data.split
    y = data.target.astype(np.float32)
    train = s.train
    out = np.full((len(X), len(upstream)), np.nan)
    later, rest = slice(train.stop, s.val.stop), slice(s.val.stop, len(X))
    for k, up in enumerate(upstream.values()):
        served = up.fitted.model

        def fit(mask: np.ndarray, up: Upstream = up, served: Any = served) -> Any:
            labels = y.copy()
            labels[train] = np.where(mask, y[train], np.float32(np.nan))
            return up.refit(config, data, X, labels, train, served)

        def predict(model: Any, block: slice, up: Upstream = up) -> np.ndarray:
            rows = slice(train.start + block.start, train.start + block.stop)
            return _predict_rows(up, model, X, rows)

        n_train = train.stop - train.start
        folds, horizon = config.models.ppo.crossfit_folds, config.target.horizon
        out[train, k] = cross_fit(n_train, folds, horizon, fit, predict)
        out[later, k] = _predict_rows(up, up.fitted.trained_model, X, later)
        out[rest, k] = _predict_rows(up, served, X, rest)
    return out


def observation_inputs(
    config: Config, data: FitData, X: np.ndarray, upstream: Mapping[str, Upstream]
) -> tuple[ObservationSpec, np.ndarray, slice]:
    """What the policy observes on ``data``'s rows with ``models.ppo.observation``.

    Parameters
    ----------
    X
        Array of shape (n_rows, n_features), float32, preprocessed rows.
    upstream
        The regressors it observes (ignored with features).

    Returns
    -------
    The spec (its scales fit on the training rows), the input rows of shape (n_rows,
    n_inputs), float32 (NaN on training rows a regressor cannot forecast yet), and the
    training rows the policy learns on: every one with finite inputs.

    Raises
    ------
    ConfigError
        If the policy observes forecasts and ``upstream`` is empty.
    """
    kind = config.models.ppo.observation
    train = data.split.train
    if kind == "features":
        return FEATURES, X, train
    if not upstream:
        raise ConfigError(
            f"models.ppo.observation: {kind} needs a regressor in the model set to forecast"
        )
    forecasts = forecast_matrix(config, data, X, upstream)
    first = train.start + int(np.argmax(np.isfinite(forecasts[train]).all(axis=1)))
    rows = slice(first, train.stop)
    spec = ObservationSpec.fit(
        kind,
        tuple(upstream),
        forecasts[rows],
        data.forward_return[rows],
        round_trip_log_cost(config.trading),
    )
    return spec, spec.inputs(X, forecasts), rows

"""The regressors' forecasts PPO observes (``models.ppo.observation``): out of fold on
the training rows, as served elsewhere.

On the training rows each forecast comes from a regressor refit without the row's
block (:func:`~kilo.models.crossfit.cross_fit`, K = ``models.ppo.crossfit_folds``
blocks, an embargo of the label horizon) with the epochs or trees early stopping chose
for the served model, so PPO never learns from in-sample outputs. After them, up to
the validation rows' end, the forecasts are those of the regressor fit on the training
rows (the predictions the blend calibrates on); after that, the served regressor's
(refit on train + validation with ``training.refit``), as the trader and the
evaluation's test folds see them.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import numpy as np

from kilo.config import Config
from kilo.errors import ConfigError
from kilo.metrics import round_trip_log_cost
from kilo.models.crossfit import cross_fit
from kilo.models.gru import GRURegressor
from kilo.models.lightgbm import LightGBMRegressor
from kilo.rl.observation import FEATURES, ObservationSpec
from kilo.training.dataset import Dataset
from kilo.training.fitting import segment_ids

Refitter = tuple[Callable[[np.ndarray], Any], Callable[[Any, slice], np.ndarray]]


def _predict_rows(model: Any, X: np.ndarray, rows: slice) -> np.ndarray:
    """``model``'s predictions (label units) for ``rows`` of ``X``, shape (n,), float64;
    a GRU reads up to ``sequence_length - 1`` rows before as context (NaN without)."""
    if isinstance(model, GRURegressor):
        start = max(rows.start - model.params.sequence_length + 1, 0)
        return model.predict(X[start : rows.stop])[rows.start - start :].astype(np.float64)
    return np.asarray(model.predict(X[rows]), dtype=np.float64)


def refitter(config: Config, data: Dataset, X: np.ndarray, served: Any) -> Refitter:
    """``(fit, predict)`` for :func:`~kilo.models.crossfit.cross_fit` over the training
    rows: ``fit(mask)`` refits ``served``'s kind and parameters on the labels where
    ``mask`` (shape (n_train,)) is True, with ``served``'s epochs or trees; feature rows
    elsewhere stay as a GRU's context. ``predict(model, block)`` predicts a block of
    training rows.

    Raises
    ------
    TypeError
        If ``served`` is no regressor Kilo can refit.
    """
    train = data.split.train
    X_train, w = X[train], data.weights[train]
    y = data.target[train].astype(np.float32)

    def masked(mask: np.ndarray) -> np.ndarray:
        return np.where(mask, y, np.float32(np.nan))

    if isinstance(served, GRURegressor):
        segments = segment_ids(data.index, config.data.timeframe)[train]

        def fit(mask: np.ndarray) -> Any:
            return GRURegressor(served.params, seed=config.seed).fit(
                X_train,
                masked(mask),
                weights=w,
                segments=segments,
                epochs=served.best_epochs_,
                progress=False,
            )

    elif isinstance(served, LightGBMRegressor):
        names = list(data.features.columns)

        def fit(mask: np.ndarray) -> Any:
            return LightGBMRegressor(served.params, seed=config.seed).fit(
                X_train,
                masked(mask),
                weights=w,
                n_estimators=served.best_iteration_,
                feature_names=names,
            )

    else:
        raise TypeError(f"cannot cross-fit a {type(served).__name__}")
    return fit, lambda model, block: _predict_rows(model, X_train, block)


def forecast_matrix(
    config: Config,
    data: Dataset,
    X: np.ndarray,
    served: Mapping[str, Any],
    trained: Mapping[str, Any],
) -> np.ndarray:
    """Forecasts of the regressors ``served`` (by name, in that order) for every row.

    Parameters
    ----------
    X
        Array of shape (n_rows, n_features), float32, preprocessed rows of ``data``.
    served, trained
        Name -> the regressor as served, and as fit on the training rows only (the
        same model without ``training.refit``).

    Returns
    -------
    ndarray of shape (n_rows, len(served)), float64, in label units (``target.kind``):
    out of fold on the training rows (NaN where a GRU has no full window), from
    ``trained`` up to the end of validation, from ``served`` after (module docstring).
    """
    s, p = data.split, config.models.ppo
    out = np.full((len(X), len(served)), np.nan)
    later = slice(s.train.stop, s.val.stop)
    rest = slice(s.val.stop, len(X))
    for k, (name, model) in enumerate(served.items()):
        fit, predict = refitter(config, data, X, model)
        n_train = s.train.stop - s.train.start
        out[s.train, k] = cross_fit(n_train, p.crossfit_folds, config.target.horizon, fit, predict)
        out[later, k] = _predict_rows(trained[name], X, later)
        out[rest, k] = _predict_rows(model, X, rest)
    return out


def observation_inputs(
    config: Config,
    data: Dataset,
    X: np.ndarray,
    served: Mapping[str, Any],
    trained: Mapping[str, Any],
) -> tuple[ObservationSpec, np.ndarray, slice]:
    """What PPO observes on ``data``'s rows with ``models.ppo.observation``.

    Parameters
    ----------
    X
        Array of shape (n_rows, n_features), float32, preprocessed rows.
    served, trained
        The regressors PPO observes, as :func:`forecast_matrix` takes them (ignored with
        features).

    Returns
    -------
    The spec (its scales fit on the training rows), the input rows of shape (n_rows,
    n_inputs), float32 (NaN on training rows a GRU cannot forecast yet), and the
    training rows PPO learns on: every one with finite inputs.

    Raises
    ------
    ConfigError
        If PPO observes forecasts and ``served`` is empty.
    """
    kind = config.models.ppo.observation
    train = data.split.train
    if kind == "features":
        return FEATURES, X, train
    if not served:
        raise ConfigError(
            f"models.ppo.observation: {kind} needs a regressor in the model set to forecast"
        )
    forecasts = forecast_matrix(config, data, X, served, trained)
    first = train.start + int(np.argmax(np.isfinite(forecasts[train]).all(axis=1)))
    rows = slice(first, train.stop)
    spec = ObservationSpec.fit(
        kind,
        tuple(served),
        forecasts[rows],
        data.forward_return[rows],
        round_trip_log_cost(config.trading),
    )
    return spec, spec.inputs(X, forecasts), rows

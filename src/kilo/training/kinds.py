"""The model kinds a model set holds, behind one contract: the only list of them.

Each :class:`ModelKind` says how the trainer fits the kind on a data set's split, and
what its outputs on the validation rows are for a model it did not fit now (one reused
from the previous version). The trainer, the evaluation's fold runner and the
retraining loop iterate over :data:`KINDS`; adding a kind means adding it here (and
teaching the blend its signal).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from kilo.config import Config
from kilo.errors import ConfigError
from kilo.models.gru import GRURegressor
from kilo.models.lightgbm import LightGBMRegressor
from kilo.rl import PolicyPath, PPOAgent
from kilo.training.dataset import Dataset
from kilo.training.fitting import Fitted, fit_gru, fit_lightgbm, with_context
from kilo.training.policy import fit_ppo, ppo_segment

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class FittedKind:
    """A model as served, its outputs on the validation rows, and its manifest report.

    ``validation`` is, for a regressor, its predictions of shape (n_val,) from the
    model fit on the training rows only; for the policy, its own path over the rows.
    ``trained`` is that model fit on the training rows only (``model`` where there is
    no other: a refit off, a policy, a model reused or pooled).
    """

    model: Any
    validation: Any
    report: Any
    trained: Any


@dataclass(frozen=True)
class ModelKind:
    """How one kind is fit and validated.

    Attributes
    ----------
    name : the kind's key in ``blend.weights``, the manifest and the model set
    regressor : predicts the label (calibrated by its predictions; has IC statistics)
    fit : ``(config, data, X, y, progress, upstream) -> FittedKind`` on ``data.split``;
        ``upstream`` holds the kinds before it in :data:`KINDS` the set holds (PPO
        observing forecasts reads the regressors there)
    validate : ``(config, data, X, model) -> validation outputs`` of a model fit before
    """

    name: str
    regressor: bool
    fit: Callable[
        [Config, Dataset, np.ndarray, np.ndarray, bool, Mapping[str, FittedKind]], FittedKind
    ]
    validate: Callable[[Config, Dataset, np.ndarray, Any], Any]


def _fitted(fitted: Fitted) -> FittedKind:
    return FittedKind(fitted.model, fitted.validation, fitted.report, fitted.trained)


def _validate_gru(config: Config, data: Dataset, X: np.ndarray, model: GRURegressor) -> np.ndarray:
    ctx = model.params.sequence_length - 1
    X_val, _ = with_context(X, data.target, data.split.val, ctx)
    return model.predict(X_val)[ctx:]


def _validate_lightgbm(
    config: Config, data: Dataset, X: np.ndarray, model: LightGBMRegressor
) -> np.ndarray:
    return model.predict(X[data.split.val])


def _validate_ppo(config: Config, data: Dataset, X: np.ndarray, agent: PPOAgent) -> PolicyPath:
    """A reused policy's path over validation (it must observe features).

    Raises
    ------
    ConfigError
        If it observes forecasts: regressors fit after it would feed it.
    """
    if agent.spec_.kind != "features":
        raise ConfigError(
            f"the previous PPO agent observes {agent.spec_.kind} of "
            f"{list(agent.spec_.forecasts)}: it cannot be reused beside regressors "
            "trained after it; retrain the whole set (--model all)"
        )
    return agent.run(*ppo_segment(agent, data, X, data.split.val))


def _fit_ppo(
    config: Config,
    data: Dataset,
    X: np.ndarray,
    y: np.ndarray,
    progress: bool,
    upstream: Mapping[str, FittedKind],
) -> FittedKind:
    observed = {name: f for name, f in upstream.items() if KINDS[name].regressor}
    agent, path, report = fit_ppo(
        config,
        data,
        X,
        progress,
        {name: f.model for name, f in observed.items()},
        {name: f.trained for name, f in observed.items()},
    )
    return FittedKind(agent, path, report, agent)


KINDS: dict[str, ModelKind] = {
    kind.name: kind
    for kind in (
        ModelKind(
            "gru",
            True,
            lambda c, d, X, y, progress, upstream: _fitted(fit_gru(c, d, X, y, progress)),
            _validate_gru,
        ),
        ModelKind(
            "lightgbm",
            True,
            lambda c, d, X, y, progress, upstream: _fitted(fit_lightgbm(c, d, X, y)),
            _validate_lightgbm,
        ),
        ModelKind("ppo", False, _fit_ppo, _validate_ppo),
    )
}
#: The kinds that predict the label, in :data:`KINDS` order.
REGRESSORS: tuple[str, ...] = tuple(name for name, kind in KINDS.items() if kind.regressor)


def enabled_regressors(config: Config) -> tuple[str, ...]:
    """The regressors of ``models.enabled``, in :data:`KINDS` order (maybe none)."""
    return tuple(name for name in REGRESSORS if name in config.models.enabled)


def reused_validation(config: Config, data: Dataset, X: np.ndarray, name: str, model: Any) -> Any:
    """Validation outputs of a ``name`` model reused from the previous set (warned:
    a regressor refit on the validation rows is then calibrated in sample)."""
    if KINDS[name].regressor and config.training.refit:
        logger.warning(
            "%s: the reused %s was refit on the validation rows, so the blend's "
            "calibration sees it in sample; retrain every model for a clean one",
            data.symbol,
            name,
        )
    return KINDS[name].validate(config, data, X, model)

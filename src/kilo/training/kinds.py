"""The model kinds a model set holds, behind one contract: the only list of them.

Each :class:`ModelKind` says how the trainer fits the kind on a data set's split, and
what its outputs on the validation rows are for a model it did not fit now (one reused
from the previous version). The trainer, the evaluation's fold runner and the
retraining loop iterate over :data:`KINDS`; adding a kind means adding it here (and
teaching the blend its signal).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from kilo.config import Config
from kilo.models.gru import GRURegressor
from kilo.models.lightgbm import LightGBMRegressor
from kilo.rl import PolicyPath, PPOAgent
from kilo.training.dataset import Dataset
from kilo.training.fitting import fit_gru, fit_lightgbm, fit_ppo, ppo_segment, with_context

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class FittedKind:
    """A model as served, its outputs on the validation rows, and its manifest report.

    ``validation`` is, for a regressor, its predictions of shape (n_val,) from the
    model fit on the training rows only; for the policy, its own path over the rows.
    """

    model: Any
    validation: Any
    report: Any


@dataclass(frozen=True)
class ModelKind:
    """How one kind is fit and validated.

    Attributes
    ----------
    name : the kind's key in ``blend.weights``, the manifest and the model set
    regressor : predicts the label (calibrated by its predictions; has IC statistics)
    fit : ``(config, data, X, y, progress) -> FittedKind`` on ``data.split``
    validate : ``(config, data, X, model) -> validation outputs`` of a model fit before
    """

    name: str
    regressor: bool
    fit: Callable[[Config, Dataset, np.ndarray, np.ndarray, bool], FittedKind]
    validate: Callable[[Config, Dataset, np.ndarray, Any], Any]


def _fit_gru(
    config: Config, data: Dataset, X: np.ndarray, y: np.ndarray, progress: bool
) -> FittedKind:
    fitted = fit_gru(config, data, X, y, progress)
    return FittedKind(fitted.model, fitted.validation, fitted.report)


def _validate_gru(config: Config, data: Dataset, X: np.ndarray, model: GRURegressor) -> np.ndarray:
    ctx = model.params.sequence_length - 1
    X_val, _ = with_context(X, data.target, data.split.val, ctx)
    return model.predict(X_val)[ctx:]


def _fit_lightgbm(
    config: Config, data: Dataset, X: np.ndarray, y: np.ndarray, progress: bool
) -> FittedKind:
    fitted = fit_lightgbm(config, data, X, y)
    return FittedKind(fitted.model, fitted.validation, fitted.report)


def _validate_lightgbm(
    config: Config, data: Dataset, X: np.ndarray, model: LightGBMRegressor
) -> np.ndarray:
    return model.predict(X[data.split.val])


def _validate_ppo(config: Config, data: Dataset, X: np.ndarray, agent: PPOAgent) -> PolicyPath:
    return agent.run(*ppo_segment(agent, data, X, data.split.val))


def _fit_ppo(
    config: Config, data: Dataset, X: np.ndarray, y: np.ndarray, progress: bool
) -> FittedKind:
    agent, path, report = fit_ppo(config, data, X, progress)
    return FittedKind(agent, path, report)


KINDS: dict[str, ModelKind] = {
    kind.name: kind
    for kind in (
        ModelKind("gru", True, _fit_gru, _validate_gru),
        ModelKind("lightgbm", True, _fit_lightgbm, _validate_lightgbm),
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

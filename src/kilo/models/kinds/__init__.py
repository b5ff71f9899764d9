"""The registry of model kinds: the one list of them (:class:`~kilo.models.kind.ModelKind`).

A kind is one file in this package and one line in :data:`KINDS`. The trainer, the
pool, the model set, inference, the blend's calibration, the evaluation's strategies
and the reports loop over :data:`KINDS`; the config schema keeps a section per kind
(``models.<name>``), and :data:`~kilo.config.MODEL_NAMES` must list the same names.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from functools import partial
from typing import Any

import numpy as np

from kilo.blend import Calibration
from kilo.config import MODEL_NAMES, Config, ModelName
from kilo.errors import ModelSetError
from kilo.models.kind import FLAT, Fitted, Forecaster, ModelKind, Upstream
from kilo.models.kinds import gru, lightgbm, linear, ppo

KINDS: dict[str, ModelKind] = {
    kind.name: kind
    for kind in (
        gru.KIND,
        lightgbm.KIND,
        ppo.KIND,
        linear.KIND,
    )
}
if tuple(KINDS) != MODEL_NAMES:
    raise ImportError(f"kinds {tuple(KINDS)} differ from kilo.config.MODEL_NAMES {MODEL_NAMES}")

#: The kinds that predict the label, in :data:`KINDS` order.
REGRESSORS: tuple[str, ...] = tuple(name for name, kind in KINDS.items() if kind.regressor)
#: The kinds whose output is an action distribution (trading their own actions).
POLICIES: tuple[str, ...] = tuple(name for name, kind in KINDS.items() if not kind.regressor)
#: The kinds of a model set whose manifest predates ``models`` (it held these).
LEGACY_KINDS: tuple[ModelName, ...] = ("gru", "lightgbm", "ppo")


def enabled_regressors(config: Config) -> tuple[str, ...]:
    """The regressors of ``models.enabled``, in :data:`KINDS` order (maybe none)."""
    return tuple(name for name in REGRESSORS if name in config.models.enabled)


def check_dependencies(names: Iterable[str]) -> None:
    """Refuse a set of kinds in which a kind lacks a kind it depends on.

    Raises
    ------
    ModelSetError
        Naming the kind and the missing kinds it needs.
    """
    held = set(names)
    for name in held:
        missing = [need for need in KINDS[name].depends_on if need not in held]
        if missing:
            raise ModelSetError(
                f"the {name!r} model needs the {missing} model(s), which the set lacks: "
                f"retrain the set with them in models.enabled"
            )


def context_rows(models: Mapping[str, Any]) -> int:
    """Feature rows needed before the first predicted bar: the longest context of the
    models held (name -> fitted model), 0 for none."""
    return max((KINDS[name].context(model) for name, model in models.items()), default=0)


def config_context(config: Config, names: Iterable[str] | None = None) -> int:
    """Rows of context the longest kind of ``names`` (default ``models.enabled``) would
    need before a row; a kind that :attr:`~ModelKind.observes` forecasts needs its own
    after the longest of the observable regressors' of ``names``."""
    kinds = [KINDS[n] for n in (config.models.enabled if names is None else names)]
    reads = max((k.config_context(config) for k in kinds if k.refit is not None), default=0)
    return max(k.config_context(config) + (reads if k.observes(config) else 0) for k in kinds)


def upstream(fitted: Mapping[str, Fitted]) -> dict[str, Upstream]:
    """The fitted regressors a later kind may observe (those with a
    :attr:`~ModelKind.refit`), with their kinds' functions, in :data:`KINDS` order."""
    return {
        name: Upstream(fitted[name], _served(kind), kind.context, kind.refit)
        for name, kind in KINDS.items()
        if name in fitted and kind.refit is not None
    }


def _served(kind: ModelKind) -> Callable[[Any, np.ndarray, int], np.ndarray]:
    """``kind``'s predict for a flat portfolio (a regressor reads no state)."""
    return lambda model, X, n_out: kind.predict(model, X, n_out, FLAT)


def bind_forecasters(models: Mapping[str, Any]) -> None:
    """Give every model whose kind :attr:`~ModelKind.bind` s the set's served observable
    regressors (name -> :class:`~kilo.models.kind.Forecaster`).

    Raises
    ------
    ModelSetError
        Naming a kind a model observes that ``models`` lacks.
    """
    forecasters = {
        name: Forecaster(partial(_served(kind), model), kind.context(model))
        for name, model in models.items()
        if (kind := KINDS[name]).refit is not None
    }
    for name, model in models.items():
        bind = KINDS[name].bind
        if bind is not None:
            bind(model, forecasters)


def signals(
    calibration: Calibration, outputs: Mapping[str, np.ndarray], long: np.ndarray | bool
) -> dict[str, np.ndarray]:
    """Each kind's raw outputs (name -> array, see :attr:`ModelKind.predict`) as its blend
    signal in [-1, 1], shape (n,); ``long`` (shape (n,) or scalar) is the position a
    policy was queried with."""
    regressors = {n: out for n, out in outputs.items() if KINDS[n].regressor}
    policies = {n: out for n, out in outputs.items() if not KINDS[n].regressor}
    return calibration.signals(regressors, policies, long)


def raw_columns() -> tuple[str, ...]:
    """Every kind's ledger columns of raw outputs, in :data:`KINDS` order."""
    return tuple(col for kind in KINDS.values() for col in kind.columns)

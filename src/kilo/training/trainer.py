"""Train one symbol's model set: the preprocessor and every model kind."""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from kilo.blend import Calibration, calibrate
from kilo.config import Config
from kilo.errors import ConfigError
from kilo.features import FeatureEngine, Preprocessor
from kilo.models.kind import Fitted
from kilo.models.kinds import KINDS, upstream
from kilo.models.rows import refit_rows
from kilo.registry import Manifest, ModelMetrics, ModelSet, package_versions
from kilo.registry.manifest import MANIFEST_FILE, SplitRange
from kilo.runtime.tracking import Tracker, config_params
from kilo.training.dataset import Dataset, build_dataset
from kilo.training.pool import Pool, fit_pool, pooled_report
from kilo.training.reference import drift_reference
from kilo.utils import seed_everything

logger = logging.getLogger(__name__)

#: "all", or one kind of :data:`~kilo.models.kinds.KINDS`.
ModelChoice = str


@dataclass
class TrainReport:
    """Outcome for one symbol: the saved version and per-model metrics and seconds;
    ``pooled``: the models taken from the pool (``training.pool: universe``)."""

    symbol: str
    version: str | None = None
    folder: Path | None = None
    metrics: ModelMetrics | None = None
    seconds: dict[str, float] = field(default_factory=dict)
    error: str | None = None
    pooled: tuple[str, ...] = ()


@dataclass(frozen=True)
class Validation:
    """What the validation split saw, from the models fit on the training split only.

    ``outputs`` maps each kind the models hold (:data:`~kilo.models.kinds.KINDS`)
    to its validation outputs: a regressor's predictions of shape (n_val,), the
    policy's own path over the split (one bar shorter); ``forward_return``: shape
    (n_val,), the log return over the label horizon after each validation bar.
    """

    outputs: dict[str, Any]
    forward_return: np.ndarray

    def calibrate(self, config: Config, weights: dict[str, float] | None = None) -> Calibration:
        """The blend's calibration with ``weights`` (default ``blend.weights``) over the
        models of ``outputs``; a policy's signal enters only when it has weight, and
        every output is cut to the shortest (a policy's path is one bar shorter)."""
        blend = (
            config.blend
            if weights is None
            else config.with_overrides({"blend.weights": weights}).blend
        )
        used = {
            name: KINDS[name].as_outputs(out)
            for name, out in self.outputs.items()
            if KINDS[name].regressor or blend.weights.get(name, 0.0) > 0
        }
        n = min([len(out) for out, _ in used.values()] + [len(self.forward_return)])
        return calibrate(
            {name: out[:n] for name, (out, long) in used.items() if long is None},
            {name: (out[:n], long[:n]) for name, (out, long) in used.items() if long is not None},
            self.forward_return[:n],
            blend,
        )


@dataclass(frozen=True)
class FitResult:
    """An unsaved model set, the seconds each trained model took, and its validation."""

    model_set: ModelSet
    seconds: dict[str, float]
    validation: Validation


def fit_kinds(
    config: Config,
    data: Dataset,
    X: np.ndarray,
    names: tuple[str, ...],
    progress: bool,
    held: Mapping[str, Fitted] | None = None,
) -> tuple[dict[str, Fitted], dict[str, float]]:
    """Fit the kinds ``names`` on ``data.split`` (features ``X``, preprocessed), the
    regressors first; each sees as :func:`~kilo.models.kinds.upstream` the regressors
    ``held`` (not fit now: pooled or reused) and those fit before it. Returns them by
    name with the seconds each took."""
    y = data.target.astype(np.float32)
    fitted: dict[str, Fitted] = {}
    seconds = {}
    for name in sorted(names, key=lambda n: not KINDS[n].regressor):
        tick = time.perf_counter()
        fitted[name] = KINDS[name].fit(
            config, data, X, y, progress, upstream({**(held or {}), **fitted})
        )
        seconds[name] = time.perf_counter() - tick
    return fitted, seconds


def fit_model_set(
    config: Config,
    data: Dataset,
    engine: FeatureEngine,
    *,
    model: ModelChoice = "all",
    previous: ModelSet | None = None,
    pool: Pool | None = None,
    progress: bool = True,
) -> FitResult:
    """Fit a model set on ``data.split`` in memory; the trainer's and walk-forward's core.

    With ``model="all"`` the preprocessor is fit on the training split and every kind
    of ``models.enabled`` is trained (each kind's own ``fit``: the regressors
    early-stopped on validation, then refit on train + validation with
    ``training.refit``); otherwise only ``model`` is, and the preprocessor and the
    other models ``previous`` holds come from it. With ``pool``, the preprocessor and
    the regressors are the pool's (fit on the universe together, ``data`` being the
    symbol's rows on the pool's split) and the other kinds are fit here. The blend is calibrated on
    validation with the models fit on the training split; metrics on validation and
    test, and the drift reference (:func:`~kilo.training.reference.drift_reference`),
    go into the manifest.

    Raises
    ------
    ValueError
        If a single model is asked for without ``previous``, or is no kind.
    """
    if model != "all" and model not in KINDS:
        raise ValueError(f"no model kind {model!r}: use all or one of {list(KINDS)}")
    if model != "all" and previous is None:
        raise ValueError(f"training only {model!r} needs the previous model set")
    if previous:
        preprocessor = previous.preprocessor
    elif pool:
        preprocessor = pool.preprocessors[data.symbol]
    else:
        preprocessor = Preprocessor().fit(data.features.iloc[data.split.train])
    X = preprocessor.transform(data.features)
    names = tuple(config.models.enabled) if model == "all" else (model,)
    pooled = pool.models if pool else {}
    reports: dict[str, Any] = dict(previous.manifest.metrics.root) if previous else {}
    held = {}
    for name in KINDS:
        if name in pooled:
            validation = KINDS[name].validate(config, data, X, pooled[name])
            reports[name] = pooled_report(data, X, name, pooled[name], validation)
            held[name] = Fitted(pooled[name], validation, reports[name])
        elif name not in names and previous is not None and name in previous.names:
            reused = previous.model(name)
            validation = _reused_validation(config, data, X, name, reused)
            held[name] = Fitted(reused, validation, reports[name])
    fitted, seconds = fit_kinds(
        config, data, X, tuple(n for n in names if n not in pooled), progress, held
    )
    models, outputs = {}, {}
    for name in KINDS:
        if name in fitted:
            models[name], outputs[name] = fitted[name].model, fitted[name].validation
            reports[name] = fitted[name].report
        elif name in held:
            models[name], outputs[name] = held[name].model, held[name].validation
    checked = Validation(outputs, data.forward_return[data.split.val])
    calibration = checked.calibrate(config)
    manifest = _manifest(
        config,
        engine,
        data,
        ModelMetrics(reports),
        calibration,
        [*fitted, *pooled],
        previous,
        list(models),
        pool,
    ).model_copy(update={"drift": drift_reference(config, data, X, outputs, calibration)})
    model_set = ModelSet(data.symbol, manifest, preprocessor, models)
    return FitResult(model_set, seconds, checked)


def train_symbol(
    config: Config,
    symbol: str,
    *,
    model: ModelChoice = "all",
    models_dir: str | Path | None = None,
    progress: bool = True,
    pool: Pool | None = None,
) -> TrainReport:
    """Train and save one symbol's model set as a new version.

    With ``model="all"`` the preprocessor is fit on the training split and the models
    of ``models.enabled`` are trained. With a single model, only that one is trained;
    the preprocessor and the other models are taken from the latest version (whose
    feature contract must match the running engine) and saved with it as a new
    version. With ``training.pool: universe`` the regressors that pool are ``pool``'s
    (fit here when None: :func:`~kilo.training.pool.fit_pool`), stored in the set.

    Raises
    ------
    DataError
        If the candles are missing, malformed or too short.
    ConfigError
        If a single model is asked for with ``training.pool: universe``.
    ModelSetError, FeatureContractError
        With a single model: if the latest version is missing, damaged or was built
        with different features.
    """
    pooled = config.training.pool == "universe"
    if pooled and model != "all":
        raise ConfigError(f"--model {model}: a pooled set (training.pool) is trained whole")
    seed_everything(config.seed)
    models_dir = Path(models_dir or config.models.dir)
    engine = FeatureEngine.from_config(config, symbol)
    started = time.perf_counter()
    tracker = Tracker(config.tracking)
    with tracker.run(
        f"train {symbol}", config_params(config), tags={"kilo.kind": "train", "kilo.symbol": symbol}
    ) as run:
        pool_seconds = {}
        if not pooled:
            pool = None
        elif pool is None:
            pool = fit_pool(config, progress)
            pool_seconds["pool"] = time.perf_counter() - started
        data = pool.dataset(symbol) if pool else build_dataset(config, symbol, engine)
        previous = (
            None if model == "all" else ModelSet.load(symbol, "latest", models_dir, engine=engine)
        )
        data_seconds = time.perf_counter() - started
        result = fit_model_set(
            config,
            data,
            engine,
            model=model,
            previous=previous,
            pool=pool,
            progress=progress,
        )
        model_set = result.model_set
        folder = model_set.save(models_dir)
        logger.info("%s: saved %s", symbol, folder)
        seconds = {
            "data": data_seconds,
            **pool_seconds,
            **result.seconds,
            "total": time.perf_counter() - started,
        }
        run.log_metrics({"metrics": model_set.manifest.metrics.model_dump(), "seconds": seconds})
        run.log_artifact(folder / MANIFEST_FILE)
    return TrainReport(
        symbol,
        model_set.version,
        folder,
        model_set.manifest.metrics,
        seconds,
        pooled=tuple(pool.models) if pool else (),
    )


def _reused_validation(config: Config, data: Dataset, X: np.ndarray, name: str, model: Any) -> Any:
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


def _manifest(
    config: Config,
    engine: FeatureEngine,
    data: Dataset,
    metrics: ModelMetrics,
    calibration: Calibration,
    trained: list[str],
    previous: ModelSet | None,
    held: list[str],
    pool: Pool | None,
) -> Manifest:
    rows = refit_rows(data)
    return Manifest(
        symbol=data.symbol,
        exchange=config.data.exchange,
        timeframe=config.data.timeframe,
        feature_names=engine.feature_names,
        spec_hash=engine.spec_hash,
        max_lookback=engine.max_lookback,
        split=data.split.describe(data.index),
        refit_rows=SplitRange(
            start=data.index[rows.start], end=data.index[rows.stop - 1], rows=rows.stop - rows.start
        )
        if config.training.refit
        else None,
        metrics=metrics,
        calibration=calibration,
        models=held,
        trained_models=trained,
        reused_from=previous.version if previous else None,
        outages=data.outages,
        pool=pool.info() if pool else None,
        config=config,
        packages=package_versions(),
    )

"""Train one symbol's model set: preprocessor, GRU, LightGBM and PPO."""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np

from kilo.blend import Calibration, calibrate
from kilo.config import Config
from kilo.features import FeatureEngine, Preprocessor
from kilo.inference import FittedModels, Predictors, context_rows, predict_rows
from kilo.metrics import regression_metrics
from kilo.models.gru import GRURegressor, resolve_device
from kilo.models.lightgbm import LightGBMRegressor
from kilo.registry import Manifest, ModelMetrics, ModelSet, package_versions
from kilo.registry.manifest import GRUReport, LightGBMReport, PPOReport, TargetInfo
from kilo.rl import PPOAgent
from kilo.training.dataset import Dataset, build_dataset
from kilo.utils import seed_everything

logger = logging.getLogger(__name__)

MODELS = ("gru", "lightgbm", "ppo")
ModelChoice = Literal["all", "gru", "lightgbm", "ppo"]


@dataclass
class TrainReport:
    """Outcome for one symbol: the saved version and per-model metrics and seconds."""

    symbol: str
    version: str | None = None
    folder: Path | None = None
    metrics: ModelMetrics | None = None
    seconds: dict[str, float] = field(default_factory=dict)
    error: str | None = None


def with_context(X: np.ndarray, y: np.ndarray, part: slice, context: int) -> tuple[np.ndarray, np.ndarray]:
    """Rows of ``part`` preceded by ``context`` rows whose targets are masked with NaN.

    Returns ``(X_part, y_part)`` of ``context + len(part)`` rows, so that a model
    with a look-back window predicts every row of ``part``.
    """
    start = part.start - context
    if start < 0:
        raise ValueError(f"split starts at row {part.start}, before {context} rows of context")
    y_part = y[start : part.stop].astype(np.float32, copy=True)
    y_part[:context] = np.nan
    return X[start : part.stop], y_part


def fit_gru(config: Config, data: Dataset, X: np.ndarray, y: np.ndarray,
            progress: bool) -> tuple[GRURegressor, GRUReport]:
    """Fit the GRU on the training rows, early-stopped on validation; score both splits."""
    p = config.models.gru
    ctx = p.sequence_length - 1
    X_val, y_val = with_context(X, y, data.split.val, ctx)
    logger.info("%s: GRU on %s", data.symbol, resolve_device(p.device))
    model = GRURegressor(p, seed=config.seed).fit(
        X[data.split.train], y[data.split.train], X_val=X_val, y_val=y_val, progress=progress
    )
    scores = {}
    for name, part in (("validation", data.split.val), ("test", data.split.test)):
        X_part, _ = with_context(X, y, part, ctx)
        scores[name] = regression_metrics(y[part], model.predict(X_part)[ctx:])
    return model, GRUReport(**scores, epochs=len(model.history_))


def fit_lightgbm(config: Config, data: Dataset, X: np.ndarray,
                 y: np.ndarray) -> tuple[LightGBMRegressor, LightGBMReport]:
    """Fit LightGBM on the training rows, early-stopped on validation; score both splits."""
    s = data.split
    model = LightGBMRegressor(config.models.lightgbm, seed=config.seed).fit(
        X[s.train], y[s.train], X_val=X[s.val], y_val=y[s.val],
        feature_names=list(data.features.columns),
    )
    scores = {name: regression_metrics(y[part], model.predict(X[part]))
              for name, part in (("validation", s.val), ("test", s.test))}
    return model, LightGBMReport(**scores, best_iteration=model.best_iteration_)


def fit_ppo(config: Config, data: Dataset, X: np.ndarray,
            progress: bool) -> tuple[PPOAgent, PPOReport]:
    """Train PPO on the training rows; run its policy over validation and test."""
    p, s = config.models.ppo, data.split
    agent = PPOAgent(p, seed=config.seed, fee=config.trading.fee, slippage=config.trading.slippage)
    agent.fit(X[s.train], data.bar_returns[s.train], progress=progress)
    runs = {name: agent.evaluate(*ppo_segment(agent, data, X, part))
            for name, part in (("validation", s.val), ("test", s.test))}
    return agent, PPOReport(**runs)


def ppo_segment(agent: PPOAgent, data: Dataset, X: np.ndarray,
                part: slice) -> tuple[np.ndarray, np.ndarray]:
    """Feature rows and bar returns of ``part`` with the policy's window of context before."""
    rows = slice(part.start - agent.params.window + 1, part.stop)
    return X[rows], data.bar_returns[rows]


def fit_model_set(
    config: Config,
    data: Dataset,
    engine: FeatureEngine,
    *,
    model: ModelChoice = "all",
    previous: ModelSet | None = None,
    progress: bool = True,
) -> tuple[ModelSet, dict[str, float]]:
    """Fit a model set on ``data.split`` in memory; the trainer's and walk-forward's core.

    With ``model="all"`` the preprocessor is fit on the training split and the three
    models are trained; otherwise only ``model`` is, and everything else comes from
    ``previous``. Metrics on validation and test and the blend calibration go into the
    manifest.

    Returns
    -------
    (model_set, seconds)
        The unsaved model set and the seconds each trained model took.
    """
    if model != "all" and previous is None:
        raise ValueError(f"training only {model!r} needs the previous model set")
    preprocessor = (previous.preprocessor if previous
                    else Preprocessor().fit(data.features.iloc[data.split.train]))
    X = preprocessor.transform(data.features)
    y = data.target.astype(np.float32)
    trained: dict[str, Any] = {}
    seconds: dict[str, float] = {}
    reports: dict[str, Any] = previous.manifest.metrics.model_dump() if previous else {}
    for name in MODELS if model == "all" else (model,):
        tick = time.perf_counter()
        if name == "gru":
            trained[name], reports[name] = fit_gru(config, data, X, y, progress)
        elif name == "lightgbm":
            trained[name], reports[name] = fit_lightgbm(config, data, X, y)
        else:
            trained[name], reports[name] = fit_ppo(config, data, X, progress)
        seconds[name] = time.perf_counter() - tick
    models = FittedModels(gru=trained.get("gru") or previous.gru,
                          lightgbm=trained.get("lightgbm") or previous.lightgbm,
                          ppo=trained.get("ppo") or previous.ppo)
    manifest = _manifest(config, engine, data, ModelMetrics(**reports),
                         calibrate_on_validation(config, models, data, X), list(trained),
                         previous)
    return ModelSet(data.symbol, manifest, preprocessor, models.gru, models.lightgbm,
                    models.ppo), seconds


def train_symbol(
    config: Config,
    symbol: str,
    *,
    model: ModelChoice = "all",
    models_dir: str | Path | None = None,
    progress: bool = True,
) -> TrainReport:
    """Train and save one symbol's model set as a new version.

    With ``model="all"`` the preprocessor is fit on the training split and all three
    models are trained. With a single model, only that one is trained; the
    preprocessor and the other models are taken from the latest version (whose
    feature contract must match the running engine) and saved with it as a new
    version.

    Raises
    ------
    DataError
        If the candles are missing, malformed or too short.
    ModelSetError, FeatureContractError
        With a single model: if the latest version is missing, damaged or was built
        with different features.
    """
    seed_everything(config.seed)
    models_dir = Path(models_dir or config.models.dir)
    engine = FeatureEngine.from_config(config)
    started = time.perf_counter()
    data = build_dataset(config, symbol, engine)
    previous = None if model == "all" else ModelSet.load(symbol, "latest", models_dir, engine=engine)
    data_seconds = time.perf_counter() - started
    model_set, seconds = fit_model_set(config, data, engine, model=model, previous=previous,
                                       progress=progress)
    folder = model_set.save(models_dir)
    logger.info("%s: saved %s", symbol, folder)
    return TrainReport(symbol, model_set.version, folder, model_set.manifest.metrics,
                       {"data": data_seconds, **seconds, "total": time.perf_counter() - started})


def calibrate_on_validation(config: Config, models: Predictors, data: Dataset,
                            X: np.ndarray) -> Calibration:
    """Blend calibration from the validation split.

    The regressors predict every validation bar; PPO is queried along its own
    deterministic path over the split (its positions, not a flat portfolio), which
    covers all bars but the last.
    """
    val = data.split.val
    out = predict_rows(models, X[val.start - context_rows(models) : val.stop], len(X[val]))
    path = models.ppo.run(*ppo_segment(models.ppo, data, X, val))
    n = len(path.actions)
    return calibrate(out.gru[:n], out.lightgbm[:n], path.proba, path.long, config.blend)


def _manifest(config: Config, engine: FeatureEngine, data: Dataset, metrics: ModelMetrics,
              calibration: Calibration, trained: list[str], previous: ModelSet | None) -> Manifest:
    horizon = config.features.horizon
    return Manifest(
        symbol=data.symbol,
        exchange=config.data.exchange,
        timeframe=config.data.timeframe,
        feature_names=engine.feature_names,
        spec_hash=engine.spec_hash,
        max_lookback=engine.max_lookback,
        target=TargetInfo(name=f"target_log_ret_{horizon}", horizon=horizon,
                          definition="log(close[t + horizon] / close[t]), close of candle t",
                          unit="log return per horizon bars"),
        split=data.split.describe(data.index),
        metrics=metrics,
        calibration=calibration,
        trained_models=trained,
        reused_from=previous.version if previous else None,
        config=config,
        packages=package_versions(),
    )

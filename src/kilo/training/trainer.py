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
from kilo.evaluation.metrics import regression_metrics
from kilo.features import FeatureEngine, Preprocessor
from kilo.models.gru import GRURegressor, resolve_device
from kilo.models.lightgbm import LightGBMRegressor
from kilo.registry import ModelSet, package_versions
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
    metrics: dict[str, dict[str, Any]] = field(default_factory=dict)
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


def fit_gru(config: Config, data: Dataset, X: np.ndarray, y: np.ndarray, progress: bool):
    p = config.models.gru
    ctx = p.sequence_length - 1
    X_val, y_val = with_context(X, y, data.split.val, ctx)
    logger.info("%s: GRU on %s", data.symbol, resolve_device(p.device))
    model = GRURegressor(p, seed=config.seed).fit(
        X[data.split.train], y[data.split.train], X_val=X_val, y_val=y_val, progress=progress
    )
    metrics = {}
    for name, part in (("validation", data.split.val), ("test", data.split.test)):
        X_part, _ = with_context(X, y, part, ctx)
        metrics[name] = regression_metrics(y[part], model.predict(X_part)[ctx:])
    metrics["epochs"] = len(model.history_)
    return model, metrics


def fit_lightgbm(config: Config, data: Dataset, X: np.ndarray, y: np.ndarray):
    s = data.split
    model = LightGBMRegressor(config.models.lightgbm, seed=config.seed).fit(
        X[s.train], y[s.train], X_val=X[s.val], y_val=y[s.val],
        feature_names=list(data.features.columns),
    )
    metrics = {name: regression_metrics(y[part], model.predict(X[part]))
               for name, part in (("validation", s.val), ("test", s.test))}
    metrics["best_iteration"] = model.best_iteration_
    return model, metrics


def fit_ppo(config: Config, data: Dataset, X: np.ndarray, progress: bool):
    p, s, r = config.models.ppo, data.split, data.bar_returns
    agent = PPOAgent(p, seed=config.seed, fee=config.trading.fee, slippage=config.trading.slippage)
    agent.fit(X[s.train], r[s.train], progress=progress)
    ctx = p.window - 1
    metrics = {}
    for name, part in (("validation", s.val), ("test", s.test)):
        rows = slice(part.start - ctx, part.stop)
        metrics[name] = agent.evaluate(X[rows], r[rows])
    return agent, metrics


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
    metrics: dict[str, Any] = dict(previous.manifest["metrics"]) if previous else {}
    for name in MODELS if model == "all" else (model,):
        tick = time.perf_counter()
        if name == "gru":
            trained[name], metrics[name] = fit_gru(config, data, X, y, progress)
        elif name == "lightgbm":
            trained[name], metrics[name] = fit_lightgbm(config, data, X, y)
        else:
            trained[name], metrics[name] = fit_ppo(config, data, X, progress)
        seconds[name] = time.perf_counter() - tick
    model_set = ModelSet(
        symbol=data.symbol,
        manifest=_manifest(config, engine, data, metrics, list(trained), previous),
        preprocessor=preprocessor,
        gru=trained.get("gru") or previous.gru,
        lightgbm=trained.get("lightgbm") or previous.lightgbm,
        ppo=trained.get("ppo") or previous.ppo,
    )
    model_set.manifest["blend"] = _calibrate(config, model_set, data, X).as_dict()
    return model_set, seconds


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
    return TrainReport(symbol, model_set.version, folder, model_set.manifest["metrics"],
                       {"data": data_seconds, **seconds, "total": time.perf_counter() - started})


def _calibrate(config: Config, model_set: ModelSet, data: Dataset, X: np.ndarray) -> Calibration:
    """Blend calibration from the validation split, PPO seen from a flat portfolio."""
    val = data.split.val
    out = model_set.predict_rows(X[val.start - model_set.context_rows : val.stop], len(X[val]))
    return calibrate(out.gru, out.lightgbm, out.ppo, config.blend)


def _manifest(config: Config, engine: FeatureEngine, data: Dataset, metrics: dict[str, Any],
              trained: list[str], previous: ModelSet | None) -> dict[str, Any]:
    return {
        "manifest_format": 1,
        "symbol": data.symbol,
        "exchange": config.data.exchange,
        "timeframe": config.data.timeframe,
        "feature_names": engine.feature_names,
        "spec_hash": engine.spec_hash,
        "max_lookback": engine.max_lookback,
        "sequence_length": config.models.gru.sequence_length,
        "window": config.models.ppo.window,
        "horizon": config.features.horizon,
        "target": {
            "name": f"target_log_ret_{config.features.horizon}",
            "definition": "log(close[t + horizon] / close[t]), close of candle t",
            "unit": "log return per horizon bars",
        },
        "split": data.split.describe(data.index),
        "metrics": metrics,
        "trained_models": trained,
        "reused_from": previous.version if previous else None,
        "seed": config.seed,
        "config": config.model_dump(mode="json"),
        "packages": package_versions(),
    }

"""One walk-forward fold of one data set: fit the models, trade the strategies.

A :class:`FoldTask` is the unit of parallel work of the evaluation: the real candles
and every control are cut into the same folds, and each (data set, fold) pair is fitted
and traded on its own, in this process or a worker.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, replace
from typing import Literal

import numpy as np

from kilo.blend import Calibration, ThresholdRule, calibrate
from kilo.config import Config
from kilo.evaluation.simulate import CandleArrays, StrategyRun, evaluation_trading, simulate
from kilo.evaluation.strategies import (
    LONG_FLAT,
    FoldOutputs,
    momentum_scores,
    rule_predictor,
    spell_shuffled_paths,
)
from kilo.features import FeatureEngine, Preprocessor
from kilo.inference import FittedModels, Predictors, context_rows, predict_rows
from kilo.training.dataset import Dataset
from kilo.training.split import TimeSplit
from kilo.training.trainer import fit_gru, fit_lightgbm, fit_model_set
from kilo.utils import seed_everything

REGRESSORS = ("gru", "lightgbm")


@dataclass(frozen=True)
class FoldTask:
    """What to do with one fold of one data set.

    ``models``: ``all`` fits the whole model set as the trainer does; ``regressors``
    fits the preprocessor, GRU and LightGBM only (controls where PPO adds nothing).
    ``shuffle_labels`` permutes the training and validation labels first.
    ``random_draws`` matched random paths are traded after the blend.
    """

    dataset: str
    fold: int
    models: Literal["all", "regressors"]
    strategies: tuple[str, ...] = ()
    random_draws: int = 0
    shuffle_labels: bool = False


@dataclass(frozen=True)
class FoldResult:
    """A task's outcome: strategy runs, random draws and test-row predictions.

    ``predictions`` maps each regressor to its predictions for the fold's test rows,
    shape (n_test,), in label units.
    """

    task: FoldTask
    runs: dict[str, StrategyRun]
    random_runs: list[StrategyRun]
    predictions: dict[str, np.ndarray]
    seconds: float


def shuffled_labels(target: np.ndarray, fold: TimeSplit, seed: int) -> np.ndarray:
    """Labels with the training and validation rows permuted; test rows untouched."""
    out = target.copy()
    rows = np.r_[fold.train.start : fold.train.stop, fold.val.start : fold.val.stop]
    out[rows] = np.random.default_rng(seed).permutation(out[rows])
    return out


def _fit(config: Config, engine: FeatureEngine, data: Dataset,
         task: FoldTask) -> tuple[Predictors, Preprocessor, Calibration | None]:
    """The fold's models, preprocessor and (with PPO) the trainer's blend calibration."""
    if task.models == "all":
        model_set, _ = fit_model_set(config, data, engine, progress=False)
        return model_set, model_set.preprocessor, model_set.manifest.calibration
    preprocessor = Preprocessor().fit(data.features.iloc[data.split.train])
    X = preprocessor.transform(data.features)
    y = data.target.astype(np.float32)
    gru, _ = fit_gru(config, data, X, y, progress=False)
    lightgbm, _ = fit_lightgbm(config, data, X, y)
    return FittedModels(gru, lightgbm, None), preprocessor, None


def run_fold(config: Config, engine: FeatureEngine, data: Dataset, fold: TimeSplit,
             task: FoldTask, threads: int = 1) -> FoldResult:
    """Fit ``task``'s models on the fold's training rows and trade its strategies on the
    fold's test rows (see :mod:`kilo.evaluation.walkforward` for the strategies).

    Calibrations come from the validation rows: the blend's is the trainer's (PPO
    queried along its own path); each single regressor gets its own thresholds.
    """
    import torch

    torch.set_num_threads(threads)
    started = time.perf_counter()
    seed_everything(config.seed)
    if task.shuffle_labels:
        data = replace(data, target=shuffled_labels(data.target, fold, config.seed + 1000 + task.fold))
    data = replace(data, split=fold)
    models, preprocessor, blend_cal = _fit(config, engine, data, task)
    X = preprocessor.transform(data.features)
    candles = CandleArrays.from_frame(data.candles)
    offset = int(candles.positions(data.index[:1])[0])
    outputs = FoldOutputs.predict(models, X, fold.test, offset)
    rows = range(fold.test.start + offset, fold.test.stop + offset)
    ev = config.evaluation
    with_stops = evaluation_trading(config.trading, ev.position_fraction)
    no_stops = evaluation_trading(config.trading, ev.position_fraction, stops=False)
    val = fold.val
    val_out = predict_rows(models, X[val.start - context_rows(models) : val.stop],
                           val.stop - val.start, with_ppo=False)

    def regressor_calibration(weights: dict[str, float]) -> Calibration:
        blend = config.with_overrides({"blend.weights": weights}).blend
        return calibrate(val_out.gru, val_out.lightgbm, None, None, blend)

    runs: dict[str, StrategyRun] = {}
    n_candles = len(candles.index)
    for name in task.strategies:
        trading = with_stops
        if name == "blend":
            weights = dict(config.blend.weights)
            if blend_cal is None:
                weights = {m: w for m, w in weights.items() if m in REGRESSORS}
                blend_cal = regressor_calibration(weights)
            predictor, rule = outputs.blend(blend_cal, weights), ThresholdRule(
                *blend_cal.thresholds(config.blend))
        elif name in REGRESSORS:
            cal = regressor_calibration({name: 1.0})
            predictor, rule = outputs.blend(cal, {name: 1.0}), ThresholdRule(
                *cal.thresholds(config.blend))
        elif name == "ppo":
            predictor, rule = outputs.policy(), LONG_FLAT
        elif name in ("buy_and_hold", "flat"):
            sign = 1.0 if name == "buy_and_hold" else -1.0
            predictor, rule, trading = rule_predictor(np.full(n_candles, sign)), LONG_FLAT, no_stops
        elif name == "momentum":
            predictor = rule_predictor(momentum_scores(candles.close, ev.momentum_lookback))
            rule = LONG_FLAT
        else:
            raise ValueError(f"unknown strategy {name!r}")
        runs[name] = simulate(trading, data.symbol, candles, rows, predictor, rule)
    random_runs = []
    if task.random_draws:
        paths = spell_shuffled_paths(runs["blend"].exposure.to_numpy(), task.random_draws,
                                     seed=config.seed * 7919 + task.fold)
        random_runs = [simulate(no_stops, data.symbol, candles, rows,
                                rule_predictor(np.where(p, 1.0, -1.0), offset=rows.start), LONG_FLAT)
                       for p in paths]
    predictions = {name: getattr(outputs, name)[fold.test].astype(np.float64) for name in REGRESSORS}
    return FoldResult(task, runs, random_runs, predictions, time.perf_counter() - started)

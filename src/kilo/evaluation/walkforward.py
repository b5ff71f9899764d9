"""Walk-forward evaluation of one symbol: models, blend and baselines on the same bars."""

from __future__ import annotations

import time
from collections import defaultdict
from dataclasses import dataclass, field, replace

import numpy as np
import pandas as pd
from tqdm.auto import tqdm

from kilo.blend import calibrate
from kilo.config import Config
from kilo.data import timeframe_seconds
from kilo.evaluation.folds import walk_forward_folds
from kilo.metrics import bars_per_year, regression_metrics
from kilo.evaluation.strategies import (
    ModelScorer,
    RuleScorer,
    StrategyRun,
    chain,
    momentum_scores,
    random_scores,
    run_metrics,
    switch_probability,
    trade,
)
from kilo.features import FeatureEngine
from kilo.inference import context_rows, predict_rows
from kilo.training.dataset import Dataset, build_dataset
from kilo.training.split import TimeSplit, required_embargo
from kilo.training.trainer import fit_gru, fit_lightgbm, fit_model_set
from kilo.utils import seed_everything

MODEL_STRATEGIES = ("gru", "lightgbm", "ppo", "blend")
REGRESSORS = ("gru", "lightgbm")


@dataclass
class SymbolEvaluation:
    """The walk-forward result of one symbol (one seed).

    Attributes
    ----------
    strategies : name -> metric -> value (see :func:`trading_metrics`; regressors add IC)
    curves : name -> equity Series over the test bars, chained across folds
    blend_fills : the blend's fills (time, side, price, ...)
    close : Series of the test bars' closes
    controls : shuffled-target ICs and the causality check
    """

    symbol: str
    strategies: dict[str, dict[str, float]]
    curves: dict[str, pd.Series]
    blend_fills: pd.DataFrame
    close: pd.Series
    folds: list[dict[str, str]]
    controls: dict[str, object]
    bars: int
    seconds: float = field(default=0.0)


def causality_check(engine: FeatureEngine, data: Dataset, folds: list[TimeSplit]) -> dict:
    """Features from candles cut at each fold's start equal the evaluation's rows up to it.

    The evaluation computes features once on the whole history; this verifies, on its
    own feature frame, that no row up to a fold start used a later candle.
    """
    full = engine.transform(data.candles)
    identical = []
    for fold in folds:
        cut = data.index[fold.test.start]
        truncated = engine.transform(data.candles.loc[:cut])
        identical.append(np.array_equal(truncated.to_numpy(), full.loc[:cut].to_numpy(),
                                        equal_nan=True))
    return {"cuts": len(folds), "identical": bool(all(identical))}


def _permuted(target: np.ndarray, fold: TimeSplit, seed: int) -> np.ndarray:
    """Targets with the training and validation rows shuffled; test rows untouched."""
    out = target.copy()
    rows = np.r_[fold.train.start : fold.train.stop, fold.val.start : fold.val.stop]
    out[rows] = np.random.default_rng(seed).permutation(out[rows])
    return out


def evaluate_symbol(config: Config, symbol: str, progress: bool = True) -> SymbolEvaluation:
    """Walk-forward evaluation of one symbol with ``config.evaluation``'s settings.

    Each fold trains a model set with the trainer's :func:`fit_model_set` on the rows
    before it (embargo included), then every strategy trades the fold's bars through
    the paper trader. A second fit of the regressors on shuffled training targets
    gives the shuffled-target control.

    Raises
    ------
    DataError
        If the candles are missing or too short for the folds.
    """
    started = time.perf_counter()
    ev = config.evaluation
    engine = FeatureEngine.from_config(config)
    data = build_dataset(config, symbol, engine)
    folds = walk_forward_folds(len(data.features), ev, required_embargo(config, engine))
    fold_config = config.with_overrides({"models.ppo.total_timesteps": ev.ppo_timesteps})
    runs: dict[str, list[StrategyRun]] = defaultdict(list)
    random_runs: dict[int, list[StrategyRun]] = defaultdict(list)
    predictions: dict[str, list[np.ndarray]] = defaultdict(list)
    targets: list[np.ndarray] = []
    close = data.candles["close"]
    momentum = momentum_scores(close, ev.momentum_lookback)
    for k, fold in enumerate(tqdm(folds, desc=f"{symbol} folds", unit="fold", disable=not progress)):
        seed_everything(config.seed)
        fold_data = replace(data, split=fold)
        model_set, _ = fit_model_set(fold_config, fold_data, engine, progress=False)
        X = model_set.preprocessor.transform(data.features)
        ctx, test, val = context_rows(model_set), fold.test, fold.val
        val_out = predict_rows(model_set, X[val.start - ctx : val.stop], val.stop - val.start)
        start, n_bars = data.index[test.start], test.stop - test.start
        weights = {name: config.blend.weights if name == "blend" else {name: 1.0}
                   for name in MODEL_STRATEGIES}
        cals = {name: calibrate(val_out.gru, val_out.lightgbm, val_out.ppo,
                                config.with_overrides({"blend.weights": w}).blend)
                for name, w in weights.items()}
        blend_scorer = ModelScorer.build("blend", model_set, data.index, X, test, cals["blend"],
                                         weights["blend"], cals["blend"].thresholds(config.blend))
        for name in MODEL_STRATEGIES:
            enter, exit_ = cals[name].thresholds(config.blend)
            scorer = replace(blend_scorer, name=name, calibration=cals[name],
                             weights=weights[name], enter_threshold=enter, exit_threshold=exit_)
            runs[name].append(trade(config, symbol, data.candles, scorer, start, n_bars))
        for name in REGRESSORS:
            predictions[name].append(getattr(blend_scorer, name)[test])
        targets.append(data.target[test])
        index = data.index[test]
        always = pd.Series(1.0, index=index)
        runs["buy_and_hold"].append(trade(config, symbol, data.candles,
                                          RuleScorer("buy_and_hold", always), start, n_bars,
                                          stops=False))
        runs["flat"].append(trade(config, symbol, data.candles, RuleScorer("flat", -always),
                                  start, n_bars, stops=False))
        runs["momentum"].append(trade(config, symbol, data.candles,
                                      RuleScorer("momentum", momentum), start, n_bars))
        p = switch_probability(runs["blend"][-1])
        for s in range(ev.random_seeds):
            scores = random_scores(index, p, seed=config.seed * 7919 + k * 101 + s)
            random_runs[s].append(trade(config, symbol, data.candles,
                                        RuleScorer("random", scores), start, n_bars))
        _shuffled_control(fold_config, fold_data, X, fold, k, predictions)
    return _summarise(config, symbol, data, folds, runs, random_runs, predictions, targets,
                      causality_check(engine, data, folds), time.perf_counter() - started)


def _shuffled_control(config: Config, data: Dataset, X: np.ndarray, fold: TimeSplit, k: int,
                      predictions: dict[str, list[np.ndarray]]) -> None:
    """Refit the regressors on shuffled training targets and predict the test fold."""
    y = _permuted(data.target, fold, seed=config.seed + 1000 + k).astype(np.float32)
    gru, _ = fit_gru(config, data, X, y, progress=False)
    lgb, _ = fit_lightgbm(config, data, X, y)
    test, ctx = fold.test, config.models.gru.sequence_length - 1
    predictions["shuffled_gru"].append(gru.predict(X[test.start - ctx : test.stop])[ctx:])
    predictions["shuffled_lightgbm"].append(lgb.predict(X[test]))


def _summarise(config, symbol, data, folds, runs, random_runs, predictions, targets, causality,
               seconds) -> SymbolEvaluation:
    cash = config.trading.initial_cash
    per_year = bars_per_year(timeframe_seconds(config.data.timeframe))
    strategies = {name: run_metrics(r, cash, per_year) for name, r in runs.items()}
    per_seed = pd.DataFrame([run_metrics(r, cash, per_year) for r in random_runs.values()])
    strategies["random"] = per_seed.mean().to_dict()
    curves = {name: chain(r, cash)[1] for name, r in runs.items()}
    curves["random"] = pd.concat([chain(r, cash)[1] for r in random_runs.values()], axis=1).mean(axis=1)
    y = np.concatenate(targets)
    controls: dict[str, object] = {"shuffled_target": {}, "causality": causality}
    for name in REGRESSORS:
        real = regression_metrics(y, np.concatenate(predictions[name]))
        strategies[name].update({k: getattr(real, k) for k in ("ic_pearson", "ic_spearman",
                                                               "directional_accuracy")})
        shuffled = regression_metrics(y, np.concatenate(predictions[f"shuffled_{name}"]))
        controls["shuffled_target"][name] = {"ic_pearson": shuffled.ic_pearson,
                                             "ic_spearman": shuffled.ic_spearman,
                                             "real_ic_pearson": real.ic_pearson,
                                             "real_ic_spearman": real.ic_spearman}
    index = data.index
    fold_dates = [{"train_start": index[f.train.start].isoformat(),
                   "train_end": index[f.val.stop - 1].isoformat(),
                   "test_start": index[f.test.start].isoformat(),
                   "test_end": index[f.test.stop - 1].isoformat()} for f in folds]
    test_index = curves["blend"].index
    return SymbolEvaluation(symbol, strategies, curves, pd.concat([r.fills for r in runs["blend"]]),
                            data.candles["close"].reindex(test_index), fold_dates, controls,
                            len(test_index), seconds)

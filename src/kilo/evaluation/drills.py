"""Leak drills: plant known faults through the pipeline and report which instrument
caught each (``evaluate.py --drill``).

Each drill replaces one feature column with a leak and runs the evaluation's folds on
the real candles and the placebo (regressors and their blend; PPO reads the same
features and adds nothing to these instruments). The faults:

- ``own look-ahead IC x``: ``a * z(t+1) + N(0, 1)``, z the symbol's next 1-bar log
  return, ``a`` set so the raw Spearman IC of the column with the label is x;
- ``cross-asset look-ahead``: the first context symbol's next 1-bar log return;
- ``label leak``: the label's own forward log return over the horizon.

The instruments: the **causality** check (features recomputed from cut candles;
:func:`~kilo.evaluation.statistics.causality_check`), the **placebo** (a regressor's IC
above its 99 % null band on the joint placebo), and **lead/lag** (the prediction's IC
against the held return k bars later stands, somewhere in -horizon < k <= 0, above both
honest references of :func:`~kilo.evaluation.controls.lead_lag_bump` by more than
:data:`BUMP_STANDARD_ERRORS` of the IC's standard error).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict

from kilo.config import Config, timeframe_seconds
from kilo.data import load_config_candles
from kilo.errors import ConfigError, LookAheadError
from kilo.evaluation.controls import ahead_ic, lead_lag_bump, lead_lag_ic, placebo_candles
from kilo.evaluation.datasets import stats_block
from kilo.evaluation.fold_task import FoldTask
from kilo.evaluation.splits import evaluation_splits
from kilo.evaluation.statistics import (
    by_dataset,
    causality_check,
    ic_statistics,
    placebo_summary,
)
from kilo.evaluation.walkforward import fold_config, run_tasks
from kilo.features import FeatureEngine
from kilo.features.target import forward_log_return
from kilo.metrics import bars_per_year, spearman_ic
from kilo.training.dataset import Dataset, build_dataset, load_context
from kilo.training.kinds import enabled_regressors
from kilo.training.split import required_embargo
from kilo.utils import JsonFloat

#: The column every drill overwrites (a feature every engine has).
DRILL_COLUMN = "log_ret_1"
#: Own-candle look-ahead strengths (raw IC of the leaking column with the label).
OWN_LEAK_ICS = (0.02, 0.05)
#: A lead/lag bump counts when it stands this many IC standard errors above the rest.
BUMP_STANDARD_ERRORS = 3.0


@dataclass(frozen=True)
class Fault:
    """One planted fault: ``kind`` own, cross or label; ``scale`` the weight of the
    own next return in the own look-ahead (None otherwise)."""

    name: str
    kind: str
    scale: float | None = None

    def values(
        self,
        candles: pd.DataFrame,
        context: Mapping[str, pd.DataFrame],
        context_symbol: str,
        horizon: int,
        seed: int,
    ) -> pd.Series:
        """The leaking column over ``candles``' index (noise drawn per candle position,
        so a bar's value does not depend on later candles' presence)."""
        if self.kind == "label":
            return forward_log_return(candles, horizon)
        if self.kind == "cross":
            return forward_log_return(context[context_symbol].reindex(candles.index))
        z = forward_log_return(candles)
        z = z / z.std()
        noise = np.random.default_rng(seed).normal(size=len(candles))
        return float(self.scale or 0.0) * z + noise


class LeakyEngine(FeatureEngine):
    """The configured engine with ``fault`` in :data:`DRILL_COLUMN`."""

    def __init__(self, base: FeatureEngine, fault: Fault, horizon: int, seed: int) -> None:
        super().__init__(base.spec, base.symbol, base.timeframe)
        self.fault, self.horizon, self.seed = fault, horizon, seed

    def transform(
        self, candles: pd.DataFrame, context: Mapping[str, pd.DataFrame] | None = None
    ) -> pd.DataFrame:
        frame = super().transform(candles, context)
        leak = self.fault.values(
            candles, context or {}, self.context_symbols[0], self.horizon, self.seed
        )
        frame[DRILL_COLUMN] = leak.reindex(frame.index).to_numpy()
        return frame


def own_leak_scale(candles: pd.DataFrame, ic: float, horizon: int, seed: int) -> float:
    """The weight ``a`` of the own next return whose column reaches raw IC ``ic`` with
    the label on ``candles`` (bisection on [0, 100])."""
    label = forward_log_return(candles, horizon).to_numpy()

    def reached(a: float) -> float:
        values = Fault("probe", "own", a).values(candles, {}, "", horizon, seed)
        return spearman_ic(values.to_numpy(), label)

    low, high = 0.0, 100.0
    for _ in range(40):
        mid = (low + high) / 2
        low, high = (mid, high) if reached(mid) < ic else (low, mid)
    return (low + high) / 2


@dataclass(frozen=True)
class RealAndPlacebo:
    """The two data sets a drill's fold tasks read (no planted one: nothing reads it)."""

    real: Dataset
    placebo: Dataset

    def get(self, name: str) -> Dataset:
        return self.real if name == "real" else self.placebo


class DrillResult(BaseModel):
    """One fault's drill: the raw IC of the leaking column with the label, what each
    instrument saw, and the instruments that caught it."""

    model_config = ConfigDict(extra="forbid")

    fault: str
    raw_ic: JsonFloat
    causality: str
    placebo_ic: dict[str, JsonFloat]
    placebo_band99: dict[str, JsonFloat]
    lead_lag_bump: dict[str, JsonFloat]
    caught_by: list[str]


def faults(config: Config, candles: pd.DataFrame) -> list[Fault]:
    """The drill's faults, the own look-aheads scaled on ``candles``."""
    horizon, seed = config.target.horizon, config.seed
    own = [
        Fault(f"own look-ahead IC {ic:g}", "own", own_leak_scale(candles, ic, horizon, seed))
        for ic in OWN_LEAK_ICS
    ]
    return [*own, Fault("cross-asset look-ahead", "cross"), Fault("label leak", "label")]


def run_drill(
    config: Config, symbol: str, fault: Fault, *, jobs: int = 1, progress: bool = False
) -> DrillResult:
    """Plant ``fault`` in ``symbol``'s features and run every instrument on it.

    Raises
    ------
    ConfigError
        If no regressor is enabled (the instruments read regressor ICs).
    """
    if not enabled_regressors(config):
        raise ConfigError("the drills need a regressor in models.enabled")
    base = FeatureEngine.from_config(config, symbol)
    engine = LeakyEngine(base, fault, config.target.horizon, config.seed)
    candles = load_config_candles(config.data, symbol)
    context = load_context(config, engine.context_symbols)
    shuffled, shuffled_context = placebo_candles(
        candles, stats_block(config), seed=config.seed, context=context
    )
    datasets = RealAndPlacebo(
        build_dataset(config, symbol, engine, candles, context),
        build_dataset(config, symbol, engine, shuffled, shuffled_context),
    )
    real = datasets.real
    folds, _ = evaluation_splits(
        len(real.features), config.evaluation, required_embargo(config, engine)
    )
    try:
        causality_check(engine, real, folds)
        causality = "passed"
    except LookAheadError as exc:
        causality = str(exc)
    tasks = [
        (FoldTask(name, k, "regressors", ("blend",)),)
        for k in range(len(folds))
        for name in ("real", "placebo")
    ]
    results = by_dataset(
        run_tasks(fold_config(config), engine, datasets, folds, tasks, jobs, progress, fault.name)
    )
    block = stats_block(config)
    per_year = bars_per_year(timeframe_seconds(config.data.timeframe))
    stats = ic_statistics(config, real, folds, results["real"], block)
    placebo = placebo_summary(config, datasets.placebo, folds, results["placebo"], block, per_year)
    horizon = config.target.horizon
    bumps = {}
    for name, ic in stats.items():
        pred = np.full(len(real.target), np.nan)
        for r in results["real"]:
            pred[folds[r.task.fold].test] = r.predictions[name]
        profile = lead_lag_ic(pred, real.held_return, horizon)
        ahead = ahead_ic(pred, real.candles, real.index, horizon)
        bumps[name] = lead_lag_bump(profile, ahead, horizon) / ic.ic_se
    leak = engine.fault.values(
        real.candles, real.context, engine.context_symbols[0], config.target.horizon, config.seed
    )
    caught = ["causality"] if causality != "passed" else []
    if any(m.flagged for m in placebo.models.values()):
        caught.append("placebo")
    if any(b > BUMP_STANDARD_ERRORS for b in bumps.values()):
        caught.append("lead/lag")
    return DrillResult(
        fault=fault.name,
        raw_ic=spearman_ic(leak.reindex(real.index).to_numpy(), real.target),
        causality=causality,
        placebo_ic={n: m.ic_spearman for n, m in placebo.models.items()},
        placebo_band99={n: m.null_band99 for n, m in placebo.models.items()},
        lead_lag_bump=bumps,
        caught_by=caught,
    )


def run_drills(
    config: Config, symbol: str, *, jobs: int = 1, progress: bool = True
) -> list[DrillResult]:
    """Every fault of :func:`faults` drilled on ``symbol`` (:func:`run_drill`).

    Raises
    ------
    DataError
        If the symbol's candles are missing or too short for the folds.
    """
    candles = load_config_candles(config.data, symbol)
    return [
        run_drill(config, symbol, fault, jobs=jobs, progress=progress)
        for fault in faults(config, candles)
    ]


def drill_line(result: DrillResult) -> str:
    """One line: the fault, its raw IC, and who caught it (or that nothing did)."""
    caught = ", ".join(result.caught_by) or "NOTHING: a leak of this kind would pass"
    placebo = ", ".join(
        f"{n} {result.placebo_ic[n]:+.3f} (band {result.placebo_band99[n]:.3f})"
        for n in result.placebo_ic
    )
    bumps = ", ".join(f"{n} {b:+.1f} s.e." for n, b in result.lead_lag_bump.items())
    return (
        f"{result.fault:26s} raw IC {result.raw_ic:+.3f}: caught by {caught}; placebo IC "
        f"{placebo}; lead/lag bump {bumps}"
    )

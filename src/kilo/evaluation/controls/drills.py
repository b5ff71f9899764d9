"""Leak drills: plant known faults through the pipeline and report which instrument
caught each (``evaluate.py --drill``).

The faults (:mod:`kilo.evaluation.controls.faults`) live in a feature column (own and
cross-asset look-aheads, the label) or in the candle files (a context file shifted
early, the own close a bar ahead). Each drill plants one, then runs the instruments
the evaluation runs, in its order, on the real candles:

- **alignment**: :func:`~kilo.data.alignment.check_alignment` before anything (a
  DataError stops the evaluation, so a fault it catches goes no further);
- **causality**: features recomputed from cut candles
  (:func:`~kilo.evaluation.statistics.causality_check`);
- **placebo**: a regressor's IC above its 99 % null band on the joint placebo;
- **lead/lag**: the prediction's IC against the held return k bars later stands,
  somewhere in -horizon < k <= 0, above both honest references of
  :func:`~kilo.evaluation.controls.candles.lead_lag_bump` by more than
  :data:`BUMP_STANDARD_ERRORS` of the IC's standard error.

The placebo and lead/lag train the regressors (their blend; PPO reads the same
features and adds nothing to these instruments); with both switched off a drill trains
nothing.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np
from pydantic import BaseModel, ConfigDict, Field

from kilo.config import Config
from kilo.data import load_config_candles
from kilo.data.alignment import check_alignment
from kilo.errors import ConfigError, DataError, LookAheadError
from kilo.evaluation.controls.candles import ahead_ic, lead_lag_bump, lead_lag_ic, placebo_candles
from kilo.evaluation.controls.faults import Fault, LeakyEngine, faults
from kilo.evaluation.datasets import stats_block
from kilo.evaluation.fold_task import FoldTask
from kilo.evaluation.splits import evaluation_splits
from kilo.evaluation.statistics import (
    by_dataset,
    causality_check,
    ic_statistics,
    placebo_summary,
)
from kilo.evaluation.strategy_set import BLEND
from kilo.evaluation.walkforward import fold_config, run_tasks
from kilo.features import FeatureEngine, held_log_return
from kilo.metrics import spearman_ic
from kilo.models.kinds import enabled_regressors
from kilo.runtime import SERIAL, RunOptions
from kilo.training.dataset import Dataset, build_dataset, load_context
from kilo.training.split import TimeSplit, required_embargo
from kilo.utils import JsonFloat

#: A lead/lag bump counts when it stands this many IC standard errors above the rest.
BUMP_STANDARD_ERRORS = 3.0
#: Every instrument, in the order the evaluation runs them.
INSTRUMENTS = ("alignment", "causality", "placebo", "lead/lag")


@dataclass(frozen=True)
class RealAndPlacebo:
    """The two data sets a drill's fold tasks read (no planted one: nothing reads it)."""

    real: Dataset
    placebo: Dataset

    def get(self, name: str) -> Dataset:
        return self.real if name == "real" else self.placebo


class DrillResult(BaseModel):
    """One fault's drill: the raw IC of the leak with the held return, what each
    instrument saw ("not run" where switched off or after the alignment stopped the
    evaluation; empty dicts likewise), and the instruments that caught it."""

    model_config = ConfigDict(extra="forbid")

    fault: str
    raw_ic: JsonFloat
    alignment: str = "not run"
    causality: str = "not run"
    placebo_ic: dict[str, JsonFloat] = Field(default_factory=dict)
    placebo_band99: dict[str, JsonFloat] = Field(default_factory=dict)
    lead_lag_bump: dict[str, JsonFloat] = Field(default_factory=dict)
    caught_by: list[str] = Field(default_factory=list)


def run_drill(
    config: Config,
    symbol: str,
    fault: Fault,
    *,
    instruments: Iterable[str] = INSTRUMENTS,
    options: RunOptions = SERIAL,
) -> DrillResult:
    """Plant ``fault`` in ``symbol``'s features or files and run ``instruments`` on it;
    the placebo's and lead/lag's fold tasks run as ``options`` say.

    Raises
    ------
    ConfigError
        If an instrument is unknown, or the placebo or lead/lag is asked for without an
        enabled regressor (they read regressor ICs).
    DataError
        If the candles are missing or too short for the folds.
    """
    chosen = set(instruments)
    if chosen - set(INSTRUMENTS):
        raise ConfigError(f"unknown drill instrument(s) {sorted(chosen - set(INSTRUMENTS))}")
    trained = chosen & {"placebo", "lead/lag"}
    if trained and not enabled_regressors(config):
        raise ConfigError("the placebo and lead/lag drills need a regressor in models.enabled")
    horizon = config.target.horizon
    base = FeatureEngine.from_config(config, symbol)
    engine = base if fault.in_data else LeakyEngine(base, fault, horizon, config.seed)
    other = base.context_symbols[0]
    candles, context = fault.plant(
        load_config_candles(config.data, symbol),
        load_context(config, base.context_symbols),
        other,
    )
    leak = fault.values(candles, context, other, horizon, config.seed).to_numpy()
    result = DrillResult(
        fault=fault.name,
        raw_ic=spearman_ic(leak, held_log_return(candles, horizon).to_numpy()),
    )
    if "alignment" in chosen:
        try:
            check_alignment(symbol, candles, context, config.data)
        except DataError as exc:  # the evaluation stops here
            return result.model_copy(update={"alignment": str(exc), "caught_by": ["alignment"]})
        result = result.model_copy(update={"alignment": "passed"})
    if not chosen - {"alignment"}:
        return result
    real = build_dataset(config, symbol, engine, candles, context)
    folds, _ = evaluation_splits(
        len(real.features), config.evaluation, required_embargo(config, engine)
    )
    caught = []
    if "causality" in chosen:
        try:
            causality_check(engine, real, folds)
            result = result.model_copy(update={"causality": "passed"})
        except LookAheadError as exc:
            result = result.model_copy(update={"causality": str(exc)})
            caught.append("causality")
    if trained:
        seen = _trained_instruments(config, engine, real, folds, chosen, fault.name, options)
        caught += [i for i in ("placebo", "lead/lag") if seen.pop(i)]
        result = result.model_copy(update=seen)
    return result.model_copy(update={"caught_by": caught})


def _trained_instruments(
    config: Config,
    engine: FeatureEngine,
    real: Dataset,
    folds: list[TimeSplit],
    chosen: set[str],
    name: str,
    options: RunOptions,
) -> dict:
    """Train the regressors on the real data set's folds (and the placebo's where
    chosen) and read the placebo and lead/lag: a dict of :class:`DrillResult` fields,
    plus ``"placebo"`` and ``"lead/lag"``: whether each caught the fault (bool)."""
    block = stats_block(config)
    shuffled, shuffled_context = placebo_candles(
        real.candles, block, seed=config.seed, context=real.context
    )
    datasets = RealAndPlacebo(
        real, build_dataset(config, real.symbol, engine, shuffled, shuffled_context)
    )
    names = ("real", "placebo") if "placebo" in chosen else ("real",)
    tasks = [
        (FoldTask(dataset, k, "regressors", (BLEND,)),)
        for k in range(len(folds))
        for dataset in names
    ]
    results = by_dataset(
        run_tasks(fold_config(config), engine, datasets, folds, tasks, options, name)
    )
    out: dict = {"placebo": False, "lead/lag": False}
    if "placebo" in chosen:
        per_year = config.data.bars_per_year
        placebo = placebo_summary(
            config, datasets.placebo, folds, results["placebo"], block, per_year
        )
        out["placebo_ic"] = {n: m.ic_spearman for n, m in placebo.models.items()}
        out["placebo_band99"] = {n: m.null_band99 for n, m in placebo.models.items()}
        out["placebo"] = any(m.flagged for m in placebo.models.values())
    if "lead/lag" in chosen:
        h = config.target.horizon
        stats = ic_statistics(config, real, folds, results["real"], block)
        bumps = {}
        for model, ic in stats.items():
            pred = np.full(len(real.target), np.nan)
            for r in results["real"]:
                pred[folds[r.task.fold].test] = r.predictions[model]
            profile = lead_lag_ic(pred, real.held_return, h)
            ahead = ahead_ic(pred, real.candles, real.index, h)
            bumps[model] = lead_lag_bump(profile, ahead, h) / ic.ic_se
        out["lead_lag_bump"] = bumps
        out["lead/lag"] = any(b > BUMP_STANDARD_ERRORS for b in bumps.values())
    return out


def run_drills(
    config: Config,
    symbol: str,
    *,
    instruments: Iterable[str] = INSTRUMENTS,
    options: RunOptions = SERIAL,
) -> list[DrillResult]:
    """Every fault of :func:`~kilo.evaluation.controls.faults.faults` drilled on ``symbol``
    (:func:`run_drill`, with ``options``).

    Raises
    ------
    ConfigError
        As :func:`run_drill`.
    DataError
        If the symbol's candles are missing or too short for the folds.
    """
    engine = FeatureEngine.from_config(config, symbol)
    other = engine.context_symbols[0]
    candles = load_config_candles(config.data, symbol)
    context = load_context(config, [other])
    chosen = tuple(instruments)
    return [
        run_drill(config, symbol, fault, instruments=chosen, options=options)
        for fault in faults(config, candles, context, other)
    ]


def drill_line(result: DrillResult) -> str:
    """One line: the fault, its raw IC, and who caught it (or "not caught")."""
    caught = (
        f"caught by {', '.join(result.caught_by)}"
        if result.caught_by
        else "not caught: a fault of this kind would pass"
    )
    placebo = ", ".join(
        f"{n} {result.placebo_ic[n]:+.3f} (band {result.placebo_band99[n]:.3f})"
        for n in result.placebo_ic
    )
    bumps = ", ".join(f"{n} {b:+.1f} s.e." for n, b in result.lead_lag_bump.items())
    return (
        f"{result.fault:32s} raw IC {result.raw_ic:+.3f}: {caught}; placebo IC "
        f"{placebo}; lead/lag bump {bumps}"
    )

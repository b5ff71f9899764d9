"""Run a search end to end: trials, the best one on the outer folds, its deflated Sharpe.

Outputs under ``search.report_dir/<study>/``: ``best.yaml`` (a complete config for
``--config``), ``trials.csv`` and ``summary.json``, plus the outer evaluation's report
in ``outer/``. Everything is logged as one MLflow parent run with a nested run per trial.
"""

from __future__ import annotations

import json
import logging
import math
import threading
from dataclasses import replace
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import yaml
from pydantic import BaseModel, ConfigDict, Field
from tqdm.auto import tqdm

from kilo.config import Config
from kilo.evaluation.results import summarise
from kilo.evaluation.run import evaluate_symbols, strategy_metrics, tracked_run, write_report
from kilo.evaluation.strategy_set import BLEND, BUY_AND_HOLD
from kilo.evaluation.summary import EvaluationSummary, StrategyResult
from kilo.evaluation.trials import tracked_trials
from kilo.evaluation.walkforward import policy_timesteps
from kilo.metrics import deflated_sharpe_ratio, expected_max_sharpe, sharpe_ratio
from kilo.runtime import SERIAL, RunOptions, all_cores
from kilo.runtime.tracking import Run, Tracker
from kilo.search.study import load_study, per_bar, run_workers, suggest, trial_config
from kilo.utils import JsonFloat, atomic_path

logger = logging.getLogger(__name__)


def _watch(study: Any, start: int, total: int, stop: threading.Event, show: bool) -> None:
    """A progress bar over trials, read from the shared study every two seconds."""
    with tqdm(total=total, desc="trials", unit="trial", disable=not show) as bar:
        while not stop.wait(2.0):
            bar.update(max(0, len(study.get_trials(deepcopy=False)) - start - bar.n))
        bar.update(max(0, len(study.get_trials(deepcopy=False)) - start - bar.n))


def best_config(config: Config, study: Any) -> tuple[Config, dict[str, Any]] | None:
    """The best complete trial's config and its decoded parameters (None without one)."""
    import optuna

    complete = study.get_trials(states=(optuna.trial.TrialState.COMPLETE,))
    if not complete:
        return None
    best = max(complete, key=lambda t: t.value)
    params = suggest(optuna.trial.FixedTrial(best.params), config.search.space)
    return trial_config(config, params), params


class Deflation(BaseModel):
    """The best trial's outer-test Sharpe against the best of N lucky trials.

    Per-bar Sharpe ratios: ``outer_sharpe`` of the best trial's outer-test returns,
    ``expected_max_sharpe`` of N trials of zero skill with the trials' variance; ``dsr``
    the deflated Sharpe ratio (0 when undefined).
    """

    model_config = ConfigDict(extra="forbid")

    dsr: JsonFloat
    n_trials: int
    trial_sharpe_variance: JsonFloat
    expected_max_sharpe: JsonFloat
    outer_sharpe: JsonFloat
    surviving_share: JsonFloat
    sentence: str


class OuterResult(BaseModel):
    """The best configuration's blend and buy-and-hold on one symbol's outer folds."""

    model_config = ConfigDict(extra="forbid")

    blend: StrategyResult
    buy_and_hold: StrategyResult


class BarsRead(BaseModel):
    """Per symbol, the search's own record of where it read: the last feature row any
    trial's inner folds read, against the first outer test bar of the best
    configuration's evaluation. ``first_holdout_bar`` is None: that evaluation leaves
    the holdout unread (it lies after every outer test bar)."""

    model_config = ConfigDict(extra="forbid")

    last_bar_read: datetime
    first_outer_test_bar: datetime
    first_holdout_bar: datetime | None

    @property
    def clean(self) -> bool:
        """No bar the search read is an outer test or holdout bar."""
        return self.last_bar_read < self.first_outer_test_bar


class SearchSummary(BaseModel):
    """What ``summary.json`` of a search holds (written and read through this class)."""

    model_config = ConfigDict(extra="forbid")

    study: str
    symbols: list[str]
    n_trials: int
    objective: str
    best_value: JsonFloat = math.nan
    best_params: dict[str, Any] | None = None
    best_trial: int | None = None
    outer: dict[str, OuterResult] = Field(default_factory=dict)
    outer_failures: dict[str, str] = Field(default_factory=dict)
    deflation: Deflation | None = None
    bars_read: dict[str, BarsRead] = Field(default_factory=dict)


def deflation(config: Config, study: Any, returns: list[np.ndarray]) -> Deflation:
    """DSR of the best trial's outer returns, N = trials run, V = variance of the trials'
    inner Sharpe ratios (Bailey & López de Prado, 2014), with a sentence saying how much
    of its Sharpe survives."""
    import optuna

    states = (optuna.trial.TrialState.COMPLETE, optuna.trial.TrialState.PRUNED)
    n_trials = len(study.get_trials(states=states))
    sharpes = [
        per_bar(config, t.user_attrs["blend_sharpe"])
        for t in study.get_trials(states=(optuna.trial.TrialState.COMPLETE,))
        if math.isfinite(t.user_attrs.get("blend_sharpe", math.nan))
    ]
    variance = float(np.var(sharpes, ddof=1)) if len(sharpes) > 1 else 0.0
    r = np.concatenate(returns)
    sr = float(np.nan_to_num(sharpe_ratio(r)))
    hurdle = expected_max_sharpe(n_trials, variance)
    dsr = deflated_sharpe_ratio(r, n_trials, variance)
    survives = (sr - hurdle) / sr if sr > 0 else 0.0
    per_year = math.sqrt(config.data.bars_per_year)
    sentence = (
        f"Of the best trial's outer-test Sharpe ({sr * per_year:.2f} "
        f"annualised), {max(survives, 0.0):.0%} survives deflation: the best of "
        f"{n_trials} trials would reach {hurdle * per_year:.2f} by luck "
        f"alone (DSR {dsr:.2f})."
    )
    return Deflation(
        dsr=dsr if math.isfinite(dsr) else 0.0,
        n_trials=n_trials,
        trial_sharpe_variance=variance,
        expected_max_sharpe=hurdle,
        outer_sharpe=sr,
        surviving_share=max(survives, 0.0),
        sentence=sentence,
    )


def run_search(
    config: Config,
    symbols: list[str],
    *,
    trials: int,
    study_name: str,
    options: RunOptions = SERIAL,
    timeout: float | None = None,
    grid_search: bool = False,
    evaluate_outer: bool = True,
) -> tuple[SearchSummary, Path]:
    """Add ``trials`` trials to study ``study_name``, then report it.

    ``options`` say how many trial workers run at a time and where (``search.py``
    resolves them from ``--jobs``, default 1, and ``--backend``), and whether bars count
    the trials and the best trial's outer folds (:func:`report_study`).

    ``grid_search`` walks every combination of ``search.space``'s choices (all keys
    must be choices) instead of sampling with TPE. ``evaluate_outer=False`` skips the best
    trial's outer-fold evaluation (a grid that chooses a default reads inner folds only).

    Returns
    -------
    (summary, folder): what ``summary.json`` holds, and the output folder.

    Raises
    ------
    ConfigError
        If a key of ``search.space`` or a sampled value is invalid, or Ray is missing.
    KeyboardInterrupt
        After Ctrl-C, once the study is consistent (the running trial marked failed).
    """
    study = load_study(config, study_name, config.seed, grid_search)
    folder = Path(config.search.report_dir) / study_name
    tracker = Tracker(config.tracking)
    params = {
        "study": study_name,
        "symbols": ",".join(symbols),
        "trials": trials,
        "objective": config.search.objective,
        "space": json.dumps({k: v.model_dump() for k, v in config.search.space.items()}),
    }
    with tracker.run(f"search {study_name}", params, tags={"kilo.kind": "search"}) as parent:
        stop = threading.Event()
        watcher = threading.Thread(
            target=_watch,
            args=(study, len(study.trials), trials, stop, options.progress),
            daemon=True,
        )
        watcher.start()
        try:
            run_workers(
                config, symbols, study_name, trials, options, timeout, parent.id, grid_search
            )
        finally:
            stop.set()
            watcher.join()
        summary = report_study(
            config, study, symbols, folder, options, tracker, parent, evaluate_outer=evaluate_outer
        )
        parent.log_metrics({"best_value": summary.best_value, "n_trials": summary.n_trials})
        if summary.deflation is not None:
            parent.log_metrics(summary.deflation.model_dump(exclude={"sentence"}))
        for name in ("summary.json", "best.yaml", "trials.csv"):
            if (folder / name).is_file():
                parent.log_artifact(folder / name)
    return summary, folder


def bars_read(study: Any, outer: EvaluationSummary) -> dict[str, BarsRead]:
    """:class:`BarsRead` of each symbol of ``outer`` that a trial recorded."""
    out = {}
    for symbol, evaluated in outer.symbols.items():
        read = [
            t.user_attrs[f"last_bar_read {symbol}"]
            for t in study.trials
            if f"last_bar_read {symbol}" in t.user_attrs
        ]
        if read:
            out[symbol] = BarsRead(
                last_bar_read=max(pd.Timestamp(r) for r in read),
                first_outer_test_bar=evaluated.folds[0].test_start,
                first_holdout_bar=None,
            )
    return out


def report_study(
    config: Config,
    study: Any,
    symbols: list[str],
    folder: Path,
    options: RunOptions,
    tracker: Tracker,
    parent: Run,
    *,
    evaluate_outer: bool = True,
) -> SearchSummary:
    """Write ``trials.csv``, ``best.yaml`` and ``summary.json`` (with the best trial's
    outer-fold evaluation and deflated Sharpe ratio, unless ``evaluate_outer`` is False) for
    ``study``.

    The best configuration is evaluated on the outer folds only: the holdout's rows
    are cut off them but never read (invariant 11; the holdout is read by
    ``evaluate.py`` alone), in ``evaluation.jobs`` jobs (every core when unset) as
    ``evaluate.py`` would, whatever number of trial workers ``options`` held, on
    ``options``' backend. The evaluation is logged as an evaluation run nested under
    ``parent``, so its outer-fold Sharpe ratios are trials of every later deflated
    Sharpe ratio (:mod:`kilo.evaluation.trials`)."""
    folder.mkdir(parents=True, exist_ok=True)
    study.trials_dataframe().to_csv(folder / "trials.csv", index=False)
    summary = SearchSummary(
        study=study.study_name,
        symbols=symbols,
        n_trials=len(study.trials),
        objective=config.search.objective,
    )
    chosen = best_config(config, study)
    if chosen is not None:
        best, params = chosen
        (folder / "best.yaml").write_text(
            yaml.safe_dump(best.model_dump(mode="json"), sort_keys=False)
        )
        summary.best_value = study.best_value
        summary.best_params = params
        summary.best_trial = study.best_trial.number
    if chosen is not None and evaluate_outer:
        best = chosen[0]
        with tracked_run(tracker, best, f"search {study.study_name}: best, outer", parent) as run:
            outer_options = replace(options, jobs=best.evaluation.jobs or all_cores())
            results, failures = evaluate_symbols(
                best, symbols, options=outer_options, read_holdout=False
            )
            summary.outer_failures = failures
            outer = summarise(
                results,
                ppo_timesteps=policy_timesteps(best),
                failures=failures,
                tracked=tracked_trials(best, tracker, list(results), run.id),
            )
            run.log_metrics(strategy_metrics(outer))
        if results:
            write_report(outer, results, folder / "outer")
            summary.outer = {
                s: OuterResult(blend=e.strategies[BLEND], buy_and_hold=e.strategies[BUY_AND_HOLD])
                for s, e in outer.symbols.items()
            }
            summary.bars_read = bars_read(study, outer)
            summary.deflation = deflation(
                config, study, [evals[0].returns[BLEND].to_numpy() for evals in results.values()]
            )
            logger.info(summary.deflation.sentence)
    with atomic_path(folder / "summary.json") as tmp:
        tmp.write_text(summary.model_dump_json(indent=2))
    return summary

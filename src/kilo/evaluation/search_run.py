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
from pathlib import Path
from typing import Any

import numpy as np
import yaml
from tqdm.auto import tqdm

from kilo.config import Config
from kilo.evaluation.results import clean
from kilo.evaluation.run import evaluate_symbols, write_report
from kilo.evaluation.search import load_study, per_bar, run_workers, suggest, trial_config
from kilo.metrics import deflated_sharpe_ratio, expected_max_sharpe
from kilo.training.tracking import Tracker

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


def deflation(config: Config, study: Any, returns: list[np.ndarray]) -> dict[str, Any]:
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
    sr = float(r.mean() / r.std(ddof=1)) if r.std(ddof=1) > 0 else 0.0
    hurdle = expected_max_sharpe(n_trials, variance)
    dsr = deflated_sharpe_ratio(r, n_trials, variance)
    survives = (sr - hurdle) / sr if sr > 0 else 0.0
    sentence = (
        f"Of the best trial's outer-test Sharpe ({sr * math.sqrt(_bars(config)):.2f} "
        f"annualised), {max(survives, 0.0):.0%} survives deflation: the best of "
        f"{n_trials} trials would reach {hurdle * math.sqrt(_bars(config)):.2f} by luck "
        f"alone (DSR {dsr:.2f})."
    )
    return {
        "dsr": dsr if math.isfinite(dsr) else 0.0,
        "n_trials": n_trials,
        "trial_sharpe_variance": variance,
        "expected_max_sharpe": hurdle,
        "outer_sharpe": sr,
        "surviving_share": max(survives, 0.0),
        "sentence": sentence,
    }


def _bars(config: Config) -> float:
    from kilo.config import timeframe_seconds
    from kilo.metrics import bars_per_year

    return bars_per_year(timeframe_seconds(config.data.timeframe))


def run_search(
    config: Config,
    symbols: list[str],
    *,
    trials: int,
    study_name: str,
    jobs: int = 1,
    backend: str = "joblib",
    timeout: float | None = None,
    progress: bool = True,
    grid_search: bool = False,
) -> tuple[dict[str, Any], Path]:
    """Add ``trials`` trials to study ``study_name``, then report it.

    ``grid_search`` walks every combination of ``search.space``'s choices (all keys
    must be choices) instead of sampling with TPE.

    Returns
    -------
    (summary, folder): the ``summary.json`` content and the output folder.

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
            target=_watch, args=(study, len(study.trials), trials, stop, progress), daemon=True
        )
        watcher.start()
        try:
            run_workers(
                config, symbols, study_name, trials, jobs, backend, timeout, parent.id, grid_search
            )
        finally:
            stop.set()
            watcher.join()
        summary = report_study(config, study, symbols, folder, progress)
        parent.log_metrics({k: v for k, v in summary.items() if k in ("best_value", "n_trials")})
        parent.log_metrics(summary.get("deflation", {}))
        for name in ("summary.json", "best.yaml", "trials.csv"):
            if (folder / name).is_file():
                parent.log_artifact(folder / name)
    return summary, folder


def report_study(
    config: Config, study: Any, symbols: list[str], folder: Path, progress: bool
) -> dict[str, Any]:
    """Write ``trials.csv``, ``best.yaml`` and ``summary.json`` (with the best trial's
    outer-fold evaluation and deflated Sharpe ratio) for ``study``."""
    folder.mkdir(parents=True, exist_ok=True)
    study.trials_dataframe().to_csv(folder / "trials.csv", index=False)
    summary: dict[str, Any] = {
        "study": study.study_name,
        "symbols": symbols,
        "n_trials": len(study.trials),
        "objective": config.search.objective,
    }
    chosen = best_config(config, study)
    if chosen is not None:
        best, params = chosen
        (folder / "best.yaml").write_text(
            yaml.safe_dump(best.model_dump(mode="json"), sort_keys=False)
        )
        results, failures = evaluate_symbols(
            best.with_overrides({"tracking.enabled": False}), symbols, progress=progress
        )
        outer, _ = write_report(results, folder / "outer") if results else ({}, {})
        summary.update(
            best_value=study.best_value,
            best_params=params,
            best_trial=study.best_trial.number,
            outer={
                s: {
                    "blend": e["strategies"]["blend"],
                    "buy_and_hold": e["strategies"]["buy_and_hold"],
                }
                for s, e in outer.items()
            },
            outer_failures=failures,
        )
        if results:
            summary["deflation"] = deflation(
                config, study, [evals[0].returns["blend"].to_numpy() for evals in results.values()]
            )
            logger.info(summary["deflation"]["sentence"])
    (folder / "summary.json").write_text(json.dumps(clean(summary), indent=2, allow_nan=False))
    return clean(summary)

"""Run the walk-forward evaluation over symbols and seeds, report it, track it."""

from __future__ import annotations

import logging
from contextlib import AbstractContextManager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from kilo.config import Config
from kilo.errors import ConfigError, KiloError, LookAheadError
from kilo.evaluation.pooled_stats import evaluate_pool
from kilo.evaluation.portfolio import evaluate_portfolio
from kilo.evaluation.report.figures import write_equity_png
from kilo.evaluation.report.html import write_html
from kilo.evaluation.results import IC_FIELDS, summarise
from kilo.evaluation.summary import EvaluationSummary, Provenance
from kilo.evaluation.symbol import SymbolEvaluation
from kilo.evaluation.trials import EVALUATE, HOLDOUT_READ, tracked_trials
from kilo.evaluation.walkforward import evaluate_symbol, policy_timesteps
from kilo.runtime import SERIAL, RunOptions
from kilo.runtime.tracking import CONFIG_TAG, Run, Tracker, config_hash, config_params

logger = logging.getLogger(__name__)


def evaluate_symbols(
    config: Config,
    symbols: list[str],
    *,
    seeds: int = 1,
    options: RunOptions = SERIAL,
    read_holdout: bool = True,
) -> tuple[dict[str, list[SymbolEvaluation]], dict[str, str]]:
    """Evaluate each symbol with ``seeds`` seeds (``config.seed``, +1, ...), its fold
    tasks run as ``options`` say; without ``read_holdout`` on the outer folds only (see
    :func:`~kilo.evaluation.walkforward.evaluate_symbol`).

    A symbol that fails (missing or too short data) is logged and left out.

    Returns
    -------
    (results, failures): symbol -> one evaluation per seed; symbol -> error.
    """
    results: dict[str, list[SymbolEvaluation]] = {}
    failures: dict[str, str] = {}
    for symbol in symbols:
        try:
            results[symbol] = [
                evaluate_symbol(
                    config.with_overrides({"seed": config.seed + k}),
                    symbol,
                    options=options,
                    read_holdout=read_holdout,
                )
                for k in range(seeds)
            ]
        except LookAheadError:
            raise  # a broken feature is no symbol's failure: nothing else is to be trusted
        except KiloError as exc:
            logger.error("%s: %s", symbol, exc)
            failures[symbol] = str(exc)
    return results, failures


def tracked_run(
    tracker: Tracker, config: Config, name: str, parent: Run | None = None
) -> AbstractContextManager[Run]:
    """The MLflow run of one evaluation (nested under ``parent`` if given): the config's
    parameters, its hash as a tag; its outer-fold Sharpe ratios are trials of the
    deflated Sharpe ratio (:mod:`kilo.evaluation.trials`)."""
    return tracker.run(
        name,
        config_params(config),
        parent=parent,
        tags={"kilo.kind": EVALUATE, CONFIG_TAG: config_hash(config)},
    )


def log_holdout_reads(run: Run, results: dict[str, list[SymbolEvaluation]]) -> None:
    """Record on ``run`` that it read each evaluated symbol's holdout (metric
    ``{symbol}.holdout_read``, :data:`~kilo.evaluation.trials.HOLDOUT_READ`), at once:
    a read counts even if the report then fails."""
    run.log_metrics(
        {
            symbol: {HOLDOUT_READ: 1}
            for symbol, evals in results.items()
            if evals[0].summary.holdout is not None
        }
    )


def strategy_metrics(summary: EvaluationSummary) -> dict[str, dict[str, dict[str, Any]]]:
    """symbol -> strategy -> its metrics (IC statistics left out), as a run logs them."""
    return {
        symbol: {n: s.model_dump(exclude=IC_FIELDS) for n, s in entry.strategies.items()}
        for symbol, entry in summary.symbols.items()
    }


def write_report(
    summary: EvaluationSummary, results: dict[str, list[SymbolEvaluation]], folder: Path
) -> dict[str, Path]:
    """Write ``summary.json``, ``report.html`` (``plotly.min.js`` in ``folder``'s parent) and
    ``equity.png`` into ``folder``; returns the paths by kind."""
    folder.mkdir(parents=True, exist_ok=True)
    return {
        "summary": summary.write(folder),
        "html": write_html(results, summary, folder),
        "png": write_equity_png(results, folder),
    }


def run_evaluation(
    config: Config,
    symbols: list[str],
    *,
    seeds: int = 1,
    report_dir: Path | None = None,
    options: RunOptions = SERIAL,
    portfolio: bool = False,
    command: str | None = None,
) -> tuple[EvaluationSummary | None, dict[str, Path], dict[str, str]]:
    """Evaluate, report into a new timestamped folder, and log one MLflow run.

    Each symbol's folds and controls run as ``options`` say: ``options.jobs`` worker
    processes (backend joblib) or Ray tasks (backend ray); ``evaluate.py`` resolves them
    (default ``evaluation.jobs``, or every core). With
    ``portfolio`` the symbols that evaluated are also traded together
    (:mod:`kilo.evaluation.portfolio`). Deflated Sharpe ratios count, per symbol, the
    model strategies of this run and of every other configuration evaluated on its
    outer folds (:mod:`kilo.evaluation.trials`); each symbol's holdout read is logged
    on the run and the summary counts its reads. Each fold's policy budget
    (:func:`~kilo.evaluation.walkforward.policy_timesteps`) is logged and stored.
    The summary records the commit checked out when the run starts and ``command``,
    the command line that started it (:class:`~kilo.evaluation.summary.Provenance`).

    Returns
    -------
    (summary, paths, failures)
        The summary (None when no symbol could be evaluated), the written files
        (``summary``, ``html``, ``png``) in a new timestamped folder under
        ``report_dir`` (default ``evaluation.report_dir``), and symbol -> error.
        With ``training.pool: universe``, :func:`run_pooled_evaluation`'s.

    Raises
    ------
    ConfigError
        If a pooled config asks for several seeds or the portfolio.
    """
    provenance = Provenance.now(command)
    if config.training.pool != "none":
        if seeds > 1 or portfolio:
            raise ConfigError(
                "the pooled comparison (training.pool: universe) runs one seed and no "
                "portfolio; drop --seeds and --portfolio"
            )
        return run_pooled_evaluation(
            config,
            symbols,
            report_dir=report_dir,
            options=options,
            provenance=provenance,
        )
    budget = policy_timesteps(config)
    if budget:
        logger.info(
            "the policies train %d timesteps per fold (evaluation.max_ppo_timesteps %s)",
            budget,
            config.evaluation.max_ppo_timesteps,
        )
    tracker = Tracker(config.tracking)
    with tracked_run(tracker, config, f"evaluate {', '.join(symbols)}") as run:
        results, failures = evaluate_symbols(config, symbols, seeds=seeds, options=options)
        if not results:
            return None, {}, failures
        log_holdout_reads(run, results)
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
        together = evaluate_portfolio(config, list(results), options=options) if portfolio else None
        summary = summarise(
            results,
            ppo_timesteps=budget,
            portfolio=together,
            failures=failures,
            tracked=tracked_trials(config, tracker, list(results), run.id),
        )
        summary.provenance = provenance
        logger.info("deflated Sharpe ratios count up to %d trials", summary.dsr_trials)
        paths = write_report(
            summary, results, Path(report_dir or config.evaluation.report_dir) / stamp
        )
        run.log_metrics(
            {
                "ppo_timesteps_per_fold": budget,
                **strategy_metrics(summary),
            }
        )
        for path in (paths["summary"], paths["html"]):
            run.log_artifact(path)
    return summary, paths, failures


def run_pooled_evaluation(
    config: Config,
    symbols: list[str],
    *,
    report_dir: Path | None = None,
    options: RunOptions = SERIAL,
    provenance: Provenance | None = None,
) -> tuple[EvaluationSummary | None, dict[str, Path], dict[str, str]]:
    """The pooled comparison (:func:`~kilo.evaluation.pooled_stats.evaluate_pool`) of
    ``symbols``, its fits run as ``options`` say, written as ``summary.json``
    (``pooled``; no per-symbol trading) into a new timestamped folder and logged as one
    MLflow run; ``provenance`` (default: the commit checked out now, no command) goes
    into the summary.

    Returns
    -------
    (summary, {"summary": path}, failures): failures maps the symbols to the error
    when the comparison could not run (then the summary is None).

    Raises
    ------
    LookAheadError
        If a member's feature reads a later candle.
    """
    with tracked_run(
        Tracker(config.tracking), config, f"evaluate pool {', '.join(symbols)}"
    ) as run:
        try:
            comparison = evaluate_pool(config, symbols, options=options)
        except LookAheadError:
            raise  # a broken feature is no symbol's failure: nothing else is to be trusted
        except KiloError as exc:
            logger.error("pool: %s", exc)
            return None, {}, dict.fromkeys(symbols, str(exc))
        summary = EvaluationSummary(
            symbols={},
            ppo_timesteps=0,
            dsr_trials=0,
            pooled=comparison,
            provenance=provenance or Provenance.now(),
        )
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
        folder = Path(report_dir or config.evaluation.report_dir) / stamp
        folder.mkdir(parents=True, exist_ok=True)
        path = summary.write(folder)
        run.log_metrics(
            {
                fit: {
                    name: {"panel_ic": f.panel.ic_spearman, "floor": f.floor}
                    for name, f in by_model.items()
                }
                for fit, by_model in comparison.fits.items()
            }
        )
        run.log_artifact(path)
    return summary, {"summary": path}, {}

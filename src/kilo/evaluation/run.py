"""Run the walk-forward evaluation over symbols and seeds, report it, track it."""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from kilo.config import Config
from kilo.errors import KiloError
from kilo.evaluation.portfolio import evaluate_portfolio
from kilo.evaluation.report import write_equity_png, write_html
from kilo.evaluation.results import clean, deflate, summarise, write_summary
from kilo.evaluation.summary import SymbolEvaluation
from kilo.evaluation.walkforward import evaluate_symbol
from kilo.training.tracking import Tracker, config_params

logger = logging.getLogger(__name__)


def evaluate_symbols(
    config: Config,
    symbols: list[str],
    *,
    seeds: int = 1,
    jobs: int | None = None,
    progress: bool = True,
    backend: str | None = None,
) -> tuple[dict[str, list[SymbolEvaluation]], dict[str, str]]:
    """Evaluate each symbol with ``seeds`` seeds (``config.seed``, +1, ...).

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
                    jobs=jobs,
                    progress=progress,
                    backend=backend,
                )
                for k in range(seeds)
            ]
        except KiloError as exc:
            logger.error("%s: %s", symbol, exc)
            failures[symbol] = str(exc)
    return results, failures


def write_report(
    results: dict[str, list[SymbolEvaluation]], folder: Path, extra: dict[str, Any] | None = None
) -> tuple[dict[str, Any], dict[str, Path]]:
    """Deflate the Sharpe ratios and write ``summary.json`` (with ``extra`` top-level
    sections, e.g. ``portfolio``), ``report.html`` (with ``plotly.min.js``) and
    ``equity.png`` into ``folder``; returns (summary, paths)."""
    n_trials = deflate(results)
    logger.info("deflated Sharpe ratios count %d trials", n_trials)
    summary = {**summarise(results), **clean(extra or {})}
    folder.mkdir(parents=True, exist_ok=True)
    paths = {
        "summary": write_summary(summary, folder),
        "html": write_html(results, summary, folder),
        "png": write_equity_png(results, folder),
    }
    return summary, paths


def run_evaluation(
    config: Config,
    symbols: list[str],
    *,
    seeds: int = 1,
    report_dir: Path | None = None,
    progress: bool = True,
    jobs: int | None = None,
    backend: str | None = None,
    portfolio: bool = False,
) -> tuple[dict[str, Any], dict[str, Path], dict[str, str]]:
    """Evaluate, report into a new timestamped folder, and log one MLflow run.

    ``jobs`` worker processes (``backend`` joblib) or Ray tasks (``backend`` ray) run each
    symbol's folds and controls (default ``evaluation.jobs``, or every core). With
    ``portfolio`` the symbols that evaluated are also traded together
    (:mod:`kilo.evaluation.portfolio`) and the summary gains a ``portfolio`` section. Deflated
    Sharpe ratios count every traded
    strategy of every symbol and seed as a trial.

    Returns
    -------
    (summary, paths, failures)
        The ``summary.json`` content, the written files (``summary``, ``html``,
        ``png``) in a new timestamped folder under ``report_dir`` (default
        ``evaluation.report_dir``), and symbol -> error for the failures.
    """
    tracker = Tracker(config.tracking)
    with tracker.run(
        f"evaluate {', '.join(symbols)}", config_params(config), tags={"kilo.kind": "evaluate"}
    ) as run:
        results, failures = evaluate_symbols(
            config, symbols, seeds=seeds, jobs=jobs, progress=progress, backend=backend
        )
        if not results:
            return {}, {}, failures
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
        extra = (
            {"portfolio": evaluate_portfolio(config, list(results), jobs=jobs, progress=progress)}
            if portfolio
            else {}
        )
        summary, paths = write_report(
            results, Path(report_dir or config.evaluation.report_dir) / stamp, extra
        )
        run.log_metrics({symbol: entry["strategies"] for symbol, entry in summary.items()})
        for path in (paths["summary"], paths["html"]):
            run.log_artifact(path)
    return summary, paths, failures

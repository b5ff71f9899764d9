"""Train symbols in parallel through the one dispatcher (:func:`kilo.runtime.dispatch`)."""

from __future__ import annotations

import logging
import time
from dataclasses import replace
from pathlib import Path

from kilo.config import Config
from kilo.errors import KiloError
from kilo.runtime import SERIAL, RunOptions, dispatch, limit_threads
from kilo.training.pool import Pool, fit_pool
from kilo.training.trainer import ModelChoice, TrainReport, train_symbol

logger = logging.getLogger(__name__)


def train_one(
    config: Config,
    symbol: str,
    model: ModelChoice,
    models_dir: str | Path | None,
    threads: int,
    progress: bool,
    pool: Pool | None = None,
) -> TrainReport:
    """Train one symbol with torch limited to ``threads``; failures become the report's error.

    The same task runs in-process, in a joblib worker and as a Ray task, so results,
    logs and failures come back the same way from every backend. LightGBM runs with
    one thread (its fit takes well under a second) and PPO limits itself to one.
    """
    try:
        with limit_threads(threads):
            return train_symbol(
                config, symbol, model=model, models_dir=models_dir, progress=progress, pool=pool
            )
    except KiloError as exc:
        logger.error("%s: %s", symbol, exc)
        return TrainReport(symbol, error=str(exc))
    except Exception as exc:  # per-symbol boundary: report it, the other symbols go on
        logger.exception("%s: training failed", symbol)
        return TrainReport(symbol, error=f"{type(exc).__name__}: {exc}")


def train_symbols(
    config: Config,
    symbols: list[str],
    *,
    model: ModelChoice = "all",
    models_dir: str | Path | None = None,
    options: RunOptions = SERIAL,
) -> list[TrainReport]:
    """Train each symbol, ``options.jobs`` at a time; reports in the order given.

    Parameters
    ----------
    options
        ``trainer.py`` resolves them (default ``training.jobs`` and
        ``training.backend``). Backend ``joblib`` runs local processes (one job: in
        this process, with the fits' progress bars when ``options.progress``); ``ray``
        submits the same task to ``options.ray_address`` (a local cluster when None).
        No bar counts the symbols. Default: one after the other here, no bars.

    Raises
    ------
    ConfigError
        If the Ray backend is asked for but Ray is not installed.
    DataError
        With ``training.pool: universe``, if the pool cannot be fit (it is fit once,
        here, for every symbol).
    """
    in_process = options.backend == "joblib" and options.jobs == 1
    pool = None
    if config.training.pool == "universe" and model == "all":
        started = time.perf_counter()
        pool = fit_pool(config, options.progress)
        logger.info(
            "pool of %d members fit in %.1f s", len(pool.members), time.perf_counter() - started
        )
    fit_bars = options.progress and in_process
    calls = [(config, s, model, models_dir, options.threads, fit_bars, pool) for s in symbols]
    return dispatch(train_one, calls, options=replace(options, progress=False))

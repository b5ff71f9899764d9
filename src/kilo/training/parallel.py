"""Train symbols in parallel: local processes with joblib, or a Ray cluster."""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import Any

from kilo.config import Config
from kilo.errors import ConfigError, KiloError
from kilo.training.trainer import ModelChoice, TrainReport, train_symbol

logger = logging.getLogger(__name__)


def threads_per_job(jobs: int) -> int:
    """CPU threads each of ``jobs`` workers may use so they do not oversubscribe."""
    return max(1, (os.cpu_count() or 1) // jobs)


def train_one(
    config: Config,
    symbol: str,
    model: ModelChoice,
    models_dir: str | Path | None,
    threads: int,
    progress: bool,
) -> TrainReport:
    """Train one symbol with torch limited to ``threads``; failures become the report's error.

    The same task runs in-process, in a joblib worker and as a Ray task, so results,
    logs and failures come back the same way from every backend. LightGBM runs with
    one thread (its fit takes well under a second) and PPO limits itself to one.
    """
    import torch

    torch.set_num_threads(threads)
    try:
        return train_symbol(config, symbol, model=model, models_dir=models_dir, progress=progress)
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
    progress: bool = True,
    jobs: int | None = None,
    backend: str | None = None,
) -> list[TrainReport]:
    """Train each symbol, ``jobs`` at a time, in the order given.

    Parameters
    ----------
    jobs, backend
        Default ``training.jobs`` and ``training.backend``. ``joblib`` runs local
        processes (``jobs=1``: in this process); ``ray`` submits the same task to
        ``ray.init(address=training.ray_address)`` (a local cluster when None).

    Raises
    ------
    ConfigError
        If the Ray backend is asked for but Ray is not installed.
    """
    jobs = jobs or config.training.jobs
    backend = backend or config.training.backend
    threads = threads_per_job(jobs)
    if backend == "ray":
        return _train_with_ray(config, symbols, model, models_dir, threads)
    if jobs == 1:
        return [train_one(config, s, model, models_dir, threads, progress) for s in symbols]
    from joblib import Parallel, delayed

    return Parallel(n_jobs=jobs, backend="loky")(
        delayed(train_one)(config, s, model, models_dir, threads, False) for s in symbols
    )


def start_ray(config: Config, log_to_driver: bool = False) -> Any:
    """The ``ray`` module, connected to ``training.ray_address`` (a local cluster when
    unset; an existing connection is reused).

    Raises
    ------
    ConfigError
        If Ray is not installed.
    """
    try:
        import ray
    except ImportError as exc:
        raise ConfigError("the ray backend needs Ray: pip install -r requirements-ray.txt") from exc
    ray.init(
        address=config.training.ray_address,
        ignore_reinit_error=True,
        include_dashboard=False,
        log_to_driver=log_to_driver,
    )
    return ray


def _train_with_ray(
    config: Config,
    symbols: list[str],
    model: ModelChoice,
    models_dir: str | Path | None,
    threads: int,
) -> list[TrainReport]:
    ray = start_ray(config, log_to_driver=True)
    task = ray.remote(num_cpus=threads)(train_one)
    return ray.get([task.remote(config, s, model, models_dir, threads, False) for s in symbols])

"""The one dispatcher of independent tasks: in this process, local processes (joblib's
loky backend) or Ray tasks, with a progress bar and results in submission order."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from tqdm.auto import tqdm

from kilo.errors import ConfigError
from kilo.runtime.options import SERIAL, RunOptions

R = TypeVar("R")


def start_ray(address: str | None, log_to_driver: bool = False) -> Any:
    """The ``ray`` module, connected to ``address`` (a local cluster when None; an
    existing connection is reused).

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
        address=address,
        ignore_reinit_error=True,
        include_dashboard=False,
        log_to_driver=log_to_driver,
    )
    return ray


def dispatch(
    fn: Callable[..., R],
    calls: Sequence[tuple[Any, ...]],
    *,
    options: RunOptions = SERIAL,
    desc: str = "",
    unit: str = "task",
    kinds: Sequence[str] | None = None,
) -> list[R]:
    """``[fn(*args) for args in calls]``, run ``options.jobs`` at a time.

    Parameters
    ----------
    options
        Backend ``joblib``: in this process when ``options.jobs`` is 1, else
        ``options.jobs`` loky worker processes; ``ray``: one Ray task per call on
        ``options.ray_address`` (a local cluster when None), each reserving
        ``options.threads`` CPUs. With ``options.progress`` a tqdm bar (``desc``,
        ``unit``) counts the finished calls.
    kinds
        One label per call (e.g. ``folds``, ``controls``): the bar also counts the
        finished calls of each label apart ("folds 2/6, controls 5/12").

    Returns
    -------
    The results in the order of ``calls``, whatever order they finished in.

    Raises
    ------
    ConfigError
        If Ray is asked for but not installed.
    """
    bar = tqdm(total=len(calls), desc=desc, unit=unit, disable=not options.progress)
    results: dict[int, R] = {}
    labels = list(kinds) if kinds is not None else []
    totals = Counter(labels)
    finished: Counter[str] = Counter()

    def done(k: int, result: R) -> None:
        results[k] = result
        if labels:
            finished[labels[k]] += 1
            bar.set_postfix_str(
                ", ".join(f"{name} {finished[name]}/{n}" for name, n in totals.items()),
                refresh=False,
            )
        bar.update(1)

    with bar:
        if options.backend == "ray":
            ray = start_ray(options.ray_address)
            task = ray.remote(num_cpus=options.threads)(fn)
            pending = {task.remote(*args): k for k, args in enumerate(calls)}
            while pending:
                ready, _ = ray.wait(list(pending), num_returns=1)
                done(pending.pop(ready[0]), ray.get(ready[0]))
        elif options.jobs == 1 or len(calls) <= 1:
            for k, args in enumerate(calls):
                done(k, fn(*args))
        else:
            from joblib import Parallel, delayed

            indexed = Parallel(
                n_jobs=min(options.jobs, len(calls)),
                backend="loky",
                return_as="generator_unordered",
            )(delayed(_indexed)(fn, k, args) for k, args in enumerate(calls))
            for k, result in indexed:
                done(k, result)
    return [results[k] for k in range(len(calls))]


def _indexed(fn: Callable[..., R], k: int, args: tuple[Any, ...]) -> tuple[int, R]:
    return k, fn(*args)

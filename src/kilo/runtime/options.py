"""How a command runs its independent tasks: how many at a time, where, and whether a
progress bar counts them; resolved once from the config and the command-line flags."""

from __future__ import annotations

import os
from dataclasses import dataclass

from kilo.config import Config
from kilo.errors import ConfigError

#: The dispatcher's backends: joblib's local processes, or Ray tasks.
BACKENDS = ("joblib", "ray")


def all_cores() -> int:
    """The CPU cores of this machine (1 when unknown)."""
    return os.cpu_count() or 1


def threads_per_job(jobs: int) -> int:
    """CPU threads each of ``jobs`` workers may use so they do not oversubscribe."""
    return max(1, all_cores() // max(1, jobs))


@dataclass(frozen=True)
class RunOptions:
    """How independent tasks run (:func:`~kilo.runtime.parallel.dispatch`).

    The default, :data:`SERIAL`, runs them one after the other in this process with no
    progress bar: what a library caller gets without asking. A command resolves its
    own once with :meth:`resolve` and passes it down.

    Parameters
    ----------
    jobs
        Tasks run at a time: ``joblib`` worker processes (in this process when 1), or
        the CPU share of each Ray task (:attr:`threads`).
    backend
        ``joblib`` (local processes) or ``ray`` (Ray tasks on ``ray_address``).
    progress
        Show a progress bar counting the finished tasks.
    ray_address
        The Ray cluster; None starts a local one.

    Raises
    ------
    ConfigError
        If ``jobs`` is below 1 or ``backend`` is not one of :data:`BACKENDS`.
    """

    jobs: int = 1
    backend: str = "joblib"
    progress: bool = False
    ray_address: str | None = None

    def __post_init__(self) -> None:
        if self.jobs < 1:
            raise ConfigError(f"jobs must be at least 1 (got {self.jobs}); give --jobs N, N >= 1")
        if self.backend not in BACKENDS:
            raise ConfigError(f"unknown backend {self.backend!r}: use one of {', '.join(BACKENDS)}")

    @property
    def threads(self) -> int:
        """CPU threads each task may use (:func:`threads_per_job` of :attr:`jobs`)."""
        return threads_per_job(self.jobs)

    @classmethod
    def resolve(
        cls,
        config: Config,
        *,
        jobs: int | None = None,
        backend: str | None = None,
        progress: bool = True,
        default_jobs: int | None = None,
    ) -> RunOptions:
        """A command's options from its flags, falling back on the config.

        Parameters
        ----------
        jobs
            ``--jobs``; when None, ``default_jobs`` (the command's config setting, e.g.
            ``training.jobs``), or every CPU core when that is None too.
        backend
            ``--backend``; when None, ``training.backend``.
        progress
            False with ``--no-progress``.

        Raises
        ------
        ConfigError
            If the resolved ``jobs`` is below 1 or ``backend`` is no backend.
        """
        if jobs is None:
            jobs = all_cores() if default_jobs is None else default_jobs
        return cls(
            jobs=jobs,
            backend=config.training.backend if backend is None else backend,
            progress=progress,
            ray_address=config.training.ray_address,
        )


#: Tasks one after the other in this process, without a progress bar.
SERIAL = RunOptions()

"""RunOptions: resolved once from the config and the flags, refused when unusable."""

from __future__ import annotations

import os

import pytest

from kilo.config import Config
from kilo.errors import ConfigError
from kilo.runtime import SERIAL, RunOptions, threads_per_job


@pytest.fixture
def config() -> Config:
    return Config().with_overrides(
        {"training.backend": "ray", "training.ray_address": "ray://head:10001"}
    )


def test_the_config_fills_what_the_flags_leave_out(config: Config) -> None:
    run = RunOptions.resolve(config, default_jobs=3)
    assert run == RunOptions(jobs=3, backend="ray", progress=True, ray_address="ray://head:10001")


def test_flags_override_the_config(config: Config) -> None:
    run = RunOptions.resolve(config, jobs=2, backend="joblib", progress=False, default_jobs=3)
    assert (run.jobs, run.backend, run.progress) == (2, "joblib", False)
    assert run.ray_address == "ray://head:10001"  # no flag for it: always the config's


def test_no_jobs_anywhere_means_every_core() -> None:
    assert RunOptions.resolve(Config()).jobs == (os.cpu_count() or 1)


def test_the_serial_default_runs_here_without_a_bar() -> None:
    assert (SERIAL.jobs, SERIAL.backend, SERIAL.progress) == (1, "joblib", False)
    assert RunOptions() == SERIAL


def test_an_unknown_backend_is_refused_naming_the_choices(config: Config) -> None:
    with pytest.raises(ConfigError, match="unknown backend 'dask': use one of joblib, ray"):
        RunOptions.resolve(config, backend="dask")


@pytest.mark.parametrize("jobs", [0, -2])
def test_fewer_than_one_job_is_refused(config: Config, jobs: int) -> None:
    with pytest.raises(ConfigError, match=f"jobs must be at least 1 \\(got {jobs}\\)"):
        RunOptions.resolve(config, jobs=jobs)
    with pytest.raises(ConfigError, match="at least 1"):
        RunOptions(jobs=jobs)


def test_each_job_gets_its_share_of_the_cores() -> None:
    cores = os.cpu_count() or 1
    assert threads_per_job(1) == RunOptions(jobs=1).threads == cores
    assert threads_per_job(cores) == 1 and RunOptions(jobs=cores * 4).threads == 1

"""Ray as an optional engine: the same results as local processes, the same study.

Runs in CI, which installs requirements-ray.txt; skipped only where Ray is absent.
"""

from __future__ import annotations

import pandas as pd
import pytest

from kilo.config import Config
from kilo.evaluation.fold_task import FoldTask
from kilo.evaluation.splits import walk_forward_folds
from kilo.evaluation.walkforward import build_datasets, run_tasks
from kilo.features import FeatureEngine
from kilo.runtime import RunOptions
from kilo.training.split import required_embargo

ray = pytest.importorskip("ray")
pytestmark = pytest.mark.slow


@pytest.fixture(scope="module", autouse=True)
def local_cluster():
    ray.shutdown()  # a connection another test's start_ray left open in this worker
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    yield
    ray.shutdown()


def test_fold_tasks_on_ray_equal_local_processes(tiny_config: Config) -> None:
    config = tiny_config.with_overrides(
        {
            "evaluation.folds": 1,
            "evaluation.random_draws": 3,
            "models.ppo.total_timesteps": 512,
        }
    )
    engine = FeatureEngine.from_config(config, "BTC/USDT")
    datasets = build_datasets(config, "BTC/USDT", engine)
    folds = walk_forward_folds(
        len(datasets.real.features), config.evaluation, required_embargo(config, engine)
    )
    tasks = [
        FoldTask("real", 0, "all", ("blend", "ppo", "buy_and_hold"), 3),
        FoldTask("planted", 0, "regressors", ("blend",)),
    ]
    args = (config, engine, datasets, folds, [(t,) for t in tasks])
    local = {r.task: r for r in run_tasks(*args, RunOptions(jobs=2), "test")}
    remote = {r.task: r for r in run_tasks(*args, RunOptions(jobs=2, backend="ray"), "test")}
    assert local.keys() == remote.keys() == set(tasks)
    for task, result in local.items():
        for name, run in result.runs.items():
            pd.testing.assert_series_equal(run.equity, remote[task].runs[name].equity)
        assert result.random_runs.keys() == remote[task].random_runs.keys()
        for name, draws in result.random_runs.items():
            for a, b in zip(draws, remote[task].random_runs[name], strict=True):
                pd.testing.assert_series_equal(a.equity, b.equity)


def test_search_trials_on_ray_land_in_the_same_study(tiny_config: Config, tmp_path) -> None:
    import optuna
    from mlflow.tracking import MlflowClient

    from kilo.search.run import run_search
    from tests.search.test_study import SMALL

    config = tiny_config.with_overrides(
        {
            **SMALL,
            "search.storage": f"sqlite:///{tmp_path / 'optuna.db'}",
            "search.report_dir": str(tmp_path / "reports"),
            "tracking.enabled": True,
            "tracking.uri": f"sqlite:///{tmp_path / 'mlflow.db'}",
        }
    )
    summary, _ = run_search(
        config, ["BTC/USDT"], trials=2, study_name="r", options=RunOptions(jobs=2, backend="ray")
    )
    study = optuna.load_study(study_name="r", storage=config.search.storage)
    assert len(study.trials) == summary.n_trials == 2
    client = MlflowClient(tracking_uri=config.tracking.uri)
    runs = client.search_runs([client.get_experiment_by_name("kilo").experiment_id])
    parent = next(r for r in runs if r.data.tags.get("kilo.kind") == "search")
    children = [r for r in runs if r.data.tags.get("mlflow.parentRunId") == parent.info.run_id]
    kinds = sorted(r.data.tags["kilo.kind"] for r in children)
    assert kinds == ["evaluate", "search-trial", "search-trial"]  # the best one on outer folds

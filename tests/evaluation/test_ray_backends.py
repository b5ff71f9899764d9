"""Ray as an optional engine: the same results as local processes, the same study.

Runs in CI, which installs requirements-ray.txt; skipped only where Ray is absent.
"""

from __future__ import annotations

import pytest

from kilo.config import Config
from kilo.evaluation.walkforward import evaluate_symbol

ray = pytest.importorskip("ray")
pytestmark = pytest.mark.slow


@pytest.fixture(scope="module", autouse=True)
def local_cluster():
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    yield
    ray.shutdown()


def test_evaluation_on_ray_equals_local_processes(tiny_config: Config) -> None:
    config = tiny_config.with_overrides({"evaluation.folds": 2, "evaluation.ppo_timesteps": 512,
                                         "evaluation.random_draws": 5})
    local = evaluate_symbol(config, "BTC/USDT", jobs=2, progress=False, backend="joblib")
    remote = evaluate_symbol(config, "BTC/USDT", jobs=2, progress=False, backend="ray")
    for name in ("blend", "gru", "lightgbm", "ppo", "buy_and_hold", "random"):
        assert remote.summary["strategies"][name] == local.summary["strategies"][name], name
    assert remote.summary["controls"]["placebo"] == local.summary["controls"]["placebo"]


def test_search_trials_on_ray_land_in_the_same_study(tiny_config: Config, tmp_path) -> None:
    import optuna
    from mlflow.tracking import MlflowClient

    from kilo.evaluation.search_run import run_search
    from tests.evaluation.test_search import SMALL

    config = tiny_config.with_overrides({
        **SMALL, "search.storage": f"sqlite:///{tmp_path / 'optuna.db'}",
        "search.report_dir": str(tmp_path / "reports"), "tracking.enabled": True,
        "tracking.uri": f"sqlite:///{tmp_path / 'mlflow.db'}"})
    summary, _ = run_search(config, ["BTC/USDT"], trials=2, study_name="r", jobs=2,
                            backend="ray", progress=False)
    study = optuna.load_study(study_name="r", storage=config.search.storage)
    assert len(study.trials) == summary["n_trials"] == 2
    client = MlflowClient(tracking_uri=config.tracking.uri)
    runs = client.search_runs([client.get_experiment_by_name("kilo").experiment_id])
    parent = next(r for r in runs if r.data.tags.get("kilo.kind") == "search")
    assert sum(r.data.tags.get("mlflow.parentRunId") == parent.info.run_id for r in runs) == 2

"""Hyper-parameter search: honest folds, a resumable study, outputs and MLflow runs."""

from __future__ import annotations

import math

import optuna
import pytest
import yaml

from kilo.config import Config, QuantileBlend, SearchChoices, SearchRange, load_config
from kilo.errors import ConfigError
from kilo.search.nested import inner_folds
from kilo.search.run import SearchSummary, run_search
from kilo.search.study import grid, load_study, split_trials, suggest
from kilo.training.split import TimeSplit

SMALL = {
    "features.timeframes": ["4h"],
    "target.horizon": 4,
    "evaluation.folds": 2,
    "evaluation.initial_train_fraction": 0.6,
    "models.ppo.total_timesteps": 512,
    "evaluation.random_draws": 5,
    "search.space": {
        "blend.enter_quantile": {"low": 0.6, "high": 0.8},  # the tiny config's quantile rule
        "models.lightgbm.num_leaves": {"choices": [7, 15]},
    },
}


def test_inner_folds_stay_inside_the_outer_training_window() -> None:
    outer = [TimeSplit(slice(0, 3000), slice(3300, 4000), slice(4300, 5000), 300)]
    [inner] = inner_folds(outer, val_fraction=0.2, inner_fraction=0.25, embargo=300)
    assert inner.train.start == 0 and inner.test.stop == 4000  # the outer window, no more
    assert inner.train.stop + 300 == inner.val.start and inner.val.stop + 300 == inner.test.start
    assert inner.test.stop <= outer[0].test.start - 300  # the outer test is never touched


def test_the_search_never_reads_the_holdout_of_the_real_candles(config: Config) -> None:
    from kilo.evaluation.splits import evaluation_splits
    from kilo.features import FeatureEngine
    from kilo.training.dataset import build_dataset
    from kilo.training.split import required_embargo

    engine = FeatureEngine.from_config(config, "BTC/USDT")
    n = len(build_dataset(config, "BTC/USDT", engine).features)
    embargo = required_embargo(config, engine)
    outer, holdout = evaluation_splits(n, config.evaluation, embargo)
    inner = inner_folds(
        outer, config.evaluation.val_fraction, config.search.inner_fraction, embargo
    )
    assert holdout is not None and n > 60_000  # eight years of BTC
    assert max(f.test.stop for f in inner) <= holdout.test.start - embargo


def test_trials_are_shared_exactly_and_choices_decode() -> None:
    assert split_trials(7, 3) == [3, 2, 2] and split_trials(2, 8) == [1, 1]
    space = {
        "features.timeframes": SearchChoices(choices=[[], ["4h", "1d"]]),
        "target.horizon": SearchRange(low=4, high=24),
        "blend.cost_multiple": SearchRange(low=1.0, high=3.0, log=True),
    }
    fixed = optuna.trial.FixedTrial(
        {"features.timeframes": '["4h", "1d"]', "target.horizon": 12, "blend.cost_multiple": 2.0}
    )
    assert suggest(fixed, space) == {
        "features.timeframes": ["4h", "1d"],
        "target.horizon": 12,
        "blend.cost_multiple": 2.0,
    }
    with pytest.raises(ConfigError, match=r"grid search needs choices.*target.horizon"):
        grid(space)


@pytest.mark.slow
def test_search_is_resumable_reports_and_tracks(tiny_config: Config, tmp_path) -> None:
    config = tiny_config.with_overrides(
        {
            **SMALL,
            "search.storage": f"sqlite:///{tmp_path / 'optuna.db'}",
            "search.report_dir": str(tmp_path / "reports"),
            "tracking.enabled": True,
            "tracking.uri": f"sqlite:///{tmp_path / 'mlflow.db'}",
        }
    )
    summary, folder = run_search(config, ["BTC/USDT"], trials=2, study_name="s", progress=False)
    assert summary.n_trials == 2 and set(summary.best_params or {}) == set(SMALL["search.space"])
    summary, _ = run_search(config, ["BTC/USDT"], trials=1, study_name="s", progress=False)
    study = optuna.load_study(study_name="s", storage=config.search.storage)
    assert len(study.trials) == summary.n_trials == 3
    assert summary.deflation is not None
    assert (
        0.0 <= summary.deflation.dsr <= 1.0 and "survives deflation" in summary.deflation.sentence
    )
    assert math.isfinite(summary.outer["BTC/USDT"].blend.sharpe)
    on_disk = SearchSummary.model_validate_json((folder / "summary.json").read_text())
    assert on_disk.best_value == summary.best_value
    best = load_config(folder / "best.yaml")  # a complete config --config accepts
    assert summary.best_params is not None
    assert isinstance(best.blend, QuantileBlend)
    assert best.blend.enter_quantile == summary.best_params["blend.enter_quantile"]
    trials = (folder / "trials.csv").read_text().splitlines()
    assert len(trials) == 4 and "user_attrs_blend_sharpe" in trials[0]

    from mlflow.tracking import MlflowClient

    client = MlflowClient(tracking_uri=config.tracking.uri)
    runs = sorted(
        client.search_runs([client.get_experiment_by_name("kilo").experiment_id]),
        key=lambda r: r.info.start_time,
    )
    parents = [r for r in runs if r.data.tags.get("kilo.kind") == "search"]
    children = [r for r in runs if r.data.tags.get("mlflow.parentRunId") == parents[-1].info.run_id]
    assert len(parents) == 2 and len(children) == 1  # the second run added one trial
    nested = [r for r in runs if r.data.tags.get("kilo.kind") == "search-trial"]
    assert len(nested) == 3 and all("fold_objective" in r.data.metrics for r in nested)
    complete = [t for t in study.trials if t.state == optuna.trial.TrialState.COMPLETE]
    finished = [r for r in nested if "objective" in r.data.metrics]  # pruned ones stop early
    assert len(finished) == len(complete) >= 1
    assert nested[0].data.params["target.horizon"] == "4"
    assert yaml.safe_load(parents[0].data.params["space"].replace("'", '"'))


def test_grid_workers_share_one_numbering_and_cover_every_combination(
    tiny_config: Config, tmp_path
) -> None:
    space = {"target.horizon": {"choices": [1, 4, 12]}, "target.kind": {"choices": ["a", "b"]}}
    config = tiny_config.with_overrides(
        {"search.space": space, "search.storage": f"sqlite:///{tmp_path / 'grid.db'}"}
    )
    workers = [load_study(config, "g", config.seed + i, grid_search=True) for i in range(2)]
    seen = []
    for k in range(6):  # the workers take turns, as parallel workers would
        workers[k % 2].optimize(
            lambda t: seen.append(tuple(suggest(t, config.search.space).values())) or 0.0,
            n_trials=1,
        )
    assert sorted(seen) == sorted((h, k) for h in (1, 4, 12) for k in ("a", "b"))

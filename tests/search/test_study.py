"""Hyper-parameter search: honest folds, a resumable study, outputs and MLflow runs."""

from __future__ import annotations

import math

import numpy as np
import optuna
import pytest
import yaml

from kilo.config import Config, QuantileBlend, SearchChoices, SearchRange, load_config
from kilo.errors import ConfigError
from kilo.evaluation.splits import evaluation_splits, walk_forward_folds
from kilo.evaluation.summary import EvaluationSummary
from kilo.evaluation.trials import HOLDOUT_READ, tracked_trials
from kilo.features import FeatureEngine
from kilo.runtime import SERIAL
from kilo.runtime.tracking import Tracker
from kilo.search.nested import inner_folds
from kilo.search.run import SearchSummary, report_study, run_search
from kilo.search.study import grid, load_study, split_trials, suggest
from kilo.training.dataset import build_dataset
from kilo.training.split import required_embargo

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


def test_inner_folds_lie_before_the_first_outer_test_window(config: Config) -> None:
    spec = config.evaluation.model_copy(update={"folds": 3, "holdout_fraction": 0.0})
    outer = walk_forward_folds(20_000, spec, 300)
    inner = inner_folds(outer, spec, inner_fraction=0.4, embargo=300)
    assert len(inner) == 3
    clean = outer[0].test.start - 300
    assert inner[0].test.start == round(0.6 * clean) and inner[-1].test.stop == clean
    for fold in inner:
        assert fold.train.stop + 300 <= fold.val.start and fold.val.stop + 300 <= fold.test.start


def test_no_bar_the_search_reads_is_in_an_outer_test_window_or_the_holdout(
    config: Config,
) -> None:
    """On the eight years of BTC with the shipped config: every row an inner fold
    trains, validates or tests on lies before every outer test window and the holdout."""
    engine = FeatureEngine.from_config(config, "BTC/USDT")
    data = build_dataset(config, "BTC/USDT", engine)
    n = len(data.features)
    embargo = required_embargo(config, engine)
    outer, holdout = evaluation_splits(n, config.evaluation, embargo)
    inner = inner_folds(outer, config.evaluation, config.search.inner_fraction, embargo)
    assert holdout is not None and n > 60_000  # eight years of BTC
    read = np.zeros(n, dtype=bool)
    for fold in inner:
        for part in (fold.train, fold.val, fold.test):
            read[part] = True
    tested = np.zeros(n, dtype=bool)
    for fold in [*outer, holdout]:
        tested[fold.test] = True
    assert read.any() and not (read & tested).any()
    last_read = data.index[np.flatnonzero(read)[-1]]
    assert last_read < data.index[outer[0].test.start]


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
    summary, folder = run_search(config, ["BTC/USDT"], trials=2, study_name="s")
    assert summary.n_trials == 2 and set(summary.best_params or {}) == set(SMALL["search.space"])
    summary, _ = run_search(config, ["BTC/USDT"], trials=1, study_name="s")
    study = optuna.load_study(study_name="s", storage=config.search.storage)
    assert len(study.trials) == summary.n_trials == 3
    assert summary.deflation is not None
    assert (
        0.0 <= summary.deflation.dsr <= 1.0 and "survives deflation" in summary.deflation.sentence
    )
    assert math.isfinite(summary.outer["BTC/USDT"].blend.sharpe)
    on_disk = SearchSummary.model_validate_json((folder / "summary.json").read_text())
    assert on_disk.best_value == summary.best_value
    read = on_disk.bars_read["BTC/USDT"]  # the search's own record: no outer test bar read
    assert read.clean and read.last_bar_read < read.first_outer_test_bar
    best = load_config(folder / "best.yaml")  # a complete config --config accepts
    assert summary.best_params is not None
    assert isinstance(best.blend, QuantileBlend)
    assert best.blend.enter_quantile == summary.best_params["blend.enter_quantile"]
    trials = (folder / "trials.csv").read_text().splitlines()
    assert len(trials) == 4 and "user_attrs_blend_sharpe" in trials[0]
    assert "user_attrs_ppo_sharpe" in trials[0]  # the policy traded beside the blend
    # and beside random paths of its own spells, their percentile per symbol
    assert "user_attrs_ppo_percentile BTC/USDT" in trials[0]

    from mlflow.tracking import MlflowClient

    client = MlflowClient(tracking_uri=config.tracking.uri)
    runs = sorted(
        client.search_runs([client.get_experiment_by_name("kilo").experiment_id]),
        key=lambda r: r.info.start_time,
    )
    parents = [r for r in runs if r.data.tags.get("kilo.kind") == "search"]
    children = [r for r in runs if r.data.tags.get("mlflow.parentRunId") == parents[-1].info.run_id]
    kinds = sorted(r.data.tags["kilo.kind"] for r in children)
    assert len(parents) == 2 and kinds == ["evaluate", "search-trial"]  # one trial added
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


@pytest.mark.slow
def test_the_best_trial_is_evaluated_on_the_outer_folds_only_and_tracked(
    tiny_config: Config, tmp_path
) -> None:
    config = tiny_config.with_overrides(
        {
            **SMALL,
            "models.enabled": ["lightgbm"],
            "evaluation.holdout_fraction": 0.1,
            "search.space": {"blend.enter_quantile": {"low": 0.6, "high": 0.8}},
            "tracking.enabled": True,
            "tracking.uri": f"sqlite:///{tmp_path / 'mlflow.db'}",
        }
    )
    study = optuna.create_study(direction="maximize", study_name="s")
    study.add_trial(
        optuna.trial.create_trial(
            params={"blend.enter_quantile": 0.7},
            distributions={
                "blend.enter_quantile": optuna.distributions.FloatDistribution(0.6, 0.8)
            },
            value=0.5,
            user_attrs={"blend_sharpe": 0.5, "last_bar_read BTC/USDT": "2020-01-01T00:00Z"},
        )
    )
    tracker = Tracker(config.tracking)
    with tracker.run("search s", {}, tags={"kilo.kind": "search"}) as parent:
        summary = report_study(config, study, ["BTC/USDT"], tmp_path / "s", SERIAL, tracker, parent)
    outer = EvaluationSummary.read(tmp_path / "s" / "outer").symbols["BTC/USDT"]
    assert outer.holdout is None  # the holdout is left unread ...
    assert "Holdout" not in (tmp_path / "s" / "outer" / "report.html").read_text()
    assert summary.bars_read["BTC/USDT"].clean
    # ... and its rows are still cut off the outer folds: they end before it
    engine = FeatureEngine.from_config(config, "BTC/USDT")
    data = build_dataset(config, "BTC/USDT", engine)
    folds, holdout = evaluation_splits(
        len(data.features), config.evaluation, required_embargo(config, engine)
    )
    assert holdout is not None
    assert outer.folds[-1].test_end < data.features.index[holdout.test.start]
    assert outer.folds[-1].test_end == data.features.index[folds[-1].test.stop - 1]
    [run] = tracker.find_runs(("evaluate",))
    assert run.data.tags["mlflow.parentRunId"] == parent.id
    assert "BTC/USDT.blend.sharpe" in run.data.metrics
    assert not any(k.endswith(HOLDOUT_READ) for k in run.data.metrics)
    # a later evaluation of another configuration counts the best trial's outer Sharpes
    found = tracked_trials(config.with_overrides({"target.horizon": 12}), tracker, ["BTC/USDT"])
    assert found.evaluations == {"BTC/USDT": 1} and found.holdout_reads == {"BTC/USDT": 0}
    # without the outer evaluation nothing beyond the inner folds is read or tracked
    with tracker.run("search t", {}, tags={"kilo.kind": "search"}) as parent:
        inner_only = report_study(
            config,
            study,
            ["BTC/USDT"],
            tmp_path / "t",
            SERIAL,
            tracker,
            parent,
            evaluate_outer=False,
        )
    assert inner_only.best_params == {"blend.enter_quantile": 0.7}
    assert inner_only.outer == {} and not (tmp_path / "t" / "outer").exists()
    assert len(tracker.find_runs(("evaluate",))) == 1

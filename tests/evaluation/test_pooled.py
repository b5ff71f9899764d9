"""The pooled comparison (training.pool: universe) on slices of the real candles."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from kilo.config import Config
from kilo.errors import ConfigError, LookAheadError
from kilo.evaluation import pooled_stats as pooled
from kilo.evaluation.pooled import PoolUniverses, build_universes, pool_folds, pool_tasks
from kilo.evaluation.run import run_evaluation
from kilo.evaluation.summary import EvaluationSummary
from kilo.features import FeatureEngine
from kilo.metrics import spearman_ic
from kilo.training.pool import on_split
from tests.conftest import TINY_SYMBOLS


@pytest.fixture(scope="module")
def comparison_config(pooled_config: Config) -> Config:
    return pooled_config.with_overrides({"evaluation.folds": 2, "evaluation.bootstrap": 200})


@pytest.fixture(scope="module")
def universes(comparison_config: Config) -> PoolUniverses:
    return build_universes(comparison_config)


def test_no_members_test_bar_is_in_any_fits_training(
    comparison_config: Config, universes: PoolUniverses
) -> None:
    folds = pool_folds(comparison_config, universes)
    hour = pd.Timedelta(hours=1)
    for name, members in universes.datasets.items():
        for fold in folds:
            split = on_split(members, universes.union, fold)
            fitted = [d.index[d.split.train] for d in split.values() if len(d.index[d.split.train])]
            tested = [d.index[d.split.test] for d in split.values() if len(d.index[d.split.test])]
            last_train = max(t.max() for t in fitted)
            assert last_train + fold.embargo * hour < min(t.min() for t in tested), name


def test_the_placebo_moves_every_member_alike(universes: PoolUniverses) -> None:
    def returns(universe: str) -> pd.DataFrame:
        members = universes.datasets[universe]
        return pd.DataFrame(
            {s: pd.Series(d.forward_return, index=d.index) for s, d in members.items()}
        ).dropna()

    real, placebo = returns("real"), returns("placebo")
    together = placebo["BTC/USDT"].corr(placebo["ETH/USDT"])
    assert abs(together - real["BTC/USDT"].corr(real["ETH/USDT"])) < 0.1  # relation survives
    assert not np.allclose(placebo["BTC/USDT"].to_numpy()[:500], real["BTC/USDT"].to_numpy()[:500])


def test_a_member_whose_candles_end_is_scored_only_where_it_has_test_rows(
    comparison_config: Config, universes: PoolUniverses
) -> None:
    folds = pool_folds(comparison_config, universes)
    scored = {t.fold: t.symbols for t in pool_tasks(universes, folds, TINY_SYMBOLS)}
    assert "SOL/USDT" not in scored[len(folds) - 1]  # its candles end before the last fold
    assert set(scored[len(folds) - 1]) == {"BTC/USDT", "ETH/USDT"}


def test_the_comparison_scores_pooled_and_alone_on_the_same_rows(
    comparison_config: Config, tmp_path
) -> None:
    summary, paths, failures = run_evaluation(comparison_config, TINY_SYMBOLS, report_dir=tmp_path)
    assert failures == {} and summary is not None and summary.pooled is not None
    pooled = EvaluationSummary.read(paths["summary"]).pooled
    assert pooled is not None and pooled.members == TINY_SYMBOLS and len(pooled.folds) == 2
    assert set(pooled.fits) == {"pooled", "alone"}
    for name in ("gru", "lightgbm"):
        a, b = pooled.fits["pooled"][name], pooled.fits["alone"][name]
        assert {s: v.rows for s, v in a.symbols.items()} == {
            s: v.rows for s, v in b.symbols.items()
        }
        assert a.panel.rows == sum(v.rows for v in a.symbols.values())
        for fit in (a, b):
            low, high = fit.panel.ic_ci95
            assert low < high and fit.panel.ic_se > 0
            # inf (null in the file) when the planted edge was not recovered
            assert fit.floor > 0 if fit.recovery > 0 else math.isnan(fit.floor)
            assert set(fit.symbol_floors) == set(fit.symbols)


def test_the_comparison_refuses_seeds_and_the_portfolio(comparison_config: Config) -> None:
    with pytest.raises(ConfigError, match="one seed and no portfolio"):
        run_evaluation(comparison_config, TINY_SYMBOLS, seeds=2)


def test_a_members_look_ahead_stops_the_comparison_before_any_fit(
    comparison_config: Config, monkeypatch
) -> None:
    honest = FeatureEngine.transform

    def leaky(self, candles, context=None):
        features = honest(self, candles, context)
        future = np.log(candles["close"]).shift(-1)
        features["log_ret_1"] = future.reindex(features.index).to_numpy()
        return features

    def refuse(*args, **kwargs):
        raise AssertionError("a model was fit before the causality check")

    monkeypatch.setattr(FeatureEngine, "transform", leaky)
    monkeypatch.setattr(pooled, "run_pool_tasks", refuse)
    with pytest.raises(LookAheadError, match=r"\['log_ret_1'\].*read the future"):
        run_evaluation(comparison_config, TINY_SYMBOLS)


def test_the_panel_scores_each_symbol_on_its_own_bars() -> None:
    rng = np.random.default_rng(0)
    n, times = 2000, np.arange(2000)

    def symbol(level: float, edge: float) -> pooled.Rows:
        label = rng.normal(size=n)
        pred = edge * label + rng.normal(size=n)
        return pred + level, label + level, times

    # no symbol ranks its own bars, but the one with the higher mean prediction has the
    # higher labels: the stacked rows' IC is that level bet, the panel's is not
    levels = {"A": symbol(0.0, 0.0), "B": symbol(3.0, 0.0)}
    stacked = [np.concatenate([r[i] for r in levels.values()]) for i in range(2)]
    assert spearman_ic(*stacked) > 0.5
    assert abs(spearman_ic(*pooled.within_symbol_panel(levels)[:2])) < 0.05
    # an edge inside each symbol survives, NaN rows stay out
    edge = {"A": symbol(0.0, 0.3), "B": symbol(3.0, 0.3)}
    edge["A"][0][:10] = np.nan
    pred, label, _ = pooled.within_symbol_panel(edge)
    assert np.isnan(pred[:10]).all() and np.isnan(label[:10]).all()
    own = np.mean([spearman_ic(p, y) for p, y, _ in edge.values()])
    assert spearman_ic(pred, label) == pytest.approx(own, abs=0.01)

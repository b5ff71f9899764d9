from __future__ import annotations

import json

import numpy as np
import pytest

from kilo.config import Config
from kilo.evaluation.run import run_evaluation
from kilo.evaluation.walkforward import _permuted
from kilo.training.split import TimeSplit

pytestmark = pytest.mark.slow

METRICS = {"total_log_return", "annual_return", "annual_volatility", "sharpe", "sortino",
           "max_drawdown", "calmar", "hit_rate", "n_trades", "turnover", "exposure"}


@pytest.fixture(scope="module")
def evaluation(tiny_config: Config, tmp_path_factory):
    cfg = tiny_config.with_overrides(["evaluation.folds=2", "evaluation.ppo_timesteps=512",
                                      "evaluation.random_seeds=3"])
    folder = tmp_path_factory.mktemp("reports")
    return run_evaluation(cfg, ["BTC/USDT", "NOPE/USDT"], seeds=2, report_dir=folder,
                          progress=False)


def test_summary_layout(evaluation) -> None:
    summary, paths, failures = evaluation
    assert "NOPE/USDT" in failures and list(summary) == ["BTC/USDT"]
    on_disk = json.loads(paths["summary"].read_text())
    btc = on_disk["BTC/USDT"]
    assert set(btc["strategies"]) == {"gru", "lightgbm", "ppo", "blend", "buy_and_hold", "flat",
                                      "momentum", "random"}
    for name, metrics in btc["strategies"].items():
        assert METRICS <= set(metrics), name
    for name in ("gru", "lightgbm"):
        assert {"ic_pearson", "ic_spearman", "directional_accuracy"} <= set(btc["strategies"][name])
        assert set(btc["controls"]["shuffled_target"][name]) >= {"ic_pearson", "ic_spearman"}
    assert len(btc["folds"]) == 2 and set(btc["folds"][0]) == {"train_start", "train_end",
                                                               "test_start", "test_end"}
    assert btc["bars"] > 1000 and btc["seeds"] == 2 and "strategies_std" in btc
    assert btc["controls"]["causality"] == {"cuts": 4, "identical": True}


def test_baselines_behave(evaluation) -> None:
    s = evaluation[0]["BTC/USDT"]["strategies"]
    assert s["flat"]["total_log_return"] == 0.0 and s["flat"]["exposure"] == 0.0
    assert s["buy_and_hold"]["exposure"] == 1.0
    blend_turnover = s["blend"]["turnover"]
    if blend_turnover:
        assert s["random"]["turnover"] == pytest.approx(blend_turnover, rel=0.5)
    for model in ("gru", "lightgbm"):
        assert abs(evaluation[0]["BTC/USDT"]["controls"]["shuffled_target"][model]["ic_spearman"]) < 0.1


def test_report_files(evaluation) -> None:
    paths = evaluation[1]
    html = paths["html"].read_text()
    assert "BTC/USDT" in html and "<table" in html and "cdn.plot.ly" not in html
    assert html.count("<script src='plotly.min.js'></script>") == 1
    assert (paths["html"].parent / "plotly.min.js").stat().st_size > 1_000_000  # offline
    assert len(html) < 1_500_000
    assert paths["png"].read_bytes()[:4] == b"\x89PNG"


def test_permutation_touches_only_training_and_validation_rows() -> None:
    target = np.arange(100, dtype=float)
    fold = TimeSplit(slice(0, 40), slice(50, 70), slice(80, 100), 10)
    out = _permuted(target, fold, seed=0)
    np.testing.assert_array_equal(out[40:50], target[40:50])
    np.testing.assert_array_equal(out[70:], target[70:])
    rows = np.r_[0:40, 50:70]
    assert sorted(out[rows]) == sorted(target[rows]) and not np.array_equal(out[rows], target[rows])

from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
import pytest

from kilo.config import Config
from kilo.data import load_candles
from kilo.evaluation.fold import shuffled_labels
from kilo.evaluation.run import run_evaluation
from kilo.training.split import TimeSplit

pytestmark = pytest.mark.slow

METRICS = {
    "total_log_return",
    "annual_return",
    "annual_volatility",
    "sharpe",
    "sortino",
    "max_drawdown",
    "calmar",
    "hit_rate",
    "n_trades",
    "turnover",
    "exposure",
    "psr",
    "gross_total_log_return",
    "gross_sharpe",
    "break_even_cost",
    "psr_vs_buy_and_hold",
    "dsr",
}
IC_FIELDS = {"ic_by_fold", "ic_ci95", "ic_tstat_hac", "ic_pvalue_perm"}


@pytest.fixture(scope="module")
def evaluation(tiny_config: Config, tmp_path_factory):
    cfg = tiny_config.with_overrides(
        ["evaluation.folds=2", "evaluation.ppo_timesteps=512", "evaluation.random_draws=100"]
    )
    folder = tmp_path_factory.mktemp("reports")
    return run_evaluation(
        cfg, ["BTC/USDT", "NOPE/USDT"], seeds=2, report_dir=folder, progress=False, jobs=2
    )


def finite(value) -> bool:
    if isinstance(value, dict):
        return all(finite(v) for v in value.values())
    if isinstance(value, list):
        return all(finite(v) for v in value)
    return isinstance(value, bool) or (isinstance(value, (int, float)) and math.isfinite(value))


def test_summary_layout(evaluation) -> None:
    summary, paths, failures = evaluation
    assert "NOPE/USDT" in failures and list(summary) == ["BTC/USDT"]
    btc = json.loads(paths["summary"].read_text())["BTC/USDT"]
    strategies = btc["strategies"]
    assert set(strategies) == {
        "gru",
        "lightgbm",
        "ppo",
        "blend",
        "buy_and_hold",
        "flat",
        "momentum",
        "random",
    }
    for name, metrics in strategies.items():
        assert METRICS - {"dsr", "psr_vs_buy_and_hold"} <= set(metrics), name
        if name not in ("flat", "random"):  # flat has no variance, so no Sharpe
            assert finite({k: metrics[k] for k in METRICS if k != "hit_rate"}), name
    for name in ("gru", "lightgbm"):
        s = strategies[name]
        assert set(s) >= IC_FIELDS and finite({k: s[k] for k in IC_FIELDS})
        assert len(s["ic_by_fold"]) == 2 and s["ic_ci95"][0] < s["ic_spearman"] < s["ic_ci95"][1]
    assert (
        strategies["random"]["draws"] == 100
        and 0 <= strategies["random"]["blend_percentile"] <= 100
    )
    controls = btc["controls"]
    assert (
        finite(controls["placebo"]) and finite(controls["planted"]) and finite(controls["lead_lag"])
    )
    for name in ("gru", "lightgbm"):
        assert set(controls["placebo"][name]) == {"ic_spearman", "null_band99", "flagged"}
        assert not controls["placebo"][name]["flagged"], "placebo IC above its 99 % band"
        assert set(controls["lead_lag"][name]) == {str(k) for k in range(-5, 6)}
    assert set(controls["placebo"]["blend"]) == {"sharpe", "gross_sharpe"}
    planted = controls["planted"]
    assert {"planted_ic", "gru", "lightgbm", "blend", "buy_and_hold", "detected"} == set(planted)
    assert planted["planted_ic"] == pytest.approx(0.05, abs=1e-3)
    assert controls["causality"] == {"cuts": 2, "identical": True}
    assert set(controls["label_shuffle_check"]) == {"fold", "gru", "lightgbm"}
    assert btc["bars"] > 1000 and btc["seeds"] == 2 and "strategies_std" in btc


def test_buy_and_hold_gross_return_is_the_market_on_its_units(
    evaluation, tiny_config: Config
) -> None:
    btc = evaluation[0]["BTC/USDT"]
    t = tiny_config.trading
    candles = load_candles(tiny_config.data.dir, "binance", "BTC/USDT", "1h")
    opens = candles["open"]
    market, gross = 0.0, 0.0
    for fold in btc["folds"]:
        start = candles.index.get_loc(pd.Timestamp(fold["test_start"]))
        end = candles.index.get_loc(pd.Timestamp(fold["test_end"]))
        move = opens.iloc[end + 1] / opens.iloc[start + 1]
        market += np.log(move)
        # all the cash goes in, fee and slippage included; gross holds those units cost-free
        gross += np.log1p((move - 1.0) / ((1.0 + t.fee) * (1.0 + t.slippage)))
    bh = btc["strategies"]["buy_and_hold"]
    assert bh["gross_total_log_return"] == pytest.approx(gross, rel=1e-9)
    assert bh["total_log_return"] < min(market, gross) and bh["exposure"] > 0.99
    assert btc["strategies"]["flat"]["total_log_return"] == 0.0


def test_random_baseline_matches_the_blends_exposure(evaluation) -> None:
    s = evaluation[0]["BTC/USDT"]["strategies"]
    assert s["random"]["exposure"] == pytest.approx(s["blend"]["exposure"], abs=0.02)
    if s["blend"]["n_trades"] > 10:
        assert s["random"]["turnover"] == pytest.approx(s["blend"]["turnover"], rel=0.25)


def test_report_files(evaluation) -> None:
    paths = evaluation[1]
    html = paths["html"].read_text()
    assert "BTC/USDT" in html and "<table" in html and "cdn.plot.ly" not in html
    assert html.count("<script src='plotly.min.js'></script>") == 1
    assert "planted edge" in html and "placebo 99 % null band" in html
    assert (paths["html"].parent / "plotly.min.js").stat().st_size > 1_000_000  # offline
    assert len(html) < 1_500_000
    assert paths["png"].read_bytes()[:4] == b"\x89PNG"


def test_label_shuffle_touches_only_training_and_validation_rows() -> None:
    target = np.arange(100, dtype=float)
    fold = TimeSplit(slice(0, 40), slice(50, 70), slice(80, 100), 10)
    out = shuffled_labels(target, fold, seed=0)
    np.testing.assert_array_equal(out[40:50], target[40:50])
    np.testing.assert_array_equal(out[70:], target[70:])
    rows = np.r_[0:40, 50:70]
    assert sorted(out[rows]) == sorted(target[rows]) and not np.array_equal(out[rows], target[rows])

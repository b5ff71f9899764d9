from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
import pytest

from kilo.config import Config
from kilo.data import load_candles
from kilo.errors import DataError
from kilo.evaluation.controls.candles import lead_lag_lags
from kilo.evaluation.controls.power import POWER_MULTIPLE
from kilo.evaluation.fold_task import shuffled_labels
from kilo.evaluation.run import run_evaluation
from kilo.evaluation.strategy_set import MODEL_STRATEGIES
from kilo.evaluation.summary import EvaluationSummary
from kilo.evaluation.walkforward import fold_config, fold_tasks, policy_timesteps
from kilo.models.kinds.ppo import fold_timesteps as ppo_timesteps
from kilo.runtime import RunOptions
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
BASELINES = ("buy_and_hold", "flat", "momentum")


@pytest.fixture(scope="module")
def evaluation(tiny_config: Config, tmp_path_factory):
    cfg = tiny_config.with_overrides(
        [
            "evaluation.folds=2",
            "models.ppo.total_timesteps=512",
            "evaluation.random_draws=20",  # each path is made of the blend's own spells
            "evaluation.initial_train_fraction=0.6",
            "evaluation.holdout_fraction=0.1",
            "evaluation.power_ics=[0.1]",
        ]
    )
    folder = tmp_path_factory.mktemp("reports")
    return run_evaluation(
        cfg, ["BTC/USDT", "NOPE/USDT"], seeds=2, report_dir=folder, options=RunOptions(jobs=2)
    )


def finite(value) -> bool:
    if isinstance(value, dict):
        return all(finite(v) for v in value.values())
    if isinstance(value, list | tuple):
        return all(finite(v) for v in value)
    return isinstance(value, bool) or (isinstance(value, (int, float)) and math.isfinite(value))


def test_summary_layout(evaluation) -> None:
    summary, paths, failures = evaluation
    assert "NOPE/USDT" in failures and list(summary.symbols) == ["BTC/USDT"]
    assert summary.failures == failures and summary.ppo_timesteps == 512  # the --set budget
    btc = summary.symbols["BTC/USDT"]
    assert set(btc.strategies) == {
        "gru",
        "lightgbm",
        "ppo",
        "linear",
        "blend",
        "buy_and_hold",
        "flat",
        "momentum",
    }
    for name, result in btc.strategies.items():
        metrics = result.model_dump(exclude={"ic"})
        assert set(metrics) >= METRICS, name
        if name != "flat":  # flat has no variance: PSR and DSR are undefined
            assert finite({k: metrics[k] for k in METRICS if k != "hit_rate"}), name
    assert btc.strategies["flat"].sharpe == 0.0  # a flat book's Sharpe is 0, not undefined
    for name in ("gru", "lightgbm", "linear"):
        ic = btc.strategies[name].ic
        assert ic is not None and finite(ic.model_dump())
        assert len(ic.ic_by_fold) == 2 and ic.ic_ci95[0] < ic.ic_spearman < ic.ic_ci95[1]
    assert btc.strategies["blend"].ic is None
    assert btc.random is not None and btc.random.draws == 20
    assert 0 <= btc.random.blend_percentile <= 100 or btc.strategies["blend"].n_trades == 0
    controls = btc.controls
    assert finite(controls.placebo.model_dump()) and finite(controls.planted.model_dump())
    for name in ("gru", "lightgbm"):
        assert not controls.placebo.models[name].flagged, "placebo IC above its 99 % band"
        assert set(controls.lead_lag[name]) == set(lead_lag_lags(12))  # target.horizon 12
    assert controls.planted.planted_ic == pytest.approx(0.05, abs=1e-3)
    assert controls.planted.needed_ic == pytest.approx(0.7 * controls.planted.planted_ic)
    assert controls.causality.cuts == 2 and controls.causality.identical
    assert set(controls.label_shuffle_check.ic) == {"gru", "lightgbm", "linear"}
    assert btc.bars > 1000 and btc.seeds == 2 and btc.strategies_std is not None


def test_power_curve_floor_and_verdict(evaluation) -> None:
    summary, paths, _ = evaluation
    btc = summary.symbols["BTC/USDT"]
    power, verdict = btc.power, btc.verdict
    assert power is not None and verdict is not None
    assert [round(p.planted_ic, 2) for p in power.curve] == [0.05, 0.1]
    for name in ("gru", "lightgbm"):
        ic, label = btc.strategies[name].ic, btc.strategies[name].label_ic
        assert ic is not None and 0 < ic.ic_se < ic.ic_ci95[1] - ic.ic_ci95[0]
        assert label is not None and label.ic_spearman != ic.ic_spearman  # two outcomes
        assert ic.block >= 24 and set(ic.ic_se_by_block) == {24, 168, 504}
        assert 0 <= ic.pvalue_positive <= 1
        assert math.isfinite(power.recovery[name])
        assert power.floor[name] > 0
        for p in power.curve:
            low, high = p.ic_ci95[name]
            assert low < p.ic[name] < high
            assert p.detected[name] == (low > max(ic.ic_spearman, 0.0))
    forecast, trading = verdict.forecast, verdict.trading
    assert forecast.value in ("skill", "no edge above F", "undecidable") and forecast.reason
    assert forecast.family == 3  # three regressors: Holm's first step at 1.7 %
    assert forecast.floor == pytest.approx(max(power.floor.values()))
    assert trading.value in ("beats", "does not beat", "undecidable")
    assert trading.detectable_excess_sharpe > 0 and "80 % power" in trading.reason
    html = paths["html"].read_text()
    assert "Forecast: " in html and "Trading: " in html and "detection floor" in html
    assert html.index("return IC") < html.index("label IC") < html.index("Strategies")
    trials = btc.trials  # tracking is off: this run's model strategies that traded, 2 seeds
    assert trials is not None and trials.source.startswith("tracking off")
    traded = [n for n in MODEL_STRATEGIES if btc.strategies[n].n_trades > 0]
    assert trials.n == trials.this_run and trials.this_run <= 2 * len(traded)
    assert summary.dsr_trials == trials.n and "N = " in html


def test_summary_json_round_trips_and_refuses_another_format(evaluation, tmp_path) -> None:
    summary, paths, _ = evaluation
    text = paths["summary"].read_text()
    assert "NaN" not in text and "Infinity" not in text  # strict JSON
    back = EvaluationSummary.read(paths["summary"])
    assert (
        back.model_dump_json()
        == summary.model_dump_json()
        == EvaluationSummary.model_validate_json(text).model_dump_json()
    )
    raw = json.loads(text)
    raw["summary_format"] = 1
    old = tmp_path / "summary.json"
    old.write_text(json.dumps(raw))
    with pytest.raises(DataError, match="format 1.*re-run scripts/evaluate.py"):
        EvaluationSummary.read(tmp_path)
    old.write_text("{not json")
    with pytest.raises(DataError, match="not a valid evaluation summary"):
        EvaluationSummary.read(old)


def test_the_holdout_is_read_once_after_every_fold(evaluation) -> None:
    summary, paths, _ = evaluation
    btc = summary.symbols["BTC/USDT"]
    held = btc.holdout
    assert held is not None and held.bars > 100
    assert held.window.test_start > max(f.test_end for f in btc.folds)  # no fold reads it
    assert held.window.train_end < held.window.test_start
    assert set(held.strategies) == set(btc.strategies) and held.strategies["gru"].ic is not None
    assert held.random is not None and held.random.draws == 20
    html = paths["html"].read_text()
    assert html.index("Holdout: the final verdict") > html.index("<h3>Checks</h3>")  # last


def test_fold_ppo_budget_follows_the_model_key_up_to_the_cap(tiny_config: Config) -> None:
    assert ppo_timesteps(tiny_config.with_overrides({"models.ppo.total_timesteps": 2048})) == 2048
    capped = tiny_config.with_overrides({"models.ppo.total_timesteps": 100_000})
    assert ppo_timesteps(capped) == capped.evaluation.max_ppo_timesteps == 30_000
    free = capped.with_overrides({"evaluation.max_ppo_timesteps": None})
    assert ppo_timesteps(free) == 100_000
    # a summary describes what ran: no PPO budget when no PPO is trained
    assert policy_timesteps(capped) == 30_000
    assert policy_timesteps(capped.with_overrides({"models.enabled": ["lightgbm"]})) == 0
    assert fold_config(capped).models.ppo.total_timesteps == 30_000


def test_buy_and_hold_holds_across_the_chained_folds_and_grosses_the_market(
    evaluation, tiny_config: Config
) -> None:
    """The folds chain: buy-and-hold buys once at the first test bar's next open and
    sells once after the last fold, its gross return the market's over those opens."""
    btc = evaluation[0].symbols["BTC/USDT"]
    t = tiny_config.trading
    candles = load_candles(tiny_config.data.dir, "binance", "BTC/USDT", "1h")
    opens = candles["open"]
    assert len(btc.folds) == 2
    start = candles.index.get_loc(pd.Timestamp(btc.folds[0].test_start))
    end = candles.index.get_loc(pd.Timestamp(btc.folds[-1].test_end))
    move = opens.iloc[end + 1] / opens.iloc[start + 1]
    # all the cash goes in, fee and slippage included; gross holds those units cost-free
    gross = np.log1p((move - 1.0) / ((1.0 + t.fee) * (1.0 + t.slippage)))
    bh = btc.strategies["buy_and_hold"]
    assert bh.n_trades == 1  # no round trip at the fold boundary
    assert bh.gross_total_log_return == pytest.approx(gross, rel=1e-9)
    assert bh.total_log_return < min(np.log(move), gross) and bh.exposure > 0.99
    assert btc.strategies["flat"].total_log_return == 0.0


def test_the_cost_curve_re_trades_every_strategy_but_the_random_paths(
    evaluation, tiny_config: Config
) -> None:
    """Every strategy at each cost of evaluation.cost_curve over the chained folds:
    buy-and-hold's curve moves by exactly its one round trip, the venue's cost beside."""
    from kilo.evaluation.cost_curve import cost_config
    from kilo.metrics import round_trip_log_cost

    btc = evaluation[0].symbols["BTC/USDT"]
    curve = btc.cost_curve
    assert curve is not None and set(curve.strategies) == set(btc.strategies)
    costs = tiny_config.evaluation.cost_curve
    held = curve.strategies["buy_and_hold"].points
    assert [p.cost for p in held] == costs and all(p.n_trades == 1 for p in held)
    for point in held:
        round_trip = round_trip_log_cost(cost_config(tiny_config, point.cost).trading)
        assert point.net_total_log_return == pytest.approx(
            held[0].net_total_log_return - round_trip, abs=1e-9
        )
    assert curve.venue_cost == pytest.approx(0.003, abs=1e-6) and curve.seconds > 0
    assert all(p.net_total_log_return == 0.0 for p in curve.strategies["flat"].points)


def test_random_baseline_matches_the_blends_exposure(evaluation) -> None:
    btc = evaluation[0].symbols["BTC/USDT"]
    blend, random = btc.strategies["blend"], btc.random
    assert random is not None
    assert random.exposure == pytest.approx(blend.exposure, abs=0.02)
    if blend.n_trades > 10:
        assert random.turnover == pytest.approx(blend.turnover, rel=0.25)


def test_report_files(evaluation) -> None:
    paths = evaluation[1]
    html = paths["html"].read_text()
    assert "BTC/USDT" in html and "<table" in html and "cdn.plot.ly" not in html
    assert html.count("<script src='../plotly.min.js'></script>") == 1  # one per report root
    assert "planted edge" in html and "placebo 99 % null band" in html
    assert "<th>causality</th>" in html and "{'cuts'" not in html  # a table, not a dict
    assert "<h3>Cost curve</h3>" in html and "venue 0.300 %" in html
    assert (paths["html"].parent.parent / "plotly.min.js").stat().st_size > 1_000_000  # offline
    assert not (paths["html"].parent / "plotly.min.js").exists()
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


def _one_fold(tiny_config: Config, enabled: list[str], stop_loss: float | None, task):
    """``task`` run on BTC's one evaluation fold (70 % of the tiny candles before it) with
    ``enabled`` models, the stop-loss at ``stop_loss`` and no take-profit."""
    from kilo.evaluation.datasets import build_datasets
    from kilo.evaluation.fold_task import run_fold
    from kilo.evaluation.splits import evaluation_splits
    from kilo.features import FeatureEngine
    from kilo.training.split import required_embargo

    cfg = tiny_config.with_overrides(
        {
            "models.enabled": enabled,
            "evaluation.folds": 1,
            "evaluation.initial_train_fraction": 0.7,
            "trading.stop_loss": stop_loss,
            "trading.take_profit": None,
        }
    )
    engine = FeatureEngine.from_config(cfg, "BTC/USDT")
    data = build_datasets(cfg, "BTC/USDT", engine).real
    [fold], _ = evaluation_splits(len(data.features), cfg.evaluation, required_embargo(cfg, engine))
    return run_fold(cfg, engine, data, fold, task)


def test_random_paths_apply_the_blends_stops(tiny_config: Config) -> None:
    from kilo.evaluation.fold_task import FoldTask

    def random_trades(stop_loss: float | None) -> int:
        task = FoldTask("real", 0, "all", ("blend",), random_draws=5)
        result = _one_fold(tiny_config, ["lightgbm"], stop_loss, task)
        return sum(len(r.fills) for r in result.random_runs["blend"])

    assert random_trades(0.002) > random_trades(None)  # a tight stop cuts spells short


def test_the_real_folds_are_one_chain_and_every_control_runs_alone(tiny_config: Config) -> None:
    chains = fold_tasks(tiny_config.with_overrides({"evaluation.power_ics": [0.1]}), 3, True)
    real, holdout, *controls = chains
    assert [(t.dataset, t.fold) for t in real] == [("real", 0), ("real", 1), ("real", 2)]
    assert [(t.dataset, t.fold) for t in holdout] == [("holdout", 3)]
    assert all(len(c) == 1 for c in controls)
    names = {c[0].dataset for c in controls}
    assert names == {"placebo", "planted", "power 0.1", "label_shuffle"}


def test_results_tables_are_written_from_the_summary(evaluation) -> None:
    """scripts/results.py prints the README's tables from summary.json; the two-point
    floor is the one the real and planted points give by hand."""
    import subprocess
    import sys

    from kilo.evaluation.report.markdown import floors

    summary, paths, _ = evaluation
    btc = summary.symbols["BTC/USDT"]
    # each data set's cost apart (bench.py evaluate reports it): they add up to the folds'
    assert {"real", "holdout", "placebo", "planted", "power 0.1"} <= set(btc.task_seconds)
    assert sum(btc.task_seconds.values()) == pytest.approx(btc.fold_seconds)
    planted = btc.controls.planted
    power = btc.power
    assert planted is not None and power is not None
    for name, (short, curve) in floors(btc).items():
        ic = btc.strategies[name].ic
        assert ic is not None
        slope = (planted.ic[name] - ic.ic_spearman) / (planted.planted_ic - power.signal_ic)
        assert short == pytest.approx(POWER_MULTIPLE * ic.ic_se / slope if slope > 0 else math.inf)
        assert curve == power.floor[name]
    out = subprocess.run(
        [sys.executable, "scripts/results.py", str(paths["summary"])],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    lines = [line for line in out.splitlines() if line.startswith("| BTC/USDT")]
    assert len(lines) == 4  # gru, lightgbm and linear forecasts, one trading row
    assert btc.verdict is not None
    assert all(btc.verdict.forecast.value in line for line in lines[:2])
    assert btc.verdict.trading.value in lines[2]


def test_each_strategy_asked_gets_random_paths_of_its_own_spells(tiny_config: Config) -> None:
    """The search asks for PPO's random paths beside the blend's: each set is made of its
    own strategy's spells (the same share of bars in a position, without stops)."""
    from kilo.evaluation.fold_task import FoldTask

    task = FoldTask("real", 0, "all", ("blend", "ppo"), 4, random_of=("blend", "ppo"))
    result = _one_fold(tiny_config, ["lightgbm", "ppo"], None, task)
    assert set(result.random_runs) == {"blend", "ppo"}
    for name, draws in result.random_runs.items():
        held = float((result.runs[name].side != 0).mean())
        assert 0 < held < 1 and len(draws) == 4
        for draw in draws:
            assert float((draw.side != 0).mean()) == pytest.approx(held, abs=0.02), name

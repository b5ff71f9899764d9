from __future__ import annotations

import math

import numpy as np
import pytest

from kilo.blend import (
    Calibration,
    EdgeMap,
    EdgeRule,
    ThresholdRule,
    Thresholds,
    blend,
    calibrate,
    fit_edge_map,
    ppo_signal,
    regressor_signal,
)
from kilo.config import Config, EdgeBlend, QuantileBlend
from kilo.errors import ConfigError

WEIGHTS = {"gru": 1.0, "lightgbm": 1.0, "ppo": 2.0}


def test_signals_by_hand() -> None:
    assert regressor_signal(0.003, mean=0.001, std=0.002) == pytest.approx(math.tanh(1.0))
    assert regressor_signal(np.array([5.0]), 0.0, 0.0).tolist() == [0.0]
    proba = np.array([[0.2, 0.5, 0.2, 0.1]])  # P(hold), P(long), P(flat), P(short)
    assert ppo_signal(proba, long=False).tolist() == pytest.approx([2 * 0.5 - 1])  # hold = flat
    assert ppo_signal(proba, long=True).tolist() == pytest.approx([2 * 0.7 - 1])  # hold = long
    assert ppo_signal(np.vstack([proba, proba]), np.array([False, True])).tolist() == pytest.approx(
        [0.0, 0.4]
    )


def test_blend_by_hand() -> None:
    score, confidence = blend(
        {"gru": np.array([0.5]), "lightgbm": np.array([-0.2]), "ppo": np.array([0.1])}, WEIGHTS
    )
    assert score[0] == pytest.approx((0.5 - 0.2 + 0.2) / 4)
    assert confidence[0] == pytest.approx((1 - 1 + 2) / 4)
    with pytest.raises(ValueError, match="no weight"):
        blend({"gru": np.zeros(1)}, {"ppo": 1.0})


def test_calibration_thresholds_are_validation_quantiles() -> None:
    rng = np.random.default_rng(0)
    gru, lgb = rng.normal(0.001, 0.002, 500), rng.normal(0, 0.0005, 500)
    proba = np.column_stack([rng.dirichlet([1, 1, 1], 500), np.zeros(500)])  # long only
    long = rng.random(500) < 0.4
    forward = rng.normal(0, 0.01, 500)
    regressors = {"gru": gru, "lightgbm": lgb}
    cal = calibrate(regressors, {"ppo": (proba, long)}, forward, QuantileBlend(weights=WEIGHTS))
    score, _ = blend(cal.signals(regressors, {"ppo": proba}, long), WEIGHTS)
    assert cal.thresholds is not None
    assert cal.thresholds.enter == pytest.approx(np.quantile(score, 0.7))
    assert cal.thresholds.exit == pytest.approx(np.quantile(score, 0.4))
    assert cal.prediction_stats["gru"].std == pytest.approx(gru.std())
    assert Calibration.model_validate_json(cal.model_dump_json()) == cal
    fixed = calibrate(
        regressors,
        {"ppo": (proba, long)},
        forward,
        QuantileBlend(enter_threshold=0.2, exit_threshold=-0.1),
    )
    assert fixed.thresholds == Thresholds(enter=0.2, exit=-0.1, source="config")


def test_the_edge_rule_calibrates_no_thresholds() -> None:
    rng = np.random.default_rng(0)
    gru, lgb, forward = (
        rng.normal(0, 0.002, 300),
        rng.normal(0, 0.001, 300),
        rng.normal(0, 0.01, 300),
    )
    cal = calibrate(
        {"gru": gru, "lightgbm": lgb}, {}, forward, EdgeBlend(weights={"gru": 1.0, "lightgbm": 1.0})
    )
    assert cal.thresholds is None and len(cal.edge_map.x) >= 1
    quantile = Config().with_overrides(["blend.rule=quantile"])
    with pytest.raises(ConfigError, match="calibrated for blend.rule edge"):
        cal.rule(quantile)
    explicit = quantile.with_overrides(["blend.enter_threshold=0.3", "blend.exit_threshold=0.1"])
    assert cal.rule(explicit) == ThresholdRule(0.3, 0.1)


def test_an_old_manifests_flat_thresholds_still_load() -> None:
    old = {
        "prediction_stats": {"gru": {"mean": 0.0, "std": 1.0}},
        "enter_threshold": 0.3,
        "exit_threshold": 0.1,
        "threshold_source": "validation quantiles",
        "validation_score_quantiles": {},
        "edge_map": {"x": [0.0], "y": [0.0]},
    }
    cal = Calibration.model_validate(old)
    assert cal.thresholds == Thresholds(enter=0.3, exit=0.1, source="validation quantiles")


def test_regressors_alone() -> None:
    rng = np.random.default_rng(1)
    gru, lgb = rng.normal(0, 0.002, 300), rng.normal(0, 0.001, 300)
    regressors = {"gru": gru, "lightgbm": lgb}
    cal = calibrate(
        regressors, {}, rng.normal(0, 0.01, 300), EdgeBlend(weights={"gru": 1.0, "lightgbm": 1.0})
    )
    assert set(cal.signals(regressors, {}, False)) == {"gru", "lightgbm"}


def test_threshold_rule() -> None:
    rule = ThresholdRule(enter=0.3, exit=-0.1)
    assert [rule.decide(s, side=0) for s in (0.31, 0.3, -0.5)] == ["enter", "wait", "wait"]
    assert [rule.decide(s, side=1) for s in (-0.11, -0.1, 0.9)] == ["exit", "hold", "hold"]
    with pytest.raises(ValueError, match="above the enter"):
        ThresholdRule(enter=-0.2, exit=0.1)


def test_edge_map_is_the_isotonic_fit_of_forward_returns() -> None:
    rng = np.random.default_rng(2)
    score = rng.uniform(-1, 1, 2000)
    forward = 0.01 * score + rng.normal(0, 0.01, 2000)  # an edge that grows with the score
    edge = fit_edge_map(score, forward)
    assert edge.x == sorted(edge.x) and edge.y == sorted(edge.y)
    assert edge(-0.9) < 0 < edge(0.9) and edge(0.9) == pytest.approx(0.009, abs=0.003)
    assert edge(5.0) == edge.y[-1]  # clipped outside the fitted range
    assert EdgeMap.model_validate_json(edge.model_dump_json()) == edge
    with pytest.raises(ValueError, match="2 finite"):
        fit_edge_map(np.array([0.1, np.nan]), np.array([0.0, 0.0]))


def test_edge_rule_pays_for_costs_holds_and_sizes() -> None:
    edge = EdgeMap(x=[-1.0, 0.0, 1.0], y=[-0.02, 0.0, 0.02])  # score s -> 0.02 s
    rule = EdgeRule(edge, hurdle=0.0045, min_hold_bars=24, exit_edge=0.0)
    assert rule.decide(0.2, side=0, bars_held=0) == "wait"  # edge 0.004 < hurdle
    assert rule.decide(0.3, side=0, bars_held=0) == "enter"  # edge 0.006
    assert rule.decide(-0.9, side=1, bars_held=23) == "hold"  # minimum hold
    assert rule.decide(-0.1, side=1, bars_held=24) == "exit"
    assert rule.decide(0.1, side=1, bars_held=100) == "hold"
    assert rule.size(0.3) == pytest.approx(0.006 / 0.009) and rule.size(0.9) == 1.0


def test_the_calibrations_rule_follows_the_config() -> None:
    edge = EdgeMap(x=[0.0], y=[0.0])
    config = Config()
    cal = Calibration(
        prediction_stats={},
        validation_score_quantiles={},
        edge_map=edge,
        thresholds=Thresholds(enter=0.3, exit=0.1, source="config"),
    )
    rule = cal.rule(config)
    t = config.trading
    assert isinstance(rule, EdgeRule) and rule.min_hold_bars == config.target.horizon
    assert isinstance(config.blend, EdgeBlend)
    round_trip = np.log((1 + t.fee) * (1 + t.slippage) / ((1 - t.fee) * (1 - t.slippage)))
    assert rule.hurdle == pytest.approx(round_trip * config.blend.cost_multiple, rel=1e-12)
    assert cal.rule(config.with_overrides(["blend.rule=quantile"])) == ThresholdRule(0.3, 0.1)


def test_on_futures_the_edge_rule_shorts_below_minus_the_hurdle_spot_stays_flat() -> None:
    edge = EdgeMap(x=[-1.0, 0.0, 1.0], y=[-0.02, 0.0, 0.02])  # score s -> 0.02 s
    cal = Calibration(prediction_stats={}, validation_score_quantiles={}, edge_map=edge)
    spot = cal.rule(Config())
    futures = cal.rule(Config().with_overrides(["trading.market=futures"]))
    assert isinstance(futures, EdgeRule) and futures.short and not spot.short
    assert spot.decide(-0.9, side=0, bars_held=0) == "wait"  # long only: a negative edge waits
    hurdle = futures.hurdle / 0.02  # the score whose edge is the hurdle
    assert futures.decide(-0.99 * hurdle, side=0, bars_held=0) == "wait"
    assert futures.decide(-1.01 * hurdle, side=0, bars_held=0) == "enter_short"
    held = futures.min_hold_bars
    assert futures.decide(0.9, side=-1, bars_held=held - 1) == "hold"  # minimum hold
    assert futures.decide(0.01, side=-1, bars_held=held) == "exit"  # the edge rose above 0
    assert futures.decide(-0.01, side=-1, bars_held=held) == "hold"
    assert futures.size(-1.5 * hurdle) == pytest.approx(futures.size(1.5 * hurdle))
    both = ThresholdRule(0.5, 0.5, short=True)
    assert [both.decide(s, 0) for s in (1.0, 0.0, -1.0)] == ["enter", "wait", "enter_short"]
    assert [both.decide(s, -1) for s in (1.0, 0.0, -1.0)] == ["exit", "exit", "hold"]


def test_a_key_of_the_other_rule_is_refused_by_name() -> None:
    config = Config()
    with pytest.raises(ConfigError, match="blend.enter_threshold belong.*rule quantile"):
        config.with_overrides(["blend.enter_threshold=0.3"])
    with pytest.raises(ConfigError, match="blend.cost_multiple belong.*rule edge"):
        config.with_overrides(["blend.rule=quantile", "blend.cost_multiple=2"])
    switched = config.with_overrides(["blend.rule=quantile", "blend.enter_threshold=0.3"])
    assert isinstance(switched, Config) and isinstance(switched.blend, QuantileBlend)
    assert switched.blend.enter_threshold == 0.3
    back = switched.with_overrides(["blend.rule=edge"])  # the quantile keys go with it
    assert isinstance(back.blend, EdgeBlend) and back.blend.cost_multiple == 1.5

from __future__ import annotations

import math

import numpy as np
import pytest

from kilo.blend import (
    Calibration,
    EdgeMap,
    EdgeRule,
    ThresholdRule,
    blend,
    calibrate,
    fit_edge_map,
    make_rule,
    ppo_signal,
    regressor_signal,
)
from kilo.config import BlendConfig

WEIGHTS = {"gru": 1.0, "lightgbm": 1.0, "ppo": 2.0}


def test_signals_by_hand() -> None:
    assert regressor_signal(0.003, mean=0.001, std=0.002) == pytest.approx(math.tanh(1.0))
    assert regressor_signal(np.array([5.0]), 0.0, 0.0).tolist() == [0.0]
    proba = np.array([[0.2, 0.5, 0.3]])  # P(hold), P(long), P(flat)
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
    proba = rng.dirichlet([1, 1, 1], 500)
    long = rng.random(500) < 0.4
    forward = rng.normal(0, 0.01, 500)
    cal = calibrate(gru, lgb, proba, long, forward, BlendConfig(weights=WEIGHTS))
    score, _ = blend(cal.signals(gru, lgb, proba, long), WEIGHTS)
    assert cal.enter_threshold == pytest.approx(np.quantile(score, 0.7))
    assert cal.exit_threshold == pytest.approx(np.quantile(score, 0.4))
    assert cal.prediction_stats["gru"].std == pytest.approx(gru.std())
    assert Calibration.model_validate_json(cal.model_dump_json()) == cal
    fixed = calibrate(
        gru, lgb, proba, long, forward, BlendConfig(enter_threshold=0.2, exit_threshold=-0.1)
    )
    assert (fixed.enter_threshold, fixed.exit_threshold, fixed.threshold_source) == (
        0.2,
        -0.1,
        "config",
    )


def test_regressors_alone() -> None:
    rng = np.random.default_rng(1)
    gru, lgb = rng.normal(0, 0.002, 300), rng.normal(0, 0.001, 300)
    cal = calibrate(
        gru,
        lgb,
        None,
        None,
        rng.normal(0, 0.01, 300),
        BlendConfig(weights={"gru": 1.0, "lightgbm": 1.0}),
    )
    assert set(cal.signals(gru, lgb, None, False)) == {"gru", "lightgbm"}


def test_threshold_rule() -> None:
    rule = ThresholdRule(enter=0.3, exit=-0.1)
    assert [rule.decide(s, long=False) for s in (0.31, 0.3, -0.5)] == ["enter", "wait", "wait"]
    assert [rule.decide(s, long=True) for s in (-0.11, -0.1, 0.9)] == ["exit", "hold", "hold"]
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
    assert rule.decide(0.2, long=False, bars_held=0) == "wait"  # edge 0.004 < hurdle
    assert rule.decide(0.3, long=False, bars_held=0) == "enter"  # edge 0.006
    assert rule.decide(-0.9, long=True, bars_held=23) == "hold"  # minimum hold
    assert rule.decide(-0.1, long=True, bars_held=24) == "exit"
    assert rule.decide(0.1, long=True, bars_held=100) == "hold"
    assert rule.size(0.3) == pytest.approx(0.006 / 0.009) and rule.size(0.9) == 1.0


def test_make_rule_follows_the_config() -> None:
    from kilo.config import Config

    edge = EdgeMap(x=[0.0], y=[0.0])
    config = Config()
    rule = make_rule(config, 0.3, 0.1, edge)
    t = config.trading
    assert isinstance(rule, EdgeRule) and rule.min_hold_bars == config.target.horizon
    assert rule.hurdle == pytest.approx(2 * (t.fee + t.slippage) * config.blend.cost_multiple)
    quantile = make_rule(config.with_overrides(["blend.rule=quantile"]), 0.3, 0.1, edge)
    assert quantile == ThresholdRule(0.3, 0.1)

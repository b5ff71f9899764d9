from __future__ import annotations

import math

import numpy as np
import pytest

from kilo.blend import Calibration, ThresholdRule, blend, calibrate, ppo_signal, regressor_signal
from kilo.config import BlendConfig

WEIGHTS = {"gru": 1.0, "lightgbm": 1.0, "ppo": 2.0}


def test_signals_by_hand() -> None:
    assert regressor_signal(0.003, mean=0.001, std=0.002) == pytest.approx(math.tanh(1.0))
    assert regressor_signal(np.array([5.0]), 0.0, 0.0).tolist() == [0.0]
    proba = np.array([[0.2, 0.5, 0.3]])  # P(hold), P(long), P(flat)
    assert ppo_signal(proba, long=False).tolist() == pytest.approx([2 * 0.5 - 1])  # hold = flat
    assert ppo_signal(proba, long=True).tolist() == pytest.approx([2 * 0.7 - 1])  # hold = long
    assert ppo_signal(np.vstack([proba, proba]), np.array([False, True])).tolist() == pytest.approx(
        [0.0, 0.4])


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
    cal = calibrate(gru, lgb, proba, long, BlendConfig(weights=WEIGHTS))
    score, _ = blend(cal.signals(gru, lgb, proba, long), WEIGHTS)
    assert cal.enter_threshold == pytest.approx(np.quantile(score, 0.7))
    assert cal.exit_threshold == pytest.approx(np.quantile(score, 0.4))
    assert cal.prediction_stats["gru"].std == pytest.approx(gru.std())
    assert Calibration.model_validate_json(cal.model_dump_json()) == cal
    fixed = calibrate(gru, lgb, proba, long, BlendConfig(enter_threshold=0.2, exit_threshold=-0.1))
    assert (fixed.enter_threshold, fixed.exit_threshold, fixed.threshold_source) == (0.2, -0.1,
                                                                                    "config")


def test_regressors_alone() -> None:
    rng = np.random.default_rng(1)
    gru, lgb = rng.normal(0, 0.002, 300), rng.normal(0, 0.001, 300)
    cal = calibrate(gru, lgb, None, None, BlendConfig(weights={"gru": 1.0, "lightgbm": 1.0}))
    assert set(cal.signals(gru, lgb, None, False)) == {"gru", "lightgbm"}


def test_threshold_rule() -> None:
    rule = ThresholdRule(enter=0.3, exit=-0.1)
    assert [rule.decide(s, long=False) for s in (0.31, 0.3, -0.5)] == ["enter", "wait", "wait"]
    assert [rule.decide(s, long=True) for s in (-0.11, -0.1, 0.9)] == ["exit", "hold", "hold"]
    with pytest.raises(ValueError, match="above the enter"):
        ThresholdRule(enter=-0.2, exit=0.1)

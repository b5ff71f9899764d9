"""The ruler's power: recovery and detection floor."""

from __future__ import annotations

import math

import pytest

from kilo.evaluation.controls.candles import planted_candles, planted_signal
from kilo.evaluation.controls.power import POWER_MULTIPLE, power_summary
from kilo.evaluation.summary import ICStatistics
from kilo.evaluation.verdict_summary import PowerPoint
from kilo.features import held_log_return
from kilo.metrics import spearman_ic


def point(planted: float, recovered: float, half_width: float = 0.01) -> PowerPoint:
    ci = (recovered - half_width, recovered + half_width)
    return PowerPoint(
        planted_ic=planted,
        ic={"gru": recovered},
        ic_ci95={"gru": ci},
        detected={"gru": ci[0] > 0},
    )


def real(ic: float, se: float = 0.01) -> dict[str, ICStatistics]:
    return {"gru": ICStatistics.model_construct(ic_spearman=ic, ic_se=se)}


def test_recovery_is_the_slope_and_the_floor_follows_the_standard_error() -> None:
    points = [point(0.08, 0.056), point(0.02, 0.014), point(0.05, 0.035)]
    power = power_summary(points, real(0.0), 0.0)
    assert [p.planted_ic for p in power.curve] == [0.02, 0.05, 0.08]
    assert power.recovery["gru"] == pytest.approx(0.7)
    assert power.floor["gru"] == pytest.approx(POWER_MULTIPLE * 0.01 / 0.7)
    assert abs(POWER_MULTIPLE - 2.8016) < 1e-4


def test_the_real_bars_own_ic_is_the_intercept_not_recovery() -> None:
    """Eight-year BTC's GRU had IC +0.066 on the real candles and +0.066 .. +0.089 on
    edges planted at 0.02 .. 0.08: it recovers about 0.3 of a planted edge, not 1.4."""
    points = [point(0.02, 0.066), point(0.03, 0.068), point(0.05, 0.075), point(0.08, 0.089)]
    power = power_summary(points, real(0.0656, se=0.0089), 0.0)
    assert 0.25 < power.recovery["gru"] < 0.35
    assert power.floor["gru"] == pytest.approx(POWER_MULTIPLE * 0.0089 / power.recovery["gru"])


def test_nothing_recovered_means_no_floor() -> None:
    points = [point(0.05, -0.01), point(0.08, -0.02)]
    power = power_summary(points, real(0.0), 0.0)
    assert power.recovery["gru"] < 0 and power.floor["gru"] == math.inf


def test_a_learner_handed_the_planted_signal_recovers_all_of_it(btc_candles) -> None:
    """Planted and recovered in one unit (the held return): the signal itself, scored
    like a regressor on the real and the planted candles, has a recovery of 1."""
    candles, horizon = btc_candles.iloc[-6000:], 12
    planted, achieved = planted_candles(candles, 0.05, horizon)
    own = spearman_ic(planted_signal(candles), held_log_return(candles, horizon).to_numpy())
    found = spearman_ic(planted_signal(planted), held_log_return(planted, horizon).to_numpy())
    assert found == pytest.approx(achieved, abs=1e-9) and achieved == pytest.approx(0.05, abs=1e-4)
    power = power_summary([point(achieved, found)], real(own), own)
    assert power.recovery["gru"] == pytest.approx(1.0, abs=1e-6)

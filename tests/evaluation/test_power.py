"""The ruler's power: recovery, detection floor, and the verdict's three values."""

from __future__ import annotations

import math

import pytest

from kilo.evaluation.power import POWER_MULTIPLE, decide, power_summary, verdict_sentence
from kilo.evaluation.summary import (
    ICStatistics,
    PowerPoint,
    RandomBaseline,
    StrategyResult,
    SymbolSummary,
)


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
    power = power_summary(points, real(0.0))
    assert [p.planted_ic for p in power.curve] == [0.02, 0.05, 0.08]
    assert power.recovery["gru"] == pytest.approx(0.7)
    assert power.floor["gru"] == pytest.approx(POWER_MULTIPLE * 0.01 / 0.7)
    assert abs(POWER_MULTIPLE - 2.8016) < 1e-4


def test_the_real_bars_own_ic_is_the_intercept_not_recovery() -> None:
    """Eight-year BTC's GRU had IC +0.066 on the real candles and +0.066 .. +0.089 on
    edges planted at 0.02 .. 0.08: it recovers about 0.3 of a planted edge, not 1.4."""
    points = [point(0.02, 0.066), point(0.03, 0.068), point(0.05, 0.075), point(0.08, 0.089)]
    power = power_summary(points, real(0.0656, se=0.0089))
    assert 0.25 < power.recovery["gru"] < 0.35
    assert power.floor["gru"] == pytest.approx(POWER_MULTIPLE * 0.0089 / power.recovery["gru"])


def test_nothing_recovered_means_no_floor() -> None:
    points = [point(0.05, -0.01), point(0.08, -0.02)]
    power = power_summary(points, real(0.0))
    assert power.recovery["gru"] < 0 and power.floor["gru"] == math.inf


def summary(ci: tuple[float, float], psr: float, percentile: float) -> SymbolSummary:
    """A summary with only what the verdict reads: one regressor recovering 0.7 with an
    IC standard error of 0.01 (floor 0.040), the blend's PSR and percentile."""
    power = power_summary([point(0.05, 0.035), point(0.08, 0.056)], real(0.0))
    ic = ICStatistics.model_construct(ic_ci95=ci, ic_se=0.01)
    return SymbolSummary.model_construct(
        strategies={
            "blend": StrategyResult.model_construct(psr_vs_buy_and_hold=psr),
            "gru": StrategyResult.model_construct(ic=ic),
        },
        random=RandomBaseline.model_construct(blend_percentile=percentile),
        power=power,
    )


@pytest.mark.parametrize(
    ("ci", "psr", "percentile", "value"),
    [
        ((0.005, 0.045), 0.97, 97.0, "skill"),
        ((0.005, 0.045), 0.60, 97.0, "undecidable"),  # an IC, but no money net of costs
        ((-0.02, 0.02), 0.99, 99.0, "no edge above F"),  # 0.02 / 0.7 < floor 0.040
        ((-0.01, 0.04), 0.50, 50.0, "undecidable"),  # 0.04 / 0.7 > floor: too wide to say
    ],
)
def test_the_verdict_has_three_values(ci, psr, percentile, value) -> None:
    verdict = decide(summary(ci, psr, percentile))
    assert verdict.value == value
    assert verdict.floor == pytest.approx(POWER_MULTIPLE * 0.01 / 0.7)
    assert verdict_sentence(verdict).startswith("Verdict: ")
    if value == "no edge above F":
        assert "F = 0.040" in verdict_sentence(verdict)


def test_without_power_the_verdict_is_undecidable() -> None:
    empty = SymbolSummary.model_construct(strategies={}, random=None, power=None)
    assert decide(empty).value == "undecidable"

"""The two verdicts: forecast (return IC, Holm across regressors and symbols) and trading
(net of costs against buy-and-hold and random paths, with the excess it could detect)."""

from __future__ import annotations

import math

import pytest

from kilo.evaluation.controls.power import POWER_MULTIPLE
from kilo.evaluation.results import across_symbols
from kilo.evaluation.summary import (
    ICStatistics,
    RandomBaseline,
    StrategyResult,
    SymbolSummary,
)
from kilo.evaluation.verdict import (
    DETECT_MULTIPLE,
    decide,
    family_multiple,
    verdict_sentences,
)
from kilo.evaluation.verdict_summary import Power

FLOOR = POWER_MULTIPLE * 0.01 / 0.7


def ic(ci: tuple[float, float], p: float) -> ICStatistics:
    return ICStatistics.model_construct(
        ic_spearman=(ci[0] + ci[1]) / 2, ic_ci95=ci, ic_se=0.01, pvalue_positive=p
    )


def summary(
    ics: dict[str, ICStatistics], psr: float = 0.5, percentile: float = 50.0
) -> SymbolSummary:
    """What the verdicts read: regressors recovering 0.7 with an IC s.e. of 0.01 (floor
    0.040), the blend's PSR, Sharpe s.e. and percentile, buy-and-hold's Sharpe."""
    power = Power(
        curve=[],
        recovery=dict.fromkeys(ics, 0.7),
        floor=dict.fromkeys(ics, FLOOR),
    )
    strategies = {
        "blend": StrategyResult.model_construct(psr_vs_buy_and_hold=psr, sharpe=0.4, sharpe_se=0.5),
        "buy_and_hold": StrategyResult.model_construct(sharpe=1.0),
        **{name: StrategyResult.model_construct(ic=stats) for name, stats in ics.items()},
    }
    return SymbolSummary.model_construct(
        strategies=strategies,
        random=RandomBaseline.model_construct(blend_percentile=percentile),
        power=power,
        bars=30_000,
    )


@pytest.mark.parametrize(
    ("ci", "p", "value"),
    [
        ((0.005, 0.045), 0.001, "skill"),
        ((-0.02, 0.02), 0.5, "no edge above F"),  # 0.02 / 0.7 < floor 0.040
        ((-0.01, 0.04), 0.1, "undecidable"),  # 0.04 / 0.7 > floor: too wide to say
        ((-0.08, -0.04), 1.0, "no edge above F"),  # pointing the wrong way is no skill
    ],
)
def test_the_forecast_verdict_reads_the_return_ic(ci, p, value) -> None:
    verdict = decide(summary({"gru": ic(ci, p)})).forecast
    assert verdict.value == value
    # one test, one-sided: the floor of the power section rescaled from 2.80 to 2.49 s.e.
    assert verdict.floor == pytest.approx(FLOOR * family_multiple(1) / POWER_MULTIPLE)


def test_holm_corrects_across_the_regressors() -> None:
    """0.03 and 0.04 would each pass alone; as a family of two neither does."""
    alone = decide(summary({"gru": ic((0.001, 0.04), 0.03)})).forecast
    assert alone.value == "skill" and alone.family == 1
    both = decide(summary({"gru": ic((0.001, 0.04), 0.03), "lgb": ic((0.0, 0.04), 0.04)}))
    assert both.forecast.value != "skill" and both.forecast.family == 2
    assert both.forecast.adjusted_pvalues["gru"] == pytest.approx(0.06)


def test_the_floor_is_for_the_test_actually_run() -> None:
    """Two tests one-sided at 5 % Holm: the first step at 2.5 %, z 1.96, the power
    section's own multiple; ten tests: z_0.995, a floor 22 % higher."""
    assert family_multiple(2) == pytest.approx(POWER_MULTIPLE)
    assert family_multiple(10) / POWER_MULTIPLE == pytest.approx(1.22, abs=0.005)
    entry = summary({"gru": ic((-0.02, 0.02), 0.5)})
    wide = decide(entry, {"gru": 0.9}, 10).forecast
    assert wide.floor == pytest.approx(FLOOR * family_multiple(10) / POWER_MULTIPLE)
    assert "over 10 test(s)" in wide.reason


def test_holm_corrects_across_symbols() -> None:
    symbols = {s: summary({"gru": ic((0.001, 0.04), 0.03)}) for s in ("A/USDT", "B/USDT")}
    for entry in symbols.values():
        entry.verdict = decide(entry)
        assert entry.verdict.forecast.value == "skill"
    across_symbols(symbols)
    for entry in symbols.values():
        assert entry.verdict is not None
        assert entry.verdict.forecast.value != "skill" and entry.verdict.forecast.family == 2


@pytest.mark.parametrize(
    ("psr", "percentile", "value"),
    [
        (0.97, 97.0, "beats"),
        (0.97, 60.0, "undecidable"),  # beats buy-and-hold, not its own random paths
        (0.03, 60.0, "does not beat"),
        (0.60, 3.0, "does not beat"),
        (0.60, 60.0, "undecidable"),
    ],
)
def test_the_trading_verdict_states_its_power(psr, percentile, value) -> None:
    verdict = decide(summary({"gru": ic((0.005, 0.045), 0.001)}, psr, percentile))
    trading = verdict.trading
    assert trading.value == value
    assert trading.excess_sharpe == pytest.approx(-0.6)
    assert trading.detectable_excess_sharpe == pytest.approx(DETECT_MULTIPLE * 0.5)
    assert abs(DETECT_MULTIPLE - 2.486) < 1e-3
    forecast, trade = verdict_sentences(verdict)
    assert forecast.startswith("Forecast: skill.")  # decided, never folded into the other
    assert trade.startswith(f"Trading: {value}.") and "1.24 (annualised)" in trade


def test_without_power_the_forecast_is_undecidable() -> None:
    empty = summary({})
    empty.power = None
    verdict = decide(empty).forecast
    assert verdict.value == "undecidable" and math.isnan(verdict.floor)

"""The two verdicts of a symbol's evaluation: does it forecast the money, does it trade.

*Forecast* reads each regressor's IC against the held return
(:attr:`~kilo.evaluation.summary.StrategyResult.ic`, DESIGN.md invariant 9), tested
one-sided (IC > 0) with Holm's correction across the regressors, and across the
symbols when several are evaluated together (:func:`forecast_pvalues`,
:func:`kilo.metrics.holm_adjusted`); its power is the detection floor of
:mod:`kilo.evaluation.controls.power` rescaled to that test (:func:`family_multiple`).
*Trading* reads the blend's net Sharpe against buy-and-hold's (probabilistic Sharpe
ratio) and the matched random paths; its power is the smallest excess Sharpe the PSR
test detects 80 % of the time on these bars (the PSR treats buy-and-hold's Sharpe as
known; counting its own sampling error the detectable excess is larger).

A symbol whose forecast is decided is never summed up as plain "undecidable": each
verdict is printed with its own value and power.
"""

from __future__ import annotations

import math
from statistics import NormalDist
from typing import Literal

from kilo.evaluation.controls.power import POWER_MULTIPLE
from kilo.evaluation.strategy_set import BLEND, BUY_AND_HOLD
from kilo.evaluation.summary import ICStatistics, SymbolSummary
from kilo.evaluation.verdict_summary import ForecastVerdict, TradingVerdict, Verdict
from kilo.metrics import holm_adjusted

#: Family-wise error rate of the forecast test.
SKILL_LEVEL = 0.05
#: The blend beats buy-and-hold at 5 % one-sided: its PSR against buy-and-hold's Sharpe.
SKILL_PSR = 0.95
#: The blend beats the matched random baseline at 5 %: its percentile among the paths.
SKILL_PERCENTILE = 95.0
#: Standard errors between 0 and the true excess Sharpe a one-sided 5 % test detects
#: 80 % of the time (``z_0.95 + z_0.80``; normal-approximation power formula).
DETECT_MULTIPLE = NormalDist().inv_cdf(0.95) + NormalDist().inv_cdf(0.80)


def _judged(summary: SymbolSummary) -> dict[str, ICStatistics]:
    """The regressors with a return IC and a detection floor."""
    floors = summary.power.floor if summary.power is not None else {}
    out = {}
    for name in floors:
        ic = summary.strategies[name].ic
        if ic is not None:
            out[name] = ic
    return out


def forecast_pvalues(summary: SymbolSummary) -> dict[str, float]:
    """Each judged regressor's one-sided p-value of a return IC above 0 (unadjusted)."""
    return {name: ic.pvalue_positive for name, ic in _judged(summary).items()}


def family_multiple(family: int) -> float:
    """Standard errors between 0 and the true IC that the forecast test (one-sided at
    :data:`SKILL_LEVEL`, Holm over ``family`` tests) detects 80 % of the time: its first
    step rejects at ``SKILL_LEVEL / family``, so ``z_(1 - 0.05 / family) + z_0.80``
    (2.49 for one test, 2.80 for two, 3.42 for ten)."""
    level = SKILL_LEVEL / max(family, 1)
    return NormalDist().inv_cdf(1 - level) + NormalDist().inv_cdf(0.80)


def forecast_verdict(
    summary: SymbolSummary, adjusted: dict[str, float] | None = None, family: int | None = None
) -> ForecastVerdict:
    """The forecast verdict from the return ICs and the power.

    The detection floor F is the power section's (``(z_0.975 + z_0.8) * se / recovery``,
    :mod:`kilo.evaluation.controls.power`) rescaled to the test actually run, one-sided with Holm
    over ``family`` tests (:func:`family_multiple`), so that an edge of IC F is found 80 %
    of the time by this very test.

    Parameters
    ----------
    adjusted, family
        Holm-adjusted p-values of this symbol's regressors and the size of the family
        they were adjusted in (several symbols); by default the family is this
        symbol's regressors alone.
    """
    power, ics = summary.power, _judged(summary)
    if power is None or not ics:
        return ForecastVerdict(
            value="undecidable",
            floor=math.nan,
            adjusted_pvalues={},
            family=0,
            reason="no regressor was evaluated, so there is no return IC and no power to judge by",
        )
    if adjusted is None:
        adjusted = holm_adjusted(forecast_pvalues(summary))
        family = sum(math.isfinite(p) for p in adjusted.values())
    family = int(family or 0)
    scale = family_multiple(family) / POWER_MULTIPLE
    floors = {n: power.floor[n] * scale for n in ics}
    floor = max(floors.values())
    test = f"one-sided at 5 % after Holm's correction over {family} test(s)"
    skilled = [n for n in ics if adjusted.get(n, math.nan) < SKILL_LEVEL]
    if skilled:
        listed = ", ".join(f"{n} {ics[n].ic_spearman:+.4f} (p {adjusted[n]:.3g})" for n in skilled)
        return ForecastVerdict(
            value="skill",
            floor=floor,
            adjusted_pvalues=adjusted,
            family=family,
            reason=f"the return IC of {listed} is above 0, {test}",
        )
    below = [
        power.recovery[n] > 0 and s.ic_ci95[1] / power.recovery[n] < floors[n]
        for n, s in ics.items()
    ]
    if math.isfinite(floor) and all(below):
        return ForecastVerdict(
            value="no edge above F",
            floor=floor,
            adjusted_pvalues=adjusted,
            family=family,
            reason="every regressor's return-IC interval, in true-IC units, lies below its "
            f"detection floor (F = {floor:.3f} the largest): an edge of IC F or more would "
            f"have been found 80 % of the time by this test ({test}); smaller ones would not",
        )
    return ForecastVerdict(
        value="undecidable",
        floor=floor,
        adjusted_pvalues=adjusted,
        family=family,
        reason=f"no return IC is above 0 ({test}), and not every interval lies below the "
        f"detection floor F = {floor:.3f}",
    )


def trading_verdict(summary: SymbolSummary) -> TradingVerdict:
    """The trading verdict: the blend against buy-and-hold and the random paths, net of
    costs, with the smallest excess Sharpe it could detect (annualised)."""
    blend = summary.strategies[BLEND]
    bh = summary.strategies.get(BUY_AND_HOLD)
    excess = blend.sharpe - bh.sharpe if bh is not None else math.nan
    detectable = DETECT_MULTIPLE * blend.sharpe_se
    percentile = summary.random.blend_percentile if summary.random else math.nan
    power = (
        f"on {summary.bars} bars it could have detected a true excess Sharpe of "
        f"{detectable:.2f} (annualised) with 80 % power"
    )
    psr = blend.psr_vs_buy_and_hold
    value: Literal["beats", "does not beat", "undecidable"]
    if psr >= SKILL_PSR and percentile >= SKILL_PERCENTILE:
        value, why = "beats", "the blend beats buy-and-hold and the random paths"
    elif psr <= 1 - SKILL_PSR or percentile <= 100 - SKILL_PERCENTILE:
        value, why = "does not beat", "buy-and-hold or the random paths beat the blend"
    else:
        value = "undecidable"
        why = "neither the blend nor buy-and-hold and the random paths beat the other at 5 %"
    return TradingVerdict(
        value=value,
        excess_sharpe=excess,
        detectable_excess_sharpe=detectable,
        reason=f"{why} net of costs (PSR against buy-and-hold {psr:.2f}, percentile "
        f"{percentile:.0f}; excess Sharpe {excess:+.2f}); {power}",
    )


def decide(
    summary: SymbolSummary, adjusted: dict[str, float] | None = None, family: int | None = None
) -> Verdict:
    """Both verdicts of ``summary`` (see :func:`forecast_verdict` for the parameters)."""
    return Verdict(
        forecast=forecast_verdict(summary, adjusted, family), trading=trading_verdict(summary)
    )


def verdict_sentences(verdict: Verdict) -> list[str]:
    """``Forecast: <value>. <reason>.`` and ``Trading: <value>. <reason>.``"""
    f, t = verdict.forecast, verdict.trading
    value = f.value.replace("F", f"F = {f.floor:.3f}")
    return [
        f"Forecast: {value}. {f.reason[0].upper()}{f.reason[1:]}.",
        f"Trading: {t.value}. {t.reason[0].upper()}{t.reason[1:]}.",
    ]

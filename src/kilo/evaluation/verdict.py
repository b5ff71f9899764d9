"""The two verdicts of a symbol's evaluation: does it forecast the money, does it trade.

*Forecast* reads each regressor's IC against the held return
(:attr:`~kilo.evaluation.summary.StrategyResult.ic`, DESIGN.md invariant 9), tested
one-sided (IC > 0) with Holm's correction across the regressors, and across the
symbols when several are evaluated together (:func:`forecast_pvalues`,
:func:`kilo.metrics.holm_adjusted`); its power is the detection floor of
:mod:`kilo.evaluation.power`. *Trading* reads the blend's net Sharpe against
buy-and-hold's (probabilistic Sharpe ratio) and the matched random paths; its power is
the smallest excess Sharpe the PSR test detects 80 % of the time on these bars.

A symbol whose forecast is decided is never summed up as plain "undecidable": each
verdict is printed with its own value and power.
"""

from __future__ import annotations

import math
from statistics import NormalDist
from typing import Literal

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


def forecast_verdict(
    summary: SymbolSummary, adjusted: dict[str, float] | None = None, family: int | None = None
) -> ForecastVerdict:
    """The forecast verdict from the return ICs and the power.

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
            pvalues={},
            family=0,
            reason="no regressor was evaluated, so there is no return IC and no power to judge by",
        )
    if adjusted is None:
        adjusted = holm_adjusted(forecast_pvalues(summary))
        family = sum(math.isfinite(p) for p in adjusted.values())
    family = int(family or 0)
    floor = max(power.floor[n] for n in ics)
    skilled = [n for n in ics if adjusted.get(n, math.nan) < SKILL_LEVEL]
    if skilled:
        listed = ", ".join(f"{n} {ics[n].ic_spearman:+.4f} (p {adjusted[n]:.3g})" for n in skilled)
        return ForecastVerdict(
            value="skill",
            floor=floor,
            pvalues=adjusted,
            family=family,
            reason=f"the return IC of {listed} is above 0 at 5 % after Holm's correction "
            f"over {family} test(s)",
        )
    below = [
        power.recovery[n] > 0 and s.ic_ci95[1] / power.recovery[n] < power.floor[n]
        for n, s in ics.items()
    ]
    if math.isfinite(floor) and all(below):
        return ForecastVerdict(
            value="no edge above F",
            floor=floor,
            pvalues=adjusted,
            family=family,
            reason="every regressor's return-IC interval, in true-IC units, lies below the "
            f"detection floor F = {floor:.3f}: an edge of IC F or more would have been seen "
            "80 % of the time; smaller ones would not",
        )
    return ForecastVerdict(
        value="undecidable",
        floor=floor,
        pvalues=adjusted,
        family=family,
        reason="no return IC is above 0 after Holm's correction, and not every interval "
        f"lies below the detection floor F = {floor:.3f}",
    )


def trading_verdict(summary: SymbolSummary) -> TradingVerdict:
    """The trading verdict: the blend against buy-and-hold and the random paths, net of
    costs, with the smallest excess Sharpe it could detect (annualised)."""
    blend = summary.strategies["blend"]
    bh = summary.strategies.get("buy_and_hold")
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

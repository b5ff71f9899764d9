"""What the ruler can see: the planted power curve, the detection floor and the verdict.

A two-sided test at 5 % has 80 % power against a true effect of ``z_0.975 + z_0.80``
(1.96 + 0.84 = 2.80) standard errors (the normal-approximation power formula; e.g.
Cohen, *Statistical Power Analysis*, 1988, ch. 1). The IC the pipeline learns is about
``recovery`` times the true IC of an edge on top of the IC it finds on the real bars
(measured here, on edges planted through features, models and blend), so the smallest
true IC it finds with 80 % power, the detection floor, is ``2.80 * se / recovery``
with se the real IC's moving-block bootstrap standard error.
"""

from __future__ import annotations

import math
from statistics import NormalDist

import numpy as np

from kilo.config import Config
from kilo.evaluation.fold_task import FoldResult
from kilo.evaluation.summary import ICStatistics, Power, PowerPoint, SymbolSummary, Verdict
from kilo.metrics import ic_bootstrap, spearman_ic
from kilo.training.dataset import Dataset
from kilo.training.split import TimeSplit

#: Standard errors between 0 and the true effect a 5 % two-sided test detects 80 % of
#: the time.
POWER_MULTIPLE = NormalDist().inv_cdf(0.975) + NormalDist().inv_cdf(0.80)
#: The blend beats buy-and-hold at 5 %: its PSR against buy-and-hold's Sharpe.
SKILL_PSR = 0.95
#: The blend beats the matched random baseline at 5 %: its percentile among the paths.
SKILL_PERCENTILE = 95.0


def power_point(
    config: Config,
    data: Dataset,
    planted_ic: float,
    folds: list[TimeSplit],
    results: list[FoldResult],
    block: int,
    real: dict[str, float],
) -> PowerPoint:
    """The recovered IC of each regressor on the test folds of a planted data set
    (planted at ``planted_ic``), with its 95 % bootstrap interval; seen when the
    interval's low end is above 0 and above ``real[name]``, the IC the same regressor
    reaches on the real candles (the planted edge comes on top of what is there)."""
    y = np.concatenate([data.target[folds[r.task.fold].test] for r in results])
    ic, ci, detected = {}, {}, {}
    for name in results[0].predictions:
        pred = np.concatenate([r.predictions[name] for r in results])
        boot = ic_bootstrap(pred, y, block, n_boot=config.evaluation.bootstrap, seed=config.seed)
        low, high = (float(v) for v in np.percentile(boot, [2.5, 97.5]))
        ic[name], ci[name] = spearman_ic(pred, y), (low, high)
        detected[name] = low > max(real.get(name, 0.0), 0.0)
    return PowerPoint(planted_ic=planted_ic, ic=ic, ic_ci95=ci, detected=detected)


def power_summary(points: list[PowerPoint], real: dict[str, ICStatistics]) -> Power:
    """The curve in increasing planted IC, each regressor's recovery and detection floor
    (module docstring; inf when the recovery is not positive or the standard error is
    undefined).

    The recovery is the least-squares slope of the recovered IC on the planted IC over
    the curve and the real candles (planted IC 0, the regressor's own IC): the real
    bars' own predictability is the intercept, not part of the recovery.
    """
    curve = sorted(points, key=lambda p: p.planted_ic)
    recovery, floor = {}, {}
    for name, stats in real.items():
        pairs = [(0.0, stats.ic_spearman)] + [
            (p.planted_ic, p.ic[name]) for p in curve if name in p.ic
        ]
        pairs = [(a, b) for a, b in pairs if math.isfinite(b)]
        planted = np.array([a for a, _ in pairs])
        found = np.array([b for _, b in pairs])
        spread = planted - planted.mean() if len(pairs) > 1 else np.zeros(1)
        slope = (
            float(spread @ (found - found.mean()) / (spread @ spread))
            if spread @ spread > 0
            else math.nan
        )
        recovery[name] = slope
        good = slope > 0 and math.isfinite(stats.ic_se)
        floor[name] = POWER_MULTIPLE * stats.ic_se / slope if good else math.inf
    return Power(curve=curve, recovery=recovery, floor=floor)


def decide(summary: SymbolSummary) -> Verdict:
    """The symbol's :class:`~kilo.evaluation.summary.Verdict` from its regressors' IC
    intervals, their power and the blend's results net of costs."""
    power = summary.power
    ics: dict[str, ICStatistics] = {}
    for name in power.floor if power is not None else {}:
        ic = summary.strategies[name].ic
        if ic is not None:
            ics[name] = ic
    if power is None or not ics:
        return Verdict(
            value="undecidable",
            floor=math.nan,
            reason="no regressor was evaluated, so there is no IC and no power to judge by",
        )
    blend = summary.strategies["blend"]
    percentile = summary.random.blend_percentile if summary.random else math.nan
    beats = blend.psr_vs_buy_and_hold >= SKILL_PSR and percentile >= SKILL_PERCENTILE
    significant = [n for n, s in ics.items() if s.ic_ci95[0] > 0]
    floor = max(power.floor[n] for n in ics)
    if significant and beats:
        return Verdict(
            value="skill",
            floor=floor,
            reason=f"the IC interval of {', '.join(significant)} excludes 0 and the blend beats "
            f"buy-and-hold (PSR {blend.psr_vs_buy_and_hold:.2f}) and the random baseline "
            f"(percentile {percentile:.0f}) net of costs",
        )
    below = {
        n: s.ic_ci95[1] / power.recovery[n] < power.floor[n]
        for n, s in ics.items()
        if power.recovery[n] > 0
    }
    if math.isfinite(floor) and len(below) == len(ics) and all(below.values()):
        return Verdict(
            value="no edge above F",
            floor=floor,
            reason=f"every regressor's IC interval, in true-IC units, lies below the "
            f"detection floor F = {floor:.3f}: an edge of IC F or more would have been seen "
            "80 % of the time; smaller ones would not",
        )
    why = (
        f"the IC interval of {', '.join(significant)} excludes 0 but the blend does not beat "
        "buy-and-hold and the random baseline at 5 % net of costs"
        if significant
        else "no IC interval excludes 0, and not every one lies below the detection floor "
        f"F = {floor:.3f}"
    )
    return Verdict(value="undecidable", floor=floor, reason=why)


def verdict_sentence(verdict: Verdict) -> str:
    """``Verdict: <value> (F = <floor>): <reason>.``"""
    value = verdict.value.replace("F", f"F = {verdict.floor:.3f}")
    return f"Verdict: {value}. {verdict.reason[0].upper()}{verdict.reason[1:]}."


def power_lines(power: Power, real: dict[str, ICStatistics]) -> list[str]:
    """Per regressor, one line: the real IC's standard error, the recovery, the floor,
    and each point of the power curve (recovered IC, interval, detected or not)."""
    lines = []
    for name, floor in power.floor.items():
        points = "; ".join(
            f"{p.planted_ic:.3f} -> {p.ic[name]:+.3f} [{p.ic_ci95[name][0]:+.3f}, "
            f"{p.ic_ci95[name][1]:+.3f}] {'seen' if p.detected[name] else 'not seen'}"
            for p in power.curve
            if name in p.ic
        )
        lines.append(
            f"{name:9s} IC s.e. {real[name].ic_se:.4f}, recovers {power.recovery[name]:.2f} of a "
            f"planted IC, detection floor {floor:.3f} (80 % power at 5 %); planted: {points}"
        )
    return lines

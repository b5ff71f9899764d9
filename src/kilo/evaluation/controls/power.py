"""What the ruler can see: the planted power curve and the detection floor.

A two-sided test at 5 % has 80 % power against a true effect of ``z_0.975 + z_0.80``
(1.96 + 0.84 = 2.80) standard errors (the normal-approximation power formula; e.g.
Cohen, *Statistical Power Analysis*, 1988, ch. 1). The IC the pipeline learns is about
``recovery`` times the true IC of an edge on top of the IC it finds on the real bars
(measured here, on edges planted through features, models and blend), so the smallest
true IC it finds with 80 % power, the detection floor, is ``2.80 * se / recovery``
with se the real IC's moving-block bootstrap standard error. Every IC here is measured
against the held return (``Dataset.held_return``), the unit the planted edge is tuned
in (:func:`~kilo.evaluation.controls.candles.planted_candles`), so a learner handed the planted
signal itself recovers 1.
"""

from __future__ import annotations

import math
from statistics import NormalDist

import numpy as np

from kilo.config import Config
from kilo.evaluation.fold_task import FoldResult
from kilo.evaluation.summary import ICStatistics
from kilo.evaluation.verdict_summary import Power, PowerPoint
from kilo.metrics import ic_bootstrap, spearman_ic
from kilo.training.dataset import Dataset
from kilo.training.split import TimeSplit

#: Standard errors between 0 and the true effect a 5 % two-sided test detects 80 % of
#: the time.
POWER_MULTIPLE = NormalDist().inv_cdf(0.975) + NormalDist().inv_cdf(0.80)


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
    y = np.concatenate([data.held_return[folds[r.task.fold].test] for r in results])
    ic, ci, detected = {}, {}, {}
    for name in results[0].predictions:
        pred = np.concatenate([r.predictions[name] for r in results])
        boot = ic_bootstrap(pred, y, block, n_boot=config.evaluation.bootstrap, seed=config.seed)
        low, high = (float(v) for v in np.percentile(boot, [2.5, 97.5]))
        ic[name], ci[name] = spearman_ic(pred, y), (low, high)
        detected[name] = low > max(real.get(name, 0.0), 0.0)
    return PowerPoint(planted_ic=planted_ic, ic=ic, ic_ci95=ci, detected=detected)


def power_summary(
    points: list[PowerPoint], real: dict[str, ICStatistics], signal_ic: float
) -> Power:
    """The curve in increasing planted IC, each regressor's recovery and detection floor
    (module docstring; inf when the recovery is not positive or the standard error is
    undefined).

    The recovery is the least-squares slope of the recovered IC on the planted
    signal's IC over the curve and the real candles. On the real candles the signal
    has its own IC ``signal_ic`` (the plants replace it, they do not add to it) and the
    regressor its own IC: that point anchors the line, so the real bars' own
    predictability is not counted as recovery, and a learner handed the planted signal
    itself recovers exactly 1.
    """
    curve = sorted(points, key=lambda p: p.planted_ic)
    recovery, floor = {}, {}
    for name, stats in real.items():
        pairs = [(signal_ic, stats.ic_spearman)] + [
            (p.planted_ic, p.ic[name]) for p in curve if name in p.ic
        ]
        pairs = [(a, b) for a, b in pairs if math.isfinite(a) and math.isfinite(b)]
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
    return Power(curve=curve, recovery=recovery, floor=floor, signal_ic=signal_ic)


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

"""The typed power and verdicts of one symbol's evaluation, parts of
:class:`~kilo.evaluation.summary.SymbolSummary` (computed by
:mod:`kilo.evaluation.controls.power` and :mod:`kilo.evaluation.verdict`)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from kilo.utils import JsonFloat


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


class PowerPoint(_Model):
    """One planted edge through the whole pipeline: the IC it reached on the rebuilt
    candles, and per regressor the IC recovered on the test folds, its 95 % interval
    and whether that interval lies above 0 and above the regressor's IC on the real
    candles (detected)."""

    planted_ic: float
    ic: dict[str, JsonFloat]
    ic_ci95: dict[str, tuple[JsonFloat, JsonFloat]]
    detected: dict[str, bool]


class Power(_Model):
    """What the ruler can see on this symbol (:mod:`kilo.evaluation.controls.power`).

    ``curve``: the planted points in increasing IC; ``recovery``: per regressor the
    share of a planted IC the pipeline recovers (least-squares slope of recovered on
    planted IC over the curve and the real candles, where the planted signal has its
    own IC ``signal_ic``); ``floor``: per
    regressor the detection floor, the smallest true IC found with 80 % power at 5 %
    two-sided, ``(z_0.975 + z_0.8) * se / recovery``, with se the real IC's bootstrap
    standard error (inf when nothing is recovered).
    """

    curve: list[PowerPoint]
    recovery: dict[str, JsonFloat]
    floor: dict[str, JsonFloat]
    signal_ic: JsonFloat = Field(
        0.0, description="the planted signal's IC with the held return on the real candles"
    )


class ForecastVerdict(_Model):
    """Do the regressors forecast the held return? (:mod:`kilo.evaluation.verdict`)

    ``skill``: a regressor's return IC is above 0 at 5 % after Holm's correction across
    the ``family`` tests (this symbol's regressors, or every evaluated symbol's with
    ``--all``); ``adjusted_pvalues`` holds the Holm-adjusted one-sided p-values. ``no edge
    above F``: every regressor's return-IC interval, in true-IC units, lies below its
    detection floor for this test (the power section's, rescaled to one-sided with Holm
    over ``family``); ``floor`` is F (the largest of the regressors'). ``undecidable``: neither.
    """

    value: Literal["skill", "no edge above F", "undecidable"]
    floor: JsonFloat
    adjusted_pvalues: dict[str, JsonFloat]
    family: int
    reason: str


class TradingVerdict(_Model):
    """Does the blend make money beyond the baselines, net of costs?

    ``beats``: its net Sharpe beats buy-and-hold's (PSR >= 0.95) and the matched random
    paths (95th percentile). ``does not beat``: buy-and-hold's Sharpe or the random
    paths' beat it at 5 % (PSR <= 0.05, or percentile <= 5). ``undecidable``: neither.
    ``detectable_excess_sharpe`` is the smallest true excess Sharpe over buy-and-hold
    (annualised) the PSR test would detect with 80 % power on these bars
    (``(z_0.95 + z_0.80) * se(SR)``); ``excess_sharpe`` the observed one (annualised).
    """

    value: Literal["beats", "does not beat", "undecidable"]
    excess_sharpe: JsonFloat
    detectable_excess_sharpe: JsonFloat
    reason: str


class Verdict(_Model):
    """The evaluation's two answers for one symbol: does it forecast, does it trade."""

    forecast: ForecastVerdict
    trading: TradingVerdict

"""The words and tables the HTML report and the terminal share: strategy columns, IC
lines, and the sentences that say what a control or a count means."""

from __future__ import annotations

import math

import pandas as pd

from kilo.evaluation.cost_summary import CostCurve, StrategyCostCurve
from kilo.evaluation.results import metrics_table
from kilo.evaluation.strategy_set import STRATEGY_ORDER
from kilo.evaluation.summary import (
    HoldoutSummary,
    ICStatistics,
    Planted,
    RandomBaseline,
    SymbolSummary,
    Trials,
)
from kilo.models.kinds import KINDS

REPORT_COLUMNS = [
    "total_log_return",
    "gross_total_log_return",
    "fees_paid",
    "funding_paid",
    "funding_received",
    "sharpe",
    "max_drawdown",
    "n_trades",
    "n_short_trades",
    "turnover",
    "exposure",
    "break_even_cost",
    "psr",
    "psr_vs_buy_and_hold",
    "dsr",
]
#: Table headers that differ from the field names (units in :data:`UNITS_NOTE`).
COLUMN_LABELS = {
    "break_even_cost": "break-even cost /round trip",
    "n_short_trades": "of which short",
}
#: Columns shown only where a strategy paid or received funding (futures).
FUNDING_COLUMNS = ("funding_paid", "funding_received")
#: Columns shown only where a strategy closed a short (futures).
SHORT_COLUMNS = ("n_short_trades",)
#: The strategy table's units, printed under it (terminal and report).
UNITS_NOTE = (
    "Units: total_log_return and gross_total_log_return in log return of equity over the "
    "bars (gross: the same trades before fees, slippage and funding); fees_paid, "
    "funding_paid and funding_received in log return of equity; sharpe annualised (zero "
    "risk-free rate); max_drawdown a fraction of the peak equity; n_trades closed round "
    "trips (of which short: those that closed a short; random: the mean over its paths); "
    "turnover the traded notional over the equity, per year; exposure the share of bars "
    "in a position; psr (against a Sharpe of 0), psr_vs_buy_and_hold and dsr "
    "probabilities. Break-even cost /round trip: the cost of one round trip, in log "
    "return per unit of position (0.003: 0.3 %), at which the closed trades would net "
    "zero; compare it with the venue's fees and slippage for a round trip."
)
PORTFOLIO_COLUMNS = ["total_log_return", "sharpe", "max_drawdown", "turnover", "exposure"]


def strategy_table(entry: SymbolSummary | HoldoutSummary, columns: list[str]) -> pd.DataFrame:
    """:func:`~kilo.evaluation.results.metrics_table` with the :data:`COLUMN_LABELS`;
    the :data:`FUNDING_COLUMNS` only where some strategy paid or received funding, the
    :data:`SHORT_COLUMNS` only where some strategy closed a short."""
    results = entry.strategies.values()
    funded = any(r.funding_paid or r.funding_received for r in results)
    shorted = any(r.n_short_trades for r in results)
    hidden = (*(() if funded else FUNDING_COLUMNS), *(() if shorted else SHORT_COLUMNS))
    shown = [c for c in columns if c not in hidden]
    return metrics_table(entry, shown).rename(columns=COLUMN_LABELS)


def cost_curve_table(curve: CostCurve) -> pd.DataFrame:
    """Strategies (rows) by cost per round trip (columns, in %): ``net total log return
    (Sharpe)`` at each, then the break-even cost (:func:`break_even_text`)."""
    rows = {
        name: {
            **{
                f"{100 * p.cost:.2f} %": f"{number(p.net_total_log_return, '+.3f')} "
                f"({number(p.sharpe, '+.2f')})"
                for p in strategy.points
            },
            "break-even": break_even_text(strategy),
        }
        for name in STRATEGY_ORDER
        if (strategy := curve.strategies.get(name)) is not None
    }
    return pd.DataFrame(rows).T


def break_even_text(strategy: StrategyCostCurve) -> str:
    """The break-even cost in %: ``≤ first`` when the strategy nets nothing even at the
    curve's first cost, ``> last`` when it nets money at every cost."""
    first, last = strategy.points[0], strategy.points[-1]
    if first.net_total_log_return <= 0:
        return f"≤ {100 * first.cost:.3f} %"
    if not math.isfinite(strategy.break_even_cost):
        return f"> {100 * last.cost:.3f} %"
    return f"{100 * strategy.break_even_cost:.3f} %"


def cost_curve_sentence(curve: CostCurve) -> str:
    """What the cost curve's numbers are, and the venue's own cost beside them."""
    return (
        "Cost curve: net total log return (annualised Sharpe) over the test folds at each "
        "cost per round trip (fraction of price: a fee of half the cost a fill, no "
        "slippage; funding as the venue's), every decision re-taken at that cost (the "
        "edge rule's hurdle moves with it); random paths are not traded again. "
        f"The venue's own round trip costs {100 * curve.venue_cost:.3f} %; a strategy "
        "nets money there only if its break-even cost is above it."
    )


def number(value: float | None, digits: str = "+.4f") -> str:
    """``value`` formatted with ``digits``, or ``–`` when it is missing or not finite."""
    return "–" if value is None or not math.isfinite(value) else format(value, digits)


def ic_line(ic: ICStatistics) -> str:
    """``+0.0123 [-0.0100, +0.0300] s.e. 0.0140 (block 87 bars; 24: ..., 168: ..., 504: ...)``"""
    low, high = ic.ic_ci95
    others = ", ".join(f"{b}: {number(se, '.4f')}" for b, se in ic.ic_se_by_block.items())
    return (
        f"{number(ic.ic_spearman)} [{number(low)}, {number(high)}] s.e. {number(ic.ic_se, '.4f')} "
        f"(block {ic.block} bars{'; ' + others if others else ''})"
    )


def planted_sentence(planted: Planted) -> str:
    """One sentence: would Kilo have found an edge of the planted size?"""
    verdict = "detected" if planted.detected else "NOT detected"
    recovered = ", ".join(
        f"{KINDS[name].label if name in KINDS else name} {number(ic, '+.3f')}"
        for name, ic in planted.ic.items()
    )
    return (
        f"A planted edge of IC {planted.planted_ic:.3f} was {verdict}: recovered IC "
        f"{recovered} (needed {planted.needed_ic:.3f}); the blend's net Sharpe "
        f"{number(planted.blend_sharpe, '+.2f')} vs buy-and-hold "
        f"{number(planted.buy_and_hold_sharpe, '+.2f')}."
    )


def trials_sentence(trials: Trials) -> str:
    """Where the N and V of the symbol's deflated Sharpe ratios came from, and the
    benchmark they deflate against."""
    return (
        f"Deflated Sharpe ratios count N = {trials.n} trials, each model strategy that "
        f"traded on the outer folds of a configuration: {trials.this_run} of this run and "
        f"{trials.earlier} of {trials.evaluations} other configurations ({trials.source}); "
        f"V = {number(trials.sharpe_variance, '.3g')} is the variance of their per-bar "
        f"Sharpe ratios. {trials.search_trials} search trials scored inner folds only and "
        f"are not counted. Benchmark: {trials.benchmark}, SR* = "
        f"{number(trials.benchmark_sharpe, '.4f')} per bar."
    )


def holdout_reads(holdout: HoldoutSummary) -> str:
    """How often the holdout has been read, this read included."""
    if holdout.reads is None:
        return "reads not counted: tracking is off"
    return f"read {holdout.reads} time{'s' if holdout.reads != 1 else ''}, this read included"


def random_sentence(random: RandomBaseline) -> str:
    """The blend against its matched random paths, or that it did not trade."""
    if not math.isfinite(random.blend_percentile):
        return (
            f"The blend did not trade, so it cannot be ranked among {random.draws} random "
            "paths of its own spells."
        )
    return (
        f"The blend's net Sharpe is at the {random.blend_percentile:.0f}th percentile of "
        f"{random.draws} random paths with its own spells (same exposure and turnover)."
    )

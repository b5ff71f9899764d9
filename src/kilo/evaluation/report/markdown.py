"""The README's Results tables, written from a ``summary.json`` (``scripts/results.py``):
no number in them is typed by hand.

Two tables: the forecasts (each regressor's IC against the held return, beside the
label's, with its power) and the money (the blend against buy-and-hold and the random
paths, net of costs, on the folds and on the holdout), each symbol with its two verdicts.
"""

from __future__ import annotations

import math

import numpy as np

from kilo.evaluation.controls.power import power_summary
from kilo.evaluation.report.text import number
from kilo.evaluation.strategy_set import BLEND, BUY_AND_HOLD
from kilo.evaluation.summary import EvaluationSummary, ICStatistics, SymbolSummary


def _ic(ic: ICStatistics | None) -> str:
    if ic is None:
        return "–"
    low, high = ic.ic_ci95
    return f"{number(ic.ic_spearman)} [{number(low)}, {number(high)}]"


def _se(ic: ICStatistics) -> str:
    others = " / ".join(number(ic.ic_se_by_block.get(b), ".4f") for b in (24, 168, 504))
    return f"{number(ic.ic_se, '.4f')} ({ic.block}; {others})"


def floors(entry: SymbolSummary) -> dict[str, tuple[float, float]]:
    """Per regressor, the detection floor from the real and planted points alone, and
    from the whole curve (the same number when the curve has one planted point).

    Raises
    ------
    ValueError
        If the symbol has no power section.
    """
    power = entry.power
    if power is None:
        raise ValueError("no power: the summary's regressors were not evaluated")
    real = {name: ic for name, ic, _ in entry.regressors()}
    planted = entry.controls.planted
    two = [p for p in power.curve if planted is not None and p.planted_ic == planted.planted_ic]
    short = power_summary(two, real, power.signal_ic) if two else power
    return {name: (short.floor[name], power.floor[name]) for name in power.floor}


def forecast_table(summary: EvaluationSummary) -> str:
    """Markdown: per symbol and regressor, the return IC (Spearman, over the folds' test
    rows together) with its interval, the mean of its per-fold ICs, the Pearson IC, the
    standard error (block; at 24 / 168 / 504 bars), Holm-adjusted p, the label IC,
    recovery and the power section's floors, and the forecast verdict with its F (the
    floor rescaled to the test run)."""
    rows = [
        "| symbol | regressor | return IC [95 % CI] | mean of folds | Pearson "
        "| s.e. (block; 24 / 168 / 504 bars) | Holm p (IC > 0) | label IC [95 % CI] "
        "| recovery | floor (2 points / curve) | forecast verdict (F) |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for symbol, entry in summary.symbols.items():
        if entry.power is None or entry.verdict is None:
            continue
        both = floors(entry)
        verdict = entry.verdict.forecast
        for name, ic, _ in entry.regressors():
            short, curve = both[name]
            rows.append(
                f"| {symbol} | {name} | {_ic(ic)} | {number(float(np.mean(ic.ic_by_fold)))} "
                f"| {number(ic.ic_pearson)} | {_se(ic)} "
                f"| {number(verdict.adjusted_pvalues.get(name, math.nan), '.3g')} "
                f"| {_ic(entry.strategies[name].label_ic)} "
                f"| {number(entry.power.recovery[name], '.2f')} "
                f"| {number(short, '.3f')} / {number(curve, '.3f')} "
                f"| {verdict.value} ({number(verdict.floor, '.3f')}) |"
            )
    return "\n".join(rows)


def trading_table(summary: EvaluationSummary) -> str:
    """Markdown: per symbol, the blend's and buy-and-hold's net Sharpe, the excess and the
    excess detectable with 80 % power, the random paths' percentile, the blend's net and
    gross log return, break-even cost per round trip (price units), round trips, DSR
    with its N, the trading verdict, and the holdout's blend and buy-and-hold."""
    rows = [
        "| symbol | bars | blend Sharpe | buy-and-hold Sharpe | excess (detectable) "
        "| random percentile | blend log return net / gross | break-even cost "
        "| round trips | DSR (N) | trading verdict | holdout: blend / buy-and-hold "
        "log return (reads) |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for symbol, entry in summary.symbols.items():
        blend, bh = entry.strategies[BLEND], entry.strategies[BUY_AND_HOLD]
        trading = entry.verdict.trading if entry.verdict else None
        percentile = entry.random.blend_percentile if entry.random else math.nan
        held = entry.holdout
        holdout = (
            f"{number(held.strategies['blend'].total_log_return, '+.3f')} / "
            f"{number(held.strategies['buy_and_hold'].total_log_return, '+.3f')} "
            f"({held.reads if held.reads is not None else 'not counted'})"
            if held is not None
            else "–"
        )
        rows.append(
            f"| {symbol} | {entry.bars} | {number(blend.sharpe, '+.2f')} "
            f"| {number(bh.sharpe, '+.2f')} "
            f"| {number(trading.excess_sharpe if trading else math.nan, '+.2f')} "
            f"({number(trading.detectable_excess_sharpe if trading else math.nan, '.2f')}) "
            f"| {number(percentile, '.0f')} "
            f"| {number(blend.total_log_return, '+.3f')} / "
            f"{number(blend.gross_total_log_return, '+.3f')} "
            f"| {number(100 * blend.break_even_cost, '+.3f')} % "
            f"| {number(blend.n_trades, '.0f')} "
            f"| {number(blend.dsr, '.2f')} ({entry.trials.n if entry.trials else '–'}) "
            f"| {trading.value if trading else '–'} | {holdout} |"
        )
    return "\n".join(rows)


def results_markdown(summary: EvaluationSummary) -> str:
    """Both tables, each under a heading line."""
    return (
        "Forecasts: IC against the held return (the money), beside the label's\n\n"
        + forecast_table(summary)
        + "\n\nThe blend, net of costs\n\n"
        + trading_table(summary)
        + "\n"
    )

"""What ``evaluate.py`` prints: per symbol its strategies, IC and controls; the portfolio."""

from __future__ import annotations

import pandas as pd

from kilo.evaluation.controls.power import power_lines
from kilo.evaluation.report.text import (
    PORTFOLIO_COLUMNS,
    REPORT_COLUMNS,
    UNITS_NOTE,
    cost_curve_sentence,
    cost_curve_table,
    holdout_reads,
    ic_line,
    planted_sentence,
    random_sentence,
    strategy_table,
    trials_sentence,
)
from kilo.evaluation.summary import (
    EvaluationSummary,
    PooledComparison,
    PortfolioSummary,
    SymbolSummary,
)
from kilo.evaluation.verdict import verdict_sentences

#: The terminal table leaves out PSR against 0 (the report has it).
COLUMNS = [c for c in REPORT_COLUMNS if c != "psr"]


def print_symbol(symbol: str, entry: SymbolSummary) -> None:
    """The terminal summary of one symbol: strategies, IC with interval, controls."""
    print(f"\n{symbol}  ({entry.bars} out-of-sample bars)")
    if entry.verdict is not None:
        print("\n".join(verdict_sentences(entry.verdict)))
    for model, ic, placebo in entry.regressors():
        label = entry.strategies[model].label_ic
        flag = "  LEAK? above the placebo's 99 % band" if placebo.flagged else ""
        print(
            f"{model:9s} return IC {ic_line(ic)}  p(IC>0) {ic.pvalue_positive:.3g}  HAC t "
            f"{ic.ic_tstat_hac:+.2f}  placebo {placebo.ic_spearman:+.4f} "
            f"(band ±{placebo.null_band99:.4f}){flag}"
            + (f"\n{'':9s} label IC  {ic_line(label)}" if label is not None else "")
        )
    print(strategy_table(entry, COLUMNS).to_string())
    print(UNITS_NOTE)
    if entry.cost_curve is not None:
        print(cost_curve_sentence(entry.cost_curve))
        print(cost_curve_table(entry.cost_curve).to_string())
    if entry.random is not None:
        print(random_sentence(entry.random))
    if entry.trials is not None:
        print(trials_sentence(entry.trials))
    if entry.controls.planted is not None:
        print(planted_sentence(entry.controls.planted))
    if entry.power is not None:
        print("\n".join(power_lines(entry.power, {m: ic for m, ic, _ in entry.regressors()})))
    if entry.holdout is not None:
        h = entry.holdout
        print(
            f"\n{symbol} HOLDOUT, the final verdict ({h.bars} bars, "
            f"{h.window.test_start:%Y-%m-%d} .. {h.window.test_end:%Y-%m-%d}, {holdout_reads(h)})"
        )
        print(strategy_table(h, COLUMNS).to_string())
        if h.random is not None:
            print(random_sentence(h.random))


def print_portfolio(portfolio: PortfolioSummary) -> None:
    """The portfolio walk-forward: strategies, risk events, worst day, breaker time."""
    table = pd.DataFrame({n: m.model_dump() for n, m in portfolio.strategies.items()}).T
    print(f"\nportfolio ({portfolio.bars} bars, all symbols traded together)")
    print(table[PORTFOLIO_COLUMNS].to_string(float_format=lambda v: f"{v:.4g}"))
    print(
        f"risk events: {portfolio.risk_events or 'none'}; worst day "
        f"{portfolio.worst_day.date} ({portfolio.worst_day.log_return:+.4f}); "
        f"{portfolio.cooldown_bars} bars in the drawdown breaker's cooldown"
    )


def pooled_lines(comparison: PooledComparison) -> list[str]:
    """The comparison as text: per regressor and fit, the panel IC with its interval,
    the floor, the placebo, then each symbol's IC and floor."""
    c = comparison
    lines = [
        f"pooled comparison: {len(c.members)} members, scored {', '.join(c.symbols)}, "
        f"{len(c.folds)} folds, labels demeaned: {c.demean}, planted IC {c.planted_ic:.3f}"
    ]
    for fit, by_model in c.fits.items():
        for name, f in by_model.items():
            lo, hi = f.panel.ic_ci95
            flag = "FLAGGED" if f.placebo_flagged else "ok"
            lines.append(
                f"{fit:6s} {name:8s} panel IC {f.panel.ic_spearman:+.4f} [{lo:+.4f}, {hi:+.4f}] "
                f"s.e. {f.panel.ic_se:.4f}, recovery {f.recovery:.2f}, floor {f.floor:.3f}; "
                f"placebo {f.placebo.ic_spearman:+.4f} ({flag})"
            )
            for s, stats in f.symbols.items():
                lo, hi = stats.ic_ci95
                lines.append(
                    f"{'':16s}{s:10s} IC {stats.ic_spearman:+.4f} [{lo:+.4f}, {hi:+.4f}] "
                    f"floor {f.symbol_floors[s]:.3f}"
                )
    return lines


def print_summary(summary: EvaluationSummary) -> None:
    """Everything above for a whole evaluation, the PPO budget first when PPO was
    trained (the pooled comparison alone when there is one)."""
    if summary.pooled is not None:
        print("\n" + "\n".join(pooled_lines(summary.pooled)))
        return
    if summary.ppo_timesteps:
        print(f"\nPPO trained {summary.ppo_timesteps} timesteps per fold")
    for symbol, entry in summary.symbols.items():
        print_symbol(symbol, entry)
    if summary.portfolio is not None:
        print_portfolio(summary.portfolio)

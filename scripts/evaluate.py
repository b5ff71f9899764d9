#!/usr/bin/env python
"""Walk-forward evaluation of the models, their blend and baselines, after costs."""

from __future__ import annotations

import sys
from pathlib import Path

import pandas as pd

from kilo.cli import (
    add_symbol_choice,
    chosen_symbols,
    common_parser,
    config_from_args,
    positive_int,
)
from kilo.errors import KiloError
from kilo.evaluation.report import (
    PORTFOLIO_COLUMNS,
    REPORT_COLUMNS,
    planted_sentence,
    random_sentence,
)
from kilo.evaluation.results import metrics_table
from kilo.evaluation.run import run_evaluation
from kilo.evaluation.summary import PortfolioSummary, SymbolSummary

COLUMNS = [c for c in REPORT_COLUMNS if c != "psr"]


def print_symbol(symbol: str, entry: SymbolSummary) -> None:
    """The terminal summary of one symbol: strategies, IC with interval, controls."""
    print(f"\n{symbol}  ({entry.bars} out-of-sample bars)")
    print(metrics_table(entry, COLUMNS).to_string())
    if entry.random is not None:
        print(random_sentence(entry.random))
    for model, placebo in entry.controls.placebo.models.items():
        ic = entry.strategies[model].ic
        if ic is None:
            continue
        low, high = ic.ic_ci95
        flag = "  LEAK? above the placebo's 99 % band" if placebo.flagged else ""
        print(
            f"{model:9s} IC {ic.ic_spearman:+.4f} [{low:+.4f}, {high:+.4f}]  HAC t "
            f"{ic.ic_tstat_hac:+.2f}  perm p {ic.ic_pvalue_perm:.3f}  placebo IC "
            f"{placebo.ic_spearman:+.4f} (band ±{placebo.null_band99:.4f})" + flag
        )
    print(planted_sentence(entry.controls.planted))


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


def main(argv: list[str] | None = None) -> int:
    parser = common_parser(
        "Walk-forward evaluation: for each fold, train a model set on the bars before it "
        "(embargo included) and trade the fold's bars through the paper trader's blend, "
        "rule and broker code; compare the GRU, LightGBM, PPO and blend with buy-and-hold, "
        "flat, momentum and random paths of the blend's own spells on the same bars, net "
        "of fees and slippage. IC with block-bootstrap interval, HAC t and permutation p; "
        "controls: placebo candles (leak detector), a planted edge (power), lead/lag IC. "
        "Writes report.html (+ plotly.min.js), summary.json and equity.png."
    )
    add_symbol_choice(parser, "evaluate")
    parser.add_argument("--folds", type=positive_int, help="test folds (default: evaluation.folds)")
    parser.add_argument(
        "--seeds",
        type=positive_int,
        default=1,
        help="repeat with this many seeds and report mean ± std",
    )
    parser.add_argument(
        "--report-dir", type=Path, help="folder for reports (default: evaluation.report_dir)"
    )
    parser.add_argument(
        "--jobs",
        type=positive_int,
        help="worker processes for folds and controls "
        "(default: evaluation.jobs, or every CPU core)",
    )
    parser.add_argument(
        "--portfolio",
        action="store_true",
        help="also trade the symbols together through the trader, risk rules "
        "and broker, against equal-weight baselines (summary.json: portfolio)",
    )
    parser.add_argument(
        "--backend",
        choices=["joblib", "ray"],
        help="joblib: local processes; ray: Ray tasks on training.ray_address or "
        "a local cluster (pip install -r requirements-ray.txt); default "
        "training.backend",
    )
    parser.add_argument("--no-progress", action="store_true", help="hide progress bars")
    args = parser.parse_args(argv)
    if args.folds is not None:
        args.overrides.append(f"evaluation.folds={args.folds}")
    try:
        config = config_from_args(args)
    except KiloError as exc:
        parser.error(str(exc))
    symbols = chosen_symbols(args, config)
    summary, paths, failures = run_evaluation(
        config,
        symbols,
        seeds=args.seeds,
        report_dir=args.report_dir,
        progress=not args.no_progress,
        jobs=args.jobs,
        backend=args.backend,
        portfolio=args.portfolio,
    )
    if summary is not None:
        print(f"\nPPO trained {summary.ppo_timesteps} timesteps per fold")
        for symbol, entry in summary.symbols.items():
            print_symbol(symbol, entry)
        if summary.portfolio is not None:
            print_portfolio(summary.portfolio)
    for symbol, error in failures.items():
        print(f"{symbol}: FAILED: {error}", file=sys.stderr)
    for kind, path in paths.items():
        print(f"{kind}: {path}")
    return 1 if failures or summary is None else 0


if __name__ == "__main__":
    sys.exit(main())

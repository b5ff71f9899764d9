#!/usr/bin/env python
"""Walk-forward evaluation of the models, their blend and baselines, after costs."""

from __future__ import annotations

import sys
from pathlib import Path

import pandas as pd

from kilo.cli import add_symbol_choice, chosen_symbols, common_parser, config_from_args
from kilo.errors import KiloError
from kilo.evaluation.report import PORTFOLIO_COLUMNS, REPORT_COLUMNS, planted_sentence
from kilo.evaluation.results import metrics_table
from kilo.evaluation.run import run_evaluation

COLUMNS = [c for c in REPORT_COLUMNS if c != "psr"]


def print_symbol(summary: dict, symbol: str) -> None:
    """The terminal summary of one symbol: strategies, IC with interval, controls."""
    entry = summary[symbol]
    print(f"\n{symbol}  ({entry['bars']} out-of-sample bars)")
    print(metrics_table(summary, symbol, COLUMNS).to_string())
    random = entry["strategies"].get("random")
    if random:
        print(
            f"blend net Sharpe percentile among {random['draws']} matched random paths: "
            f"{random['blend_percentile']:.0f}"
        )
    placebo = entry["controls"]["placebo"]
    for model in ("gru", "lightgbm"):
        s = entry["strategies"][model]
        low, high = s["ic_ci95"]
        flag = "  LEAK? above the placebo's 99 % band" if placebo[model]["flagged"] else ""
        print(
            f"{model:9s} IC {s['ic_spearman']:+.4f} [{low:+.4f}, {high:+.4f}]  HAC t "
            f"{s['ic_tstat_hac']:+.2f}  perm p {s['ic_pvalue_perm']:.3f}  placebo IC "
            f"{placebo[model]['ic_spearman']:+.4f} (band ±{placebo[model]['null_band99']:.4f})"
            + flag
        )
    print(planted_sentence(entry["controls"]["planted"]))


def print_portfolio(portfolio: dict) -> None:
    """The portfolio walk-forward: strategies, risk events, worst day, breaker time."""
    table = pd.DataFrame(portfolio["strategies"]).T
    print(f"\nportfolio ({portfolio['bars']} bars, all symbols traded together)")
    print(
        table[[c for c in PORTFOLIO_COLUMNS if c in table.columns]].to_string(
            float_format=lambda v: f"{v:.4g}"
        )
    )
    print(
        f"risk events: {portfolio['risk_events'] or 'none'}; worst day "
        f"{portfolio['worst_day']['date']} ({portfolio['worst_day']['log_return']:+.4f}); "
        f"{portfolio['cooldown_bars']} bars in the drawdown breaker's cooldown"
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
    parser.add_argument("--folds", type=int, help="test folds (default: evaluation.folds)")
    parser.add_argument(
        "--seeds", type=int, default=1, help="repeat with this many seeds and report mean ± std"
    )
    parser.add_argument(
        "--report-dir", type=Path, help="folder for reports (default: evaluation.report_dir)"
    )
    parser.add_argument(
        "--jobs",
        type=int,
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
    if args.seeds < 1:
        parser.error("--seeds must be at least 1")
    if args.jobs is not None and args.jobs < 1:
        parser.error("--jobs must be at least 1")
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
    for symbol in summary:
        if symbol != "portfolio":
            print_symbol(summary, symbol)
    if "portfolio" in summary:
        print_portfolio(summary["portfolio"])
    for symbol, error in failures.items():
        print(f"{symbol}: FAILED: {error}", file=sys.stderr)
    for kind, path in paths.items():
        print(f"{kind}: {path}")
    return 1 if failures or not summary else 0


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/env python
"""Walk-forward evaluation of the models, their blend and baselines, after costs."""

from __future__ import annotations

import sys
from pathlib import Path

from kilo.cli import add_symbol_choice, chosen_symbols, common_parser, config_from_args
from kilo.errors import KiloError
from kilo.evaluation.report import metrics_table
from kilo.evaluation.run import run_evaluation

COLUMNS = ["total_log_return", "sharpe", "max_drawdown", "n_trades", "turnover", "exposure", "psr"]


def main(argv: list[str] | None = None) -> int:
    parser = common_parser(
        "Walk-forward evaluation: for each fold, train a model set on the bars before it "
        "(embargo included) and trade the fold's bars through the paper trader's blend, "
        "risk and broker code; compare the GRU, LightGBM, PPO and blend with buy-and-hold, "
        "flat, momentum and a random policy on the same bars, net of fees and slippage. "
        "Writes report.html, summary.json and equity.png."
    )
    add_symbol_choice(parser, "evaluate")
    parser.add_argument("--folds", type=int, help="test folds (default: evaluation.folds)")
    parser.add_argument("--seeds", type=int, default=1,
                        help="repeat with this many seeds and report mean ± std")
    parser.add_argument("--report-dir", type=Path,
                        help="folder for reports (default: evaluation.report_dir)")
    parser.add_argument("--no-progress", action="store_true", help="hide progress bars")
    args = parser.parse_args(argv)
    if args.folds is not None:
        args.overrides.append(f"evaluation.folds={args.folds}")
    if args.seeds < 1:
        parser.error("--seeds must be at least 1")
    try:
        config = config_from_args(args)
    except KiloError as exc:
        parser.error(str(exc))
    symbols = chosen_symbols(args, config)
    summary, paths, failures = run_evaluation(config, symbols, seeds=args.seeds,
                                              report_dir=args.report_dir,
                                              progress=not args.no_progress)
    for symbol in summary:
        table = metrics_table(summary, symbol)
        print(f"\n{symbol}  ({summary[symbol]['bars']} out-of-sample bars)")
        print(table[[c for c in COLUMNS if c in table.columns]].to_string())
        st = summary[symbol]["controls"]["shuffled_target"]
        print("IC (Spearman) real vs shuffled-target control: "
              + ", ".join(f"{m} {v['real_ic_spearman']:+.4f} vs {v['ic_spearman']:+.4f}"
                          for m, v in st.items()))
    for symbol, error in failures.items():
        print(f"{symbol}: FAILED: {error}", file=sys.stderr)
    for kind, path in paths.items():
        print(f"{kind}: {path}")
    return 1 if failures or not summary else 0


if __name__ == "__main__":
    sys.exit(main())

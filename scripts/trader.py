#!/usr/bin/env python
"""Paper-trade every configured symbol's latest model set on replayed or live candles."""

from __future__ import annotations

import sys
from pathlib import Path

import pandas as pd

from kilo.cli import add_symbol_option, common_parser, config_default, config_from_args
from kilo.errors import KiloError


def main(argv: list[str] | None = None) -> int:
    parser = common_parser(
        "Load the LATEST model set of each symbol, blend GRU, LightGBM and PPO into one "
        "score per bar, and paper-trade it with fees, slippage and the risk rules. Every "
        "iteration is recorded in a SQLite ledger; a restart resumes where the last run "
        "stopped. SIGINT or SIGTERM stop it cleanly (exit 0). Each bar prints a line: "
        "'2025-12-03 22:00  equity 10,012.34  BTC/USDT +0.123 L  ETH/USDT -0.050 .', with "
        "equity in the quote currency and, per symbol, the blended score in [-1, 1] (above "
        "0 leans long) and the position after the bar (L long, . flat)."
    )
    parser.add_argument(
        "--iterations",
        type=int,
        help="bars to trade (live: polls, one per --interval); 0 runs until "
        "SIGINT or SIGTERM (default: 100 in replay, 0 live)",
    )
    parser.add_argument(
        "--pace",
        type=float,
        default=0.0,
        help="replay: seconds to sleep between iterations (default: 0)",
    )
    parser.add_argument(
        "--metrics-port",
        type=int,
        help="serve /metrics (Prometheus) and /health on this port "
        f"(default: {config_default('monitoring.port')}, off)",
    )
    add_symbol_option(parser, "trade")
    parser.add_argument(
        "--source",
        choices=["replay", "live"],
        default="replay",
        help="replay local candles, or poll the exchange (needs internet)",
    )
    parser.add_argument(
        "--start",
        type=lambda s: pd.Timestamp(s, tz="UTC"),
        help="replay: first bar (UTC) (default: the first bar the model sets never "
        "trained, early-stopped or were selected on)",
    )
    parser.add_argument(
        "--interval", type=float, help="live: seconds between polls (default: one timeframe)"
    )
    parser.add_argument(
        "--state",
        type=Path,
        help=f"SQLite ledger file (default: {config_default('trading.ledger_path')})",
    )
    parser.add_argument(
        "--fresh",
        action="store_true",
        help="start over: the old ledger is first copied beside it, "
        "<name>.<UTC time>.sqlite (the path is printed), then emptied",
    )
    parser.add_argument(
        "--strict",
        action="store_true",
        help="fail if any symbol lacks a usable model set instead of skipping it",
    )
    args = parser.parse_args(argv)
    from kilo.trading.report import format_summary, iteration_line  # heavy: after the arguments
    from kilo.trading.session import SessionOptions, run_session

    try:
        config = config_from_args(args)
        iterations = (
            args.iterations
            if args.iterations is not None
            else (0 if args.source == "live" else 100)
        )
        options = SessionOptions(
            iterations,
            tuple(args.symbol or ()),
            args.source,
            args.start,
            args.interval,
            args.state,
            args.fresh,
            args.strict,
            args.pace,
            args.metrics_port,
        )
        ledger = run_session(
            config, options, on_iteration=lambda r: print(iteration_line(r), flush=True)
        )
    except KiloError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(format_summary(ledger))
    if ledger.archived is not None:
        print(f"the previous ledger (--fresh) is kept as {ledger.archived}")
    ledger.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())

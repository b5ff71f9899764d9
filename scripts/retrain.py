#!/usr/bin/env python
"""Retrain challengers and promote them only when they hold up out of sample."""

from __future__ import annotations

import sys

import pandas as pd

from kilo.cli import (
    add_symbol_choice,
    chosen_symbols,
    common_parser,
    config_default,
    config_from_args,
)
from kilo.errors import KiloError


def main(argv: list[str] | None = None) -> int:
    parser = common_parser(
        "For each symbol: refresh its candles (when online), train a challenger model set, "
        "compare its blended net Sharpe with the champion's on the latest out-of-sample "
        "bars, and move LATEST only if it is not worse by more than retrain.sharpe_margin "
        "and its PPO policy did not collapse. Decisions go to retrain.log_path (JSON lines) "
        "and the ledger database (trading.ledger_path)."
    )
    add_symbol_choice(parser, "retrain")
    when = parser.add_mutually_exclusive_group()
    when.add_argument("--once", action="store_true", help="one pass, for cron or a systemd timer")
    when.add_argument(
        "--every",
        nargs="?",
        const="",
        metavar="DURATION",
        help="run in-process every DURATION, e.g. 24h or 6h (no value: "
        f"{config_default('retrain.every')})",
    )
    parser.add_argument(
        "--on-drift",
        action="store_true",
        help="train a challenger only for the symbols whose trader measures drift (the "
        "ledger's latest drift row: drift.psi_threshold on more than drift.feature_share "
        "of the features, or the live IC below its validation interval for drift.ic_bars "
        "bars); with --once one check, with --every a check every DURATION, alone a "
        "check every drift.poll",
    )
    parser.add_argument("--offline", action="store_true", help="do not download candles first")
    args = parser.parse_args(argv)
    if not (args.once or args.every is not None or args.on_drift):
        parser.error("one of --once, --every or --on-drift is required")
    from kilo.retrain import drift_pass, retrain_pass, run_every  # heavy: after the arguments

    try:
        config = config_from_args(args)
        every = pd.Timedelta(args.every or config.retrain.every) if args.every is not None else None
        if args.on_drift and not args.once and every is None:
            every = pd.Timedelta(config.drift.poll)
    except (KiloError, ValueError) as exc:
        parser.error(str(exc))
    symbols = chosen_symbols(args, config)
    refresh = False if args.offline else None
    run_pass = drift_pass if args.on_drift else retrain_pass

    def one_pass() -> None:
        decisions = run_pass(config, symbols, refresh=refresh)
        for d in decisions:
            verdict = "PROMOTED" if d.promoted else "kept champion"
            print(f"{d.symbol}: {verdict}: {d.reason}", flush=True)
        if args.on_drift and not decisions:
            print("no drift: no challenger trained", flush=True)

    if every is None:
        one_pass()
    else:
        run_every(one_pass, every)
    return 0


if __name__ == "__main__":
    sys.exit(main())

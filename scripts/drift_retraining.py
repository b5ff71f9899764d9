#!/usr/bin/env python
"""Drift-triggered against scheduled retraining, replayed through the paper trader."""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

import pandas as pd

from kilo.cli import add_symbol_choice, chosen_symbols, common_parser, config_from_args
from kilo.errors import KiloError


def main(argv: list[str] | None = None) -> int:
    parser = common_parser(
        "Per symbol: train a model set on the candles before --start, then replay --start "
        "to data.end (exclusive; set it with --set data.end=...) through the paper trader "
        "with drift measured, once per arm, each arm from its own copy of that set: 'drift' "
        "trains a new set on the candles up to a bar whenever the drift rule fires there "
        "(the rule retrain.py --on-drift acts on) and trades it from the next bar; "
        "'schedule' retrains as many times at evenly spaced dates; 'never' keeps the first "
        "set. Prints a Markdown table per arm (net log return of the equity, annualised "
        "net Sharpe with its Mertens standard error, round trips, the blend score's IC "
        "against the held return, buy-and-hold, minutes) and the paired Sharpe differences "
        "with their block-bootstrap standard errors, and the dates each arm retrained at. "
        "The replays run one at a time.",
        models=False,
    )
    add_symbol_choice(parser, "replay")
    parser.add_argument(
        "--start",
        type=lambda s: pd.Timestamp(s, tz="UTC"),
        required=True,
        help="first bar replayed (UTC); the initial set is trained on the candles before it",
    )
    parser.add_argument(
        "--arms",
        nargs="+",
        choices=["drift", "schedule", "never"],
        default=["drift", "schedule", "never"],
        help="arms to replay, in this order; schedule needs drift before it or --retrainings",
    )
    parser.add_argument(
        "--retrainings",
        type=int,
        help="retrainings of the schedule arm (default: as many as the drift arm made)",
    )
    parser.add_argument(
        "--min-spacing",
        type=pd.Timedelta,
        default=pd.Timedelta("7D"),
        help="drift arm: least time between retrainings, and from --start to the first "
        "(a pandas Timedelta, e.g. 7D or 168h)",
    )
    parser.add_argument(
        "--block",
        type=int,
        default=168,
        help="bars per block of the bootstrap of the Sharpe differences",
    )
    parser.add_argument(
        "--work-dir",
        type=Path,
        help="folder for the model sets and ledgers, one sub-folder per symbol and arm "
        "(default: a new temporary folder, printed; kept)",
    )
    parser.add_argument("--out", type=Path, help="JSON file of the results (default: none)")
    args = parser.parse_args(argv)
    from kilo.cli.drift_retraining import compare_arms, results_table, write_results

    try:
        config = config_from_args(args)
    except KiloError as exc:
        parser.error(str(exc))
    if config.data.end is None:
        parser.error("set the replay's end: --set data.end=YYYY-MM-DD (exclusive)")
    work = args.work_dir or Path(tempfile.mkdtemp(prefix="drift-retraining-"))
    print(f"model sets and ledgers in {work}", flush=True)
    results = []
    try:
        for symbol in chosen_symbols(args, config):
            arms, minutes = compare_arms(
                config,
                symbol,
                args.start,
                work / symbol.replace("/", "_"),
                min_spacing=args.min_spacing,
                arms=args.arms,
                retrainings=args.retrainings,
            )
            print(f"{symbol}: initial set trained in {minutes:.2f} min (0: reused)", flush=True)
            results += arms
    except (KiloError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(results_table(results, args.block, config.data.bars_per_year))
    for r in results:
        for t in r.retrainings:
            when = f"{t.bar_time:%Y-%m-%d %H:%M}"
            print(f"{r.symbol} {r.arm}: {when} ({t.trigger}), {t.seconds:.0f} s")
    if args.out:
        print(f"results: {write_results(results, args.out)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/env python
"""When the drift rule would have fired in a ledger's replay, and a figure of it."""

from __future__ import annotations

import sys
from pathlib import Path

from kilo.cli import common_parser, config_default, config_from_args
from kilo.errors import KiloError


def main(argv: list[str] | None = None) -> int:
    parser = common_parser(
        "Read a paper trader's ledger (a replay, or a live run) and print, per symbol, the "
        "spells in which the drift rule counted it as drifted (first and last bar, bars, "
        "the reason) and the share of measured bars drifted; with --out, write a PNG of "
        "the share of features above their PSI threshold and the score's live IC against "
        "its validation interval over time.",
        data=False,
        models=False,
    )
    parser.add_argument(
        "--state",
        type=Path,
        help=f"SQLite ledger (default: {config_default('trading.ledger_path')})",
    )
    parser.add_argument("--out", type=Path, help="PNG to write (default: none, table only)")
    args = parser.parse_args(argv)
    from kilo.cli.drift_history import drift_episodes, drift_history, drift_history_figure
    from kilo.trading.ledger_schema import connect

    try:
        config = config_from_args(args)
        state = args.state or config.trading.ledger_path
        if not Path(state).exists():
            parser.error(f"no ledger at {state}: pass --state, or run scripts/trader.py first")
        conn = connect(state, read_only=True)
        try:
            history = drift_history(conn)
        finally:
            conn.close()
    except KiloError as exc:
        parser.error(str(exc))
    episodes = drift_episodes(history)
    span = history.groupby("symbol")["bar_time"].agg(["min", "max"])
    for symbol, (first, last) in span.iterrows():
        spells = episodes[episodes["symbol"] == symbol]
        share = spells["share"].iloc[0] if len(spells) else 0.0
        print(
            f"{symbol}: {first:%Y-%m-%d} to {last:%Y-%m-%d}, {len(spells)} drifted spells, "
            f"{share:.0%} of measured bars drifted"
        )
        for spell in spells.itertuples():
            print(
                f"  {spell.start:%Y-%m-%d %H:%M} to {spell.end:%Y-%m-%d %H:%M} "
                f"({spell.bars} bars): {spell.reason}"
            )
    if args.out:
        print(f"figure: {drift_history_figure(history, args.out)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

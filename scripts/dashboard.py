#!/usr/bin/env python
"""Serve a self-refreshing dashboard of a paper trader's ledger."""

from __future__ import annotations

import sys
from pathlib import Path

from kilo.cli import common_parser, config_default, config_from_args
from kilo.errors import KiloError


def main(argv: list[str] | None = None) -> int:
    parser = common_parser(
        "Serve a page that reads the trader's SQLite ledger read-only and reloads itself: "
        "equity against equal-weight buy-and-hold, drawdown, open positions, the last "
        "decision per symbol with every model's signal, fills, retraining decisions and "
        "risk events.",
        data=False,
        models=False,
    )
    parser.add_argument(
        "--state",
        type=Path,
        help=f"SQLite ledger (default: {config_default('trading.ledger_path')})",
    )
    parser.add_argument("--host", default="127.0.0.1", help="interface to bind")
    parser.add_argument("--port", type=int, default=8050, help="port to serve on")
    parser.add_argument("--refresh", type=int, default=10, help="seconds between page reloads")
    args = parser.parse_args(argv)
    from kilo.cli.dashboard import serve  # heavy (fastapi, plotly): after the arguments

    try:
        config = config_from_args(args)
    except KiloError as exc:
        parser.error(str(exc))
    state = args.state or config.trading.ledger_path
    print(f"dashboard of {state} on http://{args.host}:{args.port}/ (Ctrl-C stops it)", flush=True)
    serve(state, args.host, args.port, args.refresh)
    return 0


if __name__ == "__main__":
    sys.exit(main())

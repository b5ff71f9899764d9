#!/usr/bin/env python
"""Performance measurements: one JSON line per figure (median of 3 runs after a warm-up)."""

from __future__ import annotations

import argparse
import sys

from kilo.bench import BENCHES, run_bench
from kilo.cli import common_parser, config_from_args
from kilo.errors import KiloError


def main(argv: list[str] | None = None) -> int:
    measures = "\n".join(
        f"  {name:10s} {(BENCHES[name].__doc__ or '').strip().splitlines()[0]}"
        for name in sorted(BENCHES)
    )
    parser = common_parser(
        "Run one of Kilo's benchmarks and print its JSON line(s).",
        epilog="benchmarks (each prints figure, unit and params as JSON):\n" + measures,
    )
    parser.formatter_class = argparse.RawDescriptionHelpFormatter
    parser.add_argument("name", choices=sorted(BENCHES), help="which benchmark to run")
    args = parser.parse_args(argv)
    try:
        run_bench(args.name, config_from_args(args))
    except KiloError as exc:
        parser.error(str(exc))
    return 0


if __name__ == "__main__":
    sys.exit(main())

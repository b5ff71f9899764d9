#!/usr/bin/env python
"""Performance measurements: one JSON line per figure (median of 3 runs after a warm-up)."""

from __future__ import annotations

import argparse
import sys
import textwrap

from kilo.bench import BENCHES, run_bench
from kilo.cli import common_parser, config_from_args
from kilo.errors import KiloError


def main(argv: list[str] | None = None) -> int:
    measures = "\n".join(_describe(name) for name in sorted(BENCHES))
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


def _describe(name: str) -> str:
    """A benchmark's name and the first paragraph of its docstring, whole and wrapped."""
    first = " ".join((BENCHES[name].__doc__ or "").strip().split("\n\n")[0].split())
    return textwrap.fill(
        first, width=88, initial_indent=f"  {name:15s}", subsequent_indent=" " * 17
    )


if __name__ == "__main__":
    sys.exit(main())

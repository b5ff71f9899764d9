#!/usr/bin/env python
"""Write the Results tables from an evaluation's summary.json: printed, or into the
marked blocks of README.md and docs/results.md."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from kilo.cli import command_line
from kilo.errors import KiloError

TARGETS = [Path("README.md"), Path("docs/results.md")]
FIGURE = Path("docs/equity.png")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
        description="Read an evaluation's summary.json (scripts/evaluate.py writes it under "
        "reports/<time>/) and print the Results tables as Markdown: per symbol and "
        "regressor the IC against the held return beside the label's, with its power and "
        "the forecast verdict; per symbol the blend against buy-and-hold and its random "
        "paths net of costs, with the trading verdict and the holdout. With --write, put "
        "them into the blocks marked <!-- results:NAME --> ... <!-- /results --> of the "
        "targets (names: source, the evaluation's commit and command and this command; "
        "forecast-table; trading-table) and copy the report's equity.png to --figure; "
        "--check writes nothing and exits 1 when a block or the figure is stale. No number "
        "is typed by hand.",
    )
    parser.add_argument(
        "summary", type=Path, help="summary.json, or the report folder that holds one"
    )
    parser.add_argument(
        "--out", type=Path, help="write the Markdown to this file (default: standard output)"
    )
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument("--write", action="store_true", help="rewrite the targets' blocks")
    mode.add_argument(
        "--check", action="store_true", help="exit 1 if --write would change anything"
    )
    parser.add_argument(
        "--target",
        type=Path,
        action="append",
        help=f"a file with marked blocks, repeatable (default: {' '.join(map(str, TARGETS))})",
    )
    parser.add_argument(
        "--figure", type=Path, default=FIGURE, help="where the equity figure is copied"
    )
    parser.add_argument(
        "--commit",
        help="the evaluation's commit, for a summary written before summaries recorded it",
    )
    parser.add_argument(
        "--evaluated-by",
        metavar="COMMAND",
        help="the evaluation's command line, for a summary written before summaries recorded it",
    )
    args = parser.parse_args(argv)
    try:
        if args.write or args.check:
            return publish(args)
        from kilo.evaluation.report.markdown import results_markdown
        from kilo.evaluation.summary import EvaluationSummary

        text = results_markdown(EvaluationSummary.read(args.summary))
    except KiloError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if args.out is None:
        print(text, end="")
    else:
        args.out.write_text(text)
        print(f"results: {args.out}")
    return 0


def publish(args: argparse.Namespace) -> int:
    """``--write`` or ``--check``: the blocks quote the ``--write`` command that makes them."""
    from kilo.evaluation.report.publish import publish

    written_by = [str(args.summary), "--write"]
    for flag, value in (("--commit", args.commit), ("--evaluated-by", args.evaluated_by)):
        written_by += [flag, value] if value is not None else []
    for target in args.target or []:
        written_by += ["--target", str(target)]
    if args.figure != FIGURE:
        written_by += ["--figure", str(args.figure)]
    differ = publish(
        args.summary,
        args.target or TARGETS,
        args.figure,
        written_by=command_line(__file__, written_by),
        check=args.check,
        commit=args.commit,
        command=args.evaluated_by,
    )
    verb = "stale" if args.check else "written"
    for item in differ:
        print(f"{verb}: {item}")
    if not differ:
        print("results: up to date")
    return 1 if args.check and differ else 0


if __name__ == "__main__":
    sys.exit(main())

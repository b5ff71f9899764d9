#!/usr/bin/env python
"""Write the README's Results tables from an evaluation's summary.json."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from kilo.errors import KiloError


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description="Read an evaluation's summary.json (scripts/evaluate.py writes it under "
        "reports/<time>/) and print the Results tables as Markdown: per symbol and "
        "regressor the IC against the held return beside the label's, with its power and "
        "the forecast verdict; per symbol the blend against buy-and-hold and its random "
        "paths net of costs, with the trading verdict and the holdout. No number is typed "
        "by hand."
    )
    parser.add_argument(
        "summary", type=Path, help="summary.json, or the report folder that holds one"
    )
    parser.add_argument(
        "--out", type=Path, help="write the Markdown to this file (default: standard output)"
    )
    args = parser.parse_args(argv)
    from kilo.evaluation.markdown import results_markdown
    from kilo.evaluation.summary import EvaluationSummary

    try:
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


if __name__ == "__main__":
    sys.exit(main())

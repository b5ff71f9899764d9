#!/usr/bin/env python
"""Train per-symbol model sets (the preprocessor and every kind of models.enabled)."""

from __future__ import annotations

import sys

from kilo.cli import (
    add_parallel_options,
    add_symbol_choice,
    chosen_symbols,
    common_parser,
    config_default,
    config_from_args,
    run_options,
)
from kilo.errors import KiloError
from kilo.models.kinds import KINDS


def main(argv: list[str] | None = None) -> int:
    parser = common_parser(
        f"Train the models of models.enabled ({', '.join(KINDS)}) per symbol on one "
        "shared FeatureEngine and save them as a new model-set version under the models dir."
    )
    add_symbol_choice(parser, "train")
    parser.add_argument(
        "--model",
        choices=["all", *KINDS],
        default="all",
        help="train only this model; the preprocessor and the other models the latest "
        "version holds are reused from it (all: those of models.enabled)",
    )
    parser.add_argument(
        "--seed", type=int, help=f"override the config seed (default: {config_default('seed')})"
    )
    add_parallel_options(parser, "symbols trained", config_default("training.jobs"))
    parser.add_argument("--no-progress", action="store_true", help="hide progress bars")
    args = parser.parse_args(argv)
    if args.seed is not None:
        args.overrides.append(f"seed={args.seed}")
    try:
        config = config_from_args(args)
        options = run_options(args, config, default_jobs=config.training.jobs)
    except KiloError as exc:
        parser.error(str(exc))
    symbols = chosen_symbols(args, config)
    from kilo.training.parallel import train_symbols  # heavy (torch): after the arguments
    from kilo.training.summary import format_summary

    try:
        reports = train_symbols(
            config,
            symbols,
            model=args.model,
            options=options,
        )
    except KiloError as exc:
        parser.error(str(exc))
    print(format_summary(reports))
    return 1 if any(r.error for r in reports) else 0


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/env python
"""Hyper-parameter search over nested walk-forward folds, tracked in MLflow."""

from __future__ import annotations

import sys

from kilo.cli import (
    add_parallel_options,
    add_symbol_option,
    common_parser,
    config_default,
    config_from_args,
    positive_int,
    run_options,
)
from kilo.errors import KiloError


def main(argv: list[str] | None = None) -> int:
    parser = common_parser(
        "Search search.space with Optuna (TPE, seeded; median pruner on per-fold values). "
        "Each trial trains and trades every symbol on inner folds cut from the bars before "
        "the first outer test window; the outer test folds are evaluated once, for the best "
        "trial (never the holdout). "
        "The study is stored in search.storage (running it again adds trials); outputs go "
        "to search.report_dir/<study>/: best.yaml, trials.csv, summary.json (with the "
        "deflated Sharpe ratio of the best trial)."
    )
    add_symbol_option(parser, "search on", required=True)
    parser.add_argument(
        "--trials",
        type=positive_int,
        help="trials to add to the study (required "
        "unless --grid, which defaults to every combination)",
    )
    parser.add_argument(
        "--grid",
        action="store_true",
        help="walk every combination of "
        "search.space's choices (Optuna GridSampler) instead of sampling",
    )
    parser.add_argument(
        "--folds",
        type=positive_int,
        help=f"outer walk-forward folds (default: {config_default('evaluation.folds')})",
    )
    parser.add_argument("--study", help="study name (default: search-<symbols>)")
    add_parallel_options(parser, "trials run (sharing the study)", "1")
    parser.add_argument(
        "--no-outer",
        action="store_true",
        help="skip the best trial's outer-fold evaluation (a grid that chooses a default "
        "needs the inner folds only; the outer folds stay unread)",
    )
    parser.add_argument("--timeout", type=float, help="seconds after which no trial starts")
    parser.add_argument("--no-progress", action="store_true", help="hide progress bars")
    args = parser.parse_args(argv)
    if not args.symbol:
        parser.error("give --symbol S (repeatable) or --symbols S ...")
    from kilo.search.run import run_search  # heavy: after the arguments are checked
    from kilo.search.study import grid_size

    if args.folds is not None:
        args.overrides.append(f"evaluation.folds={args.folds}")
    try:
        config = config_from_args(args)
        options = run_options(args, config, default_jobs=1)
        trials = args.trials or (grid_size(config) if args.grid else None)
    except KiloError as exc:
        parser.error(str(exc))
    if trials is None:
        parser.error("give --trials N, or --grid for every combination")
    study = args.study or "search-" + "-".join(s.replace("/", "") for s in args.symbol)
    try:
        summary, folder = run_search(
            config,
            args.symbol,
            trials=trials,
            study_name=study,
            options=options,
            timeout=args.timeout,
            grid_search=args.grid,
            evaluate_outer=not args.no_outer,
        )
    except KiloError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(
            "interrupted: the study keeps every finished trial; run again to add more",
            file=sys.stderr,
        )
        return 130
    print(
        f"study {study}: {summary.n_trials} trials; best value "
        f"{summary.best_value:+.4f} with {summary.best_params}"
        if summary.best_params is not None
        else f"study {study}: {summary.n_trials} trials, none complete"
    )
    if summary.deflation is not None:
        print(summary.deflation.sentence)
    print(f"outputs: {folder}")
    return 0


if __name__ == "__main__":
    sys.exit(main(argv=None))

#!/usr/bin/env python
"""Walk-forward evaluation of the models, their blend and baselines, after costs."""

from __future__ import annotations

import sys
from pathlib import Path

from kilo.cli import (
    add_parallel_options,
    add_symbol_choice,
    chosen_symbols,
    command_line,
    common_parser,
    config_default,
    config_from_args,
    positive_int,
    run_options,
)
from kilo.config import POWER_CURVE_ICS
from kilo.errors import KiloError, LookAheadError


def main(argv: list[str] | None = None) -> int:
    parser = common_parser(
        "Walk-forward evaluation: for each fold, train a model set on the bars before it "
        "(embargo included) and trade the fold's bars through the paper trader's blend, "
        "rule and broker code; compare the GRU, LightGBM, PPO and blend with buy-and-hold, "
        "flat, momentum and random paths of the blend's own spells on the same bars, net "
        "of fees and slippage. IC with block-bootstrap interval, HAC t and permutation p; "
        "controls: placebo candles (leak detector), a planted edge (power), lead/lag IC. "
        "Writes report.html, summary.json and equity.png into a new folder under "
        "--report-dir (plotly.min.js once in --report-dir itself). With training.pool: "
        "universe it compares pooled and per-symbol regressors on the universe's folds "
        "instead (IC intervals, joint placebo, planted recovery, detection floors; "
        "summary.json: pooled)."
    )
    add_symbol_choice(parser, "evaluate")
    parser.add_argument(
        "--folds",
        type=positive_int,
        help=f"test folds (default: {config_default('evaluation.folds')})",
    )
    parser.add_argument(
        "--seeds",
        type=positive_int,
        default=1,
        help="repeat with this many seeds and report mean ± std",
    )
    parser.add_argument(
        "--report-dir",
        type=Path,
        help=f"folder for reports (default: {config_default('evaluation.report_dir')})",
    )
    add_parallel_options(
        parser,
        "folds and controls run",
        "every CPU core, or evaluation.jobs when set; 1 with --drill",
    )
    parser.add_argument(
        "--portfolio",
        action="store_true",
        help="also trade the symbols together through the trader, risk rules "
        "and broker, against equal-weight baselines (summary.json: portfolio)",
    )
    parser.add_argument(
        "--drill",
        action="store_true",
        help="instead of evaluating, plant known faults one at a time (own and cross-asset "
        "look-aheads at raw IC 0.02, 0.03, 0.05 and the label in a feature; a context file "
        "shifted 1 and 2 bars early, the own close a bar ahead) and report which instrument "
        "(alignment, causality, placebo, lead/lag) caught each; writes drills.json under "
        "--report-dir; exits 1 if a fault is not caught",
    )
    parser.add_argument(
        "--drill-off",
        action="append",
        default=[],
        choices=["alignment", "causality", "placebo", "lead/lag"],
        help="with --drill: switch this instrument off (repeatable), to see what the "
        "others catch without it",
    )
    parser.add_argument(
        "--power-curve",
        action="store_true",
        help="run the full power curve: planted edges at "
        f"{', '.join(f'{ic:g}' for ic in POWER_CURVE_ICS)} besides evaluation.planted_ic, "
        "each through the whole pipeline (15 more fits per symbol); by default the "
        "detection floor comes from the real candles and the planted point",
    )
    parser.add_argument("--no-progress", action="store_true", help="hide progress bars")
    args = parser.parse_args(argv)
    if args.folds is not None:
        args.overrides.append(f"evaluation.folds={args.folds}")
    if args.power_curve:
        args.overrides.append(f"evaluation.power_ics={list(POWER_CURVE_ICS)}")
    try:
        config = config_from_args(args)
        options = run_options(
            args, config, default_jobs=1 if args.drill else config.evaluation.jobs
        )
    except KiloError as exc:
        parser.error(str(exc))
    symbols = chosen_symbols(args, config)
    if args.drill:
        return drill(config, symbols, args, options)
    from kilo.evaluation.report.terminal import print_summary
    from kilo.evaluation.run import run_evaluation  # heavy: after the arguments are checked

    try:
        summary, paths, failures = run_evaluation(
            config,
            symbols,
            seeds=args.seeds,
            report_dir=args.report_dir,
            options=options,
            portfolio=args.portfolio,
            command=command_line(__file__, argv),
        )
    except LookAheadError as exc:
        print(f"evaluation stopped: {exc}", file=sys.stderr)
        return 2
    if summary is not None:
        print_summary(summary)
    for symbol, error in failures.items():
        print(f"{symbol}: FAILED: {error}", file=sys.stderr)
    for kind, path in paths.items():
        print(f"{kind}: {path}")
    return 1 if failures or summary is None else 0


def drill(config, symbols: list[str], args, options) -> int:
    """``--drill``: every fault on every symbol; exit 1 if a fault passed unseen."""
    import json
    from datetime import UTC, datetime

    from kilo.evaluation.controls.drills import INSTRUMENTS, drill_line, run_drills

    folder = Path(args.report_dir or config.evaluation.report_dir) / (
        "drills-" + datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    )
    folder.mkdir(parents=True, exist_ok=True)
    report, missed = {}, 0
    for symbol in symbols:
        try:
            results = run_drills(
                config,
                symbol,
                instruments=[i for i in INSTRUMENTS if i not in args.drill_off],
                options=options,
            )
        except KiloError as exc:
            print(f"{symbol}: FAILED: {exc}", file=sys.stderr)
            return 1
        off = f" (off: {', '.join(args.drill_off)})" if args.drill_off else ""
        print(f"\n{symbol} leak drills{off}")
        for result in results:
            print(drill_line(result))
            missed += not result.caught_by
        report[symbol] = [r.model_dump(mode="json") for r in results]
    (folder / "drills.json").write_text(json.dumps(report, indent=2))
    print(f"drills: {folder / 'drills.json'}")
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main())

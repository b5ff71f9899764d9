"""Command-line plumbing shared by the scripts."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from kilo.cli import add_symbol_choice, common_parser
from kilo.runtime import RunOptions


def test_symbols_as_users_type_them(capsys) -> None:
    parser = common_parser("test")
    add_symbol_choice(parser, "train")
    args = parser.parse_args(["--symbol", "BTCEUR", "--symbol", "BTC/EUR", "--symbol", "ethusdt"])
    assert args.symbol == ["BTC/EUR", "BTC/EUR", "ETH/USDT"]
    with pytest.raises(SystemExit):
        parser.parse_args(["--symbol", "BTC-EUR-X"])
    err = capsys.readouterr().err
    assert "BASE/QUOTE (e.g. BTC/USDT)" in err and "BASEQUOTE (e.g. BTCUSDT)" in err


def test_a_count_flag_names_itself_in_the_error(capsys) -> None:
    from kilo.cli import positive_int

    parser = common_parser("test")
    parser.add_argument("--folds", type=positive_int)
    assert parser.parse_args(["--folds", "3"]).folds == 3
    for bad in ("0", "-2", "three"):
        with pytest.raises(SystemExit):
            parser.parse_args(["--folds", bad])
        err = capsys.readouterr().err
        assert "argument --folds:" in err and "evaluation.folds" not in err


def test_bench_help_explains_every_benchmark() -> None:
    import subprocess
    import sys

    from kilo.bench import BENCHES

    out = subprocess.run(
        [sys.executable, "scripts/bench.py", "--help"], capture_output=True, text=True, check=True
    ).stdout
    assert {"ppo", "train", "train-all", "evaluate", "gru-contention"} <= set(BENCHES)
    for name, fn in BENCHES.items():
        first = " ".join((fn.__doc__ or "").strip().split("\n\n")[0].split())
        assert name in out and first in " ".join(out.split()), name  # whole, not cut


def test_symbol_is_repeatable_and_symbols_an_alias_in_every_script() -> None:
    from kilo.cli import add_symbol_option

    choice = common_parser("test")
    add_symbol_choice(choice, "train")
    option = common_parser("test")
    add_symbol_option(option, "trade")
    for parser in (choice, option):
        args = parser.parse_args(["--symbols", "BTCUSDT", "ETH/USDT"])
        assert args.symbol == ["BTC/USDT", "ETH/USDT"]
    args = option.parse_args(["--symbol", "BTCUSDT", "--symbols", "ETHUSDT", "SOLUSDT"])
    assert args.symbol == ["BTC/USDT", "ETH/USDT", "SOL/USDT"]
    assert option.parse_args([]).symbol is None  # the config's symbols


@pytest.mark.parametrize(
    "script", ["trainer", "trader", "evaluate", "search", "retrain", "download_data"]
)
def test_help_shows_defaults_as_values_and_one_symbol_spelling(script: str) -> None:
    import subprocess
    import sys

    out = subprocess.run(
        [sys.executable, f"scripts/{script}.py", "--help"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    text = " ".join(out.split())
    assert "--symbol SYMBOL" in text and "--symbols SYMBOL [SYMBOL ...]" in text
    assert "carved out" not in text
    for flag in ("--jobs", "--backend"):
        if flag in text:
            help_text = text.split(flag + " ", 2)[-1][:300]
            assert "default:" in help_text, (script, flag)
    assert "default: training.backend = joblib" in text or "--backend" not in text


def test_kilo_makes_openmp_threads_spin_briefly() -> None:
    import os
    import subprocess
    import sys

    env = {k: v for k, v in os.environ.items() if k != "GOMP_SPINCOUNT"}
    code = "import kilo, os; print(os.environ['GOMP_SPINCOUNT'])"
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True)
    assert out.stdout.strip() == "2000"
    env["GOMP_SPINCOUNT"] = "300000"  # a user's own setting wins
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True)
    assert out.stdout.strip() == "300000"


def test_the_scripts_read_the_repositorys_config_by_default() -> None:
    """Without --config every script reads config/config.yaml (it read none since the
    CLI moved into a package, so edits to the file were silently ignored)."""
    from kilo.cli import common_parser

    repo = Path(__file__).resolve().parents[1]
    args = common_parser("test").parse_args([])
    assert args.config == repo / "config" / "config.yaml" and args.config.is_file()


def test_the_power_curve_runs_on_request_only(monkeypatch) -> None:
    """By default the floor comes from the real and planted points; --power-curve adds
    the curve's planted edges to the evaluation's config."""
    import importlib.util

    import kilo.evaluation.run
    from kilo.config import POWER_CURVE_ICS

    spec = importlib.util.spec_from_file_location("evaluate_script", "scripts/evaluate.py")
    assert spec is not None and spec.loader is not None
    script = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(script)
    seen = []

    def fake(config, symbols, **_):
        seen.append(config.evaluation.power_ics)
        return None, {}, {}

    monkeypatch.setattr(kilo.evaluation.run, "run_evaluation", fake)
    for flags in ([], ["--power-curve"]):
        assert script.main(["--symbol", "BTC/USDT", *flags]) == 1  # no summary from the fake
    assert seen == [[], list(POWER_CURVE_ICS)]


class _Called(Exception):
    """Raised by a stand-in entry point with the run options a script passed it."""


@pytest.mark.parametrize(
    ("script", "target", "flags", "expected"),
    [
        ("trainer", "kilo.training.parallel.train_symbols", [], RunOptions(1, progress=True)),
        (
            "trainer",
            "kilo.training.parallel.train_symbols",
            ["--set", "training.jobs=3"],
            RunOptions(3, progress=True),
        ),
        (
            "evaluate",
            "kilo.evaluation.run.run_evaluation",
            [],
            RunOptions(os.cpu_count() or 1, progress=True),
        ),
        (
            "evaluate",
            "kilo.evaluation.run.run_evaluation",
            ["--set", "evaluation.jobs=3"],
            RunOptions(3, progress=True),
        ),
        (
            "evaluate",
            "kilo.evaluation.controls.drills.run_drills",
            ["--drill"],
            RunOptions(1, progress=True),
        ),
        ("search", "kilo.search.run.run_search", ["--trials", "1"], RunOptions(1, progress=True)),
        (
            "evaluate",
            "kilo.evaluation.run.run_evaluation",
            ["--jobs", "2", "--backend", "ray", "--no-progress", "--set", "evaluation.jobs=3"],
            RunOptions(2, "ray"),
        ),
    ],
)
def test_each_script_resolves_its_run_options_once(
    monkeypatch, tmp_path, script: str, target: str, flags: list[str], expected: RunOptions
) -> None:
    """--jobs, else the command's own default (training.jobs; evaluation.jobs or every
    core; 1 for --drill and the search's trials); --backend, else training.backend; a
    bar unless --no-progress."""
    import importlib
    import importlib.util

    module, name = target.rsplit(".", 1)

    def stand_in(*_, options: RunOptions, **__):
        raise _Called(options)

    monkeypatch.setattr(importlib.import_module(module), name, stand_in)
    spec = importlib.util.spec_from_file_location(f"{script}_script", f"scripts/{script}.py")
    assert spec is not None and spec.loader is not None
    main = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(main)
    reports = ["--report-dir", str(tmp_path)] if script == "evaluate" else []
    with pytest.raises(_Called) as called:
        main.main(["--symbol", "BTC/USDT", *reports, *flags])
    assert called.value.args[0] == expected


def test_command_line_is_what_a_user_types_from_the_working_directory(tmp_path) -> None:
    import os

    from kilo.cli import command_line

    script = Path("scripts/evaluate.py").resolve()
    line = command_line(str(script), ["--symbol", "BTC/USDT", "--set", "a=[1, 2]"])
    assert line == f"python {os.path.relpath(script)} --symbol BTC/USDT --set 'a=[1, 2]'"

"""Command-line plumbing shared by every script: common flags, config and logging."""

from __future__ import annotations

import argparse
import functools
import logging
import os
import shlex
import sys
from pathlib import Path
from typing import Any

from kilo.config import Config, load_config, normalize_symbol
from kilo.errors import ConfigError
from kilo.runtime import BACKENDS, RunOptions

#: The repository's config/config.yaml (src/kilo/cli/__init__.py is three levels down).
DEFAULT_CONFIG = Path(__file__).resolve().parents[3] / "config" / "config.yaml"


class _HelpFormatter(argparse.ArgumentDefaultsHelpFormatter):
    """Shows a default only where there is one worth showing and the help names none."""

    def _get_help_string(self, action: argparse.Action) -> str | None:
        if action.default in (None, False, [], argparse.SUPPRESS) or "default" in (
            action.help or ""
        ):
            return action.help
        return super()._get_help_string(action)


def common_parser(
    description: str, *, data: bool = True, models: bool = True, epilog: str | None = None
) -> argparse.ArgumentParser:
    """An ``ArgumentParser`` with the flags every Kilo script takes; ``--data-dir`` and
    ``--models-dir`` only where the script reads candles (``data``) or model sets
    (``models``)."""
    parser = argparse.ArgumentParser(
        description=description, formatter_class=_HelpFormatter, epilog=epilog
    )
    group = parser.add_argument_group("common options")
    group.add_argument(
        "--config",
        type=Path,
        default=DEFAULT_CONFIG if DEFAULT_CONFIG.is_file() else None,
        help="YAML config file (see config/config.yaml)",
    )
    if data:
        group.add_argument(
            "--data-dir",
            type=Path,
            help="candle folder in freqtrade's layout (default: KILO_DATA_DIR, else "
            f"{config_default('data.dir')})",
        )
    if models:
        group.add_argument(
            "--models-dir",
            type=Path,
            help="folder of model sets (default: KILO_MODELS_DIR, else "
            f"{config_default('models.dir')})",
        )
    group.add_argument(
        "--set",
        dest="overrides",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="override one config key by dotted path, value parsed as YAML "
        "(repeatable), e.g. --set training.refit=true",
    )
    group.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    return parser


def positive_int(text: str) -> int:
    """An argparse type: a whole number of at least 1 (the error names the flag)."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


def symbol_arg(text: str) -> str:
    """argparse ``type`` for a symbol: ``BTC/USDT`` or ``BTCUSDT`` -> ``BTC/USDT``."""
    try:
        return normalize_symbol(text)
    except ConfigError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


@functools.cache
def _schema_defaults() -> dict[str, Any]:
    return Config().model_dump(mode="json")


def config_default(key: str) -> str:
    """``"training.jobs = 1"``: a key and its value in the schema's defaults, for
    ``--help`` (the config file or ``--set`` may give it another)."""
    value: Any = _schema_defaults()
    for part in key.split("."):
        value = value[part]
    return f"{key} = {'null' if value is None else value}"


def _add_symbol_flags(
    group: argparse._ActionsContainer, verb: str, default: str | None = None
) -> None:
    """``--symbol S`` (repeatable) and ``--symbols S [S ...]``, one list ``symbol``."""
    tail = f" (default: {default})" if default else ""
    group.add_argument(
        "--symbol",
        action="append",
        metavar="SYMBOL",
        type=symbol_arg,
        help=f"symbol to {verb}: BTC/USDT or BTCUSDT (repeatable){tail}",
    )
    group.add_argument(
        "--symbols",
        dest="symbol",
        action="extend",
        nargs="+",
        metavar="SYMBOL",
        type=symbol_arg,
        help="the same, several at once: --symbols BTC/USDT ETH/USDT",
    )


def add_symbol_choice(parser: argparse.ArgumentParser, verb: str) -> None:
    """Required ``--symbol S`` (repeatable; ``--symbols S ...`` alike) or ``--all``
    (every configured symbol)."""
    which = parser.add_mutually_exclusive_group(required=True)
    _add_symbol_flags(which, verb)
    which.add_argument("--all", action="store_true", help=f"{verb} every symbol in the config")


def add_symbol_option(
    parser: argparse.ArgumentParser, verb: str, *, required: bool = False
) -> None:
    """Optional (or ``required``) ``--symbol S`` (repeatable; ``--symbols S ...`` alike);
    none given: the config's ``symbols``. Parsed into ``args.symbol`` (None when absent)."""
    group = parser.add_argument_group("symbols", "at least one is required" if required else None)
    _add_symbol_flags(group, verb, None if required else "the config's symbols")


def add_parallel_options(parser: argparse.ArgumentParser, work: str, jobs_default: str) -> None:
    """``--jobs N`` (``work`` run in parallel; ``jobs_default`` says the default) and
    ``--backend joblib|ray``, worded alike in every script; with ``--no-progress``,
    :func:`run_options` reads them."""
    parser.add_argument(
        "--jobs", type=positive_int, help=f"{work} in parallel (default: {jobs_default})"
    )
    parser.add_argument(
        "--backend",
        choices=BACKENDS,
        help="joblib: local processes; ray: Ray tasks on training.ray_address, or a "
        "local cluster when unset (pip install -r requirements-ray.txt) (default: "
        f"{config_default('training.backend')})",
    )


def run_options(
    args: argparse.Namespace, config: Config, *, default_jobs: int | None
) -> RunOptions:
    """The command's :class:`~kilo.runtime.RunOptions`, resolved once from
    :func:`add_parallel_options`' flags and ``--no-progress``: ``--jobs``, else
    ``default_jobs`` (the command's config setting), else every CPU core; ``--backend``,
    else ``training.backend``; a progress bar unless ``--no-progress``.

    Raises
    ------
    ConfigError
        If the resolved options are unusable (:class:`~kilo.runtime.RunOptions`).
    """
    return RunOptions.resolve(
        config,
        jobs=args.jobs,
        backend=args.backend,
        progress=not args.no_progress,
        default_jobs=default_jobs,
    )


def chosen_symbols(args: argparse.Namespace, config: Config) -> list[str]:
    """The symbols picked by :func:`add_symbol_choice`'s flags."""
    return list(config.symbols) if args.all else list(args.symbol)


def config_from_args(args: argparse.Namespace) -> Config:
    """Configure logging and build the :class:`Config` from parsed common flags.

    Precedence: ``--set`` > ``--data-dir``/``--models-dir`` > environment > file >
    defaults.

    Raises
    ------
    ConfigError
        As :func:`kilo.config.load_config`.
    """
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    return load_config(
        args.config,
        args.overrides,
        data_dir=getattr(args, "data_dir", None),
        models_dir=getattr(args, "models_dir", None),
    )


def command_line(script: str, argv: list[str] | None = None) -> str:
    """The command that ran ``script`` (its ``__file__``) with ``argv`` (default: this
    process's arguments), shell-quoted as a user would type it from the working
    directory: ``python scripts/evaluate.py --symbol BTC/USDT``."""
    args = sys.argv[1:] if argv is None else argv
    return shlex.join(["python", os.path.relpath(script), *args])

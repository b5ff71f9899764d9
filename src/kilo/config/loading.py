"""Build the configuration from its sources; the only module that reads the environment.

Sources, lowest precedence first: schema defaults < the YAML file < environment
(``KILO_DATA_DIR``, ``KILO_MODELS_DIR``) < command-line flags (``--data-dir``,
``--models-dir``) < ``--set dotted.key=value`` overrides. Everything is validated once,
and every bad key is reported in a single :class:`~kilo.errors.ConfigError` by its
dotted path.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import yaml

from kilo.config.blend import switch_rule
from kilo.config.overrides import apply_overrides, set_dotted
from kilo.config.schema import Config
from kilo.config.venue import switch_venue
from kilo.errors import ConfigError

ENV_DATA_DIR = "KILO_DATA_DIR"
ENV_MODELS_DIR = "KILO_MODELS_DIR"


def read_config_file(path: str | Path) -> dict[str, Any]:
    """The YAML mapping in ``path``.

    Raises
    ------
    ConfigError
        If the file is missing, not valid YAML, or not a mapping of sections.
    """
    path = Path(path)
    if not path.is_file():
        raise ConfigError(f"config file {path} does not exist; pass --config PATH")
    try:
        loaded = yaml.safe_load(path.read_text())
    except yaml.YAMLError as exc:
        raise ConfigError(f"config file {path} is not valid YAML: {exc}") from exc
    if loaded is not None and not isinstance(loaded, dict):
        raise ConfigError(f"config file {path} must hold a mapping of sections")
    return loaded or {}


def load_config(
    path: str | Path | None = None,
    overrides: Iterable[str] = (),
    *,
    data_dir: str | Path | None = None,
    models_dir: str | Path | None = None,
    environ: Mapping[str, str] | None = None,
) -> Config:
    """Build the validated configuration.

    Parameters
    ----------
    path
        YAML file; ``None`` uses the schema defaults only.
    overrides
        ``"dotted.key=value"`` strings (value parsed as YAML), applied last.
    data_dir, models_dir
        Command-line ``--data-dir`` / ``--models-dir``; override the environment.
    environ
        Environment to read ``KILO_DATA_DIR`` / ``KILO_MODELS_DIR`` from
        (default ``os.environ``).

    Raises
    ------
    ConfigError
        If the file is missing or not a YAML mapping, or any key is unknown, of the
        wrong type or out of range; the message lists every bad key by dotted path.
    """
    tree = read_config_file(path) if path is not None else {}
    env = os.environ if environ is None else environ
    layers: list[dict[str, Any]] = [
        {"data.dir": env.get(ENV_DATA_DIR), "models.dir": env.get(ENV_MODELS_DIR)},
        {"data.dir": data_dir, "models.dir": models_dir},
    ]
    for layer in layers:
        for key, value in layer.items():
            if value:
                set_dotted(tree, key, str(value))
    overridden = apply_overrides(tree, overrides)
    switch_rule(tree, overridden)
    switch_venue(tree, overridden)
    return Config.from_tree(tree)

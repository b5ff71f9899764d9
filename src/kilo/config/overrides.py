"""Dotted-key overrides (``--set models.gru.epochs=2``) and readable validation errors."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import yaml
from pydantic import ValidationError

from kilo.errors import ConfigError

Overrides = Iterable[str] | Mapping[str, Any]


def set_dotted(tree: dict[str, Any], dotted: str, value: Any) -> None:
    """Set ``tree[a][b][c] = value`` for ``dotted == "a.b.c"``, creating dicts."""
    keys = dotted.split(".")
    node = tree
    for key in keys[:-1]:
        child = node.get(key)
        if not isinstance(child, dict):
            child = {}
            node[key] = child
        node = child
    node[keys[-1]] = value


def parse_override(text: str) -> tuple[str, Any]:
    """Split ``"dotted.key=value"``; the value is parsed as YAML (``3`` -> int).

    Raises
    ------
    ConfigError
        If there is no ``=``, the key is empty, or the value is not valid YAML.
    """
    key, sep, raw = text.partition("=")
    key = key.strip()
    if not sep or not key or any(not part for part in key.split(".")):
        raise ConfigError(f"--set expects dotted.key=value, got {text!r}")
    try:
        value = yaml.safe_load(raw) if raw.strip() else None
    except yaml.YAMLError as exc:
        raise ConfigError(f"--set {key}: value {raw!r} is not valid YAML: {exc}") from exc
    return key, value


def apply_overrides(tree: dict[str, Any], overrides: Overrides) -> None:
    """Apply ``"dotted.key=value"`` strings, or a ``{dotted.key: value}`` mapping, to ``tree``.

    Raises
    ------
    ConfigError
        As :func:`parse_override`.
    """
    items = overrides.items() if isinstance(overrides, Mapping) else map(parse_override, overrides)
    for key, value in items:
        set_dotted(tree, key, value)


def format_errors(exc: ValidationError) -> str:
    """Every error of a Pydantic validation as ``dotted.key: message (got value)``."""
    lines = []
    for err in exc.errors():
        path = ".".join(str(p) for p in err["loc"]) or "(top level)"
        lines.append(f"  - {path}: {err['msg']} (got {err.get('input')!r})")
    return f"{len(lines)} invalid config key(s):\n" + "\n".join(lines)

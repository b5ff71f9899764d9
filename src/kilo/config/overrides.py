"""Dotted-key overrides (``--set models.gru.epochs=2``) and readable validation errors."""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Mapping
from typing import Any

import yaml
from pydantic import ValidationError

from kilo.errors import ConfigError

Overrides = Iterable[str] | Mapping[str, Any]
#: Tags of a discriminated union that Pydantic puts in an error's location
#: (``blend.edge.cost_multiple``); they are not keys a user types.
RULE_TAGS = frozenset({"edge", "quantile"})


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


def apply_overrides(tree: dict[str, Any], overrides: Overrides) -> set[str]:
    """Apply ``"dotted.key=value"`` strings, or a ``{dotted.key: value}`` mapping, to
    ``tree``; returns the dotted keys set.

    Raises
    ------
    ConfigError
        As :func:`parse_override`.
    """
    items = overrides.items() if isinstance(overrides, Mapping) else map(parse_override, overrides)
    keys = set()
    for key, value in items:
        set_dotted(tree, key, value)
        keys.add(key)
    return keys


def format_errors(exc: ValidationError, known: Iterable[str] = ()) -> str:
    """Every error of a Pydantic validation as ``dotted.key: message (got value)``; an
    unknown key gets the closest of the ``known`` dotted keys as a suggestion
    (:func:`difflib.get_close_matches`)."""
    known = list(known)
    lines = []
    for err in exc.errors():
        path = ".".join(str(p) for p in err["loc"] if p not in RULE_TAGS) or "(top level)"
        given = err.get("input")
        got = "" if isinstance(given, dict) else f" (got {given!r})"  # a section: too long
        line = f"  - {path}: {err['msg']}{got}"
        if err["type"] == "extra_forbidden":
            close = difflib.get_close_matches(path, known, n=1, cutoff=0.6)
            if close:
                line += f"; did you mean {close[0]}?"
        lines.append(line)
    return f"{len(lines)} invalid config key(s):\n" + "\n".join(lines)

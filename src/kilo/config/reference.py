"""The configuration reference, generated from the Pydantic schema.

:func:`reference_markdown` writes ``docs/reference/configuration.md``
(``python scripts/config_reference.py``): every key of :class:`~kilo.config.Config`
with its type, default, unit, description and the scripts that read it. A field's
unit is the bracketed tail of its description (``"label horizon [bars]"``); a test
fails when a field has no description, or a number no unit, or the page is stale.
"""

from __future__ import annotations

import functools
import json
import re
import types
import typing
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, get_args, get_origin

from pydantic import BaseModel
from pydantic.fields import FieldInfo
from pydantic_core import PydanticUndefined

from kilo.config.blend import EdgeBlend, QuantileBlend
from kilo.config.schema import Config
from kilo.config.search import SearchChoices, SearchRange
from kilo.config.venue import FeeSchedule

_ALL = "trainer, trader, evaluate, search, retrain, freqtrade strategy"
_FITS = "trainer, evaluate, search, retrain"

#: Which scripts read a key, by the longest dotted prefix listed here.
READERS: dict[str, str] = {
    "seed": _FITS,
    "symbols": "trainer --all, trader, evaluate --all, retrain --all, download_data",
    "data": _ALL + ", download_data",
    "data.since": "download_data, retrain (its refresh)",
    "data.max_retries": "download_data, retrain, trader --source live",
    "data.retry_base_delay": "download_data, retrain, trader --source live",
    "data.start": _ALL + " (every candle read goes through it)",
    "data.end": _ALL + " (every candle read goes through it)",
    "features": _ALL,
    "target": _FITS,
    "split": "trainer, retrain",
    "models": _FITS,
    "models.dir": _ALL + ", bench",
    "blend": _ALL,
    "trading": "trader, evaluate, search, retrain, freqtrade strategy, trainer (PPO's costs)",
    "trading.ledger_path": "trader, dashboard, retrain",
    "risk": "trader, evaluate --portfolio",
    "monitoring": "trader",
    "drift": "trader, trainer and retrain (the reference they store), retrain --on-drift",
    "drift.enabled": "trader",
    "drift.poll": "retrain --on-drift",
    "trading.drift_action": "trader",
    "trading.drift_reduce": "trader",
    "evaluation": "evaluate, search (its inner and outer folds)",
    "evaluation.report_dir": "evaluate",
    "retrain": "retrain",
    "training": _FITS,
    "training.jobs": "trainer",
    "search": "search",
    "tracking": "trainer, evaluate, search",
}

#: Keys that share a name with another section's key but mean something else.
SAME_NAME: list[tuple[str, str, str]] = [
    (
        "target.stop_loss",
        "trading.stop_loss",
        "the label's lower barrier, in trailing volatility x sqrt(horizon) (1.0), against "
        "the trader's stop, a fraction of the entry price (0.05 = 5 % below)",
    ),
    (
        "target.take_profit",
        "trading.take_profit",
        "the label's upper barrier in volatility units, against the trader's exit, a "
        "fraction above the entry price",
    ),
    (
        "target.volatility_window",
        "trading.volatility_window",
        "bars of the volatility that scales labels and barriers (24), against bars of "
        "the volatility that sizes positions (72)",
    ),
    (
        "split.val_fraction",
        "evaluation.val_fraction",
        "the trainer's validation share of all rows (0.15), against the validation share "
        "of each walk-forward fold's training window (0.2)",
    ),
    (
        "data.since",
        "data.start",
        "where a fresh download starts, against the first candle every script reads "
        "(train, trade, evaluate); data.end closes that window",
    ),
]

_UNIT = re.compile(r"\s*\[([^\]]+)\]\s*$")


@dataclass(frozen=True)
class KeyDoc:
    """One configuration key as the reference shows it."""

    key: str
    type: str
    default: str
    unit: str
    description: str
    readers: str
    numeric: bool


def split_unit(description: str | None) -> tuple[str, str]:
    """``"label horizon [bars]"`` -> ``("label horizon", "bars")``; no tail: unit ``""``."""
    text = description or ""
    match = _UNIT.search(text)
    return (text[: match.start()], match.group(1)) if match else (text, "")


def _type_name(annotation: Any) -> str:
    origin = get_origin(annotation)
    args = get_args(annotation)
    if origin is typing.Annotated:
        return _type_name(args[0])
    if origin is Literal:
        return " \\| ".join(str(a) for a in args)
    if origin in (typing.Union, types.UnionType):
        names = [_type_name(a) for a in args if a is not type(None)]
        none = " \\| null" if type(None) in args else ""
        return " \\| ".join(dict.fromkeys(names)) + none
    if origin in (list, dict):
        return f"{origin.__name__}[{', '.join(_type_name(a) for a in args)}]"
    if isinstance(annotation, type):
        if issubclass(annotation, Path):
            return "path"
        if issubclass(annotation, BaseModel):
            return "section"
        return {"str": "str", "int": "int", "float": "float", "bool": "bool"}.get(
            annotation.__name__, annotation.__name__
        )
    return str(annotation).replace("typing.", "")


def _numeric(annotation: Any) -> bool:
    """Whether a value of this type is a number or a list of numbers (needs a unit)."""
    if annotation in (int, float):
        return True
    return get_origin(annotation) in (typing.Union, types.UnionType, list) and any(
        _numeric(a) for a in get_args(annotation)
    )


def _sections(annotation: Any) -> list[type[BaseModel]]:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return [annotation]
    return [m for arg in get_args(annotation) for m in _sections(arg)]


def _show(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, BaseModel):
        value = value.model_dump(mode="json")
    if isinstance(value, Path):
        value = str(value)
    text = json.dumps(value, default=str) if not isinstance(value, str) else value
    return f"`{text}`".replace("|", "\\|")


def _readers(key: str) -> str:
    parts = key.split(".")
    for n in range(len(parts), 0, -1):
        found = READERS.get(".".join(parts[:n]))
        if found:
            return found
    return ""


def _default(field: FieldInfo, value: Any) -> str:
    """The field's own default; for a field filled by a validator (``trading.fee``),
    ``value``, its value in the default configuration."""
    if field.default is not PydanticUndefined:
        return _show(field.default)
    if field.default_factory is not None:
        return _show(field.default_factory())  # type: ignore[call-arg]
    return "required" if value is PydanticUndefined else _show(value)


def _lookup(tree: Any, key: str) -> Any:
    for part in key.split("."):
        if not isinstance(tree, dict) or part not in tree:
            return PydanticUndefined
        tree = tree[part]
    return tree


@functools.cache
def _defaults() -> dict[str, Any]:
    return Config().model_dump(mode="json")


def walk(model: type[BaseModel] = Config, prefix: str = "", note: str = "") -> Iterator[KeyDoc]:
    """Every key of ``model``, depth first; the default configuration's values as
    defaults where a validator fills a key (``trading.fee``: its market's taker fee)."""
    defaults = _defaults()
    for name, field in model.model_fields.items():
        key = prefix + name
        description, unit = split_unit(field.description)
        if note:
            description = f"{note}: {description}"
        sections = _sections(field.annotation)
        yield KeyDoc(
            key,
            _type_name(field.annotation),
            "" if sections and model is Config else _default(field, _lookup(defaults, key)),
            unit,
            description,
            _readers(key),
            _numeric(field.annotation),
        )
        if sections == [EdgeBlend, QuantileBlend]:
            yield from _blend(key)
        elif FeeSchedule in sections:
            for market in ("spot", "futures"):
                yield from walk(FeeSchedule, f"{key}.{market}.", f"{market}")
        elif SearchRange in sections:
            yield from walk(SearchRange, f"{key}.KEY.", "a range")
            yield from walk(SearchChoices, f"{key}.KEY.", "a list")
        else:
            for inner in sections:
                yield from walk(inner, f"{key}.")


def _blend(key: str) -> Iterator[KeyDoc]:
    """The edge rule's keys, then those only the quantile rule takes."""
    yield from walk(EdgeBlend, f"{key}.")
    edge = set(EdgeBlend.model_fields)
    for doc in walk(QuantileBlend, f"{key}.", "rule quantile only"):
        if doc.key.rsplit(".", 1)[1] not in edge:
            yield doc


def reference_markdown() -> str:
    """The whole reference page as Markdown (``docs/reference/configuration.md``)."""
    docs = list(walk())
    out = [
        "# Configuration reference",
        "",
        "<!-- generated by scripts/config_reference.py from src/kilo/config; "
        "do not edit by hand (tests/config/test_reference.py checks it) -->",
        "",
        "Every key of `config/config.yaml`, from the Pydantic schema that validates it "
        "(`src/kilo/config/`). Set a key in the file, or for one run with "
        "`--set dotted.key=value` (the value parsed as YAML). Precedence: `--set` > "
        "`--data-dir`/`--models-dir` > `KILO_DATA_DIR`/`KILO_MODELS_DIR` > the file > "
        "these defaults. Unknown keys are errors, all reported at once by dotted path.",
        "",
        "Units: *fraction* 0.05 = 5 %; *bars* are candles of `data.timeframe`; "
        "*annualised* over the bars of a year; log returns per bar unless stated. "
        "*Read by* names the scripts under `scripts/` (and the freqtrade strategy) "
        "that read the key.",
        "",
        "## Same name, other meaning",
        "",
        "| key | and | the difference |",
        "|---|---|---|",
    ]
    for a, b, why in SAME_NAME:
        out.append(f"| [`{a}`](#{_anchor(a)}) | [`{b}`](#{_anchor(b)}) | {why} |")
    section = None
    for doc in docs:
        head = doc.key.split(".")[0]
        model = Config.model_fields[head].annotation
        head = head if _sections(model) else ""
        if head != section:
            section = head
            intro = _intro(head, model) if head else "Keys outside any section."
            out += ["", f"## {head or 'Top level'}", "", intro, ""]
            out += [
                "| key | type | default | unit | description | read by |",
                "|---|---|---|---|---|---|",
            ]
        if doc.type == "section" and "." not in doc.key:
            continue
        anchor = f'<a id="{_anchor(doc.key)}"></a>`{doc.key}`'
        row = [anchor, doc.type, doc.default, doc.unit, doc.description, doc.readers]
        out.append("| " + " | ".join(c.replace("\n", " ") for c in row) + " |")
    return "\n".join(out) + "\n"


def _intro(head: str, annotation: Any) -> str:
    """A section's class docstring (its first paragraph), else its field's description."""
    sections = _sections(annotation)
    doc = (sections[0].__doc__ or "") if len(sections) == 1 else ""
    doc = " ".join(doc.strip().split("\n\n")[0].split())
    return doc or split_unit(Config.model_fields[head].description)[0]


def _anchor(key: str) -> str:
    return key.replace(".", "-").replace("_", "-").lower()

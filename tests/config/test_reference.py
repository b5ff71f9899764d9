"""The configuration reference: every key described, numbers with units, page current."""

from __future__ import annotations

import re

from kilo.config import Config
from kilo.config.reference import READERS, SAME_NAME, reference_markdown, split_unit, walk
from kilo.config.search import all_paths, has_path
from tests.conftest import REPO

PAGE = REPO / "docs" / "reference" / "configuration.md"


def test_every_field_has_a_description_and_every_number_a_unit() -> None:
    docs = list(walk())
    undescribed = [d.key for d in docs if not d.description.strip()]
    assert not undescribed, f"add a Field(description=...) to {undescribed}"
    unitless = [d.key for d in docs if d.numeric and not d.unit]
    assert not unitless, f"end these descriptions with their unit in brackets: {unitless}"


def test_every_schema_key_is_on_the_page_and_every_section_has_readers() -> None:
    text = reference_markdown()
    documented = set(re.findall(r"`([a-z_.A-Z]+)`", text))
    documented |= set(re.findall(r"^## (\w+)$", text, re.MULTILINE))  # the sections
    fixed = [p for p in all_paths(Config) if ".space." not in p and ".fees." not in p]
    assert not [p for p in fixed if p not in documented]
    assert all(d.readers for d in walk()), "every key needs a READERS entry"
    assert all(has_path(Config, key) for key in READERS)


def test_keys_that_share_a_name_are_documented_side_by_side() -> None:
    for a, b, why in SAME_NAME:
        assert has_path(Config, a) and has_path(Config, b) and why
        assert a.rsplit(".", 1)[1] == b.rsplit(".", 1)[1] or {a, b} == {"data.since", "data.start"}


def test_the_unit_is_the_bracketed_tail() -> None:
    assert split_unit("label horizon [bars]") == ("label horizon", "bars")
    assert split_unit("no unit") == ("no unit", "")


def test_the_page_is_current() -> None:
    assert PAGE.read_text() == reference_markdown(), (
        "docs/reference/configuration.md is stale: run python scripts/config_reference.py"
    )

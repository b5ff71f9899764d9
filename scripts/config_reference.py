#!/usr/bin/env python
"""Write the configuration reference page from the Pydantic schema."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from kilo.config.reference import reference_markdown

#: The page the documentation site shows (mkdocs.yml: Reference).
PAGE = Path(__file__).resolve().parents[1] / "docs" / "reference" / "configuration.md"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description="Write every key of config/config.yaml (type, default, unit, "
        "description, the scripts that read it) as Markdown, from src/kilo/config. "
        "Run it after changing the schema; tests/config/test_reference.py fails while "
        "the page is stale.",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    parser.add_argument("--out", type=Path, default=PAGE, help="Markdown file to write")
    args = parser.parse_args(argv)
    args.out.write_text(reference_markdown())
    print(f"configuration reference: {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

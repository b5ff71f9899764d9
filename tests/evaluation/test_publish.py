"""The Results pages' generated blocks: rewritten from a summary, and stale ones caught."""

from __future__ import annotations

import runpy
from pathlib import Path

import pytest

from kilo.errors import DataError
from kilo.evaluation.report.publish import fill_blocks, publish
from kilo.evaluation.summary import EvaluationSummary, Provenance

FIXTURE = Path(__file__).parent / "data" / "summary.json"
PAGE = """# Results

Some prose that stays.

<!-- results:source -->
typed by hand
<!-- /results -->

<!-- results:trading-table -->
| symbol | blend Sharpe |
| BTC/USDT | +9.99 |
<!-- /results -->

More prose.
"""


@pytest.fixture()
def report(tmp_path: Path) -> Path:
    """A report folder: the fixture summary and a stand-in equity.png."""
    folder = tmp_path / "reports" / "20260101T000000Z"
    folder.mkdir(parents=True)
    (folder / "summary.json").write_bytes(FIXTURE.read_bytes())
    (folder / "equity.png").write_bytes(b"\x89PNG one")
    return folder


def test_blocks_are_replaced_and_the_prose_kept() -> None:
    blocks = {"source": "from here", "trading-table": "| a |\n|---|"}
    filled, changed = fill_blocks(PAGE, blocks, "page")
    assert changed == ["source", "trading-table"]
    assert "+9.99" not in filled and "typed by hand" not in filled
    assert "Some prose that stays." in filled and filled.endswith("More prose.\n")
    assert "<!-- results:trading-table -->\n\n| a |\n|---|\n\n<!-- /results -->" in filled
    assert fill_blocks(filled, blocks, "page") == (filled, [])  # idempotent


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("no markers\n", "no generated block"),
        ("<!-- results:source -->\nx\n", "has no <!-- /results -->"),
        ("<!-- results:source -->\n<!-- results:source -->\n<!-- /results -->", "has no"),
        ("<!-- results:nope -->\nx\n<!-- /results -->", "unknown block nope"),
    ],
)
def test_malformed_blocks_are_refused_with_the_file_named(text: str, message: str) -> None:
    with pytest.raises(DataError, match=message) as caught:
        fill_blocks(text, {"source": "s"}, "README.md")
    assert "README.md" in str(caught.value)


def test_check_finds_stale_blocks_and_figure_and_write_fixes_them(report, tmp_path) -> None:
    page, figure = tmp_path / "README.md", tmp_path / "docs" / "equity.png"
    page.write_text(PAGE)
    run = {"written_by": "python scripts/results.py R --write", "commit": "f23f69d0"}
    stale = publish(report, [page], figure, check=True, **run)
    assert stale == [f"{page}: source", f"{page}: trading-table", str(figure)]
    assert page.read_text() == PAGE and not figure.exists()  # a check writes nothing
    assert publish(report, [page], figure, **run) == stale
    text = page.read_text()
    assert "| BTC/USDT | 37938 | +0.45 | +0.54 |" in text  # the summary's numbers
    assert "Evaluated at commit f23f69d by an unrecorded command" in text
    assert "`python scripts/results.py R --write`" in text
    assert figure.read_bytes() == b"\x89PNG one"
    assert publish(report, [page], figure, check=True, **run) == []
    # a new evaluation in the same folder: the blocks and the figure are stale again
    summary = EvaluationSummary.read(report)
    summary.symbols["BTC/USDT"].strategies["blend"].sharpe = 1.5
    summary.provenance = Provenance(commit="b" * 40, dirty=True, command="python e.py")
    summary.write(report)
    (report / "equity.png").write_bytes(b"\x89PNG two")
    run.pop("commit")
    stale = publish(report, [page], figure, check=True, **run)
    assert stale == [f"{page}: source", f"{page}: trading-table", str(figure)]
    publish(report, [page], figure, **run)
    assert "commit bbbbbbb with uncommitted changes by `python e.py`" in page.read_text()
    with pytest.raises(DataError, match="records its commit"):
        publish(report, [page], figure, check=True, commit="f23f69d", **run)


def test_the_script_exits_1_on_a_stale_page_and_0_once_written(report, tmp_path, capsys) -> None:
    main = runpy.run_path("scripts/results.py")["main"]
    page = tmp_path / "results.md"
    page.write_text(PAGE)
    args = [str(report), "--target", str(page), "--figure", str(tmp_path / "equity.png")]
    assert main([*args, "--check"]) == 1
    assert f"stale: {page}: trading-table" in capsys.readouterr().out
    assert main([*args, "--write"]) == 0
    assert main([*args, "--check"]) == 0
    assert f"results.py {report} --write --target {page}" in page.read_text()

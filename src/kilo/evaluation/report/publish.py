"""The Results pages' generated blocks (``scripts/results.py --write`` and ``--check``).

README.md and docs/results.md mark each generated block with two comments::

    <!-- results:trading-table -->
    (generated: never edited by hand)
    <!-- /results -->

and the text between them is rewritten from one evaluation's ``summary.json``: the
tables of :mod:`kilo.evaluation.report.markdown` and a ``source`` line with the commit and
command of the evaluation and the command that wrote the block. The equity figure is
copied from the report folder. ``--check`` regenerates everything in memory and lists
what differs from the files, so stale numbers fail loudly instead of being read.
"""

from __future__ import annotations

import re
import shutil
from collections.abc import Mapping, Sequence
from pathlib import Path

from kilo.errors import DataError
from kilo.evaluation.report.markdown import forecast_table, trading_table
from kilo.evaluation.summary import EvaluationSummary, Provenance
from kilo.utils import atomic_path

OPENING = re.compile(r"<!-- results:([a-z-]+) -->")
BLOCK = re.compile(
    r"(?P<open><!-- results:(?P<name>[a-z-]+) -->\n)(?P<body>.*?)(?P<close><!-- /results -->)",
    re.S,
)
#: The figure :func:`kilo.evaluation.report.figures.write_equity_png` writes into a report folder.
EQUITY_PNG = "equity.png"


def provenance_of(
    summary: EvaluationSummary, commit: str | None = None, command: str | None = None
) -> Provenance:
    """The summary's provenance, ``commit`` and ``command`` filling in what a summary
    written before Kilo recorded them lacks.

    Raises
    ------
    DataError
        If ``commit`` or ``command`` is given where the summary records its own.
    """
    recorded = summary.provenance or Provenance()
    for name, given in (("commit", commit), ("command", command)):
        if given is not None and getattr(recorded, name) is not None:
            raise DataError(
                f"the summary records its {name} ({getattr(recorded, name)}): drop the flag "
                "that gives it (it is only for summaries written before they recorded it)"
            )
    return Provenance(
        commit=recorded.commit or commit, dirty=recorded.dirty, command=recorded.command or command
    )


def source_line(provenance: Provenance, written_by: str) -> str:
    """One Markdown line: the evaluation's commit (short) and command, and the command
    that wrote the blocks."""
    commit = (
        f"commit {provenance.commit[:7]}"
        + (" with uncommitted changes" if provenance.dirty else "")
        if provenance.commit
        else "an unrecorded commit"
    )
    run = f"`{provenance.command}`" if provenance.command else "an unrecorded command"
    return f"Evaluated at {commit} by {run}; tables written by `{written_by}`."


def results_blocks(
    summary: EvaluationSummary, provenance: Provenance, written_by: str
) -> dict[str, str]:
    """Block name -> its generated Markdown (no surrounding blank lines): ``source``,
    ``forecast-table`` and ``trading-table``."""
    return {
        "source": source_line(provenance, written_by),
        "forecast-table": forecast_table(summary),
        "trading-table": trading_table(summary),
    }


def fill_blocks(text: str, blocks: Mapping[str, str], where: str) -> tuple[str, list[str]]:
    """``text`` with every marked block's body replaced by ``blocks[name]`` (set off by
    blank lines), and the names of the blocks whose body changed.

    Raises
    ------
    DataError
        If ``text`` has no block, a block is not closed by ``<!-- /results -->``, or a
        block's name is not one of ``blocks``; the message names ``where``.
    """
    found = list(BLOCK.finditer(text))
    if len(found) != len(OPENING.findall(text)):
        raise DataError(f"{where}: a <!-- results:NAME --> has no <!-- /results --> after it")
    if not found:
        raise DataError(
            f"{where}: no generated block; mark one with <!-- results:NAME --> and "
            f"<!-- /results --> on their own lines (names: {', '.join(blocks)})"
        )
    unknown = sorted({m["name"] for m in found} - set(blocks))
    if unknown:
        raise DataError(f"{where}: unknown block {', '.join(unknown)}; names: {', '.join(blocks)}")
    bodies = {m.start(): f"\n{blocks[m['name']]}\n\n" for m in found}
    changed = [m["name"] for m in found if m["body"] != bodies[m.start()]]
    filled = BLOCK.sub(lambda m: m["open"] + bodies[m.start()] + m["close"], text)
    return filled, changed


def publish(
    summary_path: Path,
    targets: Sequence[Path],
    figure: Path | None,
    *,
    written_by: str,
    check: bool = False,
    commit: str | None = None,
    command: str | None = None,
) -> list[str]:
    """Rewrite the marked blocks of ``targets`` and copy the report's equity figure to
    ``figure`` (None: leave it) from ``summary_path`` (a ``summary.json`` or its
    report folder); with ``check`` write nothing.

    ``written_by`` is the command quoted in the ``source`` block; ``commit`` and
    ``command`` stand in for a summary that does not record its own
    (:func:`provenance_of`).

    Returns
    -------
    What differed from a fresh generation, as ``"README.md: trading-table"`` or the
    figure's path: rewritten, or with ``check`` stale.

    Raises
    ------
    DataError
        If the summary or the figure cannot be read, or a target's blocks are malformed.
    """
    summary_path = Path(summary_path)
    folder = summary_path if summary_path.is_dir() else summary_path.parent
    summary = EvaluationSummary.read(summary_path)
    blocks = results_blocks(summary, provenance_of(summary, commit, command), written_by)
    differ: list[str] = []
    for target in targets:
        try:
            text = Path(target).read_text()
        except OSError as exc:
            raise DataError(f"{target}: cannot read it ({exc})") from None
        filled, changed = fill_blocks(text, blocks, str(target))
        differ += [f"{target}: {name}" for name in changed]
        if changed and not check:
            with atomic_path(target) as tmp:
                tmp.write_text(filled)
    if figure is not None:
        source = folder / EQUITY_PNG
        if not source.is_file():
            raise DataError(f"{source}: no equity figure beside the summary (a pooled run)")
        if not figure.is_file() or figure.read_bytes() != source.read_bytes():
            differ.append(str(figure))
            if not check:
                with atomic_path(figure) as tmp:
                    shutil.copyfile(source, tmp)
    return differ

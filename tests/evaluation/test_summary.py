"""The summary's provenance: the commit and command that wrote it, optional in older files."""

from __future__ import annotations

import subprocess
from pathlib import Path

from kilo.evaluation.summary import EvaluationSummary, Provenance
from kilo.utils import source_commit

#: One symbol of a real evaluation (format 4, written before summaries carried provenance).
FIXTURE = Path(__file__).parent / "data" / "summary.json"


def test_an_older_summary_reads_without_provenance_and_a_new_one_keeps_it(tmp_path) -> None:
    summary = EvaluationSummary.read(FIXTURE)
    assert summary.provenance is None
    summary.provenance = Provenance(commit="a" * 40, dirty=True, command="python x.py --f 'a b'")
    again = EvaluationSummary.read(summary.write(tmp_path))
    assert again.provenance == summary.provenance


def test_source_commit_names_head_and_sees_a_modified_file(tmp_path) -> None:
    assert source_commit(tmp_path) is None  # not a checkout
    git = ["git", "-C", str(tmp_path), "-c", "user.name=k", "-c", "user.email=k@k"]
    subprocess.run([*git, "init", "-q"], check=True)
    (tmp_path / "f.txt").write_text("1")
    subprocess.run([*git, "add", "f.txt"], check=True)
    subprocess.run([*git, "commit", "-qm", "one"], check=True)
    head = subprocess.run([*git, "rev-parse", "HEAD"], capture_output=True, text=True).stdout
    assert source_commit(tmp_path) == (head.strip(), False)
    (tmp_path / "new.txt").write_text("untracked files do not count")
    assert source_commit(tmp_path) == (head.strip(), False)
    (tmp_path / "f.txt").write_text("2")
    assert source_commit(tmp_path) == (head.strip(), True)


def test_every_column_of_the_strategy_table_has_its_unit_said() -> None:
    from kilo.evaluation.report.text import COLUMN_LABELS, REPORT_COLUMNS, UNITS_NOTE

    for column in REPORT_COLUMNS:
        assert COLUMN_LABELS.get(column, column).split(" /")[0] in UNITS_NOTE.lower(), column

"""The bar of the kinds registry: no module outside ``kilo.models`` names a model kind
in its code (comments and docstrings aside). The config schema keeps a section per kind
(``models.<name>``, what users write in YAML), ``kilo.rl`` is PPO's own
implementation, and ``kilo.bench`` times single implementations; each is listed below
with the reason."""

from __future__ import annotations

import ast
import io
import re
import tokenize
from pathlib import Path

from kilo.models.kinds import KINDS

SRC = Path(__file__).resolve().parents[2] / "src" / "kilo"
#: Folders whose code may name kinds, and why.
ALLOWED = {
    "models": "the kinds and their registry",
    "config": "the YAML schema: a section per kind (models.gru.*), kept for old configs",
    "rl": "PPO's own implementation (as kilo/models/gru.py is the GRU's)",
    "bench": "benchmarks of one kind's implementation (GRU modes, PPO environments)",
}


def _docstring_lines(tree: ast.AST) -> set[int]:
    lines: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef):
            body = node.body
            if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
                doc = body[0]
                lines.update(range(doc.lineno, (doc.end_lineno or doc.lineno) + 1))
    return lines


def code_mentions(text: str, names: tuple[str, ...]) -> list[tuple[int, str]]:
    """``(line, token)`` of every code token (a name, an attribute or a string outside
    docstrings) that names one of ``names`` as a whole word; comments are not code."""
    pattern = re.compile(rf"\b({'|'.join(names)})\b")
    docs = _docstring_lines(ast.parse(text))
    found = []
    for tok in tokenize.generate_tokens(io.StringIO(text).readline):
        code = tok.type in (tokenize.NAME, tokenize.STRING) and tok.start[0] not in docs
        if code and pattern.search(tok.string):
            found.append((tok.start[0], tok.string))
    return found


def test_no_module_outside_the_models_names_a_kind() -> None:
    names = tuple(KINDS)
    offenders = [
        f"{path.relative_to(SRC)}:{line}: {token}"
        for path in sorted(SRC.rglob("*.py"))
        if path.relative_to(SRC).parts[0] not in ALLOWED
        for line, token in code_mentions(path.read_text(), names)
    ]
    assert not offenders, "name kinds through kilo.models.kinds.KINDS:\n" + "\n".join(offenders)


def test_the_scanner_finds_a_kind_in_code_and_not_in_prose() -> None:
    text = '"""The gru docstring."""\n# the ppo comment\nx = config.models.gru\ny = "lightgbm"\n'
    assert code_mentions(text, ("gru", "ppo", "lightgbm")) == [(3, "gru"), (4, '"lightgbm"')]

"""Small shared helpers: seeding, atomic file writes, hashing, a JSON-safe float, the
source's git commit."""

from __future__ import annotations

import contextlib
import hashlib
import math
import os
import random
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Annotated, Any

import numpy as np
from pydantic import BeforeValidator, PlainSerializer


def _nan_from_null(value: Any) -> Any:
    return math.nan if value is None else value


def _null_if_not_finite(value: float) -> float | None:
    return float(value) if math.isfinite(value) else None


#: A float field of a Pydantic model that may be undefined: NaN (and inf) are written
#: to JSON as ``null`` and read back as NaN, so strict JSON round-trips.
JsonFloat = Annotated[
    float,
    BeforeValidator(_nan_from_null),
    PlainSerializer(_null_if_not_finite, return_type=float | None, when_used="json"),
]


def seed_everything(seed: int) -> None:
    """Seed Python's ``random``, numpy's global generator and torch (CPU and CUDA)."""
    import torch

    random.seed(seed)
    np.random.seed(seed)  # noqa: NPY002 (the legacy global generator some libraries draw from)
    torch.manual_seed(seed)


@contextlib.contextmanager
def atomic_path(target: str | Path) -> Iterator[Path]:
    """Yield a temporary path beside ``target``; rename it onto ``target`` on success.

    The rename (``os.replace``) is atomic on POSIX, so readers see either the old
    file or the complete new one. On any exception the temporary file is removed and
    ``target`` is left untouched.
    """
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    os.close(fd)
    tmp_path = Path(tmp)
    try:
        yield tmp_path
        with open(tmp_path, "rb") as fh:
            os.fsync(fh.fileno())
        os.replace(tmp_path, target)
    finally:
        tmp_path.unlink(missing_ok=True)


def sha256_file(path: str | Path) -> str:
    """Hex sha256 of a file's bytes."""
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def source_commit(folder: str | Path | None = None) -> tuple[str, bool] | None:
    """The git commit checked out where ``folder`` lies (default: this package's source)
    and whether tracked files differ from it.

    Returns
    -------
    (sha, dirty): the full 40-hex sha of ``HEAD`` and True when a tracked file is
    modified; None outside a git checkout or where git cannot run.
    """
    where = str(folder or Path(__file__).parent)

    def git(*args: str) -> str:
        return subprocess.run(
            ["git", "-C", where, *args], capture_output=True, text=True, check=True, timeout=30
        ).stdout.strip()

    try:
        return git("rev-parse", "HEAD"), bool(git("status", "--porcelain", "--untracked-files=no"))
    except (OSError, subprocess.SubprocessError):
        return None

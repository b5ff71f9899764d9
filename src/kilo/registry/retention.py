"""Retention: delete old model-set versions, never the champion."""

from __future__ import annotations

import logging
import shutil
from pathlib import Path

from kilo.registry.modelset import latest_version, list_versions, symbol_dir

logger = logging.getLogger(__name__)


def apply_retention(models_dir: str | Path, symbol: str, keep: int) -> list[str]:
    """Keep the ``keep`` newest versions plus the champion (``LATEST``); delete the rest.

    Also removes temporary folders (``.tmp-*``) that a crashed save left behind.
    Call it only after a promotion succeeded.

    Returns
    -------
    The deleted version names, oldest first.
    """
    root = symbol_dir(models_dir, symbol)
    champion = latest_version(models_dir, symbol)
    versions = list_versions(models_dir, symbol)
    keep_set = set(versions[-keep:]) | {champion} if keep > 0 else {champion}
    deleted = [v for v in versions if v not in keep_set]
    for version in deleted:
        shutil.rmtree(root / version)
    for stale in root.glob(".tmp-*"):
        shutil.rmtree(stale, ignore_errors=True)
    if deleted:
        logger.info("%s: deleted old versions %s", symbol, deleted)
    return deleted

from __future__ import annotations

import pytest

from kilo.errors import ModelSetError
from kilo.registry import (
    apply_retention,
    latest_version,
    list_versions,
    promote_version,
)


def make_versions(models_dir, names):
    root = models_dir / "BTC_USDT"
    for name in names:
        (root / name).mkdir(parents=True)
        (root / name / "manifest.json").write_text("{}")
    return root


def test_keeps_newest_and_champion(tmp_path) -> None:
    names = [f"2025010{i}T000000Z-abc" for i in range(1, 7)]
    root = make_versions(tmp_path, names)
    (root / ".tmp-crashed").mkdir()
    (root / "half-written").mkdir()  # no manifest: not a version, never touched
    promote_version(tmp_path, "BTC/USDT", names[1])
    deleted = apply_retention(tmp_path, "BTC/USDT", keep=2)
    assert deleted == [names[0], names[2], names[3]]
    assert list_versions(tmp_path, "BTC/USDT") == [names[1], names[4], names[5]]
    assert latest_version(tmp_path, "BTC/USDT") == names[1]
    assert not (root / ".tmp-crashed").exists() and (root / "half-written").exists()


def test_promote_needs_a_complete_version(tmp_path) -> None:
    make_versions(tmp_path, ["v1"])
    with pytest.raises(ModelSetError, match="no such complete version"):
        promote_version(tmp_path, "BTC/USDT", "v2")

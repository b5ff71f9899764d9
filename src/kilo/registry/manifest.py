"""Manifest helpers: provenance, checksums and the feature contract (invariants 3, 6, 7)."""

from __future__ import annotations

import json
import platform
from importlib import metadata
from pathlib import Path
from typing import Any

from kilo.errors import FeatureContractError, ModelSetError
from kilo.features import FeatureEngine
from kilo.features.preprocessor import describe_column_difference
from kilo.utils import sha256_file

MANIFEST_FILE = "manifest.json"
PACKAGES = ("torch", "lightgbm", "stable-baselines3", "gymnasium", "scikit-learn", "pandas",
            "numpy", "kilo")


def package_versions() -> dict[str, str]:
    """Versions of python and every package a model set depends on."""
    versions = {"python": platform.python_version()}
    for name in PACKAGES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = "not installed"
    return versions


def read_manifest(folder: Path) -> dict[str, Any]:
    """Parse ``manifest.json`` in ``folder``.

    Raises
    ------
    ModelSetError
        If it is missing or not valid JSON.
    """
    path = Path(folder) / MANIFEST_FILE
    try:
        return json.loads(path.read_text())
    except FileNotFoundError:
        raise ModelSetError(f"{path} is missing: {folder} is not a complete model set") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ModelSetError(f"{path} is corrupt ({exc}); retrain this symbol") from exc


def verify_checksums(folder: Path, manifest: dict[str, Any]) -> None:
    """Compare every file's sha256 with the manifest's ``files`` entry.

    Raises
    ------
    ModelSetError
        Naming each file that is missing or whose bytes changed.
    """
    problems = []
    for name, expected in manifest.get("files", {}).items():
        path = Path(folder) / name
        if not path.is_file():
            problems.append(f"{name} is missing")
        elif sha256_file(path) != expected:
            problems.append(f"{name} does not match its sha256 in the manifest")
    if problems:
        raise ModelSetError(f"model set {folder} is damaged: " + "; ".join(problems)
                            + ". Retrain, or load another version.")


def check_feature_contract(manifest: dict[str, Any], engine: FeatureEngine) -> None:
    """Fail unless the model set was trained with the running engine's features.

    Raises
    ------
    FeatureContractError
        Naming the features missing or unexpected, or the feature settings that
        differ when the names agree but the specification hash does not.
    """
    names, spec_hash = manifest.get("feature_names", []), manifest.get("spec_hash")
    if names == engine.feature_names and spec_hash == engine.spec_hash:
        return
    detail = describe_column_difference(names, engine.feature_names)
    if names == engine.feature_names:
        trained = manifest.get("config", {}).get("features", {})
        running = engine.spec.model_dump(mode="json")
        changed = sorted(k for k in running if k != "horizon" and trained.get(k) != running[k])
        detail = f"same feature names, different settings {changed or '(engine version)'}"
    raise FeatureContractError(
        f"{manifest.get('symbol')} version {manifest.get('version')}: the model set's features "
        f"differ from the running FeatureEngine: {detail} (spec hash {spec_hash} vs "
        f"{engine.spec_hash}). Retrain the symbol, or run with the config stored in its manifest."
    )

"""Model sets on disk: one folder per symbol and version, a typed manifest and checksums."""

from kilo.registry.manifest import (
    Manifest,
    ModelMetrics,
    SplitInfo,
    check_feature_contract,
    package_versions,
)
from kilo.registry.modelset import (
    ModelSet,
    latest_version,
    list_versions,
    promote_version,
    symbol_dir,
)
from kilo.registry.retention import apply_retention

__all__ = [
    "Manifest",
    "ModelMetrics",
    "ModelSet",
    "SplitInfo",
    "apply_retention",
    "check_feature_contract",
    "latest_version",
    "list_versions",
    "package_versions",
    "promote_version",
    "symbol_dir",
]

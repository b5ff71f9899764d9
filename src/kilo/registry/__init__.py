"""Model sets on disk: one folder per symbol and version, manifest and checksums."""

from kilo.registry.manifest import check_feature_contract, package_versions
from kilo.registry.modelset import ModelSet, latest_version, symbol_dir

__all__ = ["ModelSet", "check_feature_contract", "latest_version", "package_versions", "symbol_dir"]

"""ModelSet: a symbol's preprocessor and models (one per kind it holds) saved as one version.

Layout: ``{models_dir}/{BASE}_{QUOTE}/{version}/`` holding ``manifest.json``,
``preprocessor.joblib`` and the files of the models it holds (each kind's
:attr:`~kilo.models.kind.ModelKind.files`);
``{models_dir}/{BASE}_{QUOTE}/LATEST`` names the current version.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from kilo.config import Config, load_config
from kilo.data import pair_name
from kilo.errors import ModelSetError
from kilo.features import FeatureEngine, Preprocessor
from kilo.models.kinds import KINDS, bind_forecasters, check_dependencies
from kilo.registry.manifest import (
    MANIFEST_FILE,
    Manifest,
    check_feature_contract,
    read_manifest,
    verify_checksums,
    warn_on_version_drift,
)
from kilo.utils import atomic_path, sha256_file

LATEST_FILE = "LATEST"
PREPROCESSOR_FILE = "preprocessor.joblib"


def symbol_dir(models_dir: str | Path, symbol: str) -> Path:
    """``{models_dir}/{BASE}_{QUOTE}``."""
    return Path(models_dir) / pair_name(symbol)


def latest_version(models_dir: str | Path, symbol: str) -> str:
    """The version named in ``LATEST``.

    Raises
    ------
    ModelSetError
        If the symbol has no model set yet.
    """
    path = symbol_dir(models_dir, symbol) / LATEST_FILE
    if not path.is_file():
        raise ModelSetError(
            f"no model set for {symbol} in {models_dir}: train one with "
            f"scripts/trainer.py --symbol {symbol}"
        )
    return path.read_text().strip()


def promote_version(models_dir: str | Path, symbol: str, version: str) -> None:
    """Point ``LATEST`` at ``version`` with an atomic rename.

    Raises
    ------
    ModelSetError
        If that version folder does not exist.
    """
    root = symbol_dir(models_dir, symbol)
    if not (root / version / MANIFEST_FILE).is_file():
        raise ModelSetError(
            f"cannot promote {symbol} {version}: no such complete version in {root}"
        )
    with atomic_path(root / LATEST_FILE) as latest:
        latest.write_text(version + "\n")


def list_versions(models_dir: str | Path, symbol: str) -> list[str]:
    """Complete versions of ``symbol``, oldest first (names start with their UTC time)."""
    root = symbol_dir(models_dir, symbol)
    if not root.is_dir():
        return []
    return sorted(
        p.name
        for p in root.iterdir()
        if p.is_dir() and not p.name.startswith(".") and (p / MANIFEST_FILE).is_file()
    )


@dataclass
class ModelSet:
    """The models of one symbol and version, with the manifest that describes them.

    A set holds any non-empty subset of the kinds (``models.enabled`` when trained):
    ``models`` maps each kind it holds (:data:`~kilo.models.kinds.KINDS`) to its
    fitted model, and ``manifest.models`` names them.
    """

    symbol: str
    manifest: Manifest
    preprocessor: Preprocessor
    models: dict[str, Any] = field(default_factory=dict)
    folder: Path | None = field(default=None)

    @property
    def names(self) -> tuple[str, ...]:
        """The kinds this set holds, in :data:`~kilo.models.kinds.KINDS` order."""
        return tuple(name for name in KINDS if name in self.models)

    def model(self, name: str) -> Any:
        """The model of kind ``name``.

        Raises
        ------
        KeyError
            If the set holds no model of that kind.
        """
        if name not in self.models:
            raise KeyError(f"{self.symbol}'s model set holds no {name!r} model: {self.names}")
        return self.models[name]

    @property
    def version(self) -> str | None:
        return self.manifest.version

    def save(self, models_dir: str | Path, promote: bool = True) -> Path:
        """Write a new version atomically and, with ``promote``, point ``LATEST`` at it.

        Files go to a hidden temporary folder which is renamed into place once
        complete; ``LATEST`` is replaced with an atomic rename. The manifest gains
        ``version``, ``created_at``, ``files`` (name -> sha256) and the drift
        reference's ``drift_sha256``. A challenger is
        saved with ``promote=False`` and promoted later with :func:`promote_version`.

        Returns
        -------
        The version folder.

        Raises
        ------
        ModelSetError
            If a model writes files other than its kind declares
            (:attr:`~kilo.models.kind.ModelKind.files`); nothing is saved then.
        """
        root = symbol_dir(models_dir, self.symbol)
        root.mkdir(parents=True, exist_ok=True)
        tmp = root / f".tmp-{uuid.uuid4().hex}"
        tmp.mkdir()
        try:
            self.preprocessor.save(tmp / PREPROCESSOR_FILE)
            names = [PREPROCESSOR_FILE]
            for name in self.names:
                written = self.model(name).save(tmp)
                if sorted(written) != sorted(KINDS[name].files):
                    raise ModelSetError(
                        f"the {name!r} model wrote {written}, not the files its kind "
                        f"declares {list(KINDS[name].files)}"
                    )
                names.extend(written)
            files = {name: sha256_file(tmp / name) for name in sorted(names)}
            now = datetime.now(UTC)
            digest = hashlib.sha256(json.dumps(files, sort_keys=True).encode()).hexdigest()[:8]
            version = f"{now:%Y%m%dT%H%M%SZ}-{digest}"
            drift = self.manifest.drift
            manifest = self.manifest.model_copy(
                update={
                    "version": version,
                    "created_at": now,
                    "files": files,
                    "drift_sha256": None if drift is None else drift.sha256(),
                }
            )
            (tmp / MANIFEST_FILE).write_text(manifest.model_dump_json(indent=2))
            target = root / version
            if target.exists():
                raise ModelSetError(f"{target} exists already")
            os.replace(tmp, target)
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
        self.manifest, self.folder = manifest, target
        if promote:
            promote_version(models_dir, self.symbol, version)
        return target

    @classmethod
    def load(
        cls,
        symbol: str,
        version: str = "latest",
        models_dir: str | Path | None = None,
        *,
        engine: FeatureEngine | None = None,
        config: Config | None = None,
    ) -> ModelSet:
        """Load a version after verifying checksums and the feature contract.

        Parameters
        ----------
        version
            A version folder name, or ``"latest"`` for the one in ``LATEST``.
        models_dir
            ``None`` uses the configured ``models.dir`` (``KILO_MODELS_DIR`` applies).
        engine
            The running FeatureEngine; by default the one of ``config`` (or of the
            default config).
        config
            Supplies the models dir and engine when those are not given.

        A manifest saved with other versions of torch, stable-baselines3, LightGBM or
        scikit-learn loads with one warning naming them.

        Raises
        ------
        ModelSetError
            If the version is missing, a file is missing or corrupt, the manifest
            does not match :class:`~kilo.registry.manifest.Manifest`, or a kind it
            holds depends on a kind it lacks (named).
        FeatureContractError
            If the model set's features differ from ``engine``'s.
        """
        if models_dir is None or engine is None:
            config = config or load_config()
            models_dir = config.models.dir if models_dir is None else models_dir
            engine = engine or FeatureEngine.from_config(config, symbol)
        if version == "latest":
            version = latest_version(models_dir, symbol)
        folder = symbol_dir(models_dir, symbol) / version
        if not folder.is_dir():
            raise ModelSetError(f"{symbol} has no version {version!r} in {models_dir}")
        manifest = read_manifest(folder)
        verify_checksums(folder, manifest)
        check_feature_contract(manifest, engine)
        warn_on_version_drift(manifest)
        check_dependencies(manifest.models)
        models: dict[str, Any] = {
            name: KINDS[name].load(folder, manifest.config) for name in manifest.models
        }
        try:
            bind_forecasters(models)
        except ModelSetError as exc:
            raise ModelSetError(f"{folder}: {exc}") from None
        return cls(
            symbol=symbol,
            manifest=manifest,
            preprocessor=Preprocessor.load(folder / PREPROCESSOR_FILE),
            models=models,
            folder=folder,
        )

"""ModelSet: a symbol's preprocessor, GRU, LightGBM and PPO saved as one version.

Layout: ``{models_dir}/{BASE}_{QUOTE}/{version}/`` holding ``manifest.json``,
``gru.pt``, ``gru.json``, ``lightgbm.txt``, ``ppo.zip`` and ``preprocessor.joblib``;
``{models_dir}/{BASE}_{QUOTE}/LATEST`` names the current version.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import numpy as np

from kilo.config import Config, PPOConfig, load_config
from kilo.data import pair_name
from kilo.errors import ModelSetError
from kilo.features import FeatureEngine, Preprocessor
from kilo.models.gru import GRURegressor
from kilo.models.lightgbm import LightGBMRegressor
from kilo.registry.manifest import (
    MANIFEST_FILE,
    check_feature_contract,
    read_manifest,
    verify_checksums,
)
from kilo.rl import PPOAgent
from kilo.rl.env import build_observations
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
        raise ModelSetError(f"no model set for {symbol} in {models_dir}: train one with "
                            f"scripts/trainer.py --symbol {symbol}")
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
        raise ModelSetError(f"cannot promote {symbol} {version}: no such complete version in {root}")
    with atomic_path(root / LATEST_FILE) as latest:
        latest.write_text(version + "\n")


def list_versions(models_dir: str | Path, symbol: str) -> list[str]:
    """Complete versions of ``symbol``, oldest first (names start with their UTC time)."""
    root = symbol_dir(models_dir, symbol)
    if not root.is_dir():
        return []
    return sorted(p.name for p in root.iterdir()
                  if p.is_dir() and not p.name.startswith(".") and (p / MANIFEST_FILE).is_file())


@dataclass(frozen=True)
class PortfolioState:
    """What the PPO agent sees of its own position (see :class:`~kilo.rl.TradingEnv`)."""

    position: float = 0.0
    unrealised: float = 0.0
    bars_held: int = 0


@dataclass(frozen=True)
class RawOutputs:
    """Raw model outputs for n bars: log returns of shape (n,), probabilities (n, 3)."""

    gru: np.ndarray
    lightgbm: np.ndarray
    ppo: np.ndarray


@dataclass
class ModelSet:
    """The models of one symbol and version, with the manifest that describes them."""

    symbol: str
    manifest: dict[str, Any]
    preprocessor: Preprocessor
    gru: GRURegressor
    lightgbm: LightGBMRegressor
    ppo: PPOAgent
    folder: Path | None = field(default=None)

    @property
    def version(self) -> str | None:
        return self.manifest.get("version")

    @property
    def context_rows(self) -> int:
        """Feature rows needed before the first predicted bar (GRU or PPO window)."""
        return max(self.manifest["sequence_length"], self.manifest["window"]) - 1

    def predict_rows(self, X: np.ndarray, n_out: int,
                     state: PortfolioState = PortfolioState()) -> RawOutputs:
        """Outputs of the three models for the last ``n_out`` rows of ``X``.

        Parameters
        ----------
        X
            Array of shape (n_rows, n_features), float32, preprocessed rows ending at
            the last bar to predict; ``n_rows >= n_out + context_rows``.
        state
            The portfolio state shown to PPO for every one of the ``n_out`` bars.

        Raises
        ------
        ValueError
            If ``X`` has too few rows.
        """
        if len(X) < n_out + self.context_rows:
            raise ValueError(f"need {n_out + self.context_rows} feature rows, got {len(X)}")
        L = self.manifest["sequence_length"]
        gru = self.gru.predict(X[len(X) - n_out - L + 1 :])[L - 1 :]
        return RawOutputs(gru, self.lightgbm.predict(X[len(X) - n_out :]),
                          self.ppo_proba(X, n_out, state))

    def ppo_proba(self, X: np.ndarray, n_out: int, state: PortfolioState) -> np.ndarray:
        """PPO action probabilities, shape (n_out, 3), for the last ``n_out`` rows of ``X``.

        ``X`` needs ``window - 1`` rows before them; ``state`` is shown for every row.
        """
        w = self.manifest["window"]
        windows = np.lib.stride_tricks.sliding_window_view(X[len(X) - n_out - w + 1 :],
                                                           (w, X.shape[1]))[:, 0]
        obs = build_observations(windows, state.position, state.unrealised, state.bars_held,
                                 self.ppo.params.episode_length)
        return self.ppo.predict_proba(obs)

    def save(self, models_dir: str | Path, promote: bool = True) -> Path:
        """Write a new version atomically and, with ``promote``, point ``LATEST`` at it.

        Files go to a hidden temporary folder which is renamed into place once
        complete; ``LATEST`` is replaced with an atomic rename. The manifest gains
        ``version``, ``created_at`` and ``files`` (name -> sha256). A challenger is
        saved with ``promote=False`` and promoted later with :func:`promote_version`.

        Returns
        -------
        The version folder.
        """
        root = symbol_dir(models_dir, self.symbol)
        root.mkdir(parents=True, exist_ok=True)
        tmp = root / f".tmp-{uuid.uuid4().hex}"
        tmp.mkdir()
        try:
            self.preprocessor.save(tmp / PREPROCESSOR_FILE)
            names = [PREPROCESSOR_FILE, *self.gru.save(tmp), *self.lightgbm.save(tmp),
                     *self.ppo.save(tmp)]
            files = {name: sha256_file(tmp / name) for name in sorted(names)}
            now = datetime.now(timezone.utc)
            digest = hashlib.sha256(json.dumps(files, sort_keys=True).encode()).hexdigest()[:8]
            version = f"{now:%Y%m%dT%H%M%SZ}-{digest}"
            self.manifest.update(version=version, created_at=now.isoformat(), files=files)
            (tmp / MANIFEST_FILE).write_text(json.dumps(self.manifest, indent=2, default=str))
            target = root / version
            if target.exists():
                raise ModelSetError(f"{target} exists already")
            os.replace(tmp, target)
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
        self.folder = target
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

        Raises
        ------
        ModelSetError
            If the version is missing, a file is missing or corrupt.
        FeatureContractError
            If the model set's features differ from ``engine``'s.
        """
        if models_dir is None or engine is None:
            config = config or load_config()
            models_dir = config.models.dir if models_dir is None else models_dir
            engine = engine or FeatureEngine.from_config(config)
        if version == "latest":
            version = latest_version(models_dir, symbol)
        folder = symbol_dir(models_dir, symbol) / version
        if not folder.is_dir():
            raise ModelSetError(f"{symbol} has no version {version!r} in {models_dir}")
        manifest = read_manifest(folder)
        verify_checksums(folder, manifest)
        check_feature_contract(manifest, engine)
        trading = manifest["config"]["trading"]
        ppo = PPOAgent.load(folder, PPOConfig(**manifest["config"]["models"]["ppo"]),
                            seed=manifest["seed"], fee=trading["fee"], slippage=trading["slippage"])
        return cls(
            symbol=symbol,
            manifest=manifest,
            preprocessor=Preprocessor.load(folder / PREPROCESSOR_FILE),
            gru=GRURegressor.load(folder),
            lightgbm=LightGBMRegressor.load(folder),
            ppo=ppo,
            folder=folder,
        )

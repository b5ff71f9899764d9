"""The manifest of a model set: a typed record of what it is and how it was made.

Provenance, checksums and the feature contract (DESIGN.md invariants 3, 6, 7). The
:class:`Manifest` is written and read through the same Pydantic model, so a field
renamed in code fails validation at load instead of in production.
"""

from __future__ import annotations

import logging
import platform
from datetime import datetime, timedelta
from importlib import metadata
from pathlib import Path
from typing import Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    RootModel,
    SerializeAsAny,
    ValidationError,
    model_validator,
)

from kilo.blend import Calibration
from kilo.config import Config, ModelName, timeframe_seconds
from kilo.errors import FeatureContractError, ModelSetError
from kilo.features import FeatureEngine
from kilo.features.preprocessor import describe_column_difference
from kilo.models.kind import KindReport
from kilo.models.kinds import KINDS, LEGACY_KINDS
from kilo.registry.drift import DriftReference
from kilo.utils import sha256_file

logger = logging.getLogger(__name__)

MANIFEST_FILE = "manifest.json"
MANIFEST_FORMAT: Literal[2] = 2
#: Packages whose version decides how the saved artifacts load and predict: every
#: kind's, and scikit-learn's (the preprocessor).
CHECKED_PACKAGES = tuple(
    dict.fromkeys([*(p for kind in KINDS.values() for p in kind.packages), "scikit-learn"])
)
#: Packages whose versions the manifest records.
PACKAGES = (*CHECKED_PACKAGES, "pandas", "numpy", "kilo")


class _Record(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", ser_json_inf_nan="constants")


class SplitRange(_Record):
    """One split's first and last bar (UTC candle open times, inclusive) and its rows."""

    start: datetime
    end: datetime
    rows: int


class SplitInfo(_Record):
    """train < validation < test, ``embargo_bars`` apart (DESIGN.md invariant 4)."""

    embargo_bars: int
    train: SplitRange
    validation: SplitRange
    test: SplitRange


class ModelMetrics(RootModel[dict[str, SerializeAsAny[KindReport]]]):
    """Validation and test scores of every model of the set: kind name -> its report
    (:attr:`~kilo.models.kind.ModelKind.report`); a kind the set does not hold has none.
    Stored as one JSON object keyed by kind, as sets have always stored it."""

    model_config = ConfigDict(frozen=True, ser_json_inf_nan="constants")

    @model_validator(mode="before")
    @classmethod
    def _reports(cls, data: Any) -> Any:
        """Each entry parsed with its kind's report type; None entries dropped."""
        if not isinstance(data, dict):
            return data
        unknown = sorted(set(data) - set(KINDS))
        if unknown:
            raise ValueError(f"unknown model kind(s) {unknown}: known are {list(KINDS)}")
        out = {}
        for name, value in data.items():
            if value is None:
                continue
            try:
                out[name] = KINDS[name].report.model_validate(value)
            except ValidationError as exc:
                raise ValueError(
                    "; ".join(
                        f"{'.'.join(str(p) for p in (name, *e['loc']))}: {e['msg']}"
                        for e in exc.errors()
                    )
                ) from None
        return out

    def get(self, name: str) -> KindReport | None:
        """The report of kind ``name``; None for a kind the set does not hold."""
        return self.root.get(name)


class OutageCounts(_Record):
    """What the data's exchange outages did to a model set's rows (DESIGN.md invariant 2).

    ``filled_candles``: candles inserted for missing bars; ``blanked_feature_rows``:
    candles more than ``features.ffill_limit`` bars into an outage, whose features
    are NaN (then the NaN policy's); ``dropped_labels``: rows whose label would start
    or end on a filled candle or cross a longer gap, left out of every split.
    """

    filled_candles: int
    blanked_feature_rows: int
    dropped_labels: int


class PoolInfo(_Record):
    """The pool a set's GRU and LightGBM were fit on (``training.pool: universe``):
    the members whose training rows they learned from, those rows per member, and
    ``target.demean``. The pooled models are stored in the set (checksummed in
    ``files``, as every file)."""

    members: list[str]
    train_rows: dict[str, int]
    demean: str


class Manifest(_Record):
    """Everything a model set records about itself, validated when written and read.

    ``models`` are the kinds the set holds (a non-empty subset of
    :data:`~kilo.models.kinds.KINDS`; sets written before it held
    :data:`~kilo.models.kinds.LEGACY_KINDS`);
    ``trained_models`` those trained for this version, the rest reused from
    ``reused_from``. The label is ``config.target``. ``refit_rows`` are the rows
    (train + validation) the served regressors were refit on, None without a refit.
    ``selection_window`` holds the bars a retraining comparison used to promote this
    set (None when none ran): they are no longer out of sample for it, so replay
    starts after them. ``drift`` is the reference of the live drift measures (None in
    sets saved before them). ``version``, ``created_at``, ``files`` (name -> sha256)
    and ``drift_sha256`` (:meth:`DriftReference.sha256`) are filled in by
    :meth:`kilo.registry.ModelSet.save`.
    """

    manifest_format: Literal[2] = MANIFEST_FORMAT
    symbol: str
    exchange: str
    timeframe: str
    feature_names: list[str]
    spec_hash: str
    max_lookback: int
    split: SplitInfo
    refit_rows: SplitRange | None
    metrics: ModelMetrics
    calibration: Calibration
    models: list[ModelName] = Field(default_factory=lambda: list(LEGACY_KINDS), min_length=1)
    trained_models: list[str]
    reused_from: str | None
    config: Config
    packages: dict[str, str]
    selection_window: SplitRange | None = None
    outages: OutageCounts | None = None
    pool: PoolInfo | None = None
    drift: DriftReference | None = None
    drift_sha256: str | None = None
    version: str | None = None
    created_at: datetime | None = None
    files: dict[str, str] = {}

    @property
    def seed(self) -> int:
        """The one seed that drove every model (DESIGN.md invariant 7)."""
        return self.config.seed

    @property
    def first_unseen_bar(self) -> datetime:
        """The first bar neither training, early stopping nor a promotion decision used:
        the test split's start, or the bar after ``selection_window``."""
        if self.selection_window is None:
            return self.split.test.start
        return max(
            self.split.test.start, self.selection_window.end + timeframe_delta(self.timeframe)
        )


def timeframe_delta(timeframe: str) -> timedelta:
    """One candle of ``timeframe`` as a ``timedelta``."""
    return timedelta(seconds=timeframe_seconds(timeframe))


def package_versions() -> dict[str, str]:
    """Versions of python and every package a model set depends on."""
    versions = {"python": platform.python_version()}
    for name in PACKAGES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = "not installed"
    return versions


def read_manifest(folder: Path) -> Manifest:
    """Parse and validate ``manifest.json`` in ``folder``.

    Raises
    ------
    ModelSetError
        If it is missing, not JSON, or does not match :class:`Manifest` (an unknown,
        missing or malformed field); the message names each such field.
    """
    path = Path(folder) / MANIFEST_FILE
    try:
        text = path.read_text()
    except FileNotFoundError:
        raise ModelSetError(f"{path} is missing: {folder} is not a complete model set") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ModelSetError(f"{path} is corrupt ({exc}); retrain this symbol") from exc
    try:
        return Manifest.model_validate_json(text)
    except ValidationError as exc:
        if any(e["type"] == "json_invalid" for e in exc.errors()):
            raise ModelSetError(
                f"{path} is corrupt (not valid JSON); retrain this symbol"
            ) from None
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc']) or '(top level)'}: "
            + ("unknown key" if e["type"] == "extra_forbidden" else e["msg"])
            for e in exc.errors()[:10]
        )
        raise ModelSetError(
            f"{path} does not match the manifest schema of this Kilo (format {MANIFEST_FORMAT}): "
            f"{problems}. Retrain the symbol with this version of Kilo."
        ) from None


def verify_checksums(folder: Path, manifest: Manifest) -> None:
    """Compare every file's sha256 with the manifest's ``files`` entry, and the drift
    reference's with ``drift_sha256``.

    Raises
    ------
    ModelSetError
        Naming each file that is missing or whose bytes changed, and a changed drift
        reference.
    """
    problems = []
    if manifest.drift is not None and manifest.drift.sha256() != manifest.drift_sha256:
        problems.append("the drift reference does not match its sha256 in the manifest")
    for name, expected in manifest.files.items():
        path = Path(folder) / name
        if not path.is_file():
            problems.append(f"{name} is missing")
        elif sha256_file(path) != expected:
            problems.append(f"{name} does not match its sha256 in the manifest")
    if problems:
        folder = Path(folder)
        others = sorted(
            p.name
            for p in folder.parent.iterdir()
            if p.is_dir() and p != folder and (p / MANIFEST_FILE).is_file()
        )
        fallback = (
            f"point {folder.parent / 'LATEST'} at another version (e.g. "
            f"echo {others[-1]} > {folder.parent / 'LATEST'}; versions: {', '.join(others)})"
            if others
            else "no other version is saved"
        )
        raise ModelSetError(
            f"model set {folder} is damaged: "
            + "; ".join(problems)
            + f". Retrain it (scripts/trainer.py --symbol {manifest.symbol}), or {fallback}."
        )


def check_feature_contract(manifest: Manifest, engine: FeatureEngine) -> None:
    """Fail unless the model set was trained with the running engine's features.

    Raises
    ------
    FeatureContractError
        Naming the features missing or unexpected, or the feature settings that
        differ when the names agree but the specification hash does not.
    """
    names, spec_hash = manifest.feature_names, manifest.spec_hash
    if names == engine.feature_names and spec_hash == engine.spec_hash:
        return
    detail = describe_column_difference(names, engine.feature_names)
    if names == engine.feature_names:
        trained = manifest.config.features.model_dump(mode="json")
        running = engine.spec.model_dump(mode="json")
        changed = sorted(k for k in running if k != "horizon" and trained.get(k) != running[k])
        detail = f"same feature names, different settings {changed or '(engine version)'}"
    raise FeatureContractError(
        f"{manifest.symbol} version {manifest.version}: the model set's features differ from "
        f"the running FeatureEngine: {detail} (spec hash {spec_hash} vs {engine.spec_hash}). "
        "Retrain the symbol, or run with the config stored in its manifest."
    )


def warn_on_version_drift(manifest: Manifest, installed: dict[str, str] | None = None) -> list[str]:
    """Log one warning naming every checked package whose version differs from training.

    Returns the differences as ``"name trained X, installed Y"`` (empty when none).
    """
    installed = installed or package_versions()
    drift = [
        f"{name} trained {manifest.packages.get(name)}, installed {installed.get(name)}"
        for name in CHECKED_PACKAGES
        if manifest.packages.get(name) != installed.get(name)
    ]
    if drift:
        logger.warning(
            "%s %s was saved with other package versions (%s); predictions may "
            "differ from those it was validated with",
            manifest.symbol,
            manifest.version,
            "; ".join(drift),
        )
    return drift

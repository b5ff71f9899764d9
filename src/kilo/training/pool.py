"""Pooled regressors: each kind with a ``pooled_fit`` fit on every universe member's rows
together.

One model learns from the whole market (Qlib trains one model across its market for
this reason): with ``training.pool: universe`` the members of ``features.universe``
are stacked, and each configured symbol still gets its own model set, preprocessor,
PPO agent and calibration, with the pooled regressors stored in it.

- **One time split for every member.** :func:`make_split` cuts the union of the
  members' bar times (the configured fractions and embargo, in bars); each member's
  rows fall into train, validation and test by their times, so no member's validation
  or test bar is in anyone's training, and the embargo holds in time. A member with
  fewer than :data:`~kilo.training.split.MIN_TRAIN_ROWS` training rows (listed late)
  is left out of the fit and said so.
- **Demeaned labels** (``target.demean: universe``): each bar's label less the mean
  label of the members labelled at that bar (the audit measured the default symbols'
  raw 4-bar labels at rank correlation 0.77 with each other; demeaned, they bring
  nearly independent information).
- Each member's features are scaled by its own preprocessor, fit on its own training
  rows. GRU windows never cross from one member's rows into another's: every member's
  block starts with ``sequence_length - 1`` context rows whose labels are masked, and
  windows are gathered per batch from the stacked rows (never materialised). In the
  GRU's sequence mode every block is its own segment (split further at gaps in its
  bar times, :func:`~kilo.models.rows.stack_segments`), so no chunk crosses from one
  member into another.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
import pandas as pd

from kilo.config import Config
from kilo.errors import DataError
from kilo.features import FeatureEngine, Preprocessor
from kilo.models.kind import KindReport, PooledFit
from kilo.models.kinds import KINDS, enabled_regressors
from kilo.registry.manifest import PoolInfo
from kilo.training.dataset import Dataset, build_dataset, load_context
from kilo.training.split import (
    MIN_EVAL_ROWS,
    MIN_TRAIN_ROWS,
    TimeSplit,
    make_split,
    required_embargo,
    rows_in,
)

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Pool:
    """The pooled regressors and what they were fit on.

    Attributes
    ----------
    members : the universe members whose training rows the models learned from
    datasets : member -> its rows on the shared split (demeaned labels with
        ``target.demean: universe``); every member with rows, fitted or not
    preprocessors : member -> its preprocessor, fit on its own training rows
    models : regressor name -> the pooled model (those of ``models.enabled``)
    """

    members: tuple[str, ...]
    datasets: dict[str, Dataset]
    preprocessors: dict[str, Preprocessor]
    models: dict[str, Any]
    demean: str

    def info(self) -> PoolInfo:
        """What the manifest records of the pool."""
        return PoolInfo(
            members=list(self.members),
            train_rows={m: rows_in(self.datasets[m].split.train) for m in self.members},
            demean=self.demean,
        )

    def dataset(self, symbol: str) -> Dataset:
        """``symbol``'s rows on the shared split.

        Raises
        ------
        DataError
            If ``symbol`` has too few training, validation or test rows on it.
        """
        if symbol not in self.members:
            raise DataError(
                f"{symbol}: too few rows in the pool's training window to be a member "
                f"(need {MIN_TRAIN_ROWS}); set data.start later or train it alone "
                "(training.pool: none)"
            )
        data = self.datasets[symbol]
        if not data.split.scorable:
            raise DataError(
                f"{symbol}: fewer than {MIN_EVAL_ROWS} validation or test rows on the pool's "
                "split (its candles end before them); train it alone (training.pool: none)"
            )
        return data


def union_times(datasets: dict[str, Dataset]) -> np.ndarray:
    """The sorted union of the datasets' bar times, int64 nanoseconds, shape (n_times,)."""
    return np.unique(np.concatenate([d.index.asi8 for d in datasets.values()]))


def on_split(
    datasets: dict[str, Dataset], union: np.ndarray, split: TimeSplit
) -> dict[str, Dataset]:
    """Each dataset with ``split`` of the ``union`` positions (:func:`union_times`) cut
    into its own rows by time: a row is in the part that holds its bar time (a part
    may be empty for a member whose candles start late or end early)."""
    out = {}
    for symbol, data in datasets.items():
        positions = np.searchsorted(union, data.index.asi8)

        def rows(part: slice, positions: np.ndarray = positions) -> slice:
            first, stop = np.searchsorted(positions, [part.start, part.stop])
            return slice(int(first), int(stop))

        member_split = TimeSplit(
            rows(split.train), rows(split.val), rows(split.test), split.embargo
        )
        out[symbol] = replace(data, split=member_split)
    return out


def shared_split(
    datasets: dict[str, Dataset], val_fraction: float, test_fraction: float, embargo: int
) -> dict[str, Dataset]:
    """Each dataset on one split of the union of their bar times.

    :func:`~kilo.training.split.make_split` cuts the sorted union (``embargo`` in bars)
    and :func:`on_split` maps it onto each dataset's rows.

    Raises
    ------
    DataError
        If the union is too short to split.
    """
    union = union_times(datasets)
    return on_split(datasets, union, make_split(len(union), val_fraction, test_fraction, embargo))


def demeaned(datasets: dict[str, Dataset]) -> dict[str, Dataset]:
    """Each dataset's ``target`` (n_rows,) less, at each bar, the mean label of the
    datasets labelled at that bar (a bar with one label gets 0); the rest unchanged."""
    labels = pd.DataFrame({s: pd.Series(d.target, index=d.index) for s, d in datasets.items()})
    mean = labels.mean(axis=1)
    return {
        s: replace(d, target=d.target - mean.reindex(d.index).to_numpy())
        for s, d in datasets.items()
    }


def pool_candles(config: Config) -> dict[str, pd.DataFrame]:
    """Candles of every universe member and every symbol their features read, each
    loaded once.

    Raises
    ------
    DataError
        If a file is missing or malformed (the message names it).
    """
    members = list(config.features.universe or [])
    context = {s for m in members for s in FeatureEngine.from_config(config, m).context_symbols}
    return load_context(config, sorted(set(members) | context))


def member_datasets(config: Config, candles: dict[str, pd.DataFrame]) -> dict[str, Dataset]:
    """Every universe member's features and labels from ``candles`` (:func:`pool_candles`,
    or rebuilt ones), demeaned across members with ``target.demean: universe``; each on
    its own split until :func:`on_split` puts them on one.

    Raises
    ------
    DataError
        If a member's rows are too short to split.
    """
    out = {}
    for member in config.features.universe or []:
        engine = FeatureEngine.from_config(config, member)
        context = {s: candles[s] for s in engine.context_symbols}
        out[member] = build_dataset(config, member, engine, candles[member], context)
    return demeaned(out) if config.target.demean == "universe" else out


def build_pool_datasets(config: Config) -> dict[str, Dataset]:
    """Every universe member's dataset on the shared split, demeaned as configured.

    Raises
    ------
    DataError
        If a member's candles are missing or malformed, or the union is too short.
    """
    datasets = member_datasets(config, pool_candles(config))
    embargo = required_embargo(config, FeatureEngine.from_config(config, next(iter(datasets))))
    return shared_split(datasets, config.split.val_fraction, config.split.test_fraction, embargo)


def fit_pool(config: Config, progress: bool = True) -> Pool:
    """Fit the enabled regressors on the universe's rows together (module docstring).

    Raises
    ------
    DataError
        If candles are missing or malformed, or no member has enough training rows.
    """
    return fit_pool_models(config, build_pool_datasets(config), progress)


def fit_pool_models(config: Config, datasets: dict[str, Dataset], progress: bool = True) -> Pool:
    """Fit the enabled regressors on the training rows of ``datasets`` (members on one
    split, :func:`on_split`) together; members with fewer than
    :data:`~kilo.training.split.MIN_TRAIN_ROWS` training rows are left out and logged.

    Raises
    ------
    DataError
        If no member has enough training rows.
    """
    members = tuple(m for m, d in datasets.items() if d.split.trainable)
    left_out = sorted(set(datasets) - set(members))
    if left_out:
        logger.info("pool: %s left out (< %d training rows)", left_out, MIN_TRAIN_ROWS)
    if not members:
        raise DataError("pool: no universe member has enough training rows; add history")
    preprocessors = {
        m: Preprocessor().fit(datasets[m].features.iloc[datasets[m].split.train]) for m in members
    }
    X = {m: preprocessors[m].transform(datasets[m].features) for m in members}
    blocks = [(datasets[m], X[m]) for m in members]
    models = {name: _pooled_fit(name)(config, blocks, progress) for name in pooled_kinds(config)}
    return Pool(members, datasets, preprocessors, models, config.target.demean)


def _pooled_fit(name: str) -> PooledFit:
    fit = KINDS[name].pooled_fit
    if fit is None:
        raise ValueError(f"the {name!r} kind cannot be pooled")
    return fit


def pooled_report(
    data: Dataset, X: np.ndarray, name: str, model: Any, validation: np.ndarray
) -> KindReport:
    """A pooled regressor's scores on one member's validation and test rows (``X``: that
    member's preprocessed features, (n_rows, n_features); ``validation``: the model's
    validation outputs, (n_val,)); pooled models are served as early-stopped."""
    score = KINDS[name].score
    if score is None:
        raise ValueError(f"the {name!r} kind cannot be pooled")
    return score(data, X, data.target, model, model, validation, False)


def pooled_kinds(config: Config) -> tuple[str, ...]:
    """The enabled regressors that can be fit on a pool (:attr:`ModelKind.pooled_fit`)."""
    return tuple(n for n in enabled_regressors(config) if KINDS[n].pooled_fit is not None)

"""Pooled regressors (training.pool: universe) on slices of the real candles."""

from __future__ import annotations

import hashlib

import numpy as np
import pandas as pd
import pytest

from kilo.config import Config, load_config
from kilo.errors import ConfigError, DataError
from kilo.models.gru import window_ends
from kilo.models.gru_samples import chunk_spans
from kilo.models.rows import stack_blocks, stack_segments
from kilo.registry import ModelSet
from kilo.training.parallel import train_symbols
from kilo.training.pool import build_pool_datasets, fit_pool, fit_pool_models
from tests.conftest import POOLED, REPO, TINY, TINY_SYMBOLS


def test_the_pool_reads_the_reference_through_the_universe_and_needs_its_symbols() -> None:
    config = load_config(REPO / "config" / "config.yaml", [*TINY, *POOLED])
    assert config.features.reference_symbols == []  # BTC/USDT is a member: no ref_ columns
    with pytest.raises(ConfigError, match="needs training.pool"):
        load_config(REPO / "config" / "config.yaml", [*TINY, "target.demean=universe"])
    with pytest.raises(ConfigError, match="not in features.universe"):
        load_config(
            REPO / "config" / "config.yaml",
            [*TINY, *POOLED, "features.universe=[BTC/USDT, ETH/USDT]"],
        )
    with pytest.raises(ConfigError, match="refit"):
        load_config(REPO / "config" / "config.yaml", [*TINY, *POOLED, "training.refit=true"])


def test_no_members_validation_or_test_bar_is_in_anyones_training(pooled_config: Config) -> None:
    datasets = build_pool_datasets(pooled_config)
    times = {
        part: pd.DatetimeIndex(
            np.concatenate([d.index[getattr(d.split, part)].asi8 for d in datasets.values()])
        )
        for part in ("train", "val", "test")
    }
    embargo = pd.Timedelta(hours=next(iter(datasets.values())).split.embargo)
    assert times["train"].max() + embargo < times["val"].min()
    assert times["val"].max() + embargo < times["test"].min()
    sol = datasets["SOL/USDT"].split
    assert sol.train.stop > sol.train.start and sol.val.stop == sol.val.start  # ends in train


def test_demeaned_labels_sum_to_zero_over_the_members_at_each_bar(pooled_config: Config) -> None:
    datasets = build_pool_datasets(pooled_config)
    labels = pd.DataFrame({s: pd.Series(d.target, index=d.index) for s, d in datasets.items()})
    shared = labels.dropna()
    assert len(shared) > 1000
    assert np.abs(shared.sum(axis=1)).max() < 1e-9
    assert shared.std().min() > 0.1  # not all zero: the members differ


def test_gru_windows_never_cross_from_one_member_into_another(pooled_config: Config) -> None:
    datasets = build_pool_datasets(pooled_config)
    context = pooled_config.models.gru.sequence_length - 1
    blocks = [(d, d.features.to_numpy(np.float32)) for d in datasets.values()]
    member = np.concatenate(
        [np.full(d.split.train.stop - d.split.train.start, i) for i, (d, _) in enumerate(blocks)]
    )
    X, y, w = stack_blocks(blocks, "train", context)
    assert len(X) == len(y) == len(w) == len(member)
    ends = window_ends(y, context + 1)
    assert len(ends) == len(member) - context * len(blocks)
    assert all(member[e - context] == member[e] for e in ends)


def test_pooled_sets_share_their_regressors_and_load(pooled_config: Config) -> None:
    reports = train_symbols(pooled_config, ["BTC/USDT", "ETH/USDT"])
    assert [r.error for r in reports] == [None, None]
    assert all(r.pooled == ("gru", "lightgbm", "linear") for r in reports)
    sets = [ModelSet.load(s, config=pooled_config) for s in ("BTC/USDT", "ETH/USDT")]
    for model_set in sets:
        pool = model_set.manifest.pool
        assert pool is not None and pool.members == TINY_SYMBOLS and pool.demean == "universe"
        assert model_set.manifest.feature_names == sets[0].manifest.feature_names
    digests = [hashlib.sha256((s.folder / "lightgbm.txt").read_bytes()).hexdigest() for s in sets]
    assert digests[0] == digests[1]  # the same pooled model in both sets
    assert sets[0].manifest.files["lightgbm.txt"] == sets[1].manifest.files["lightgbm.txt"]
    assert sets[0].manifest.calibration != sets[1].manifest.calibration  # each its own


def test_a_member_without_validation_rows_is_refused_with_a_reason(pooled_config: Config) -> None:
    pool = fit_pool(pooled_config.with_overrides({"models.enabled": ["lightgbm"]}), False)
    assert "SOL/USDT" in pool.members  # its training rows count
    with pytest.raises(DataError, match="fewer than 100 validation or test rows"):
        pool.dataset("SOL/USDT")


def test_sequence_chunks_never_cross_from_one_member_into_another(pooled_config: Config) -> None:
    datasets = build_pool_datasets(pooled_config)
    context = pooled_config.models.gru.sequence_length - 1
    blocks = [(d, d.features.to_numpy(np.float32)) for d in datasets.values()]
    sizes = [d.split.train.stop - d.split.train.start for d, _ in blocks]
    segments = stack_segments(blocks, "train", context, "1h")
    assert len(segments) == sum(sizes)
    for boundary in np.cumsum(sizes)[:-1]:
        assert segments[boundary] != segments[boundary - 1]
    starts, stops = chunk_spans(segments, context + 1, 4 * (context + 1))
    member = np.repeat(np.arange(len(sizes)), sizes)
    assert (member[starts] == member[stops - 1]).all() and len(starts) > len(sizes)
    sequence = pooled_config.with_overrides(
        {"models.enabled": ["gru"], "models.gru.mode": "sequence", "models.gru.chunk_length": 64}
    )
    gru = fit_pool_models(sequence, datasets, progress=False).models["gru"]
    assert gru.params.mode == "sequence" and np.isfinite(gru.best_val_loss_)

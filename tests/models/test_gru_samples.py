from __future__ import annotations

import numpy as np
import pytest
import torch

from kilo.config import GRUConfig
from kilo.models.gru_samples import ChunkSamples, chunk_spans, make_samples, sequence_rows

L, C = 4, 9  # sequence_length, chunk_length
CPU = torch.device("cpu")


class RowIds:
    """A stand-in network whose output at each position is the row's number (feature 0)."""

    def __call__(self, x: torch.Tensor) -> torch.Tensor:
        return x[:, -1, 0]

    def sequence(self, x: torch.Tensor) -> torch.Tensor:
        return x[..., 0]


def test_chunks_start_each_segment_overlap_by_the_burn_in_and_stay_inside() -> None:
    # segments of 20, 2 (shorter than L: no chunk), 4 (exactly L: one loss row) and 9 rows
    segments = np.repeat([3, 1, 7, 3], [20, 2, 4, 9])
    starts, stops = chunk_spans(segments, L, C)
    assert starts.tolist() == [0, 6, 12, 22, 26]
    assert stops.tolist() == [9, 15, 20, 26, 35]
    for start, stop in zip(starts, stops, strict=True):
        assert len(set(segments[start:stop])) == 1  # never spans two segments
    loss = np.concatenate([np.arange(a + L - 1, b) for a, b in zip(starts, stops, strict=True)])
    assert loss.tolist() == sequence_rows(np.zeros(len(segments)), segments, L).tolist()


def test_chunk_length_must_exceed_sequence_length() -> None:
    with pytest.raises(ValueError, match="must exceed"):
        chunk_spans(np.zeros(10, dtype=int), L, L)


def test_every_trainable_row_is_a_loss_row_exactly_once_per_epoch() -> None:
    n = 500
    rng = np.random.default_rng(0)
    segments = np.cumsum(rng.random(n) < 0.02)  # about ten segments, some short
    y = rng.normal(size=n)
    y[rng.random(n) < 0.1] = np.nan  # context rows
    X = np.stack([np.arange(n), rng.normal(size=n)], axis=1).astype(np.float32)
    params = GRUConfig(mode="sequence", sequence_length=L, chunk_length=C, chunk_batch=5)
    samples = make_samples(params, X, y, None, segments, CPU)
    assert isinstance(samples, ChunkSamples)
    generator = torch.Generator().manual_seed(0)
    seen, counted, shapes = [], 0, set()
    for batch in samples.batches(generator):
        rows, _, weight, count = samples.outputs(RowIds(), batch)
        seen.extend(rows[weight > 0].long().tolist())
        counted += count
        shapes.add(tuple(rows.shape[1:]))
        starts, stops = samples.starts[batch], samples.stops[batch] - 1
        assert (segments[starts] == segments[stops]).all()
    expected = sequence_rows(y, segments, L)
    assert sorted(seen) == expected.tolist()  # each once: no duplicates, none missing
    assert counted == samples.n_loss_rows == len(expected)
    assert shapes == {(C,)}


def test_chunks_without_weight_are_left_out() -> None:
    y = np.ones(40)
    weights = np.r_[np.zeros(20), np.ones(20)]
    params = GRUConfig(mode="sequence", sequence_length=L, chunk_length=C)
    samples = make_samples(params, np.zeros((40, 2), np.float32), y, weights, None, CPU)
    assert isinstance(samples, ChunkSamples)
    assert (samples.stops > 20).all()


def test_segments_must_match_the_rows() -> None:
    params = GRUConfig(mode="sequence", sequence_length=L, chunk_length=C)
    with pytest.raises(ValueError, match="segments"):
        make_samples(params, np.zeros((10, 2), np.float32), np.ones(10), None, np.zeros(9), CPU)

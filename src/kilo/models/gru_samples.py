"""What one GRU training epoch iterates, by ``models.gru.mode``.

- **window**: every labelled row ``t`` is a sample, the window of rows
  ``t - sequence_length + 1 .. t`` run from a zero state (``sequence_length`` recurrent
  steps per row, although the windows overlap).
- **sequence**: truncated back-propagation through time with a burn-in. The rows are cut
  into chunks of ``chunk_length`` rows, each run from a zero state; the loss is taken
  at chunk positions ``>= sequence_length - 1`` only, so every loss row has at least
  ``sequence_length`` rows of context. Consecutive chunks overlap by
  ``sequence_length - 1`` rows, so every trainable row is a loss row of exactly one
  chunk: each bar is computed about once per epoch. Chunks never span two segments
  (stretches of contiguous rows, see :func:`chunk_spans`).

Both give batches of (predictions, targets, weights) of one shape to the same weighted
loss (:func:`weighted_loss`); prediction is by window in both modes.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

import numpy as np
import torch

from kilo.config import GRUConfig

#: Windows per batch when a :class:`WindowSamples` is evaluated (no gradient).
EVAL_WINDOWS = 4096


class SequenceNet(Protocol):
    """A network with an output for the last row of its input and one for every row:
    ``net(x)`` maps [batch, time, n_features] to [batch], ``net.sequence(x)`` to
    [batch, time]."""

    def __call__(self, x: torch.Tensor) -> torch.Tensor: ...

    def sequence(self, x: torch.Tensor) -> torch.Tensor: ...


#: One batch's predictions, scaled targets and weights (one shape, weight 0 off the
#: loss rows) and its number of loss rows.
Outputs = tuple[torch.Tensor, torch.Tensor, torch.Tensor, int]


class Samples(Protocol):
    """The samples of one set in one mode (:class:`WindowSamples`, :class:`ChunkSamples`)."""

    @property
    def n_loss_rows(self) -> int: ...

    def batches(self, generator: torch.Generator | None) -> tuple[torch.Tensor, ...]: ...

    def outputs(self, net: SequenceNet, batch: torch.Tensor) -> Outputs: ...


def weighted_loss(losses: torch.Tensor, weight: torch.Tensor) -> torch.Tensor:
    """Weighted mean of per-sample ``losses`` (any shape; ``weight`` the same shape)."""
    return (losses * weight).sum() / weight.sum()


def windows(rows: torch.Tensor, ends: torch.Tensor, sequence_length: int) -> torch.Tensor:
    """Windows of ``rows`` [n_rows, n_features] ending at ``ends`` [batch] (int):
    [batch, sequence_length, n_features]."""
    offsets = torch.arange(-sequence_length + 1, 1, device=rows.device)
    return rows[ends[:, None] + offsets]


def window_ends(y: np.ndarray, sequence_length: int) -> np.ndarray:
    """Row positions usable as window ends: a full window fits and ``y`` is finite."""
    ends = np.arange(sequence_length - 1, len(y))
    return ends[np.isfinite(y[ends])]


def segment_bounds(segments: np.ndarray) -> np.ndarray:
    """First row of every segment, then ``len(segments)``: shape (n_segments + 1,), int.

    ``segments`` has shape (n_rows,), int; a segment starts wherever the value changes.
    """
    changes = np.flatnonzero(np.diff(segments)) + 1
    return np.r_[0, changes, len(segments)] if len(segments) else np.zeros(1, dtype=np.int64)


def sequence_rows(y: np.ndarray, segments: np.ndarray, sequence_length: int) -> np.ndarray:
    """Trainable rows in sequence mode: ``y`` finite and at least ``sequence_length - 1``
    rows of the row's own segment before it. Shapes (n_rows,) in, (n_loss_rows,) int out.
    """
    positions = np.arange(len(y))
    bounds = segment_bounds(segments)
    first = np.repeat(bounds[:-1], np.diff(bounds))  # each row's segment start
    return positions[(positions - first >= sequence_length - 1) & np.isfinite(y)]


def chunk_spans(
    segments: np.ndarray, sequence_length: int, chunk_length: int
) -> tuple[np.ndarray, np.ndarray]:
    """Chunks covering every segment: ``(starts, stops)``, each of shape (n_chunks,), int.

    A segment's chunks start at its first row, every ``chunk_length - sequence_length +
    1`` rows, and end ``chunk_length`` rows later or at the segment's end; chunk ``i``'s
    loss rows ``starts[i] + sequence_length - 1 .. stops[i] - 1`` follow chunk ``i - 1``'s
    without gap or overlap. A segment shorter than ``sequence_length`` has no chunk.

    Raises
    ------
    ValueError
        If ``chunk_length`` does not exceed ``sequence_length``.
    """
    if chunk_length <= sequence_length:
        raise ValueError(
            f"chunk_length {chunk_length} must exceed sequence_length {sequence_length}"
        )
    step = chunk_length - sequence_length + 1
    bounds = segment_bounds(segments)
    starts = [
        np.arange(a, b - sequence_length + 1, step)
        for a, b in zip(bounds[:-1], bounds[1:], strict=True)
    ]
    start = np.concatenate([np.zeros(0, dtype=np.int64), *starts])
    stop = np.minimum(start + chunk_length, np.repeat(bounds[1:], [len(s) for s in starts]))
    return start, stop


@dataclass(frozen=True)
class WindowSamples:
    """Window mode: one sample per window end (module docstring).

    ``rows`` [n_rows, n_features], ``target`` [n_rows] (scaled, NaN on context rows),
    ``weight`` [n_rows], ``ends`` [n_samples] int, all on one device.
    """

    rows: torch.Tensor
    target: torch.Tensor
    weight: torch.Tensor
    ends: torch.Tensor
    sequence_length: int
    batch_size: int

    @property
    def n_loss_rows(self) -> int:
        return len(self.ends)

    def batches(self, generator: torch.Generator | None) -> tuple[torch.Tensor, ...]:
        """Window ends of ``batch_size``, shuffled by ``generator``; in order, of
        :data:`EVAL_WINDOWS`, without one."""
        if generator is None:
            return self.ends.split(EVAL_WINDOWS)
        order = torch.randperm(len(self.ends), generator=generator).to(self.ends.device)
        return self.ends[order].split(self.batch_size)

    def outputs(self, net: SequenceNet, batch: torch.Tensor) -> Outputs:
        prediction = net(windows(self.rows, batch, self.sequence_length))
        return prediction, self.target[batch], self.weight[batch], len(batch)


@dataclass(frozen=True)
class ChunkSamples:
    """Sequence mode: chunks of rows, loss after the burn-in (module docstring).

    ``rows`` [n_rows, n_features]; ``target`` [n_rows] (scaled, 0 where unlabelled);
    ``weight`` [n_rows] (0 where unlabelled); ``starts``, ``stops`` and ``counts`` (loss
    rows per chunk) [n_chunks] int; chunks whose loss rows have no weight are left out.
    """

    rows: torch.Tensor
    target: torch.Tensor
    weight: torch.Tensor
    starts: torch.Tensor
    stops: torch.Tensor
    counts: torch.Tensor
    sequence_length: int
    chunk_length: int
    chunk_batch: int

    @property
    def n_loss_rows(self) -> int:
        return int(self.counts.sum())

    def batches(self, generator: torch.Generator | None) -> tuple[torch.Tensor, ...]:
        """Chunk numbers, ``chunk_batch`` at a time, shuffled by ``generator`` or in order."""
        n = len(self.starts)
        order = torch.arange(n) if generator is None else torch.randperm(n, generator=generator)
        return order.to(self.starts.device).split(self.chunk_batch)

    def outputs(self, net: SequenceNet, batch: torch.Tensor) -> Outputs:
        """Outputs at every position of the batch's chunks, [batch, chunk_length]; a
        chunk shorter than ``chunk_length`` is padded with the rows after it (the
        network is causal) at weight 0, as are the burn-in positions."""
        positions = torch.arange(self.chunk_length, device=self.rows.device)
        index = self.starts[batch, None] + positions
        loss = (positions >= self.sequence_length - 1) & (index < self.stops[batch, None])
        index = index.clamp(max=len(self.rows) - 1)
        prediction = net.sequence(self.rows[index])
        weight = self.weight[index] * loss
        return prediction, self.target[index], weight, int(self.counts[batch].sum())


def loss_rows(params: GRUConfig, y: np.ndarray, segments: np.ndarray | None) -> np.ndarray:
    """Rows whose loss trains the model in ``params.mode``, shape (n_loss_rows,), int:
    window ends (segments ignored) or :func:`sequence_rows`."""
    if params.mode == "window":
        return window_ends(y, params.sequence_length)
    return sequence_rows(y, _segments(y, segments), params.sequence_length)


def make_samples(
    params: GRUConfig,
    X: np.ndarray,
    y: np.ndarray,
    weights: np.ndarray | None,
    segments: np.ndarray | None,
    device: torch.device,
) -> Samples:
    """The samples of one set in ``params.mode``, as tensors on ``device``.

    Parameters
    ----------
    X
        Array of shape (n_rows, n_features), float32.
    y
        Array of shape (n_rows,), scaled labels; NaN marks context rows.
    weights
        Array of shape (n_rows,), per-row sample weights (default 1).
    segments
        Array of shape (n_rows,), int, equal along each contiguous stretch (default one
        stretch); sequence mode only.

    Raises
    ------
    ValueError
        If ``segments`` does not have one value per row.
    """
    L = params.sequence_length
    w = np.nan_to_num(np.ones(len(y)) if weights is None else weights)
    rows = torch.as_tensor(X, dtype=torch.float32, device=device)
    if params.mode == "window":
        return WindowSamples(
            rows,
            torch.as_tensor(y, dtype=torch.float32, device=device),
            torch.as_tensor(w, dtype=torch.float32, device=device),
            torch.as_tensor(window_ends(y, L), device=device),
            L,
            params.batch_size,
        )
    labelled = np.isfinite(y)
    w = np.where(labelled, w, 0.0)
    starts, stops = chunk_spans(_segments(y, segments), L, params.chunk_length)
    counts = _span_sums(labelled, starts + L - 1, stops)
    keep = _span_sums(w, starts + L - 1, stops) > 0  # a weightless batch would divide by 0
    return ChunkSamples(
        rows,
        torch.as_tensor(np.where(labelled, y, 0.0), dtype=torch.float32, device=device),
        torch.as_tensor(w, dtype=torch.float32, device=device),
        torch.as_tensor(starts[keep], device=device),
        torch.as_tensor(stops[keep], device=device),
        torch.as_tensor(counts[keep], device=device),
        L,
        params.chunk_length,
        params.chunk_batch,
    )


def _span_sums(values: np.ndarray, starts: np.ndarray, stops: np.ndarray) -> np.ndarray:
    """Sums of ``values`` (n_rows,) over rows ``starts[i] .. stops[i] - 1``: (n_spans,)."""
    cumulative = np.r_[0, np.cumsum(values)]
    return cumulative[stops] - cumulative[starts]


def _segments(y: np.ndarray, segments: np.ndarray | None) -> np.ndarray:
    """``segments`` checked against ``y`` (n_rows,), or one segment when None."""
    if segments is None:
        return np.zeros(len(y), dtype=np.int64)
    segments = np.asarray(segments)
    if segments.shape != y.shape:
        raise ValueError(f"segments has shape {segments.shape}, the labels {y.shape}")
    return segments

"""The rows a kind fits and is scored on: context before a split, contiguous segments,
the refit rows, a pool's members stacked (:mod:`kilo.training.pool`), and a tabular
regressor's validation and test scores."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from kilo.config import timeframe_seconds
from kilo.metrics import RegressionScores, regression_metrics
from kilo.models.kind import FitData


def with_context(
    X: np.ndarray, y: np.ndarray, part: slice, context: int
) -> tuple[np.ndarray, np.ndarray]:
    """Rows of ``part`` preceded by ``context`` rows whose targets are masked with NaN.

    Returns ``(X_part, y_part)`` of ``context + len(part)`` rows, so that a model
    with a look-back window predicts every row of ``part``.

    Raises
    ------
    ValueError
        If ``part`` starts fewer than ``context`` rows into ``X``.
    """
    start = part.start - context
    if start < 0:
        raise ValueError(f"split starts at row {part.start}, before {context} rows of context")
    y_part = y[start : part.stop].astype(np.float32, copy=True)
    y_part[:context] = np.nan
    return X[start : part.stop], y_part


def tabular_scores(
    data: FitData, X: np.ndarray, y: np.ndarray, served: Any, validation: np.ndarray
) -> dict[str, RegressionScores]:
    """``validation`` (n_val,) predictions scored against ``y`` (n_rows,) on
    ``data.split.val``, and ``served``'s predictions of the test rows of ``X`` (a model
    reading one row per prediction) on ``data.split.test``: the ``validation`` and
    ``test`` fields of a regressor's report."""
    s = data.split
    return {
        "validation": regression_metrics(y[s.val], validation),
        "test": regression_metrics(y[s.test], served.predict(X[s.test])),
    }


def segment_ids(index: pd.DatetimeIndex, timeframe: str) -> np.ndarray:
    """Stretches of contiguous rows: shape (n_rows,), int64, a new value wherever a row
    is more than one ``timeframe`` after the row before it (dropped rows, an outage).

    What the GRU's sequence mode keeps its chunks inside
    (:meth:`~kilo.models.gru.GRURegressor.fit`).
    """
    gaps = np.diff(index.to_numpy()) > np.timedelta64(timeframe_seconds(timeframe), "s")
    return np.r_[0, np.cumsum(gaps)].astype(np.int64)


def refit_rows(data: FitData) -> slice:
    """Training and validation rows together (with the embargo between them)."""
    return slice(data.split.train.start, data.split.val.stop)


def stack_blocks(
    blocks: Sequence[tuple[FitData, np.ndarray]], part: str, context: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Features, labels and weights of every member's ``part`` ("train" or "val") rows,
    stacked: shapes (n, n_features) float32, (n,) float32 with NaN on masked rows,
    (n,). Each block is led by ``context`` rows with masked labels (for "train" its
    own first rows, for "val" the rows before it), so a window of ``context + 1`` rows
    ending on a labelled row stays inside its block.

    Raises
    ------
    ValueError
        If a member's ``part`` starts fewer than ``context`` rows into its data.
    """
    xs, ys, ws = [], [], []
    for data, X in blocks:
        rows = _labelled_rows(data, part, context)
        x, y = with_context(X, data.target, rows, context)
        xs.append(x)
        ys.append(y)
        ws.append(data.weights[rows.start - context : rows.stop])
    return np.concatenate(xs), np.concatenate(ys), np.concatenate(ws)


def stack_segments(
    blocks: Sequence[tuple[FitData, np.ndarray]], part: str, context: int, timeframe: str
) -> np.ndarray:
    """Segments of :func:`stack_blocks`' rows, shape (n,), int64: each block's
    :func:`segment_ids` (gaps of more than one ``timeframe``), numbered on from the
    block before, so no segment spans two members."""
    out: list[np.ndarray] = []
    for data, _ in blocks:
        rows = _labelled_rows(data, part, context)
        first = int(out[-1][-1]) + 1 if out else 0
        out.append(first + segment_ids(data.index[rows.start - context : rows.stop], timeframe))
    return np.concatenate(out)


def _labelled_rows(data: FitData, part: str, context: int) -> slice:
    """A member's ``part`` rows that keep their labels in :func:`stack_blocks`."""
    rows: slice = getattr(data.split, part)
    return slice(rows.start + context, rows.stop) if part == "train" else rows

"""Out-of-fold predictions over training rows (cross-fitting with an embargo).

A model's outputs on the rows it was fit on are in sample: a second model trained on
them (PPO observing the regressors' forecasts) learns to trust them more than it
should. Cross-fitting (Chernozhukov et al. 2018, "Double/debiased machine learning",
Econometrics Journal 21(1), section 3) splits the rows into K blocks and predicts each
block with a model fit on the others. With labels that span ``h`` bars, rows within
``h`` of a block on either side are left out of that block's fit too (the purge and
embargo of López de Prado 2018, "Advances in Financial Machine Learning", ch. 7), so
no label the fit sees overlaps a label of the block.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

import numpy as np

Model = TypeVar("Model")


def blocks(n_rows: int, folds: int) -> list[slice]:
    """``folds`` contiguous blocks covering rows ``0 .. n_rows - 1`` in order, their
    sizes differing by at most one.

    Raises
    ------
    ValueError
        If ``folds`` < 2 or there are fewer rows than blocks.
    """
    if folds < 2 or n_rows < folds:
        raise ValueError(f"cannot cut {n_rows} rows into {folds} blocks (need >= 2, <= rows)")
    edges = np.linspace(0, n_rows, folds + 1).round().astype(int)
    return [slice(int(a), int(b)) for a, b in zip(edges[:-1], edges[1:], strict=True)]


def fit_mask(n_rows: int, block: slice, embargo: int) -> np.ndarray:
    """Shape (n_rows,), bool: the rows whose labels a fit predicting ``block`` may use,
    every row except the block and ``embargo`` rows on each side of it."""
    mask = np.ones(n_rows, dtype=bool)
    mask[max(block.start - embargo, 0) : block.stop + embargo] = False
    return mask


def cross_fit(
    n_rows: int,
    folds: int,
    embargo: int,
    fit: Callable[[np.ndarray], Model],
    predict: Callable[[Model, slice], np.ndarray],
) -> np.ndarray:
    """Out-of-fold predictions for rows ``0 .. n_rows - 1``.

    Parameters
    ----------
    n_rows
        Training rows, in time order.
    folds
        Contiguous blocks (:func:`blocks`).
    embargo
        Rows left out of a block's fit on each side of it: the label horizon in bars.
    fit
        ``fit(mask)`` returns a model fit on the labels of the rows where ``mask``
        (shape (n_rows,), bool, :func:`fit_mask`) is True; the features of other rows
        may serve as context (a look-back window), their labels never.
    predict
        ``predict(model, block)`` returns the model's predictions for the rows of
        ``block``, shape (block rows,).

    Returns
    -------
    ndarray of shape (n_rows,), float64: each row predicted by the model fit without
    its block.

    Raises
    ------
    ValueError
        If the blocks cannot be cut, or a block's fit would see no row.
    """
    out = np.full(n_rows, np.nan)
    for block in blocks(n_rows, folds):
        mask = fit_mask(n_rows, block, embargo)
        if not mask.any():
            raise ValueError(
                f"block {block.start}..{block.stop - 1} of {n_rows} rows leaves no row to "
                f"fit on with an embargo of {embargo}: use fewer blocks or more rows"
            )
        out[block] = predict(fit(mask), block)
    return out

"""Population stability of a variable: quantile bins of a reference and the PSI against them.

The population stability index of a sample against a reference, both binned on the
reference's quantile edges, is

    PSI = sum_i (a_i - e_i) * ln(a_i / e_i)

with ``a_i`` the sample's share and ``e_i`` the reference's share of bin i, each floored
at a small ``epsilon`` so that an empty bin stays finite (Siddiqi, *Credit Risk
Scorecards*, Wiley 2006, ch. 8; Yurdakul, *Statistical Properties of the Population
Stability Index*, Western Michigan University 2018). By convention PSI < 0.1 is
stable, 0.1-0.25 a moderate shift, > 0.25 a significant one.

Bins are right-closed on the left edge: a value ``x`` falls in bin
``#{edges <= x}``, so ``len(edges) + 1`` bins; tied quantiles are merged, so a discrete
variable has fewer bins than asked.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np


def quantile_edges(x: np.ndarray, bins: int) -> np.ndarray:
    """Interior bin edges at the ``1/bins .. (bins-1)/bins`` quantiles of the finite values.

    Returns
    -------
    ndarray of shape (k,), float64, increasing and distinct, ``k <= bins - 1`` (tied
    quantiles merged; empty for a constant or all-NaN ``x``).
    """
    x = np.asarray(x, dtype=np.float64)
    x = x[np.isfinite(x)]
    if len(x) == 0:
        return np.empty(0)
    return np.unique(np.quantile(x, np.arange(1, bins) / bins))


def bin_shares(x: np.ndarray, edges: np.ndarray) -> np.ndarray:
    """Share of the finite values of ``x`` in each bin of ``edges``.

    Returns
    -------
    ndarray of shape (len(edges) + 1,), float64, summing to 1 (all 0 when no value is
    finite).
    """
    x = np.asarray(x, dtype=np.float64)
    x = x[np.isfinite(x)]
    counts = np.bincount(np.searchsorted(edges, x, side="right"), minlength=len(edges) + 1)
    return counts / max(len(x), 1)


def padded_edges(edges: Sequence[Sequence[float] | np.ndarray]) -> np.ndarray:
    """Several variables' edges as one matrix, shape (n_vars, max_k), padded with +inf
    (a pad edge is never <= a finite value, so it adds an always-empty bin)."""
    width = max((len(e) for e in edges), default=0)
    out = np.full((len(edges), width), np.inf)
    for i, e in enumerate(edges):
        out[i, : len(e)] = e
    return out


def bin_rows(values: np.ndarray, edges: np.ndarray) -> np.ndarray:
    """Bin of each variable's value: ``#{edges[i] <= values[i]}``.

    Parameters
    ----------
    values
        Shape (n_vars,), one value per variable.
    edges
        Shape (n_vars, max_k), :func:`padded_edges`.

    Returns
    -------
    ndarray of shape (n_vars,), int64, in ``[0, max_k]``; NaN falls in bin 0.
    """
    return (edges <= values[:, None]).sum(axis=1)


def psi(actual: np.ndarray, expected: np.ndarray, epsilon: float = 1e-4) -> np.ndarray:
    """Population stability index per variable (module docstring's formula).

    Parameters
    ----------
    actual, expected
        Shares per bin, shape (n_bins,) or (n_vars, n_bins); each row sums to 1
        (padding bins 0 in both add nothing).
    epsilon
        Floor of a share, so an empty bin counts as ``epsilon``.

    Returns
    -------
    float64 array of shape () or (n_vars,), >= 0.
    """
    a = np.maximum(np.asarray(actual, dtype=np.float64), epsilon)
    e = np.maximum(np.asarray(expected, dtype=np.float64), epsilon)
    return np.sum((a - e) * np.log(a / e), axis=-1)


def window_psi(
    x: np.ndarray,
    edges: np.ndarray,
    shares: np.ndarray,
    window: int,
    step: int = 1,
    epsilon: float = 1e-4,
) -> np.ndarray:
    """PSI against (``edges``, ``shares``) of each trailing window of ``window`` values of
    ``x`` (shape (n,), finite), the windows ending every ``step`` values.

    What a persistent variable scores with no drift at all: a short window of it sits
    in a few bins, so its PSI is high by construction.

    Returns
    -------
    ndarray of shape (n_windows,), float64; empty when ``n < window``.
    """
    n = len(x)
    if n < window:
        return np.empty(0)
    onehot = np.zeros((n + 1, len(edges) + 1))
    onehot[np.arange(1, n + 1), np.searchsorted(edges, x, side="right")] = 1.0
    cumulative = np.cumsum(onehot, axis=0)
    ends = np.arange(window, n + 1, step)
    return psi((cumulative[ends] - cumulative[ends - window]) / window, shares, epsilon)

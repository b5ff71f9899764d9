"""Significance of an information coefficient without refitting anything.

The IC here is Spearman's rank correlation of predictions with labels. Labels that
overlap (a horizon of h bars) and volatility clustering make neighbouring pairs
dependent, so every method below keeps blocks of consecutive bars together:

- :func:`ic_bootstrap_ci`: moving-block bootstrap (Künsch, 1989) percentile interval;
- :func:`ic_hac_tstat`: Newey & West (1987) HAC t-statistic of the mean rank product;
- :func:`ic_permutation_pvalue`: block permutations of the predictions against the labels;
- :func:`ic_block_length`: the block length those methods use, by the Politis & White
  (2004) rule;
- :func:`holm_adjusted`: Holm's (1979) step-down correction across several ICs;
- :func:`sharpe_difference_bootstrap`: the same moving-block bootstrap for the difference
  of two strategies' Sharpe ratios on the same bars (paired, so their common market
  moves cancel).
"""

from __future__ import annotations

import math
from collections.abc import Hashable, Iterator, Mapping
from typing import TypeVar

import numpy as np
from arch.bootstrap import optimal_block_length
from scipy import stats
from statsmodels.stats.multitest import multipletests

K = TypeVar("K", bound=Hashable)


def _ranks(pred: np.ndarray, label: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Standardised ranks of the finite pairs; their mean product is Spearman's IC.

    Raises
    ------
    ValueError
        If the shapes differ or fewer than 3 finite pairs remain.
    """
    pred, label = np.asarray(pred, dtype=np.float64), np.asarray(label, dtype=np.float64)
    if pred.shape != label.shape:
        raise ValueError(f"shapes differ: {pred.shape} vs {label.shape}")
    ok = np.isfinite(pred) & np.isfinite(label)
    if ok.sum() < 3:
        raise ValueError("need at least 3 finite pairs of prediction and label")
    out = []
    for x in (pred[ok], label[ok]):
        r = stats.rankdata(x)
        sd = r.std()
        out.append((r - r.mean()) / sd if sd > 0 else np.zeros_like(r))
    return out[0], out[1]


def spearman_ic(pred: np.ndarray, label: np.ndarray) -> float:
    """Spearman rank correlation of the finite pairs (0.0 when a side is constant)."""
    rp, ry = _ranks(pred, label)
    return float(np.mean(rp * ry))


def _block_indices(n: int, block: int, n_boot: int, seed: int) -> Iterator[np.ndarray]:
    """Moving-block resamples of positions 0..n-1, up to 100 per array, shape (k, n):
    each row concatenates ``ceil(n / block)`` random blocks of ``block`` consecutive
    positions (``block`` clipped to [1, n]), cut to n."""
    block = max(1, min(block, n))
    n_blocks = -(-n // block)
    rng = np.random.default_rng(seed)
    offsets = np.arange(block)
    for lo in range(0, n_boot, 100):
        starts = rng.integers(0, n - block + 1, size=(min(100, n_boot - lo), n_blocks))
        yield (starts[:, :, None] + offsets).reshape(len(starts), -1)[:, :n]


def ic_bootstrap(
    pred: np.ndarray, label: np.ndarray, block: int, *, n_boot: int = 1000, seed: int = 0
) -> np.ndarray:
    """Moving-block bootstrap replicates of the IC, shape (n_boot,).

    Each replicate concatenates ``ceil(n / block)`` random blocks of ``block``
    consecutive (prediction, label) pairs, cut to n, and takes the correlation of their
    standardised full-sample ranks (not re-ranked per replicate, a common shortcut).
    """
    rp, ry = _ranks(pred, label)
    ics = np.empty(n_boot)
    lo = 0
    for idx in _block_indices(len(rp), block, n_boot, seed):
        a, b = rp[idx], ry[idx]
        a = a - a.mean(axis=1, keepdims=True)
        b = b - b.mean(axis=1, keepdims=True)
        denom = np.sqrt((a * a).sum(axis=1) * (b * b).sum(axis=1))
        ics[lo : lo + len(idx)] = np.where(denom > 0, (a * b).sum(axis=1) / denom, 0.0)
        lo += len(idx)
    return ics


def ic_bootstrap_ci(
    pred: np.ndarray,
    label: np.ndarray,
    block: int,
    *,
    n_boot: int = 1000,
    level: float = 0.95,
    seed: int = 0,
) -> tuple[float, float]:
    """Moving-block bootstrap percentile interval of the IC (:func:`ic_bootstrap`).

    Returns
    -------
    (low, high) at ``level`` (0.95: the 2.5th and 97.5th percentiles).
    """
    ics = ic_bootstrap(pred, label, block, n_boot=n_boot, seed=seed)
    tail = (1.0 - level) / 2.0 * 100
    low, high = np.percentile(ics, [tail, 100 - tail])
    return float(low), float(high)


def panel_ic_bootstrap(
    pred: np.ndarray,
    label: np.ndarray,
    times: np.ndarray,
    block: int,
    *,
    n_boot: int = 1000,
    seed: int = 0,
) -> np.ndarray:
    """Moving-block bootstrap replicates of the IC of a panel, shape (n_boot,).

    ``pred``, ``label`` and ``times`` (n_rows,) hold rows of several symbols; the IC is
    Spearman's over all finite pairs. A replicate draws ``ceil(T / block)`` random
    blocks of ``block`` consecutive distinct times (T of them), cut to T, and takes
    every row of each drawn time as often as the time was drawn, so the symbols' rows
    at one bar, which share the market's move, stay together (a cross-sectionally
    correlated panel is not n_rows independent pairs). With one row per time this is
    :func:`ic_bootstrap` (same seed, same replicates).
    """
    times = np.asarray(times)
    ok = np.isfinite(np.asarray(pred, dtype=np.float64)) & np.isfinite(
        np.asarray(label, dtype=np.float64)
    )
    rp, ry = _ranks(pred, label)
    _, slot = np.unique(times[ok], return_inverse=True)
    n = int(slot.max()) + 1
    sums = np.stack(
        [np.bincount(slot, weights=w, minlength=n) for w in (np.ones_like(rp), rp, ry)]
        + [np.bincount(slot, weights=w, minlength=n) for w in (rp * rp, ry * ry, rp * ry)]
    )  # (6, n): rows, sum a, sum b, sum a^2, sum b^2, sum ab per time
    ics = np.empty(n_boot)
    lo = 0
    for idx in _block_indices(n, block, n_boot, seed):
        counts = np.stack([np.bincount(i, minlength=n) for i in idx]).astype(np.float64)
        rows, a, b, aa, bb, ab = (counts @ sums.T).T
        cov = ab - a * b / rows
        denom = np.sqrt((aa - a * a / rows) * (bb - b * b / rows))
        ics[lo : lo + len(idx)] = np.where(denom > 0, cov / np.where(denom > 0, denom, 1), 0.0)
        lo += len(idx)
    return ics


def newey_west_variance(x: np.ndarray, lags: int) -> float:
    """Newey & West (1987) long-run variance of a series with Bartlett weights.

    ``gamma_0 + 2 * sum_{k=1..L} (1 - k / (L + 1)) * gamma_k``, autocovariances of the
    demeaned series divided by n.
    """
    x = np.asarray(x, dtype=np.float64) - np.mean(x)
    n = len(x)
    var = float(x @ x) / n
    for k in range(1, min(lags, n - 1) + 1):
        var += 2.0 * (1.0 - k / (lags + 1.0)) * float(x[k:] @ x[:-k]) / n
    return var


def ic_hac_tstat(pred: np.ndarray, label: np.ndarray, lags: int) -> float:
    """t-statistic of the IC, robust to autocorrelation (Newey-West, ``lags`` lags).

    The IC is the mean of the products of standardised ranks ``z_t``; its standard
    error is ``sqrt(NW variance of z / n)``. With labels overlapping over h bars,
    ``lags`` should be at least h - 1. NaN when the variance is 0.
    """
    rp, ry = _ranks(pred, label)
    z = rp * ry
    var = newey_west_variance(z, lags)
    return float(z.mean() / np.sqrt(var / len(z))) if var > 0 else float("nan")


def block_permutation_ics(
    pred: np.ndarray, label: np.ndarray, block: int, *, n_perm: int = 200, seed: int = 0
) -> np.ndarray:
    """ICs of the predictions against the labels with the predictions' blocks shuffled.

    The predictions are cut into blocks of ``block`` consecutive bars (the last may be
    shorter) whose order is permuted; within a block the order is kept, so their
    autocorrelation survives while any alignment with the labels is broken.

    Returns
    -------
    ndarray of shape (n_perm,): the null distribution of the IC.
    """
    rp, ry = _ranks(pred, label)
    n = len(rp)
    blocks = np.array_split(np.arange(n), max(1, -(-n // max(1, block))))
    rng = np.random.default_rng(seed)
    out = np.empty(n_perm)
    for i in range(n_perm):
        order = np.concatenate([blocks[j] for j in rng.permutation(len(blocks))])
        out[i] = float(np.mean(rp[order] * ry))
    return out


def ic_permutation_pvalue(ic: float, null_ics: np.ndarray) -> float:
    """Two-sided permutation p-value: ``(1 + #{|null| >= |ic|}) / (1 + n_perm)``."""
    null_ics = np.asarray(null_ics)
    return float((1 + np.sum(np.abs(null_ics) >= abs(ic))) / (1 + len(null_ics)))


def ic_block_length(pred: np.ndarray, label: np.ndarray) -> float:
    """Bootstrap block length (bars) of the IC by the Politis & White (2004) rule, with
    Patton, Politis & White's (2009) correction (``arch.bootstrap.optimal_block_length``,
    its circular-block estimate), applied to the products of standardised ranks whose
    mean is the IC.

    Returns
    -------
    float, bars (>= 1); the caller rounds up and may floor it at the label horizon.

    Raises
    ------
    ValueError
        If the shapes differ or fewer than 3 finite pairs remain.
    """
    rp, ry = _ranks(pred, label)
    z = rp * ry
    if np.ptp(z) == 0:
        return 1.0
    return max(1.0, float(optimal_block_length(z)["circular"].iloc[0]))


def ic_pvalue_positive(ic: float, se: float) -> float:
    """One-sided p-value of an IC above 0 from its standard error (normal approximation):
    ``1 - Φ(ic / se)``; NaN when ``se`` is not positive and finite."""
    if not (math.isfinite(se) and se > 0 and math.isfinite(ic)):
        return math.nan
    return float(stats.norm.sf(ic / se))


def holm_adjusted(pvalues: Mapping[K, float]) -> dict[K, float]:
    """Holm's (1979) step-down adjusted p-values of a family of tests
    (``statsmodels.stats.multitest.multipletests(method="holm")``): reject where the
    adjusted value is below the level, and the family-wise error rate stays at it.

    NaN p-values are left out of the family and stay NaN.
    """
    keys = [k for k, p in pvalues.items() if math.isfinite(p)]
    out = {k: math.nan for k in pvalues}
    if keys:
        adjusted = multipletests([pvalues[k] for k in keys], method="holm")[1]
        out.update({k: float(a) for k, a in zip(keys, adjusted, strict=True)})
    return out


def sharpe_difference_bootstrap(
    a: np.ndarray, b: np.ndarray, block: int, *, n_boot: int = 1000, seed: int = 0
) -> np.ndarray:
    """Moving-block bootstrap replicates of ``SR(a) - SR(b)``, two strategies' per-bar
    Sharpe ratios (mean over standard deviation, ddof=1; 0 for a flat resample) on the
    same bars: each replicate draws the same ``ceil(n / block)`` random blocks of
    ``block`` consecutive bars from both, cut to n (Künsch, 1989; the paired resampling
    of Ledoit & Wolf, 2008, without their studentisation).

    Parameters
    ----------
    a, b
        Shape (n_bars,), per-bar log returns of the two strategies, bar for bar.

    Returns
    -------
    ndarray of shape (n_boot,), per-bar (not annualised) Sharpe differences; their
    standard deviation is the standard error of the difference.

    Raises
    ------
    ValueError
        If the shapes differ or there are fewer than 3 bars.
    """
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    if a.shape != b.shape or a.ndim != 1:
        raise ValueError(f"need two return series of one shape, got {a.shape} and {b.shape}")
    if len(a) < 3:
        raise ValueError("need at least 3 bars of returns")
    out = np.empty(n_boot)
    lo = 0
    for idx in _block_indices(len(a), block, n_boot, seed):
        sharpe = []
        for r in (a[idx], b[idx]):
            sd = r.std(axis=1, ddof=1)
            sharpe.append(np.where(sd > 0, r.mean(axis=1) / np.where(sd > 0, sd, 1.0), 0.0))
        out[lo : lo + len(idx)] = sharpe[0] - sharpe[1]
        lo += len(idx)
    return out

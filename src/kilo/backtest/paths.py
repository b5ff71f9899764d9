"""Matched random paths: a strategy's own long, short and flat spells in shuffled order.

The random baseline of the walk-forward evaluation trades them
(:func:`kilo.evaluation.fold_task.run_fold`), so a strategy is compared with paths of
the same exposure, sides and turnover that differ from it in timing only.
"""

from __future__ import annotations

import itertools
import math

import numpy as np


def spells(path: np.ndarray) -> list[tuple[int, int]]:
    """Runs of a side path (+1 long, -1 short, 0 flat; or bool, True long) as
    ``(side, length)`` in order."""
    path = np.asarray(path).astype(np.int8)
    if len(path) == 0:
        return []
    edges = np.flatnonzero(np.diff(path)) + 1
    bounds = np.concatenate([[0], edges, [len(path)]])
    return [(int(path[a]), int(b - a)) for a, b in itertools.pairwise(bounds)]


def spell_shuffled_paths(path: np.ndarray, n_draws: int, seed: int) -> np.ndarray:
    """Random side paths made of ``path``'s own spells in shuffled order.

    ``path`` holds the side after each bar (+1 long, -1 short, 0 flat; bool: True
    long). Its exposed blocks (a run of long and short spells without a flat bar
    between, usually one spell) are shuffled among themselves, each keeping its spells'
    sides and lengths, so are the flat spells, and the two kinds alternate again
    (starting with the more numerous kind, or either when they are as many), so every
    draw has the same long, short and flat exposure, number of trades and spell-length
    distribution as ``path``: a random baseline matched on turnover, exposure and side,
    not only on trade count.

    Returns
    -------
    ndarray of shape (n_draws, len(path)), int8, the side after each bar.
    """
    blocks: list[list[tuple[int, int]]] = []
    flats: list[list[tuple[int, int]]] = []
    previous = 0
    for side, length in spells(path):
        if side == 0:
            flats.append([(0, length)])
        elif previous:
            blocks[-1].append((side, length))
        else:
            blocks.append([(side, length)])
        previous = side
    rng = np.random.default_rng(seed)
    out = np.zeros((n_draws, len(path)), dtype=np.int8)
    for d in range(n_draws):
        a = [blocks[k] for k in rng.permutation(len(blocks))]
        b = [flats[k] for k in rng.permutation(len(flats))]
        exposed_first = len(a) > len(b) or (len(a) == len(b) and rng.random() < 0.5)
        first, second = (a, b) if exposed_first else (b, a)
        empty: list[tuple[int, int]] = []
        pairs = itertools.zip_longest(first, second, fillvalue=empty)
        order = [run for pair in pairs for run in pair]
        drawn = [spell for run in order for spell in run]
        if drawn:
            sides, lengths = zip(*drawn, strict=True)
            out[d] = np.repeat(sides, lengths)
    return out


def percentile_among_paths(sharpe: float, path_sharpes: np.ndarray, traded: bool) -> float:
    """Percent of random paths (their net Sharpe ratios, shape (n_draws,)) whose Sharpe
    is below the strategy's ``sharpe``, in [0, 100]; NaN when the strategy never
    ``traded`` (no spell to match)."""
    return float(100 * np.mean(np.asarray(path_sharpes) < sharpe)) if traded else math.nan

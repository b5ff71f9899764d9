from __future__ import annotations

import math

import numpy as np

from kilo.metrics.drift import (
    bin_rows,
    bin_shares,
    padded_edges,
    psi,
    quantile_edges,
    window_psi,
)


def test_psi_matches_the_formula_by_hand_and_is_zero_on_the_reference() -> None:
    expected = np.array([0.25, 0.25, 0.5])
    actual = np.array([0.5, 0.25, 0.25])
    by_hand = (0.5 - 0.25) * math.log(0.5 / 0.25) + (0.25 - 0.5) * math.log(0.25 / 0.5)
    assert math.isclose(float(psi(actual, expected)), by_hand)
    assert float(psi(expected, expected)) == 0.0
    empty = float(psi(np.array([0.0, 0.5, 0.5]), expected, epsilon=1e-4))
    assert math.isfinite(empty) and empty > 0.25  # an emptied bin counts, finitely


def test_deciles_bin_their_own_sample_evenly_and_merge_tied_edges() -> None:
    x = np.random.default_rng(0).normal(size=10_000)
    edges = quantile_edges(x, 10)
    assert len(edges) == 9 and np.allclose(bin_shares(x, edges), 0.1, atol=1e-3)
    binary = np.r_[np.zeros(650), np.ones(350)]
    assert quantile_edges(binary, 10).tolist() == [0.0, 1.0]  # 10 quantiles, 2 distinct
    assert bin_shares(binary, quantile_edges(binary, 10)).tolist() == [0.0, 0.65, 0.35]


def test_padded_rows_bin_as_searchsorted_and_pads_add_nothing() -> None:
    rng = np.random.default_rng(1)
    edges = [np.sort(rng.normal(size=9)), np.array([0.0, 1.0])]
    matrix = padded_edges(edges)
    for values in rng.normal(size=(50, 2)):
        got = bin_rows(values, matrix)
        want = [np.searchsorted(e, v, side="right") for e, v in zip(edges, values, strict=True)]
        assert got.tolist() == want
    a, e = np.array([[0.2, 0.8, 0.0]]), np.array([[0.5, 0.5, 0.0]])
    assert np.isclose(psi(a, e), psi(a[:, :2], e[:, :2])).all()


def test_window_psi_is_the_psi_of_each_trailing_window() -> None:
    rng = np.random.default_rng(2)
    x = np.cumsum(rng.normal(size=300)) / 10  # persistent, as many features are
    edges = quantile_edges(x, 10)
    shares = bin_shares(x, edges)
    got = window_psi(x, edges, shares, window=50, step=7)
    ends = range(50, 301, 7)
    want = [float(psi(bin_shares(x[e - 50 : e], edges), shares)) for e in ends]
    assert np.allclose(got, want) and len(got) == len(want)
    assert np.median(got) > 0.25  # a persistent series' short windows look drifted

"""Matched random paths keep a strategy's spells, sides and lengths."""

from __future__ import annotations

import numpy as np

from kilo.backtest.paths import spell_shuffled_paths, spells


def test_spell_shuffled_paths_keep_exposure_and_spells() -> None:
    rng = np.random.default_rng(0)
    path = np.repeat(rng.random(60) < 0.4, rng.integers(1, 30, 60))
    draws = spell_shuffled_paths(path, 100, seed=1)
    assert draws.shape == (100, len(path))
    own = sorted(spells(path))
    for draw in draws:
        assert draw.sum() == path.sum()  # exposure
        assert sorted(spells(draw)) == own  # the same spells, so the same trades
    assert len({d.tobytes() for d in draws}) > 90  # in shuffled orders
    np.testing.assert_array_equal(draws, spell_shuffled_paths(path, 100, seed=1))


def test_random_paths_keep_each_spells_side_and_length() -> None:
    rng = np.random.default_rng(0)
    path = np.repeat(rng.choice([-1, 0, 1], 60), rng.integers(1, 30, 60)).astype(np.int8)
    path[100:110] = np.r_[np.ones(5), -np.ones(5)]  # a long straight into a short: one block
    draws = spell_shuffled_paths(path, 50, seed=1)
    own = sorted(spells(path))
    for draw in draws:
        assert sorted(spells(draw)) == own  # the same long, short and flat spells
        assert (draw == -1).sum() == (path == -1).sum() and (draw == 1).sum() == (path == 1).sum()
    assert len({d.tobytes() for d in draws}) > 45


def test_spells_by_hand() -> None:
    assert spells(np.array([0, 0, 1, 1, 1, 0, 1], bool)) == [
        (False, 2),
        (True, 3),
        (False, 1),
        (True, 1),
    ]
    assert spells(np.array([], bool)) == []


def test_percentile_among_paths_counts_the_paths_below_and_needs_a_trade() -> None:
    import math

    from kilo.backtest.paths import percentile_among_paths

    draws = np.array([-1.0, 0.0, 0.5, 2.0])
    assert percentile_among_paths(0.6, draws, traded=True) == 75.0
    assert percentile_among_paths(-2.0, draws, traded=True) == 0.0
    assert math.isnan(percentile_among_paths(3.0, draws, traded=False))

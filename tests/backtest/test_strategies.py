from __future__ import annotations

import numpy as np
import pandas as pd

from kilo.backtest.strategies import momentum_scores, spell_shuffled_paths, spells


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


def test_spells_by_hand() -> None:
    assert spells(np.array([0, 0, 1, 1, 1, 0, 1], bool)) == [
        (False, 2),
        (True, 3),
        (False, 1),
        (True, 1),
    ]
    assert spells(np.array([], bool)) == []


def test_momentum_is_causal(btc_candles: pd.DataFrame) -> None:
    close = btc_candles["close"].to_numpy()
    base = momentum_scores(close, 24)
    changed = close.copy()
    changed[5000:] *= 3.0
    np.testing.assert_array_equal(base[:5000], momentum_scores(changed, 24)[:5000])
    assert base[100] == (1.0 if close[100] > close[76] else -1.0) and base[10] == -1.0

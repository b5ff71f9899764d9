"""Cross-fitting: each block is predicted by a model that never saw its labels."""

from __future__ import annotations

import numpy as np
import pytest

from kilo.models.crossfit import blocks, cross_fit, fit_mask


def test_blocks_cover_the_rows_in_order() -> None:
    parts = blocks(10, 3)
    assert [(p.start, p.stop) for p in parts] == [(0, 3), (3, 7), (7, 10)]
    with pytest.raises(ValueError, match="blocks"):
        blocks(2, 3)
    with pytest.raises(ValueError, match="blocks"):
        blocks(10, 1)


def test_fit_mask_leaves_out_the_block_and_its_embargo() -> None:
    mask = fit_mask(12, slice(4, 6), 2)
    assert np.flatnonzero(~mask).tolist() == [2, 3, 4, 5, 6, 7]
    assert fit_mask(5, slice(0, 2), 3).tolist() == [False] * 5


def test_a_memorising_model_predicts_nothing_out_of_fold() -> None:
    """A model that returns the labels it was fit on (0 elsewhere): in sample it would
    reproduce every label; out of fold it must see none of the block's."""
    labels = np.random.default_rng(0).normal(size=40)
    seen: list[np.ndarray] = []

    def fit(mask: np.ndarray) -> dict[int, float]:
        seen.append(mask.copy())
        return {int(i): float(labels[i]) for i in np.flatnonzero(mask)}

    def predict(model: dict[int, float], block: slice) -> np.ndarray:
        return np.array([model.get(i, 0.0) for i in range(block.start, block.stop)])

    out = cross_fit(40, 4, 3, fit, predict)
    np.testing.assert_array_equal(out, np.zeros(40))
    assert len(seen) == 4
    for mask, block in zip(seen, blocks(40, 4), strict=True):
        assert not mask[max(block.start - 3, 0) : block.stop + 3].any()
        assert mask.sum() == 40 - (min(block.stop + 3, 40) - max(block.start - 3, 0))


def test_a_block_with_nothing_left_to_fit_on_is_refused() -> None:
    with pytest.raises(ValueError, match="no row to fit on"):
        cross_fit(6, 2, 4, lambda mask: None, lambda model, block: np.zeros(3))

from __future__ import annotations

import pytest

from kilo.config import load_config
from kilo.errors import DataError
from kilo.features import FeatureEngine
from kilo.training.split import (
    MIN_EVAL_ROWS,
    MIN_TRAIN_ROWS,
    TimeSplit,
    make_split,
    required_embargo,
)


def test_splits_are_ordered_and_embargoed() -> None:
    s = make_split(10_000, 0.15, 0.15, embargo=250)
    assert s.train.stop + 250 == s.val.start and s.val.stop + 250 == s.test.start
    assert s.test.stop == 10_000
    assert s.val.stop - s.val.start == 1500 == s.test.stop - s.test.start
    assert s.train.stop == 10_000 - 3000 - 500


def test_embargo_covers_lookback_horizon_and_context() -> None:
    cfg = load_config(None, ["target.horizon=4", "split.extra_embargo_bars=3"], environ={})
    engine = FeatureEngine.from_config(cfg, "BTC/USDT")
    embargo = required_embargo(cfg, engine)
    assert embargo >= engine.max_lookback + 4
    assert embargo == engine.max_lookback + 4 + cfg.models.gru.sequence_length - 1 + 3


def test_too_short_history_is_a_clear_error() -> None:
    with pytest.raises(DataError, match="too little history.*Download more"):
        make_split(1200, 0.15, 0.15, embargo=250)


def test_a_split_says_whether_it_can_train_and_score() -> None:
    def split(n_train: int, n_val: int, n_test: int) -> TimeSplit:
        val = n_train + 10
        return TimeSplit(
            slice(0, n_train),
            slice(val, val + n_val),
            slice(val + n_val + 10, val + n_val + 10 + n_test),
            10,
        )

    assert split(MIN_TRAIN_ROWS, MIN_EVAL_ROWS, MIN_EVAL_ROWS).trainable
    assert split(MIN_TRAIN_ROWS, MIN_EVAL_ROWS, MIN_EVAL_ROWS).scorable
    assert not split(MIN_TRAIN_ROWS - 1, 5000, 5000).trainable
    assert not split(5000, MIN_EVAL_ROWS, MIN_EVAL_ROWS - 1).scorable
    assert not split(5000, MIN_EVAL_ROWS - 1, 5000).scorable
    assert not split(5000, 0, 0).scorable  # a member whose candles end before validation

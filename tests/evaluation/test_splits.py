from __future__ import annotations

import itertools

import pytest

from kilo.config import EvaluationConfig
from kilo.errors import DataError
from kilo.evaluation.splits import walk_forward_folds


@pytest.mark.parametrize("scheme", ["expanding", "rolling"])
def test_folds_are_ordered_embargoed_and_cover_the_tail(scheme: str) -> None:
    spec = EvaluationConfig(folds=4, scheme=scheme, initial_train_fraction=0.4, val_fraction=0.2)
    folds = walk_forward_folds(10_000, spec, embargo=250)
    assert folds[0].test.start == 4000 and folds[-1].test.stop == 10_000
    for prev, fold in itertools.pairwise(folds):
        assert prev.test.stop == fold.test.start
    for fold in folds:
        assert fold.train.stop + 250 == fold.val.start
        assert fold.val.stop + 250 == fold.test.start
        assert fold.train.start < fold.train.stop < fold.val.start < fold.val.stop
    if scheme == "expanding":
        assert all(f.train.start == 0 for f in folds)
    else:
        widths = {f.val.stop - f.train.start for f in folds}
        assert len(widths) == 1 and folds[-1].train.start > 0


def test_too_many_folds_is_a_clear_error() -> None:
    with pytest.raises(DataError, match="fold 1 of 40 is too small"):
        walk_forward_folds(3000, EvaluationConfig(folds=40, initial_train_fraction=0.1), 250)

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


def test_the_holdout_is_the_last_block_and_no_fold_touches_it(config) -> None:
    from kilo.evaluation.splits import evaluation_splits

    ev = config.evaluation
    folds, holdout = evaluation_splits(70_000, ev, embargo=433)
    assert holdout is not None and holdout.test.stop == 70_000
    assert holdout.test.stop - holdout.test.start == round(70_000 * ev.holdout_fraction)
    assert max(f.test.stop for f in folds) + 433 <= holdout.test.start  # an embargo apart
    assert holdout.val.stop + 433 <= holdout.test.start and holdout.train.stop < holdout.val.start
    none = config.with_overrides({"evaluation.holdout_fraction": 0}).evaluation
    folds0, held0 = evaluation_splits(70_000, none, embargo=433)
    assert held0 is None and folds0[-1].test.stop == 70_000

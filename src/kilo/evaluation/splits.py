"""Walk-forward folds (expanding or rolling training windows before each test fold) and
the final holdout block."""

from __future__ import annotations

from kilo.config import EvaluationConfig
from kilo.errors import DataError
from kilo.training.split import MIN_EVAL_ROWS, MIN_TRAIN_ROWS, TimeSplit


def _fold(
    name: str, test: slice, spec: EvaluationConfig, embargo: int, rolling: int, n_rows: int
) -> TimeSplit:
    """The fold whose test rows are ``test``: its window ends ``embargo`` rows before,
    from row 0 (expanding) or ``rolling`` rows long; its last ``val_fraction`` is
    validation, ``embargo`` rows after its training part.

    Raises
    ------
    DataError
        If the training, validation or test part would be too small.
    """
    window_stop = test.start - embargo
    window_start = 0 if spec.scheme == "expanding" else max(0, window_stop - rolling)
    n_val = round(spec.val_fraction * (window_stop - window_start))
    train_stop = window_stop - n_val - embargo
    n_test = test.stop - test.start
    if train_stop - window_start < MIN_TRAIN_ROWS or min(n_val, n_test) < MIN_EVAL_ROWS:
        raise DataError(
            f"{name} is too small ({n_rows} rows: train {train_stop - window_start}, "
            f"validation {n_val}, test {n_test}); use fewer folds, a larger "
            "initial_train_fraction, a smaller holdout_fraction, or more candles"
        )
    return TimeSplit(
        slice(window_start, train_stop), slice(window_stop - n_val, window_stop), test, embargo
    )


def walk_forward_folds(n_rows: int, spec: EvaluationConfig, embargo: int) -> list[TimeSplit]:
    """Split ``n_rows`` consecutive rows into ``spec.folds`` walk-forward folds.

    The rows after ``initial_train_fraction`` are cut into equal test folds (the last
    takes the remainder). Before fold k the training window ends ``embargo`` rows
    before the fold: ``expanding`` starts it at row 0, ``rolling`` keeps its length at
    ``rolling_train_bars`` (default: the first window's). The window's last
    ``val_fraction`` is validation, ``embargo`` rows after its training part. So every
    fold is train < embargo < validation < embargo < test, as DESIGN.md invariant 4.

    Raises
    ------
    DataError
        If a fold's training, validation or test part would be too small.
    """
    first_test = round(n_rows * spec.initial_train_fraction)
    fold_len = (n_rows - first_test) // spec.folds
    rolling = spec.rolling_train_bars or first_test - embargo
    folds = []
    for k in range(spec.folds):
        test_start = first_test + k * fold_len
        test_stop = n_rows if k == spec.folds - 1 else test_start + fold_len
        name = f"fold {k + 1} of {spec.folds}"
        folds.append(_fold(name, slice(test_start, test_stop), spec, embargo, rolling, n_rows))
    return folds


def evaluation_splits(
    n_rows: int, spec: EvaluationConfig, embargo: int
) -> tuple[list[TimeSplit], TimeSplit | None]:
    """The walk-forward folds and the holdout of ``n_rows`` consecutive rows.

    The last ``holdout_fraction`` of the rows is the holdout: the folds are cut from
    the rows before it less an ``embargo`` (:func:`walk_forward_folds`), so no fold, no
    search and no default ever reads it; it is traded once, by a model set fit on the
    rows before it like a last fold. ``holdout_fraction`` 0: no holdout (None).

    Raises
    ------
    DataError
        If a fold or the holdout would be too small.
    """
    n_hold = round(n_rows * spec.holdout_fraction)
    if n_hold == 0:
        return walk_forward_folds(n_rows, spec, embargo), None
    start = n_rows - n_hold
    folds = walk_forward_folds(start - embargo, spec, embargo)
    rolling = spec.rolling_train_bars or folds[0].val.stop - folds[0].train.start
    holdout = _fold("the holdout", slice(start, n_rows), spec, embargo, rolling, n_rows)
    return folds, holdout

"""Walk-forward folds: expanding or rolling training windows before each test fold."""

from __future__ import annotations

from kilo.config import EvaluationConfig
from kilo.errors import DataError
from kilo.training.split import MIN_EVAL_ROWS, MIN_TRAIN_ROWS, TimeSplit


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
        window_stop = test_start - embargo
        window_start = 0 if spec.scheme == "expanding" else max(0, window_stop - rolling)
        n_val = round(spec.val_fraction * (window_stop - window_start))
        train_stop = window_stop - n_val - embargo
        if (
            train_stop - window_start < MIN_TRAIN_ROWS
            or min(n_val, test_stop - test_start) < MIN_EVAL_ROWS
        ):
            raise DataError(
                f"fold {k + 1} of {spec.folds} is too small ({n_rows} rows: train "
                f"{train_stop - window_start}, validation {n_val}, test {test_stop - test_start}); "
                "use fewer folds, a larger initial_train_fraction, or more candles"
            )
        folds.append(
            TimeSplit(
                slice(window_start, train_stop),
                slice(window_stop - n_val, window_stop),
                slice(test_start, test_stop),
                embargo,
            )
        )
    return folds

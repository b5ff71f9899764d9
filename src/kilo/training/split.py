"""Time splits with an embargo (DESIGN.md invariant 4)."""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from kilo.config import Config
from kilo.errors import DataError
from kilo.features import FeatureEngine
from kilo.models.kinds import KINDS, config_context
from kilo.registry import SplitInfo
from kilo.registry.manifest import SplitRange

MIN_TRAIN_ROWS = 500
MIN_EVAL_ROWS = 100


def required_embargo(config: Config, engine: FeatureEngine) -> int:
    """Bars between splits: longest lookback + label horizon + model context - 1 + extra.

    The model context (the longest :attr:`~kilo.models.kind.ModelKind.config_context`
    of every kind, enabled or not, so the split does not move with ``models.enabled``;
    a policy observing forecasts looks back its window of the regressors' windows) is
    added because the first validation sample looks that far back, so no candle
    behind a training label reaches a validation input.
    """
    context = config_context(config, KINDS)
    return engine.max_lookback + config.target.horizon + context + config.split.extra_embargo_bars


@dataclass(frozen=True)
class TimeSplit:
    """Row ranges (positions) of train < validation < test, ``embargo`` rows apart."""

    train: slice
    val: slice
    test: slice
    embargo: int

    @property
    def trainable(self) -> bool:
        """At least :data:`MIN_TRAIN_ROWS` training rows."""
        return rows_in(self.train) >= MIN_TRAIN_ROWS

    @property
    def scorable(self) -> bool:
        """At least :data:`MIN_EVAL_ROWS` validation and test rows each."""
        return min(rows_in(self.val), rows_in(self.test)) >= MIN_EVAL_ROWS

    def describe(self, index: pd.DatetimeIndex) -> SplitInfo:
        """Dates (UTC, inclusive) and row counts of each split, for the manifest."""
        ranges = {
            name: SplitRange(start=index[part][0], end=index[part][-1], rows=len(index[part]))
            for name, part in (("train", self.train), ("validation", self.val), ("test", self.test))
        }
        return SplitInfo(embargo_bars=self.embargo, **ranges)


def rows_in(part: slice) -> int:
    """The number of rows of a ``slice(start, stop)`` of row positions."""
    return max(part.stop - part.start, 0)


def make_split(n_rows: int, val_fraction: float, test_fraction: float, embargo: int) -> TimeSplit:
    """Split ``n_rows`` consecutive rows into train, embargo, validation, embargo, test.

    Validation and test get ``round(fraction * n_rows)`` rows; train gets the rest
    after the two embargo gaps.

    Raises
    ------
    DataError
        If train would have fewer than 500 rows or validation/test fewer than 100.
    """
    n_val, n_test = round(val_fraction * n_rows), round(test_fraction * n_rows)
    n_train = n_rows - n_val - n_test - 2 * embargo
    val_start = n_train + embargo
    test_start = val_start + n_val + embargo
    split = TimeSplit(
        slice(0, n_train), slice(val_start, val_start + n_val), slice(test_start, n_rows), embargo
    )
    if not (split.trainable and split.scorable):
        raise DataError(
            f"too little history: {n_rows} usable rows give train={n_train}, validation={n_val}, "
            f"test={n_test} with an embargo of {embargo} bars; need at least {MIN_TRAIN_ROWS} "
            f"training and {MIN_EVAL_ROWS} validation/test rows. Download more candles."
        )
    return split

"""One symbol's training data: features, targets, bar returns and the time split."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from kilo.config import Config
from kilo.data import load_candles
from kilo.features import FeatureEngine, make_target
from kilo.training.split import TimeSplit, make_split, required_embargo


@dataclass(frozen=True)
class Dataset:
    """Aligned rows of one symbol, after warm-up and without unlabelled rows.

    Attributes
    ----------
    features : DataFrame (n_rows, n_features), float64, raw engine output (not scaled)
    target : ndarray (n_rows,), float64, forward log return over ``horizon`` bars
    bar_returns : ndarray (n_rows,), float64, ``log(close[t + 1] / close[t])``
    split : TimeSplit over the rows
    """

    symbol: str
    candles: pd.DataFrame
    features: pd.DataFrame
    target: np.ndarray
    bar_returns: np.ndarray
    split: TimeSplit

    @property
    def index(self) -> pd.DatetimeIndex:
        return self.features.index


def build_dataset(config: Config, symbol: str, engine: FeatureEngine,
                  candles: pd.DataFrame | None = None) -> Dataset:
    """Compute features and targets from the symbol's candles and split them in time.

    Parameters
    ----------
    candles
        Validated candles to use instead of loading the symbol's file (the
        evaluation's controls rebuild them).

    Raises
    ------
    DataError
        If the candles are missing or malformed, or too short to split.
    """
    if candles is None:
        d = config.data
        candles = load_candles(d.dir, d.exchange, symbol, d.timeframe)
    features = engine.transform(candles)
    target = make_target(candles, config.features.horizon).reindex(features.index)
    bar_returns = make_target(candles, 1).reindex(features.index)
    labelled = target.notna() & bar_returns.notna()
    features = features.loc[labelled]
    split = make_split(len(features), config.split.val_fraction, config.split.test_fraction,
                       required_embargo(config, engine))
    return Dataset(symbol, candles, features, target[labelled].to_numpy(),
                   bar_returns[labelled].to_numpy(), split)

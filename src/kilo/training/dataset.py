"""One symbol's training data: features, labels, weights, returns and the time split."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd

from kilo.config import Config
from kilo.data import FILLED, load_config_candles
from kilo.data.funding import FUNDING
from kilo.data.market import load_market_candles
from kilo.features import (
    FeatureEngine,
    average_uniqueness,
    forward_log_return,
    held_log_return,
    make_labels,
)
from kilo.features.target import outage_labels, outage_runs
from kilo.registry.manifest import OutageCounts
from kilo.training.split import TimeSplit, make_split, required_embargo


@dataclass(frozen=True)
class Dataset:
    """Aligned rows of one symbol, after warm-up and without unlabelled rows.

    Attributes
    ----------
    candles : the symbol's validated candles (all of them)
    context : symbol -> validated candles of the other symbols its features read
    features : DataFrame (n_rows, n_features), float64, raw engine output (not scaled)
    target : ndarray (n_rows,), float64, the label (``target.kind``)
    weights : ndarray (n_rows,), float64, average uniqueness of each label (mean 1 over
        the rows; all 1 with ``target.sample_weights: false``)
    forward_return : ndarray (n_rows,), float64, ``log(close[t + h] / close[t])``, h the
        label horizon
    held_return : ndarray (n_rows,), float64, ``log(open[t + 1 + h] / open[t + 1])``: what
        a position opened on row t's signal and held h bars earns before costs, the
        return every IC of money is measured against (NaN where it would end past the
        candles or cross an outage the label may not cross)
    bar_returns : ndarray (n_rows,), float64, ``log(close[t + 1] / close[t])``
    bar_funding : ndarray (n_rows,), float64, the funding rate a long held over row t's
        bar pays: the events up to ``open[t + 2]``, where a position decided at close
        ``t + 1`` changes (fraction of notional; 0 on spot and past the candles)
    split : TimeSplit over the rows
    outages : what the candles' outages did to the rows (counted in the manifest)
    """

    symbol: str
    candles: pd.DataFrame
    context: Mapping[str, pd.DataFrame]
    features: pd.DataFrame
    target: np.ndarray
    weights: np.ndarray
    forward_return: np.ndarray
    held_return: np.ndarray
    bar_returns: np.ndarray
    bar_funding: np.ndarray
    split: TimeSplit
    outages: OutageCounts

    @property
    def index(self) -> pd.DatetimeIndex:
        """Candle open times (UTC) of the rows."""
        return pd.DatetimeIndex(self.features.index)


def bar_funding(candles: pd.DataFrame) -> np.ndarray:
    """Shape (n_candles,), float64: the funding rate (candles' :data:`FUNDING`) a long
    held over candle t's close-to-close bar pays, charged at ``open[t + 2]``; 0 past the
    last candle and without the column (spot)."""
    out = np.zeros(len(candles))
    if FUNDING in candles.columns:
        out[:-2] = candles[FUNDING].to_numpy(dtype=np.float64)[2:]
    return out


def load_context(config: Config, symbols: list[str]) -> dict[str, pd.DataFrame]:
    """Validated candles of ``symbols`` from the configured data folder.

    Raises
    ------
    DataError
        If a symbol's candles are missing or malformed (the message names the file).
    """
    d = config.data
    return {s: load_config_candles(d, s) for s in symbols}


def build_dataset(
    config: Config,
    symbol: str,
    engine: FeatureEngine,
    candles: pd.DataFrame | None = None,
    context: Mapping[str, pd.DataFrame] | None = None,
) -> Dataset:
    """Compute features and labels from the symbol's candles and split them in time.

    Parameters
    ----------
    candles, context
        Validated candles of the symbol (default: those of ``trading.market``,
        :func:`~kilo.data.market.load_market_candles`) and of the other symbols its
        features read (spot), to use instead of loading them (the evaluation's
        controls rebuild ``candles``).

    Raises
    ------
    DataError
        If the candles are missing or malformed, or too short to split.
    """
    if candles is None:
        candles = load_market_candles(config, symbol)
    if context is None:
        context = load_context(config, engine.context_symbols)
    features = engine.transform(candles, context)
    labels = make_labels(candles, config.target)
    bar_returns = forward_log_return(candles, 1)
    held = held_log_return(candles, config.target.horizon).to_numpy(copy=True)
    rows = candles.index.get_indexer(features.index)
    filled = (
        candles[FILLED].to_numpy(dtype=bool)
        if FILLED in candles.columns
        else np.zeros(len(candles), dtype=bool)
    )
    defined = (labels.values.iloc[rows].notna() & bar_returns.iloc[rows].notna()).to_numpy()
    outage = outage_labels(filled, config.target.horizon, config.features.ffill_limit)[rows]
    labelled = defined & ~outage
    held[outage_labels(filled, config.target.horizon + 1, config.features.ffill_limit)] = np.nan
    counts = OutageCounts(
        filled_candles=int(filled.sum()),
        blanked_feature_rows=int((outage_runs(filled) > config.features.ffill_limit).sum()),
        dropped_labels=int((defined & outage).sum()),
    )
    rows = rows[labelled]
    weights = (
        average_uniqueness(rows + 1, labels.end[rows])
        if config.target.sample_weights
        else np.ones(len(rows))
    )
    split = make_split(
        len(rows),
        config.split.val_fraction,
        config.split.test_fraction,
        required_embargo(config, engine),
    )
    return Dataset(
        symbol,
        candles,
        dict(context),
        features.iloc[np.flatnonzero(labelled)],
        labels.values.to_numpy()[rows],
        weights / weights.mean(),
        labels.forward_return.to_numpy()[rows],
        held[rows],
        bar_returns.to_numpy()[rows],
        bar_funding(candles)[rows],
        split,
        counts,
    )

"""FeatureEngine: candles -> causal feature matrix, shared by training and trading."""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Mapping

import numpy as np
import pandas as pd

from kilo.config import Config, FeaturesConfig
from kilo.data.readers import OHLCV
from kilo.data.validate import FILLED
from kilo.errors import DataError
from kilo.features import indicators as ind
from kilo.features.cross_asset import (
    context_symbols,
    cross_asset_features,
    cross_asset_lookback,
    cross_asset_names,
    references,
)
from kilo.features.own import own_lookback, own_names, recursive_features, window_features
from kilo.features.target import outage_runs
from kilo.features.timeframes import timeframe_features, timeframe_lookback, timeframe_names

ENGINE_VERSION = 2
CONVERGENCE_TOL = 1e-10


#: Columns that stay defined inside a long outage (the calendar and the outage flag);
#: every other feature of a candle more than ``ffill_limit`` bars into a run of filled
#: candles is NaN.
OUTAGE_KEPT = frozenset({"filled", "hour_sin", "hour_cos", "dow_sin", "dow_cos"})


class FeatureEngine:
    """Compute Kilo's features from validated candles, causally.

    Feature row ``t`` uses only candles with open time <= ``t`` (DESIGN.md invariant 1).
    Names, in order: the own features of :mod:`kilo.features.own`, then the
    cross-asset features of :mod:`kilo.features.cross_asset` and the higher-timeframe
    ones of
    :mod:`kilo.features.timeframes`, which depend on the symbol (it sees no reference
    feature of itself) and on the other symbols' candles (``context``). Inside an
    exchange outage longer than ``ffill_limit`` bars, every feature but the calendar
    and ``filled`` is NaN (stale prices are not information).

    Parameters
    ----------
    spec
        The ``features`` config section (periods in bars).
    symbol
        The symbol whose features these are (ccxt form).
    timeframe
        The candles' timeframe, from which higher timeframes are resampled.
    """

    def __init__(self, spec: FeaturesConfig, symbol: str, timeframe: str = "1h") -> None:
        self.spec = spec
        self.symbol = symbol
        self.timeframe = timeframe

    @classmethod
    def from_config(cls, config: Config, symbol: str) -> FeatureEngine:
        """Engine for ``config.features`` and ``symbol`` on ``config.data.timeframe``."""
        return cls(config.features, symbol, config.data.timeframe)

    @property
    def context_symbols(self) -> list[str]:
        """Other symbols whose candles :meth:`compute` reads (``context``), sorted."""
        return context_symbols(self.spec, self.symbol)

    @property
    def references(self) -> list[str]:
        """The reference symbols whose candles :meth:`compute` cannot do without (a
        universe member may be absent)."""
        return references(self.spec, self.symbol)

    @property
    def feature_names(self) -> list[str]:
        """Ordered feature column names."""
        return [
            *own_names(self.spec),
            *cross_asset_names(self.spec, self.symbol),
            *timeframe_names(self.spec),
        ]

    @property
    def spec_hash(self) -> str:
        """sha256 (hex, 16 chars) of the engine version, feature spec and names.

        Stable across processes; covers the symbol, timeframe, cross-asset symbols and
        higher timeframes (the label is not part of it).
        """
        payload = {
            "engine_version": ENGINE_VERSION,
            "symbol": self.symbol,
            "timeframe": self.timeframe,
            "spec": self.spec.model_dump(mode="json"),
            "features": self.feature_names,
        }
        blob = json.dumps(payload, sort_keys=True, separators=(",", ":")).encode()
        return hashlib.sha256(blob).hexdigest()[:16]

    @property
    def max_lookback(self) -> int:
        """Warm-up rows: the first row index at which every feature is defined.

        Equal to the longest lookback in bars over all indicators, e.g. 199 for an
        EMA(200) that needs 200 closes.
        """
        s = self.spec
        return max(own_lookback(s), cross_asset_lookback(s), timeframe_lookback(s, self.timeframe))

    @property
    def min_history(self) -> int:
        """Candles up to and including bar t that reproduce full-history features at t.

        Recursive indicators (EMA, Wilder's RSI and ATR, MACD) remember their seed
        with weight ``(1 - alpha) ** n`` after ``n`` bars; this is :attr:`max_lookback`
        plus the bars after which the slowest of them has forgotten its seed to
        ``CONVERGENCE_TOL`` (about 2,500 candles for an EMA(200)). A trailing window
        this long gives the same feature row as the whole history to ~1e-9 relative.
        Cross-asset and higher-timeframe features use finite windows, covered by
        :attr:`max_lookback`.
        """
        s = self.spec
        alphas = [2.0 / (p + 1) for p in (*s.ema_periods, s.macd_slow, s.macd_signal)]
        alphas += [1.0 / s.rsi_period, 1.0 / s.atr_period]
        slowest = min(alphas)
        return self.max_lookback + math.ceil(math.log(CONVERGENCE_TOL) / math.log1p(-slowest))

    def compute(
        self,
        candles: pd.DataFrame,
        context: Mapping[str, pd.DataFrame] | None = None,
        *,
        last: int | None = None,
    ) -> pd.DataFrame:
        """All features for every candle, warm-up rows included (they hold NaN).

        Parameters
        ----------
        candles
            As returned by :func:`kilo.data.load_candles`: UTC ``DatetimeIndex``,
            columns open, high, low, close, volume and optionally ``filled``.
        context
            Symbol -> validated candles of every symbol in :attr:`context_symbols`
            (only those up to each row are read).
        last
            Compute only the last ``last`` rows (the trader's bars): equal to the same
            rows of the whole computation, at a fraction of the cost. None: all.

        Returns
        -------
        DataFrame of shape (n_candles or ``last``, n_features), float64, indexed by
        candle open time, columns :attr:`feature_names`. Division by zero gives inf;
        see :meth:`transform`.

        Raises
        ------
        DataError
            If a column is missing, the index is not a DatetimeIndex, or a context
            symbol's candles are missing.
        """
        missing = [c for c in OHLCV if c not in candles.columns]
        if missing:
            raise DataError(f"candles lack column(s) {missing}; load them with kilo.data")
        if not isinstance(candles.index, pd.DatetimeIndex):
            raise DataError("candles must be indexed by date (a DatetimeIndex)")
        s, n = self.spec, len(candles)
        rows = n if last is None else max(0, min(last, n))
        # the finite windows of the last rows read max_lookback candles back, and the
        # context's closes are forward-filled for ffill_limit more (0: without limit)
        first = max(0, n - rows - self.max_lookback - s.ffill_limit) if s.ffill_limit else 0
        part = candles.iloc[first:]
        h, lo, c, v = (candles[k].to_numpy(dtype=np.float64) for k in OHLCV[1:])
        filled = (
            candles[FILLED].to_numpy(dtype=np.float64) if FILLED in candles.columns else np.zeros(n)
        )
        seconds = ind.epoch_seconds(part.index)
        out = {k: x[first:] for k, x in recursive_features(s, h, lo, c).items()}
        out.update(
            window_features(s, h[first:], lo[first:], c[first:], v[first:], seconds, filled[first:])
        )
        out.update(cross_asset_features(part, context or {}, self.symbol, s))
        out.update(timeframe_features(part, s, self.timeframe))
        matrix = np.stack([out[name][n - first - rows :] for name in self.feature_names], axis=1)
        in_outage = (outage_runs(filled.astype(bool)) > s.ffill_limit)[n - rows :]
        if in_outage.any():  # stale prices say nothing: NaN, for the NaN policy to handle
            stale = np.array([name not in OUTAGE_KEPT for name in self.feature_names])
            matrix[np.ix_(in_outage, stale)] = np.nan
        return pd.DataFrame(matrix, index=candles.index[n - rows :], columns=self.feature_names)

    def transform(
        self,
        candles: pd.DataFrame,
        context: Mapping[str, pd.DataFrame] | None = None,
        *,
        last: int | None = None,
    ) -> pd.DataFrame:
        """Features with the causal part of the NaN policy (DESIGN.md invariant 2).

        Drops the first :attr:`max_lookback` rows, turns ±inf into NaN, and
        forward-fills NaN for at most ``ffill_limit`` bars. NaN that remain (longer
        runs) are left for the fitted :class:`~kilo.features.Preprocessor`'s medians.
        ``last`` keeps only the last rows, as :meth:`compute`.

        Returns
        -------
        DataFrame of shape (n_candles - max_lookback or fewer (``last``), n_features),
        float64, indexed by candle open time (UTC).

        Raises
        ------
        DataError
            As :meth:`compute`, or if there are no more candles than the warm-up.
        """
        if len(candles) <= self.max_lookback:
            raise DataError(
                f"{len(candles)} candles are too few: the features need more than "
                f"{self.max_lookback} for warm-up"
            )
        kept = len(candles) - self.max_lookback
        rows = kept if last is None else min(last, kept)
        filling = min(rows + self.spec.ffill_limit, kept)  # the rows a fill may come from
        if last is None:
            frame = self.compute(candles, context)
        else:
            frame = self.compute(candles, context, last=filling)
        values = frame.to_numpy()[-filling:]
        values = np.where(np.isinf(values), np.nan, values)
        if self.spec.ffill_limit:
            values = ind.ffill(values, self.spec.ffill_limit)
        return pd.DataFrame(values[-rows:], index=frame.index[-rows:], columns=frame.columns)

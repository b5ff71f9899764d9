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
    Names, in order: ``log_ret_{k}`` for each return period; ``volatility_{w}`` (std of
    1-bar log returns); ``rsi_{n}`` / 100; ``macd``, ``macd_signal``, ``macd_hist``
    (divided by close); ``bb_pctb``, ``bb_width``; ``atr_{n}`` / close;
    ``volume_z_{w}``; ``log_volume_change`` (difference of ``log1p(volume)``, finite
    for zero volume); ``hl_range`` = (high - low) / close; ``ema_dist_{p}`` =
    (close - EMA_p) / ATR; ``hour_sin``, ``hour_cos``, ``dow_sin``, ``dow_cos``;
    ``filled`` (1.0 for gap-filled candles); then the cross-asset features of
    :mod:`kilo.features.cross_asset` and the higher-timeframe ones of
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
            *self._own_names,
            *cross_asset_names(self.spec, self.symbol),
            *timeframe_names(self.spec),
        ]

    @property
    def _own_names(self) -> list[str]:
        s = self.spec
        return [
            *(f"log_ret_{k}" for k in s.return_periods),
            *(f"volatility_{w}" for w in s.volatility_windows),
            f"rsi_{s.rsi_period}",
            "macd",
            "macd_signal",
            "macd_hist",
            "bb_pctb",
            "bb_width",
            f"atr_{s.atr_period}",
            f"volume_z_{s.volume_window}",
            "log_volume_change",
            "hl_range",
            *(f"ema_dist_{p}" for p in s.ema_periods),
            "hour_sin",
            "hour_cos",
            "dow_sin",
            "dow_cos",
            "filled",
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
        return max(
            max(s.return_periods),
            max(s.volatility_windows),  # std of w one-bar returns starts at row w
            s.rsi_period,
            s.macd_slow + s.macd_signal - 2,
            s.bollinger_window - 1,
            s.atr_period - 1,
            s.volume_window - 1,
            1,  # log volume change
            max(s.ema_periods) - 1,
            cross_asset_lookback(s),
            timeframe_lookback(s, self.timeframe),
        )

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
        self, candles: pd.DataFrame, context: Mapping[str, pd.DataFrame] | None = None
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

        Returns
        -------
        DataFrame of shape (n_candles, n_features), float64, same index, columns
        :attr:`feature_names`. Division by zero gives inf; see :meth:`transform`.

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
        s = self.spec
        o, h, lo, c, v = (candles[k].astype("float64") for k in OHLCV)
        log_c = ind.log(c)
        out: dict[str, pd.Series | np.ndarray] = {}
        for k in s.return_periods:
            out[f"log_ret_{k}"] = log_c - log_c.shift(k)
        ret1 = log_c.diff()
        for w in s.volatility_windows:
            out[f"volatility_{w}"] = ret1.rolling(w, min_periods=w).std()
        out[f"rsi_{s.rsi_period}"] = ind.rsi(c, s.rsi_period) / 100.0
        line, signal, hist = ind.macd(c, s.macd_fast, s.macd_slow, s.macd_signal)
        out["macd"], out["macd_signal"], out["macd_hist"] = line / c, signal / c, hist / c
        out["bb_pctb"], out["bb_width"] = ind.bollinger(c, s.bollinger_window, s.bollinger_std)
        atr = ind.atr(h, lo, c, s.atr_period)
        out[f"atr_{s.atr_period}"] = atr / c
        out[f"volume_z_{s.volume_window}"] = ind.zscore(v, s.volume_window)
        out["log_volume_change"] = ind.log(v + 1.0).diff()
        out["hl_range"] = (h - lo) / c
        with np.errstate(divide="ignore", invalid="ignore"):
            for p in s.ema_periods:
                out[f"ema_dist_{p}"] = (c - ind.ema(c, p)) / atr
        hour = candles.index.hour.to_numpy() + candles.index.minute.to_numpy() / 60.0
        dow = candles.index.day_of_week.to_numpy()
        out["hour_sin"], out["hour_cos"] = (
            np.sin(2 * np.pi * hour / 24),
            np.cos(2 * np.pi * hour / 24),
        )
        out["dow_sin"], out["dow_cos"] = np.sin(2 * np.pi * dow / 7), np.cos(2 * np.pi * dow / 7)
        filled = candles[FILLED] if FILLED in candles.columns else np.zeros(len(candles))
        out["filled"] = np.asarray(filled, dtype="float64")
        out.update(cross_asset_features(candles, context or {}, self.symbol, s))
        out.update(timeframe_features(candles, s, self.timeframe))
        frame = pd.DataFrame(
            {k: np.asarray(val, dtype="float64") for k, val in out.items()}, index=candles.index
        )
        frame = frame[self.feature_names]
        in_outage = outage_runs(np.asarray(filled, dtype=bool)) > s.ffill_limit
        if in_outage.any():  # stale prices say nothing: NaN, for the NaN policy to handle
            stale = [c for c in frame.columns if c not in OUTAGE_KEPT]
            frame.loc[in_outage, stale] = np.nan
        return frame

    def transform(
        self, candles: pd.DataFrame, context: Mapping[str, pd.DataFrame] | None = None
    ) -> pd.DataFrame:
        """Features with the causal part of the NaN policy (DESIGN.md invariant 2).

        Drops the first :attr:`max_lookback` rows, turns ±inf into NaN, and
        forward-fills NaN for at most ``ffill_limit`` bars. NaN that remain (longer
        runs) are left for the fitted :class:`~kilo.features.Preprocessor`'s medians.

        Returns
        -------
        DataFrame of shape (n_candles - max_lookback, n_features), float64, indexed by
        candle open time (UTC).

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
        frame = self.compute(candles, context).iloc[self.max_lookback :]
        frame = frame.replace([np.inf, -np.inf], np.nan)
        if self.spec.ffill_limit:
            frame = frame.ffill(limit=self.spec.ffill_limit)
        return frame

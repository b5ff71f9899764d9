"""The symbol's own features: returns, volatility, oscillators and the calendar.

Names, in order: ``log_ret_{k}`` for each return period; ``volatility_{w}`` (std of
1-bar log returns); ``rsi_{n}`` / 100; ``macd``, ``macd_signal``, ``macd_hist``
(divided by close); ``bb_pctb``, ``bb_width``; ``atr_{n}`` / close; ``volume_z_{w}``;
``log_volume_change`` (difference of ``log1p(volume)``, finite for zero volume);
``hl_range`` = (high - low) / close; ``ema_dist_{p}`` = (close - EMA_p) / ATR;
``hour_sin``, ``hour_cos``, ``dow_sin``, ``dow_cos`` (UTC); ``filled`` (1.0 for
gap-filled candles).
"""

from __future__ import annotations

import numpy as np

from kilo.config import FeaturesConfig
from kilo.features import indicators as ind

SECONDS_PER_DAY = 86_400
EPOCH_WEEKDAY = 3  # 1970-01-01 was a Thursday (Monday = 0)


def own_names(spec: FeaturesConfig) -> list[str]:
    """Ordered names of :func:`own_features`' columns."""
    s = spec
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


def own_lookback(spec: FeaturesConfig) -> int:
    """Rows before every own feature is defined (recursive ones by their ``min_periods``);
    also the most rows back that a :func:`window_features` row reads."""
    s = spec
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
    )


def recursive_features(
    spec: FeaturesConfig, high: np.ndarray, low: np.ndarray, close: np.ndarray
) -> dict[str, np.ndarray]:
    """The own features that remember every earlier candle (EMA, Wilder's smoothing):
    ``rsi``, ``macd*``, ``atr`` and ``ema_dist``, from the whole history given.

    ``high``, ``low``, ``close``: shape (n_candles,), float64, quote currency. Returns
    name -> array of shape (n_candles,), float64 (±inf or NaN where a divisor is 0).
    """
    s = spec
    out = {f"rsi_{s.rsi_period}": ind.rsi(close, s.rsi_period) / 100.0}
    line, signal, hist = ind.macd(close, s.macd_fast, s.macd_slow, s.macd_signal)
    out["macd"], out["macd_signal"], out["macd_hist"] = line / close, signal / close, hist / close
    atr = ind.atr(high, low, close, s.atr_period)
    out[f"atr_{s.atr_period}"] = atr / close
    with np.errstate(divide="ignore", invalid="ignore"):
        for p in s.ema_periods:
            out[f"ema_dist_{p}"] = (close - ind.ema(close, p)) / atr
    return out


def window_features(
    spec: FeaturesConfig,
    high: np.ndarray,
    low: np.ndarray,
    close: np.ndarray,
    volume: np.ndarray,
    open_time: np.ndarray,
    filled: np.ndarray,
) -> dict[str, np.ndarray]:
    """The other own features: each row reads at most :func:`own_lookback` rows back.

    Parameters
    ----------
    high, low, close, volume
        Shape (n_candles,), float64, quote currency (volume in base currency).
    open_time
        Shape (n_candles,), int64, candle open times in seconds since the epoch (UTC).
    filled
        Shape (n_candles,), float64, 1.0 for gap-filled candles.

    Returns
    -------
    Name -> array of shape (n_candles,), float64 (±inf or NaN where a divisor is 0).
    """
    s = spec
    log_c = np.log(close)
    out = {f"log_ret_{k}": ind.lag_diff(log_c, k) for k in s.return_periods}
    ret1 = ind.lag_diff(log_c, 1)
    for w in s.volatility_windows:
        out[f"volatility_{w}"] = ind.rolling_std(ret1, w)
    out["bb_pctb"], out["bb_width"] = ind.bollinger(close, s.bollinger_window, s.bollinger_std)
    out[f"volume_z_{s.volume_window}"] = ind.zscore(volume, s.volume_window)
    out["log_volume_change"] = ind.lag_diff(np.log(volume + 1.0), 1)
    out["hl_range"] = (high - low) / close
    hour = open_time // 3600 % 24 + open_time // 60 % 60 / 60.0
    dow = (open_time // SECONDS_PER_DAY + EPOCH_WEEKDAY) % 7
    out["hour_sin"], out["hour_cos"] = np.sin(2 * np.pi * hour / 24), np.cos(2 * np.pi * hour / 24)
    out["dow_sin"], out["dow_cos"] = np.sin(2 * np.pi * dow / 7), np.cos(2 * np.pi * dow / 7)
    out["filled"] = filled
    return out

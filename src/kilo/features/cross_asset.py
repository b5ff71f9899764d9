"""Cross-asset features (FreqAI calls the other symbols "correlated pairs").

For a symbol S with candles of the other symbols (``context``), aligned on S's own
candle times (a missing bar of another symbol is forward-filled for at most
``ffill_limit`` bars, never filled from the future):

- per reference symbol R != S: ``ref_{R}_log_ret_{k}`` for the shortest and longest
  return periods, and ``ref_{R}_volatility_{w}`` (longest volatility window);
- the equal-weight universe: ``univ_log_ret_{k}`` (mean of the members' log returns),
  ``beta_univ_{n}`` (rolling OLS beta of S's 1-bar returns on the universe's over
  ``cross_window`` bars), ``resid_log_ret_{k}`` (S's return minus beta times the
  universe's) and ``xs_rank_{k_long}`` (S's trailing return's rank among the members'
  and its own, scaled to 0 lowest .. 1 highest).

The universe is survivorship-free: at each bar its mean and rank use the members that
have a return there (a member joins the bar after its first candle and counts towards
the rank once it has ``k_long`` bars of history; one whose candles end is carried for
``ffill_limit`` bars, as any missing bar is, then leaves). Whether a member exists later
is never read, so a member listing in 2020 does not blank the universe before it.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from kilo.config import FeaturesConfig
from kilo.errors import DataError
from kilo.features.indicators import log


def _file_name(symbol: str) -> str:
    return symbol.replace("/", "_")


def cross_periods(spec: FeaturesConfig) -> tuple[int, int]:
    """The return periods cross-asset features use: the shortest and longest."""
    return min(spec.return_periods), max(spec.return_periods)


def references(spec: FeaturesConfig, symbol: str) -> list[str]:
    """Reference symbols that ``symbol`` sees (itself excluded)."""
    return [r for r in spec.reference_symbols if r != symbol]


def context_symbols(spec: FeaturesConfig, symbol: str) -> list[str]:
    """Other symbols whose candles the features of ``symbol`` need, sorted."""
    return sorted({*references(spec, symbol), *(spec.universe or [])} - {symbol})


def cross_asset_names(spec: FeaturesConfig, symbol: str) -> list[str]:
    """Ordered names of :func:`cross_asset_features`' columns for ``symbol``."""
    short, long = cross_periods(spec)
    window = max(spec.volatility_windows)
    names = []
    for ref in references(spec, symbol):
        r = _file_name(ref)
        names += [
            f"ref_{r}_log_ret_{short}",
            f"ref_{r}_log_ret_{long}",
            f"ref_{r}_volatility_{window}",
        ]
    if spec.universe:
        names += [
            f"univ_log_ret_{short}",
            f"univ_log_ret_{long}",
            f"beta_univ_{spec.cross_window}",
            f"resid_log_ret_{short}",
            f"resid_log_ret_{long}",
            f"xs_rank_{long}",
        ]
    return names


def cross_asset_lookback(spec: FeaturesConfig) -> int:
    """Rows before the first fully defined cross-asset value (0 when there are none)."""
    if not spec.reference_symbols and not spec.universe:
        return 0
    return max(*cross_periods(spec), max(spec.volatility_windows), spec.cross_window)


def aligned_log_close(other: pd.DataFrame, index: pd.DatetimeIndex, limit: int) -> pd.Series:
    """Another symbol's log closes on ``index``: missing bars forward-filled <= ``limit``."""
    return log(other["close"].astype("float64")).reindex(index).ffill(limit=limit or None)


def cross_asset_features(
    candles: pd.DataFrame, context: Mapping[str, pd.DataFrame], symbol: str, spec: FeaturesConfig
) -> dict[str, pd.Series]:
    """Cross-asset features of ``symbol`` (columns of :func:`cross_asset_names`).

    Parameters
    ----------
    candles
        The symbol's validated candles (UTC ``DatetimeIndex``).
    context
        Symbol -> validated candles of the symbols in :func:`context_symbols`; a
        universe member missing from it (not listed yet, or unreadable) is absent from
        the cross-section, as it is at any bar where it has no candle.

    Returns
    -------
    Name -> Series of shape (n_candles,), float64, on ``candles.index``.

    Raises
    ------
    DataError
        If a reference symbol's candles are missing from ``context``.
    """
    missing = [s for s in references(spec, symbol) if s not in context]
    if missing:
        raise DataError(
            f"cross-asset features of {symbol} need the candles of {missing}: "
            "download them, or remove them from features.reference_symbols"
        )
    index, limit = pd.DatetimeIndex(candles.index), spec.ffill_limit
    short, long = cross_periods(spec)
    window = max(spec.volatility_windows)
    own = log(candles["close"].astype("float64"))
    absent = pd.Series(np.nan, index=index)  # a universe member without candles here
    closes = {
        s: aligned_log_close(context[s], index, limit) if s in context else absent
        for s in context_symbols(spec, symbol)
    }
    closes[symbol] = own
    out: dict[str, pd.Series] = {}
    for ref in references(spec, symbol):
        r, c = _file_name(ref), closes[ref]
        out[f"ref_{r}_log_ret_{short}"] = c.diff(short)
        out[f"ref_{r}_log_ret_{long}"] = c.diff(long)
        out[f"ref_{r}_volatility_{window}"] = c.diff().rolling(window, min_periods=window).std()
    if spec.universe:
        members = pd.DataFrame({s: closes[s] for s in spec.universe})
        univ_1 = members.diff().mean(axis=1)  # over the members with a return at t
        own_1 = own.diff()
        n = spec.cross_window
        beta = own_1.rolling(n, min_periods=n).cov(univ_1) / univ_1.rolling(n, min_periods=n).var()
        univ_short, univ_long = univ_1.rolling(short).sum(), univ_1.rolling(long).sum()
        trailing = members.diff(long).assign(**{symbol: own.diff(long)})
        out[f"univ_log_ret_{short}"] = univ_short
        out[f"univ_log_ret_{long}"] = univ_long
        out[f"beta_univ_{n}"] = beta
        out[f"resid_log_ret_{short}"] = own.diff(short) - beta * univ_short
        out[f"resid_log_ret_{long}"] = own.diff(long) - beta * univ_long
        rank = trailing.rank(axis=1)[symbol]  # 1 .. members with a value (NaN if S has none)
        size = trailing.notna().sum(axis=1)
        out[f"xs_rank_{long}"] = ((rank - 1) / (size - 1)).where(size > 1)
    return out

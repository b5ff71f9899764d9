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
from kilo.features.indicators import (
    Array,
    epoch_seconds,
    ffill,
    lag_diff,
    rolling_cov,
    rolling_std,
    rolling_sum,
    rolling_var,
)


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


def aligned_log_close(other: pd.DataFrame, wanted: Array, limit: int) -> Array:
    """Another symbol's log closes at open times ``wanted`` (int64 seconds since the
    epoch, shape (n,)), float64, shape (n,): missing bars forward-filled for at most
    ``limit`` bars (no limit when 0), NaN before."""
    times = epoch_seconds(other.index)
    at = np.searchsorted(times, wanted)
    found = at < len(times)
    found[found] = times[at[found]] == wanted[found]
    values = np.full(len(wanted), np.nan)
    values[found] = np.log(other["close"].to_numpy(dtype=np.float64)[at[found]])
    return ffill(values, limit or None)


def cross_asset_features(
    candles: pd.DataFrame, context: Mapping[str, pd.DataFrame], symbol: str, spec: FeaturesConfig
) -> dict[str, Array]:
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
    Name -> array of shape (n_candles,), float64, row for row with ``candles``.

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
    seconds = epoch_seconds(candles.index)
    short, long = cross_periods(spec)
    window = max(spec.volatility_windows)
    absent = np.full(len(seconds), np.nan)  # a universe member without candles here
    closes = {
        s: aligned_log_close(context[s], seconds, spec.ffill_limit) if s in context else absent
        for s in context_symbols(spec, symbol)
    }
    closes[symbol] = np.log(candles["close"].to_numpy(dtype=np.float64))
    out: dict[str, Array] = {}
    for ref in references(spec, symbol):
        r, c = _file_name(ref), closes[ref]
        out[f"ref_{r}_log_ret_{short}"] = lag_diff(c, short)
        out[f"ref_{r}_log_ret_{long}"] = lag_diff(c, long)
        out[f"ref_{r}_volatility_{window}"] = rolling_std(lag_diff(c, 1), window)
    if spec.universe:
        out.update(universe_features(closes, symbol, spec))
    return out


def universe_features(
    closes: Mapping[str, Array], symbol: str, spec: FeaturesConfig
) -> dict[str, Array]:
    """The equal-weight universe's columns of :func:`cross_asset_names`.

    ``closes`` maps every universe member and ``symbol`` to its aligned log closes,
    shape (n_candles,) (NaN where it has no candle); returns name -> (n_candles,).
    """
    short, long = cross_periods(spec)
    universe = list(spec.universe or [])
    members = lag_diff(np.stack([closes[s] for s in universe], axis=1), 1)  # (n, members)
    count = (~np.isnan(members)).sum(axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):  # over the members with a return
        univ_1 = np.where(count > 0, np.nansum(members, axis=1) / count, np.nan)
    own = closes[symbol]
    n = spec.cross_window
    with np.errstate(divide="ignore", invalid="ignore"):
        beta = rolling_cov(lag_diff(own, 1), univ_1, n) / rolling_var(univ_1, n)
    univ_short, univ_long = rolling_sum(univ_1, short), rolling_sum(univ_1, long)
    rows = np.stack([closes[s] for s in dict.fromkeys([*universe, symbol])], axis=1)
    trailing, own_long = lag_diff(rows, long), lag_diff(own, long)
    below = (trailing < own_long[:, None]).sum(axis=1)
    ties = (trailing == own_long[:, None]).sum(axis=1)  # S itself among them
    rank = np.where(np.isnan(own_long), np.nan, below + (ties + 1) / 2)  # average rank, 1 ..
    size = (~np.isnan(trailing)).sum(axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        xs_rank = np.where(size > 1, (rank - 1) / (size - 1), np.nan)
    return {
        f"univ_log_ret_{short}": univ_short,
        f"univ_log_ret_{long}": univ_long,
        f"beta_univ_{n}": beta,
        f"resid_log_ret_{short}": lag_diff(own, short) - beta * univ_short,
        f"resid_log_ret_{long}": own_long - beta * univ_long,
        f"xs_rank_{long}": xs_rank,
    }

"""Controls with power: candles rebuilt so that the right answer is known.

- :func:`placebo_candles`: the real bars in shuffled blocks, each bar mirrored (its
  return's sign flipped) by a coin, and the context symbols' bars with them.
  Volatility clustering and cross-asset relations at the same bar survive,
  predictability does not (the sign of the next return is a coin flip given the past
  of every series), so every IC and the blend's gross Sharpe must be about 0; more
  reveals a leak.
- :func:`planted_candles`: the real bars plus a small known edge, a causal function of
  past prices whose rank correlation with the label is set. Whether the pipeline finds
  it says what size of edge Kilo can detect.
- :func:`lead_lag_ic`: IC of predictions at t against the held return (or a label) at
  t + k; :func:`lead_lag_bump` the bump a leak leaves in it.

Rebuilt candles keep the real timestamps; each bar keeps its own open, high and low
relative to its close, and its volume.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd

from kilo.features import held_log_return
from kilo.metrics import spearman_ic

logger = logging.getLogger(__name__)

PLANTED_LOOKBACK = 24
#: The planted edge's scale ``beta`` is searched by doubling from START up to MAX
#: (an edge that needs more than MAX times the bar volatility is not a small edge),
#: then by BISECTIONS halvings (2**-30 of the bracket: far below any IC's noise).
PLANTED_BETA_START = 0.01
PLANTED_BETA_MAX = 10.0
PLANTED_BISECTIONS = 30


def _rebuild(
    candles: pd.DataFrame,
    order: np.ndarray,
    log_returns: np.ndarray,
    mirrored: np.ndarray | None = None,
) -> pd.DataFrame:
    """Candles whose bar t is real bar ``order[t]`` and whose closes follow ``log_returns``.

    Each bar keeps its open, high and low relative to its close; a ``mirrored`` bar
    (its return negated) gets them reflected: open/close -> close/open, high/close ->
    close/low, low/close -> close/high. The price level starts at the first finite close.
    """
    close = candles["close"].to_numpy(dtype=np.float64)
    anchor = close[np.isfinite(close)][0]
    new_close = anchor * np.exp(np.concatenate([[0.0], np.cumsum(log_returns[1:])]))
    ratios = {
        col: candles[col].to_numpy(dtype=np.float64)[order] / close[order]
        for col in ("open", "high", "low")
    }
    if mirrored is not None:
        ratios = {
            "open": np.where(mirrored, 1 / ratios["open"], ratios["open"]),
            "high": np.where(mirrored, 1 / ratios["low"], ratios["high"]),
            "low": np.where(mirrored, 1 / ratios["high"], ratios["low"]),
        }
    out = candles.iloc[order].copy()
    for col, ratio in ratios.items():
        out[col] = new_close * ratio
    out["close"] = new_close
    out.index = candles.index
    return out


@dataclass(frozen=True)
class BlockShuffle:
    """One placebo draw over a symbol's candle positions: the bar order, shuffled in
    blocks, and a coin per bar that mirrors it (negates its return).

    Attributes
    ----------
    order : ndarray (n,), int64, real bar of each new position (``order[0] == 0``)
    mirrored : ndarray (n,), bool
    """

    order: np.ndarray
    mirrored: np.ndarray

    @classmethod
    def draw(cls, n: int, block: int, seed: int) -> BlockShuffle:
        """Blocks of ``block`` bars in a random order, each bar mirrored with
        probability 1/2; the first bar stays first and unmirrored (it anchors prices)."""
        blocks = np.array_split(np.arange(1, n), max(1, -(-(n - 1) // block)))
        rng = np.random.default_rng(seed)
        order = np.concatenate([[0], *(blocks[i] for i in rng.permutation(len(blocks)))])
        mirrored = rng.random(n) < 0.5
        mirrored[0] = False
        return cls(order.astype(np.int64), mirrored)

    def apply(self, candles: pd.DataFrame) -> pd.DataFrame:
        """``candles`` (n rows) rebuilt: bar t is real bar ``order[t]``, mirrored by
        its coin. Returns a DataFrame like ``candles``."""
        log_c = np.log(candles["close"].to_numpy(dtype=np.float64))
        returns = np.concatenate([[0.0], np.diff(log_c)])[self.order]
        return _rebuild(
            candles, self.order, np.where(self.mirrored, -returns, returns), self.mirrored
        )

    def apply_to_context(self, index: pd.Index, other: pd.DataFrame) -> pd.DataFrame:
        """Another symbol's candles moved with the same order and coins as the
        symbol's, whose candle times are ``index``: its bar at real time
        ``index[order[t]]`` goes to ``index[t]``, so relations between the symbols at
        the same bar survive. Bars outside ``index`` are dropped, times where it had no
        bar stay empty, and a return across an empty time counts as 0."""
        aligned = other.reindex(index)
        present = aligned["close"].notna().to_numpy()
        log_c = np.log(aligned["close"].to_numpy(dtype=np.float64))
        returns = np.nan_to_num(np.concatenate([[0.0], np.diff(log_c)]))[self.order]
        rebuilt = _rebuild(
            aligned, self.order, np.where(self.mirrored, -returns, returns), self.mirrored
        )
        kept = rebuilt[present[self.order]]
        return kept.astype(other.dtypes.to_dict())


def placebo_candles(
    candles: pd.DataFrame,
    block: int,
    seed: int,
    context: Mapping[str, pd.DataFrame] | None = None,
) -> tuple[pd.DataFrame, dict[str, pd.DataFrame]]:
    """The real bars with their order shuffled in blocks of ``block`` bars, each bar
    mirrored with probability 1/2; every ``context`` symbol moved the same way.

    Each bar carries its 1-bar log return, its open/high/low relative to its close and
    its volume; the first bar stays first and anchors the price level. Shuffling the
    blocks breaks predictability across blocks; the coin on each bar's sign breaks
    what a block kept inside (a lag-1 autocorrelation would otherwise survive in all
    but one pair of ``block``), while every |return| keeps its neighbours. The context
    symbols (reference and universe) share the order and the coins
    (:meth:`BlockShuffle.apply_to_context`): their relations to the symbol at the same
    bar survive, and a feature that reads a context symbol's future finds nothing.

    Returns
    -------
    (candles, context): a DataFrame like ``candles`` (same index and columns), and
    each context symbol's rebuilt candles.
    """
    shuffle = BlockShuffle.draw(len(candles), block, seed)
    rebuilt = {
        symbol: shuffle.apply_to_context(candles.index, other)
        for symbol, other in (context or {}).items()
    }
    return shuffle.apply(candles), rebuilt


def _with_edge(returns: np.ndarray, beta: float, lookback: int) -> tuple[np.ndarray, np.ndarray]:
    """Log returns with ``beta * vol_t * s_t`` added to bar t + 1's, and the signal s.

    ``s_t`` is the standardised trailing return of the new series known at t's close:
    its last ``lookback`` log returns summed, over their standard deviation times
    sqrt(lookback); ``vol_t`` that standard deviation. NaN for the first bars.
    """
    n = len(returns)
    out = returns.tolist()
    signal = np.full(n, np.nan)
    total = sum(out[1 : lookback + 1])
    squares = sum(x * x for x in out[1 : lookback + 1])
    root = np.sqrt(lookback)
    for t in range(lookback, n - 1):  # window: bars t - lookback + 1 .. t (running sums)
        mean = total / lookback
        vol = np.sqrt(max(squares / lookback - mean * mean, 0.0))
        if vol > 0:
            signal[t] = total / (vol * root)
            out[t + 1] = float(returns[t + 1]) + beta * vol * signal[t]
        leaving = out[t - lookback + 1]
        total += out[t + 1] - leaving
        squares += out[t + 1] ** 2 - leaving**2
    return np.asarray(out), signal


def _held(returns: np.ndarray, log_gap: np.ndarray, horizon: int) -> np.ndarray:
    """Held return ``log(open[t + 1 + horizon] / open[t + 1])`` of candles whose
    close-to-close log returns are ``returns`` and whose gaps ``log(open[t] /
    close[t - 1])`` are ``log_gap`` (both shape (n,), entry 0 unused); NaN where it
    would end past the candles."""
    n = len(returns)
    log_open = np.full(n, np.nan)
    log_open[1:] = np.cumsum(returns)[:-1] + log_gap[1:]
    held = np.full(n, np.nan)
    end = max(n - horizon - 1, 0)
    held[:end] = log_open[horizon + 1 :] - log_open[1 : end + 1]
    return held


def planted_signal(candles: pd.DataFrame, lookback: int = PLANTED_LOOKBACK) -> np.ndarray:
    """The planted edge's signal on ``candles``: the standardised trailing return known
    at each close (:func:`_with_edge`'s ``s``), shape (n,), NaN for the first bars.

    On planted candles it is the very signal the edge was planted on: a learner handed
    it recovers the planted IC in full.
    """
    log_c = np.log(candles["close"].to_numpy(dtype=np.float64))
    _, signal = _with_edge(np.concatenate([[0.0], np.diff(log_c)]), 0.0, lookback)
    return signal


def planted_candles(
    candles: pd.DataFrame, planted_ic: float, horizon: int, lookback: int = PLANTED_LOOKBACK
) -> tuple[pd.DataFrame, float]:
    """The real bars with a planted, causal edge of rank correlation ``planted_ic``.

    Each bar's log return gains ``beta * vol_t * s_t`` (see :func:`_with_edge`) inside
    the next bar's body, from its open to its close (:func:`_with_bodies`: the gap from
    a close to the next open is the real one, so a strategy that decides at a close and
    fills at the next open can take the edge): a momentum edge on the standardised
    trailing return, which the features
    ``log_ret_{lookback}`` and ``volatility_{lookback}`` describe. ``beta`` is found by
    bisection so that Spearman(s_t, held return over ``horizon``) equals ``planted_ic``
    on the rebuilt series, the held return being ``log(open[t + 1 + horizon] /
    open[t + 1])``, what a position opened on the signal earns and what every IC of the
    evaluation is measured against (the edge is planted and recovered in one unit).
    The signal's own IC on the real bars (:func:`planted_signal`) is replaced, not
    added to (``beta`` < 0 where the bars' own momentum exceeds it).

    Returns
    -------
    (candles, achieved IC): DataFrame like ``candles``, and the IC it was tuned to.

    Raises
    ------
    ValueError
        If ``planted_ic`` is not in (0, 0.5).
    """
    if not 0 < planted_ic < 0.5:
        raise ValueError(f"planted_ic must be in (0, 0.5), got {planted_ic}")
    close = candles["close"].to_numpy(dtype=np.float64)
    log_c = np.log(close)
    returns = np.concatenate([[0.0], np.diff(log_c)])
    log_gap = np.concatenate(
        [[0.0], np.log(candles["open"].to_numpy(dtype=np.float64)[1:] / close[:-1])]
    )

    def ic(beta: float) -> float:
        new, signal = _with_edge(returns, beta, lookback)
        return spearman_ic(signal, _held(new, log_gap, horizon))

    low, high = 0.0, PLANTED_BETA_START
    if ic(low) >= planted_ic:  # the bars' own momentum is stronger: take part of it out
        low, high = -PLANTED_BETA_START, 0.0
        while ic(low) >= planted_ic and low > -PLANTED_BETA_MAX:
            low, high = low * 2, low
    while ic(high) < planted_ic and high < PLANTED_BETA_MAX:
        low, high = high, high * 2
    if ic(high) < planted_ic:
        logger.warning(
            "planted edge: even beta %.0f reaches IC %.4f < the asked %.4f; the control "
            "reports the IC it reached",
            high,
            ic(high),
            planted_ic,
        )
    for _ in range(PLANTED_BISECTIONS):
        mid = (low + high) / 2
        low, high = (mid, high) if ic(mid) < planted_ic else (low, mid)
    beta = (low + high) / 2
    new, _ = _with_edge(returns, beta, lookback)
    return _with_bodies(candles, new - returns), ic(beta)


def _with_bodies(candles: pd.DataFrame, added: np.ndarray) -> pd.DataFrame:
    """Candles whose bar t gains the log return ``added[t]`` inside its body (open to
    close), the gap from the previous close to its open untouched: an edge a strategy
    that fills at the open after its signal can take (shape of ``candles``).

    High and low keep their distance from the open, widened to hold the new close.
    """
    o, h, low, c = (candles[k].to_numpy(dtype=np.float64) for k in ("open", "high", "low", "close"))
    gap = np.concatenate([[1.0], o[1:] / c[:-1]])
    body = c / o * np.exp(added)
    new_close = c[0] * np.exp(added[0]) * np.cumprod(np.concatenate([[1.0], (gap * body)[1:]]))
    new_open = np.concatenate([[o[0]], new_close[:-1] * gap[1:]])
    out = candles.copy()
    out["open"], out["close"] = new_open, new_close
    out["high"] = np.maximum(new_open * h / o, np.maximum(new_open, new_close))
    out["low"] = np.minimum(new_open * low / o, np.minimum(new_open, new_close))
    return out


def lead_lag_lags(horizon: int) -> range:
    """The lead/lag profile's default lags: ``-(horizon + 2) .. horizon + 2`` (bars), so the
    reference ``k = -horizon`` (returns all known at t) and two lags past either end are in."""
    return range(-(horizon + 2), horizon + 3)


def lead_lag_ic(
    pred: np.ndarray, target: np.ndarray, horizon: int, lags: range | None = None
) -> dict[int, float]:
    """IC of the prediction at row t against ``target`` at row t + k, for each k in ``lags``.

    Parameters
    ----------
    pred
        Shape (n_rows,), predictions where made and NaN elsewhere.
    target
        Shape (n_rows,), the return measured at each row (NaN where unknown): the held
        return ``log(open[t + 1 + h] / open[t + 1])`` (what the ruler measures) or a label.
    horizon
        h, bars the target spans.
    lags
        Row offsets k; default :func:`lead_lag_lags` of ``horizon``.

    Returns
    -------
    ``{k: IC}``. The target at k <= -horizon is known at t, so an honest model may
    correlate with it; from there its IC decays toward k = 0 as the known part of the
    target shrinks. A leak shows as a bump at -horizon < k <= 0 (:func:`lead_lag_bump`).
    """
    out = {}
    for k in lead_lag_lags(horizon) if lags is None else lags:
        shifted = np.full(len(target), np.nan)
        if k >= 0:
            shifted[: len(target) - k] = target[k:]
        else:
            shifted[-k:] = target[:k]
        out[k] = spearman_ic(pred, shifted)
    return out


def ahead_ic(
    pred: np.ndarray, candles: pd.DataFrame, index: pd.Index, horizon: int
) -> dict[int, float]:
    """IC of the prediction at row t against the return from t's next open over j bars,
    ``log(open[t + 1 + j] / open[t + 1])``, for j = 1 .. ``horizon``: the part of the
    held return at lag k = j - horizon that is still unknown at t.

    Parameters
    ----------
    pred
        Shape (n_rows,), predictions where made and NaN elsewhere.
    candles
        The symbol's candles (open column, quote currency); ``index`` (n_rows,) their
        open times of the rows.

    Returns
    -------
    ``{j: IC}`` for j = 1 .. ``horizon``.
    """
    return {
        j: spearman_ic(pred, held_log_return(candles, j).reindex(index).to_numpy())
        for j in range(1, horizon + 1)
    }


def lead_lag_bump(profile: Mapping[int, float], ahead: Mapping[int, float], horizon: int) -> float:
    """How far the lead/lag profile stands above both honest references (IC units).

    An honest prediction made at t may correlate with any return known at t, so its IC
    against the held return at -horizon < k <= 0 mixes a known part (bars up to t, any
    size) and an unknown part (bars after t, its real edge). Neither alone bounds it:
    a short-lookback momentum peaks inside the window against the held return at
    k = -horizon (its older bars weigh nothing), and a genuine next-bar reversal stands
    out against the unknown parts. A leak of the bars ahead raises both, so the bump is
    the smaller of

    - the profile's highest IC at -horizon < k <= 0 less the highest of its IC at
      k = -horizon (all known), at k = 1 (all unknown) and zero, and
    - the highest IC against the unknown parts (``ahead``, j = 1 .. horizon) less the
      higher of the profile's IC at k = 1 and zero.

    Returns
    -------
    float, IC units (NaN without the lags -horizon, 1 in ``profile`` or without ``ahead``).
    """
    inside = [profile[k] for k in profile if -horizon < k <= 0]
    if not inside or not ahead or -horizon not in profile or 1 not in profile:
        return math.nan
    against_known = max(inside) - max(profile[-horizon], profile[1], 0.0)
    against_unknown = max(ahead.values()) - max(profile[1], 0.0)
    return float(min(against_known, against_unknown))

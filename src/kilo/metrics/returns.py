"""Metrics of per-bar log returns of equity: Sharpe, drawdown, PSR, turnover.

One function per quantity; its edge cases are decided here, once:

- :func:`sharpe_ratio`: 0 for a flat book (every return 0), NaN for fewer than two
  returns or for zero variance with non-zero returns;
- :func:`probabilistic_sharpe_ratio`: NaN for fewer than three returns or zero variance;
- :func:`max_drawdown`: 0 for no bar.
"""

from __future__ import annotations

import numpy as np
from pydantic import BaseModel, ConfigDict
from scipy import stats

from kilo.utils import JsonFloat


def equity_log_returns(equity: np.ndarray, initial: float) -> np.ndarray:
    """Per-bar log returns of an equity curve, the first against ``initial``.

    Parameters
    ----------
    equity
        Shape (n_bars,), quote currency, positive.
    initial
        The equity before the first bar (the initial cash).

    Returns
    -------
    ndarray of shape (n_bars,), float64: ``log(equity[t] / equity[t - 1])``.
    """
    values = np.asarray(equity, dtype="float64")
    return np.diff(np.log(values), prepend=np.log(initial))


def max_drawdown(equity: np.ndarray) -> float:
    """Largest fall from a running peak, as a positive fraction of the peak (0.25 = 25 %)."""
    equity = np.asarray(equity, dtype="float64")
    peak = np.maximum.accumulate(equity)
    return float(np.max(1.0 - equity / peak)) if len(equity) else 0.0


def sharpe_standard_error(returns: np.ndarray) -> float:
    """Standard error of the per-bar Sharpe ratio estimate, robust to non-normal returns.

    Mertens (2002), as used in Bailey & López de Prado (2012)::

        se(SR) = sqrt((1 - γ3 * SR + (γ4 - 1) / 4 * SR²) / (n - 1))

    with γ3 the skewness and γ4 the (non-excess) kurtosis. NaN for fewer than 3
    returns, zero variance, or a non-positive numerator.
    """
    r = np.asarray(returns, dtype="float64")
    if len(r) < 3 or r.std(ddof=1) == 0:
        return float("nan")
    sr = sharpe_ratio(r)
    skew = stats.skew(r)
    kurt = stats.kurtosis(r, fisher=False)
    denom = 1.0 - skew * sr + (kurt - 1.0) / 4.0 * sr**2
    return float(np.sqrt(denom / (len(r) - 1))) if denom > 0 else float("nan")


def probabilistic_sharpe_ratio(returns: np.ndarray, benchmark_sharpe: float = 0.0) -> float:
    """Probability that the true per-bar Sharpe ratio exceeds ``benchmark_sharpe``.

    Bailey & López de Prado (2012), "The Sharpe Ratio Efficient Frontier", eq. for PSR::

        PSR = Φ( (SR - SR*) / se(SR) )

    with SR the per-bar (not annualised) Sharpe ratio and se its
    :func:`sharpe_standard_error`. NaN where that is undefined.
    """
    se = sharpe_standard_error(returns)
    if not np.isfinite(se):
        return float("nan")
    sr = sharpe_ratio(np.asarray(returns, dtype="float64"))
    return float(stats.norm.cdf((sr - benchmark_sharpe) / se))


EULER_GAMMA = 0.5772156649015329


def expected_max_sharpe(n_trials: int, sharpe_variance: float) -> float:
    """Expected largest of ``n_trials`` Sharpe ratios whose true value is 0.

    Bailey & López de Prado (2014), "The Deflated Sharpe Ratio", eq. 2 (from the
    expected maximum of independent normals)::

        E[max SR] = sqrt(V) * ((1 - γ) Φ⁻¹(1 - 1/N) + γ Φ⁻¹(1 - 1/(N e)))

    with V the variance of the trials' Sharpe ratios and γ Euler's constant; 0 for one
    trial. Same units as the Sharpe ratios in V (per bar, not annualised).
    """
    if n_trials <= 1 or not sharpe_variance > 0:
        return 0.0
    n = float(n_trials)
    return float(
        np.sqrt(sharpe_variance)
        * (
            (1 - EULER_GAMMA) * stats.norm.ppf(1 - 1 / n)
            + EULER_GAMMA * stats.norm.ppf(1 - 1 / (n * np.e))
        )
    )


def deflated_sharpe_ratio(returns: np.ndarray, n_trials: int, sharpe_variance: float) -> float:
    """Probability that the true Sharpe ratio beats the best of ``n_trials`` lucky ones.

    Bailey & López de Prado (2014): :func:`probabilistic_sharpe_ratio` against
    :func:`expected_max_sharpe` as the benchmark. ``sharpe_variance`` is the variance
    of the per-bar Sharpe ratios across the trials. In [0, 1]; NaN where PSR is.
    """
    return probabilistic_sharpe_ratio(returns, expected_max_sharpe(n_trials, sharpe_variance))


def sharpe_ratio(returns: np.ndarray, periods_per_year: float = 1.0) -> float:
    """Sharpe ratio of per-bar returns at a zero risk-free rate: mean over standard
    deviation (ddof=1), times ``sqrt(periods_per_year)`` (1: per bar, not annualised).

    0.0 for a flat book (every return 0: a strategy that never traded); NaN for fewer
    than two returns, or zero variance with non-zero returns.
    """
    r = np.asarray(returns, dtype="float64")
    if len(r) < 2:
        return float("nan")
    if not r.any():
        return 0.0
    std = r.std(ddof=1)
    return float(r.mean() / std * np.sqrt(periods_per_year)) if std > 0 else float("nan")


class TradingMetrics(BaseModel):
    """What :func:`trading_metrics` measures of one strategy (see there for each field).

    Undefined ratios are NaN in Python and ``null`` in JSON.
    """

    model_config = ConfigDict(extra="forbid")

    total_log_return: JsonFloat
    annual_return: JsonFloat
    annual_volatility: JsonFloat
    sharpe: JsonFloat
    sortino: JsonFloat
    max_drawdown: JsonFloat
    calmar: JsonFloat
    hit_rate: JsonFloat
    n_trades: JsonFloat
    turnover: JsonFloat
    exposure: JsonFloat
    psr: JsonFloat


def trading_metrics(
    log_returns: np.ndarray,
    exposure: np.ndarray,
    trade_pnls: np.ndarray,
    equity_turns: float,
    periods_per_year: float,
) -> TradingMetrics:
    """Performance of a strategy's per-bar log returns of equity, net of costs.

    Parameters
    ----------
    log_returns
        Shape (n_bars,): ``log(equity[t] / equity[t-1])``.
    exposure
        Shape (n_bars,), bool: a position was open at the bar's mark.
    trade_pnls
        Realised PnL of each closed trade (quote currency).
    equity_turns
        How many times the equity was traded: the fills' notional divided by the
        equity it was traded from (for consecutive segments, the sum of each
        segment's notional over that segment's mean equity).
    periods_per_year
        Bars per year, e.g. :attr:`kilo.config.DataConfig.bars_per_year`.

    Returns
    -------
    TradingMetrics: ``total_log_return``; ``annual_return`` (mean log return × bars per year);
    ``annual_volatility`` (std × sqrt(bars per year)); ``sharpe`` and ``sortino``
    (annualised, zero risk-free rate; Sortino divides by the root mean square of the
    negative returns; a Sharpe of 0 for a strategy that never moved, all returns 0);
    ``max_drawdown`` (fraction); ``calmar`` (annual_return /
    max_drawdown); ``hit_rate`` (share of closed trades with positive PnL);
    ``n_trades`` (closed trades); ``turnover`` (``equity_turns`` per year); ``exposure`` (share
    of bars in a position); ``psr`` (probabilistic Sharpe
    ratio against 0). Undefined ratios are NaN.
    """
    r = np.asarray(log_returns, dtype="float64")
    n = len(r)
    ann = periods_per_year
    mean, std = (r.mean(), r.std(ddof=1)) if n > 1 else (0.0, 0.0)
    downside = np.sqrt(np.mean(np.minimum(r, 0.0) ** 2)) if n else 0.0
    mdd = max_drawdown(np.exp(np.concatenate([[0.0], np.cumsum(r)])))
    annual_return = mean * ann
    pnls = np.asarray(trade_pnls, dtype="float64")
    nan = float("nan")
    return TradingMetrics(
        total_log_return=float(r.sum()),
        annual_return=float(annual_return),
        annual_volatility=float(std * np.sqrt(ann)),
        sharpe=sharpe_ratio(r, ann),
        sortino=float(mean / downside * np.sqrt(ann)) if downside > 0 else nan,
        max_drawdown=mdd,
        calmar=float(annual_return / mdd) if mdd > 0 else nan,
        hit_rate=float(np.mean(pnls > 0)) if len(pnls) else nan,
        n_trades=len(pnls),
        turnover=float(equity_turns * ann / n) if n else nan,
        exposure=float(np.mean(exposure)) if n else nan,
        psr=probabilistic_sharpe_ratio(r),
    )

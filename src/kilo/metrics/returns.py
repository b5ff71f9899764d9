"""Metrics of per-bar log returns of equity: Sharpe, drawdown, PSR, turnover."""

from __future__ import annotations

import numpy as np
from scipy import stats


def bars_per_year(timeframe_seconds: int) -> float:
    """Bars in a 365-day year (crypto trades around the clock), e.g. 8,760 for 1h."""
    return 365 * 24 * 3600 / timeframe_seconds


def max_drawdown(equity: np.ndarray) -> float:
    """Largest fall from a running peak, as a positive fraction of the peak (0.25 = 25 %)."""
    equity = np.asarray(equity, dtype="float64")
    peak = np.maximum.accumulate(equity)
    return float(np.max(1.0 - equity / peak)) if len(equity) else 0.0


def probabilistic_sharpe_ratio(returns: np.ndarray, benchmark_sharpe: float = 0.0) -> float:
    """Probability that the true per-bar Sharpe ratio exceeds ``benchmark_sharpe``.

    Bailey & López de Prado (2012), "The Sharpe Ratio Efficient Frontier", eq. for PSR::

        PSR = Φ( (SR - SR*) * sqrt(n - 1) / sqrt(1 - γ3 * SR + (γ4 - 1) / 4 * SR²) )

    with SR the per-bar (not annualised) Sharpe ratio, γ3 the skewness and γ4 the
    (non-excess) kurtosis of the returns. NaN for fewer than 3 returns or zero
    variance.
    """
    r = np.asarray(returns, dtype="float64")
    if len(r) < 3 or r.std(ddof=1) == 0:
        return float("nan")
    sr = r.mean() / r.std(ddof=1)
    skew = stats.skew(r)
    kurt = stats.kurtosis(r, fisher=False)
    denom = 1.0 - skew * sr + (kurt - 1.0) / 4.0 * sr**2
    if denom <= 0:
        return float("nan")
    return float(stats.norm.cdf((sr - benchmark_sharpe) * np.sqrt(len(r) - 1) / np.sqrt(denom)))


def trading_metrics(
    log_returns: np.ndarray,
    exposure: np.ndarray,
    trade_pnls: np.ndarray,
    traded_notional: float,
    mean_equity: float,
    periods_per_year: float,
) -> dict[str, float]:
    """Performance of a strategy's per-bar log returns of equity, net of costs.

    Parameters
    ----------
    log_returns
        Shape (n_bars,): ``log(equity[t] / equity[t-1])``.
    exposure
        Shape (n_bars,), bool: a position was open at the bar's mark.
    trade_pnls
        Realised PnL of each closed trade (quote currency).
    traded_notional, mean_equity
        Sum of all fills' notional and the average equity (quote currency).
    periods_per_year
        Bars per year, e.g. :func:`bars_per_year`.

    Returns
    -------
    dict: ``total_log_return``; ``annual_return`` (mean log return × bars per year);
    ``annual_volatility`` (std × sqrt(bars per year)); ``sharpe`` and ``sortino``
    (annualised, zero risk-free rate; Sortino divides by the root mean square of the
    negative returns); ``max_drawdown`` (fraction); ``calmar`` (annual_return /
    max_drawdown); ``hit_rate`` (share of closed trades with positive PnL);
    ``n_trades`` (closed trades); ``turnover`` (traded notional / mean equity, per
    year); ``exposure`` (share of bars in a position); ``psr`` (probabilistic Sharpe
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
    return {
        "total_log_return": float(r.sum()),
        "annual_return": float(annual_return),
        "annual_volatility": float(std * np.sqrt(ann)),
        "sharpe": float(mean / std * np.sqrt(ann)) if std > 0 else nan,
        "sortino": float(mean / downside * np.sqrt(ann)) if downside > 0 else nan,
        "max_drawdown": mdd,
        "calmar": float(annual_return / mdd) if mdd > 0 else nan,
        "hit_rate": float(np.mean(pnls > 0)) if len(pnls) else nan,
        "n_trades": int(len(pnls)),
        "turnover": float(traded_notional / mean_equity * ann / n) if n and mean_equity > 0 else nan,
        "exposure": float(np.mean(exposure)) if n else nan,
        "psr": probabilistic_sharpe_ratio(r),
    }

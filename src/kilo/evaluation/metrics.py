"""Metrics, implemented once for the trainer, the registry and the evaluation."""

from __future__ import annotations

import numpy as np
from scipy import stats


def regression_metrics(y_true: np.ndarray, y_pred: np.ndarray) -> dict[str, float]:
    """Scores of predicted against realised log returns.

    Parameters
    ----------
    y_true, y_pred
        Arrays of shape (n,), log return per label horizon; rows where either is NaN
        are ignored.

    Returns
    -------
    dict with ``rmse`` and ``mae`` (log-return units), ``directional_accuracy`` (share
    of rows where the signs agree, zeros excluded), ``ic_pearson`` and ``ic_spearman``
    (information coefficients: Pearson and Spearman rank correlation; 0.0 when a side
    is constant), ``pred_mean`` and ``pred_std`` of the predictions, and ``n``.

    Raises
    ------
    ValueError
        If the shapes differ or no row is finite.
    """
    y_true = np.asarray(y_true, dtype="float64")
    y_pred = np.asarray(y_pred, dtype="float64")
    if y_true.shape != y_pred.shape:
        raise ValueError(f"shapes differ: {y_true.shape} vs {y_pred.shape}")
    ok = np.isfinite(y_true) & np.isfinite(y_pred)
    if not ok.any():
        raise ValueError("no finite pair of true and predicted values")
    t, p = y_true[ok], y_pred[ok]
    err = p - t
    signed = (t != 0) & (p != 0)
    constant = np.ptp(t) == 0 or np.ptp(p) == 0
    return {
        "rmse": float(np.sqrt(np.mean(err**2))),
        "mae": float(np.mean(np.abs(err))),
        "directional_accuracy": float(np.mean(np.sign(t[signed]) == np.sign(p[signed])))
        if signed.any()
        else float("nan"),
        "ic_pearson": 0.0 if constant else float(stats.pearsonr(t, p)[0]),
        "ic_spearman": 0.0 if constant else float(stats.spearmanr(t, p)[0]),
        "pred_mean": float(p.mean()),
        "pred_std": float(p.std()),
        "n": int(ok.sum()),
    }


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

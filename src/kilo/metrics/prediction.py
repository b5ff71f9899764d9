"""Metrics of predictions against realised labels: errors and information coefficients."""

from __future__ import annotations

import numpy as np
from pydantic import BaseModel, ConfigDict
from scipy import stats


class RegressionScores(BaseModel):
    """Scores of predicted against realised labels (see :func:`regression_metrics`)."""

    model_config = ConfigDict(frozen=True, extra="forbid", ser_json_inf_nan="constants")

    rmse: float
    mae: float
    directional_accuracy: float
    ic_pearson: float
    ic_spearman: float
    pred_mean: float
    pred_std: float
    n: int


def regression_metrics(y_true: np.ndarray, y_pred: np.ndarray) -> RegressionScores:
    """Scores of predicted against realised log returns.

    Parameters
    ----------
    y_true, y_pred
        Arrays of shape (n,), log return per label horizon; rows where either is NaN
        are ignored.

    Returns
    -------
    RegressionScores with ``rmse`` and ``mae`` (log-return units), ``directional_accuracy`` (share
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
    return RegressionScores(
        rmse=float(np.sqrt(np.mean(err**2))),
        mae=float(np.mean(np.abs(err))),
        directional_accuracy=float(np.mean(np.sign(t[signed]) == np.sign(p[signed])))
        if signed.any()
        else float("nan"),
        ic_pearson=0.0 if constant else float(stats.pearsonr(t, p)[0]),
        ic_spearman=0.0 if constant else float(stats.spearmanr(t, p)[0]),
        pred_mean=float(p.mean()),
        pred_std=float(p.std()),
        n=int(ok.sum()),
    )

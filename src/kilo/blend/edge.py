"""Expected edge: the blend score mapped to the log return it has earned on validation.

Fitted by isotonic regression (scikit-learn's ``IsotonicRegression``, increasing,
clipped outside the fitted range) of the realised forward log return over the label
horizon on the validation score, and stored as its breakpoints; applied by linear
interpolation between them, as ``IsotonicRegression.predict`` does.
"""

from __future__ import annotations

import numpy as np
from pydantic import BaseModel, ConfigDict
from sklearn.isotonic import IsotonicRegression


class EdgeMap(BaseModel):
    """Breakpoints of a monotone map: score (``x``) -> expected log return (``y``).

    ``y`` is in log-return units over the label horizon; ``x`` increasing.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    x: list[float]
    y: list[float]

    def __call__(self, score: np.ndarray | float) -> np.ndarray:
        """Expected log return over the horizon for ``score`` (same shape)."""
        return np.interp(np.asarray(score, dtype=np.float64), self.x, self.y)


def fit_edge_map(score: np.ndarray, forward_return: np.ndarray) -> EdgeMap:
    """Isotonic regression of ``forward_return`` on ``score`` (pairs with NaN skipped).

    Parameters
    ----------
    score, forward_return
        Shape (n,): validation blend scores and the log returns realised over the
        label horizon after them.

    Raises
    ------
    ValueError
        If fewer than 2 finite pairs remain.
    """
    score, forward_return = np.asarray(score, float), np.asarray(forward_return, float)
    ok = np.isfinite(score) & np.isfinite(forward_return)
    if ok.sum() < 2:
        raise ValueError("need at least 2 finite (score, forward return) pairs for the edge map")
    fitted = IsotonicRegression(increasing=True, out_of_bounds="clip").fit(
        score[ok], forward_return[ok]
    )
    return EdgeMap(x=fitted.X_thresholds_.tolist(), y=fitted.y_thresholds_.tolist())

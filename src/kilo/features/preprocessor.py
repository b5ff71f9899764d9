"""Preprocessor: median fill and robust scaling learned on the training split only."""

from __future__ import annotations

from pathlib import Path

import joblib
import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.utils.validation import check_is_fitted

from kilo.errors import UNREADABLE_FILE_ERRORS, FeatureContractError, ModelSetError

#: What loading a damaged file raises (other errors propagate):
#: unpickling a class that moved or is gone.
LOAD_ERRORS: tuple[type[Exception], ...] = (*UNREADABLE_FILE_ERRORS, ImportError, AttributeError)


def describe_column_difference(expected: list[str], got: list[str]) -> str:
    """Human-readable difference between two ordered lists of feature names."""
    missing = [c for c in expected if c not in got]
    extra = [c for c in got if c not in expected]
    parts = []
    if missing:
        parts.append(f"missing {missing}")
    if extra:
        parts.append(f"unexpected {extra}")
    if not parts:
        parts.append("same names in a different order")
    return "; ".join(parts)


class Preprocessor(TransformerMixin, BaseEstimator):
    """Fill NaN with training medians, then scale robustly: ``(x - median) / IQR``.

    The final step of DESIGN.md invariant 2. The IQR is the 75th minus the 25th
    percentile; where it is 0 or undefined (a constant or binary feature) the scale
    is 1. Scaled values are clipped to ``[-clip, clip]``.

    Parameters
    ----------
    clip
        Absolute bound applied after scaling.

    Attributes
    ----------
    columns_ : list[str]
        Feature names seen in ``fit``, in order.
    median_ : ndarray of shape (n_features,), float64
    scale_ : ndarray of shape (n_features,), float64
    """

    def __init__(self, clip: float = 5.0) -> None:
        self.clip = clip

    def fit(self, X: pd.DataFrame, y: object = None) -> Preprocessor:
        """Learn medians and IQRs from ``X`` (training rows only), ignoring NaN/inf.

        Raises
        ------
        ValueError
            If ``X`` is not a DataFrame or has no rows.
        """
        if not isinstance(X, pd.DataFrame) or X.empty:
            raise ValueError("Preprocessor.fit needs a non-empty DataFrame of features")
        values = X.to_numpy(dtype="float64", copy=True)
        values[~np.isfinite(values)] = np.nan
        self.columns_ = list(X.columns)
        median = np.nanmedian(values, axis=0)
        q25, q75 = np.nanpercentile(values, [25, 75], axis=0)
        self.median_ = np.where(np.isfinite(median), median, 0.0)
        iqr = q75 - q25
        self.scale_ = np.where(np.isfinite(iqr) & (iqr > 0), iqr, 1.0)
        return self

    def check_columns(self, columns: list[str]) -> None:
        """Raise :class:`FeatureContractError` unless ``columns`` equal ``columns_``."""
        check_is_fitted(self, "columns_")
        if list(columns) != self.columns_:
            raise FeatureContractError(
                "features differ from those the preprocessor was fit on: "
                + describe_column_difference(self.columns_, list(columns))
            )

    def transform(self, X: pd.DataFrame) -> np.ndarray:
        """Fill and scale ``X``; the input is not modified.

        Returns
        -------
        ndarray of shape (n_rows, n_features), float32, finite, within ±clip.

        Raises
        ------
        sklearn.exceptions.NotFittedError
            Before :meth:`fit`.
        FeatureContractError
            If ``X``'s columns differ from those seen in fit (names the differences).
        """
        self.check_columns(list(X.columns))
        values = X.to_numpy(dtype="float64", copy=True)
        bad = ~np.isfinite(values)
        values[bad] = np.broadcast_to(self.median_, values.shape)[bad]
        scaled = np.clip((values - self.median_) / self.scale_, -self.clip, self.clip)
        return scaled.astype(np.float32)

    def save(self, path: str | Path) -> None:
        """Write with joblib."""
        check_is_fitted(self, "columns_")
        joblib.dump(self, path)

    @classmethod
    def load(cls, path: str | Path) -> Preprocessor:
        """Read a file written by :meth:`save`.

        Raises
        ------
        ModelSetError
            If the file is unreadable or holds something else.
        """
        try:
            obj = joblib.load(path)
        except LOAD_ERRORS as exc:
            raise ModelSetError(f"{path}: cannot load the preprocessor ({exc})") from exc
        if not isinstance(obj, cls):
            raise ModelSetError(f"{path}: holds a {type(obj).__name__}, not a Preprocessor")
        return obj

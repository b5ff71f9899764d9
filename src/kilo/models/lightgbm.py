"""LightGBM regressor wrapper: early stopping on validation, saved as a text model."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import lightgbm
import numpy as np

from kilo.config import LightGBMConfig
from kilo.errors import UNREADABLE_FILE_ERRORS, ModelSetError

#: What loading a damaged file raises (other errors propagate):
#: LightGBM raises its own error for a missing or foreign file.
LOAD_ERRORS: tuple[type[Exception], ...] = (*UNREADABLE_FILE_ERRORS, lightgbm.basic.LightGBMError)

MODEL_FILE = "lightgbm.txt"


class LightGBMRegressor:
    """``lightgbm.LGBMRegressor`` trained with early stopping; predicts with its Booster.

    Parameters
    ----------
    params
        The ``models.lightgbm`` config section.
    seed
        LightGBM's ``random_state`` (bagging and feature sampling); training is
        deterministic for a given seed.
    n_jobs
        LightGBM threads; one by default, so parallel trainers do not oversubscribe.
    """

    def __init__(self, params: LightGBMConfig, seed: int = 0, n_jobs: int = 1) -> None:
        self.params = params
        self.seed = seed
        self.n_jobs = n_jobs
        self.booster_: lightgbm.Booster | None = None

    def fit(
        self,
        X: np.ndarray,
        y: np.ndarray,
        *,
        X_val: np.ndarray | None = None,
        y_val: np.ndarray | None = None,
        weights: np.ndarray | None = None,
        val_weights: np.ndarray | None = None,
        n_estimators: int | None = None,
        feature_names: list[str] | None = None,
    ) -> LightGBMRegressor:
        """Fit on rows with finite ``y``.

        With validation rows, stop when the weighted validation L2 stalls
        (``best_iteration_`` trees kept); without, grow exactly ``n_estimators`` trees
        (a refit on more rows with a count chosen before).

        Parameters
        ----------
        X, X_val
            Arrays of shape (n_rows, n_features), float32.
        y, y_val
            Arrays of shape (n_rows,), labels; NaN rows are skipped.
        weights, val_weights
            Arrays of shape (n_rows,), sample weights (default 1).
        n_estimators
            Trees to grow; default ``params.n_estimators``.
        """
        p = self.params
        model = lightgbm.LGBMRegressor(
            n_estimators=n_estimators or p.n_estimators,
            learning_rate=p.learning_rate,
            num_leaves=p.num_leaves,
            min_child_samples=p.min_child_samples,
            subsample=p.subsample,
            subsample_freq=1,
            colsample_bytree=p.colsample_bytree,
            random_state=self.seed,
            deterministic=True,
            force_row_wise=True,
            n_jobs=self.n_jobs,
            verbose=-1,
        )
        ok = np.isfinite(y)
        early: dict[str, Any] = {}
        if X_val is not None and y_val is not None:
            ok_val = np.isfinite(y_val)
            early = {
                "eval_X": (X_val[ok_val],),
                "eval_y": (y_val[ok_val],),
                "callbacks": [lightgbm.early_stopping(p.early_stopping_rounds, verbose=False)],
            }
            if val_weights is not None:
                early["eval_sample_weight"] = [val_weights[ok_val]]
        model.fit(
            X[ok],
            y[ok],
            sample_weight=None if weights is None else weights[ok],
            feature_name=feature_names if feature_names else "auto",
            **early,
        )
        self.best_iteration_ = int(model.best_iteration_ or model.n_estimators)
        self.booster_ = model.booster_
        return self

    def predict(self, X: np.ndarray) -> np.ndarray:
        """Predicted log return, shape (n_rows,), float32.

        Raises
        ------
        RuntimeError
            Before :meth:`fit` or :meth:`load`.
        """
        if self.booster_ is None:
            raise RuntimeError("LightGBMRegressor is not fitted; call fit() or load() first")
        return np.asarray(
            self.booster_.predict(X, num_iteration=self.best_iteration_), dtype=np.float32
        )

    def save(self, folder: Path) -> list[str]:
        """Write LightGBM's text model (best iteration only); return the file names."""
        if self.booster_ is None:
            raise RuntimeError("nothing to save: LightGBM is not fitted")
        self.booster_.save_model(Path(folder) / MODEL_FILE, num_iteration=self.best_iteration_)
        return [MODEL_FILE]

    @classmethod
    def load(cls, folder: Path, params: LightGBMConfig | None = None) -> LightGBMRegressor:
        """Read the text model with ``lightgbm.Booster(model_file=...)``.

        Raises
        ------
        ModelSetError
            If the file is missing or not a LightGBM model.
        """
        path = Path(folder) / MODEL_FILE
        try:
            booster = lightgbm.Booster(model_file=str(path))
        except LOAD_ERRORS as exc:
            raise ModelSetError(f"{path}: cannot load the LightGBM model ({exc})") from exc
        model = cls(params or LightGBMConfig())
        model.booster_ = booster
        model.best_iteration_ = booster.current_iteration()
        return model

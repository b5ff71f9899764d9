"""A symbol's loaded model set, turning a trailing candle window into a blended score."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from kilo.blend import Calibration, blend
from kilo.config import Config
from kilo.errors import ModelSetError
from kilo.features import FeatureEngine
from kilo.registry import ModelSet
from kilo.registry.modelset import PortfolioState, RawOutputs


def score_outputs(out: RawOutputs, calibration: Calibration,
                  weights: dict[str, float]) -> dict[str, Any]:
    """One bar's raw model outputs -> the prediction record the trader logs and acts on.

    Returns
    -------
    dict with ``gru_raw`` and ``lightgbm_raw`` (log return), ``ppo_p_hold``,
    ``ppo_p_long``, ``ppo_p_flat``, ``*_signal`` in [-1, 1], ``score`` in [-1, 1] and
    ``confidence`` in [0, 1] (formulas in :mod:`kilo.blend`).
    """
    signals = calibration.signals(out.gru, out.lightgbm, out.ppo)
    score, confidence = blend(signals, weights)
    p_hold, p_long, p_flat = (float(v) for v in out.ppo[0])
    return {
        "gru_raw": float(out.gru[0]),
        "lightgbm_raw": float(out.lightgbm[0]),
        "ppo_p_hold": p_hold,
        "ppo_p_long": p_long,
        "ppo_p_flat": p_flat,
        **{f"{name}_signal": float(np.asarray(s)[0]) for name, s in signals.items()},
        "score": float(score[0]),
        "confidence": float(confidence[0]),
    }


@dataclass
class SymbolModel:
    """Everything needed to score one symbol's bars, loaded once.

    ``history_rows`` is how many candles up to the bar the trader passes in:
    ``engine.min_history`` (so recursive indicators equal their full-history values)
    plus the models' context rows.
    """

    symbol: str
    model_set: ModelSet
    engine: FeatureEngine
    calibration: Calibration
    enter_threshold: float
    exit_threshold: float
    weights: dict[str, float]

    @classmethod
    def load(cls, config: Config, symbol: str, engine: FeatureEngine | None = None,
             models_dir: str | None = None) -> SymbolModel:
        """Load the LATEST model set (checksums and feature contract verified).

        Thresholds come from ``config.blend`` when set, else from the manifest.

        Raises
        ------
        ModelSetError, FeatureContractError
            If there is no usable model set for ``symbol``.
        """
        engine = engine or FeatureEngine.from_config(config)
        model_set = ModelSet.load(symbol, "latest", models_dir or config.models.dir, engine=engine)
        if "blend" not in model_set.manifest:
            raise ModelSetError(f"{symbol} {model_set.version}: the manifest has no blend "
                                "calibration; retrain the symbol")
        cal = Calibration.from_dict(model_set.manifest["blend"])
        return cls(symbol, model_set, engine, cal, *cal.thresholds(config.blend),
                   dict(config.blend.weights))

    @property
    def history_rows(self) -> int:
        return self.engine.min_history + self.model_set.context_rows

    @property
    def test_start(self) -> pd.Timestamp:
        """First bar of the model set's test split: the default replay start."""
        return pd.Timestamp(self.model_set.manifest["split"]["test"]["start"])

    def features(self, history: pd.DataFrame) -> pd.DataFrame:
        """Feature rows for the last ``context_rows + 1`` bars of ``history``."""
        return self.engine.transform(history).iloc[-(self.model_set.context_rows + 1):]

    def predict(self, history: pd.DataFrame, state: PortfolioState) -> dict[str, Any]:
        """Raw outputs, signals, score and confidence for the last bar of ``history``.

        Parameters
        ----------
        history
            At least :attr:`history_rows` validated candles ending with the bar.
        state
            The symbol's position as PPO sees it.

        Returns
        -------
        The record of :func:`score_outputs`.
        """
        X = self.model_set.preprocessor.transform(self.features(history))
        return score_outputs(self.model_set.predict_rows(X, 1, state), self.calibration,
                             self.weights)

    @property
    def version(self) -> str:
        return str(self.model_set.version)

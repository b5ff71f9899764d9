"""A symbol's loaded model set, turning a trailing candle window into a blended score."""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from kilo.blend import Calibration, ThresholdRule
from kilo.config import Config
from kilo.features import FeatureEngine
from kilo.inference import PortfolioState, Prediction, context_rows, predict_rows, score_outputs
from kilo.registry import ModelSet


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
    rule: ThresholdRule
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
        cal = model_set.manifest.calibration
        return cls(symbol, model_set, engine, cal, ThresholdRule(*cal.thresholds(config.blend)),
                   dict(config.blend.weights))

    @property
    def context_rows(self) -> int:
        return context_rows(self.model_set)

    @property
    def history_rows(self) -> int:
        return self.engine.min_history + self.context_rows

    @property
    def replay_start(self) -> pd.Timestamp:
        """The default replay start: the first bar the model set never trained,
        early-stopped or was selected on (:attr:`~kilo.registry.Manifest.first_unseen_bar`)."""
        return pd.Timestamp(self.model_set.manifest.first_unseen_bar)

    def features(self, history: pd.DataFrame) -> pd.DataFrame:
        """Feature rows for the last ``context_rows + 1`` bars of ``history``."""
        return self.engine.transform(history).iloc[-(self.context_rows + 1):]

    def predict(self, history: pd.DataFrame, state: PortfolioState) -> Prediction:
        """Raw outputs, signals, score and confidence for the last bar of ``history``.

        Parameters
        ----------
        history
            At least :attr:`history_rows` validated candles ending with the bar.
        state
            The symbol's position as PPO sees it.

        Returns
        -------
        The :class:`~kilo.inference.Prediction` of :func:`~kilo.inference.score_outputs`.
        """
        X = self.model_set.preprocessor.transform(self.features(history))
        return score_outputs(predict_rows(self.model_set, X, 1, state), self.calibration,
                             self.weights, state)

    @property
    def version(self) -> str:
        return str(self.model_set.version)

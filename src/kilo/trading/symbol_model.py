"""A symbol's loaded model set, turning a trailing candle window into a blended score."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from kilo.blend import Calibration, DecisionRule
from kilo.config import Config, timeframe_seconds
from kilo.errors import ModelSetError
from kilo.features import FeatureEngine
from kilo.features.target import trailing_volatility
from kilo.inference import PortfolioState, Prediction, context_rows, predict_rows, score_outputs
from kilo.registry import ModelSet
from kilo.trading.drift import DriftMonitor, DriftRecord
from kilo.trading.sources import MarketSnapshot

logger = logging.getLogger(__name__)


@dataclass
class SymbolModel:
    """Everything needed to score one symbol's bars, loaded once.

    ``history_rows`` is how many candles up to the bar the trader passes in:
    ``engine.min_history`` (so recursive indicators equal their full-history values)
    plus the models' context rows. ``drift`` measures the set's drift against its stored
    reference (None for a set saved without one: drift unavailable).
    """

    symbol: str
    model_set: ModelSet
    engine: FeatureEngine
    calibration: Calibration
    rule: DecisionRule
    weights: dict[str, float]
    volatility_window: int
    drift: DriftMonitor | None = None
    _row: np.ndarray | None = field(default=None, repr=False)

    @classmethod
    def load(
        cls,
        config: Config,
        symbol: str,
        engine: FeatureEngine | None = None,
        models_dir: str | None = None,
    ) -> SymbolModel:
        """Load the LATEST model set (checksums and feature contract verified).

        The decision rule is ``config.blend.rule`` with the manifest's calibration
        (thresholds from ``config.blend`` when set). A set without a drift reference
        loads with one warning naming it: its drift is unavailable.

        Raises
        ------
        ModelSetError, FeatureContractError
            If there is no usable model set for ``symbol``, or ``blend.weights`` give
            none of its models weight.
        """
        engine = engine or FeatureEngine.from_config(config, symbol)
        model_set = ModelSet.load(symbol, "latest", models_dir or config.models.dir, engine=engine)
        if sum(config.blend.weights.get(name, 0.0) for name in model_set.names) <= 0:
            raise ModelSetError(
                f"{symbol}'s model set holds {list(model_set.names)}, which blend.weights "
                f"{config.blend.weights} give no weight: give one of them a positive weight "
                "or retrain with the models you blend"
            )
        manifest = model_set.manifest
        cal = manifest.calibration
        return cls(
            symbol,
            model_set,
            engine,
            cal,
            cal.rule(config),
            dict(config.blend.weights),
            config.trading.volatility_window,
            drift_monitor(config, model_set),
        )

    @property
    def context_rows(self) -> int:
        return context_rows(self.model_set)

    @property
    def history_rows(self) -> int:
        """Candles up to the bar the features and the sizing volatility need."""
        return max(self.engine.min_history + self.context_rows, self.volatility_window + 1)

    @property
    def replay_start(self) -> pd.Timestamp:
        """The default replay start: the first bar the model set never trained,
        early-stopped or was selected on (:attr:`~kilo.registry.Manifest.first_unseen_bar`)."""
        return pd.Timestamp(self.model_set.manifest.first_unseen_bar)

    def features(
        self, history: pd.DataFrame, context: Mapping[str, pd.DataFrame] | None = None
    ) -> pd.DataFrame:
        """Feature rows for the last ``context_rows + 1`` bars of ``history``.

        ``context`` holds the other symbols' candles the features read. One the source
        could not provide (an exchange time-out) is logged and read as no candles: its
        features are NaN and the preprocessor fills them with training medians.
        """
        context = dict(context or {})
        missing = [s for s in self.engine.context_symbols if s not in context]
        if missing:
            logger.warning(
                "%s: no candles of %s this bar; their features take training medians",
                self.symbol,
                missing,
            )
            context.update({s: history.iloc[:0] for s in missing})
        return self.engine.transform(history, context, last=self.context_rows + 1)

    def predict(self, snapshot: MarketSnapshot, state: PortfolioState) -> Prediction:
        """Raw outputs, signals, score and expected edge for the snapshot's bar.

        Parameters
        ----------
        snapshot
            At least :attr:`history_rows` validated candles ending with the bar, and
            the other symbols' candles in ``context``.
        state
            The symbol's position as a policy sees it.

        Returns
        -------
        The :class:`~kilo.inference.Prediction` of :func:`~kilo.inference.score_outputs`,
        with the trailing annualised volatility for sizing.
        """
        history = snapshot.history
        X = self.model_set.preprocessor.transform(self.features(history, snapshot.context))
        self._row = X[-1]
        window = self.volatility_window
        volatility = float(
            trailing_volatility(history.iloc[-(window + 1) :], window, annualise=True).iloc[-1]
        )
        return score_outputs(
            predict_rows(self.model_set, X, 1, state),
            self.calibration,
            self.weights,
            state,
            volatility,
        )

    def observe_drift(
        self, snapshot: MarketSnapshot, prediction: Prediction, decision: str
    ) -> DriftRecord | None:
        """The drift measures after the snapshot's bar (:meth:`predict` first), or None
        when drift is unavailable or the bar was seen already."""
        monitor, row = self.drift, self._row
        if monitor is None or row is None:
            return None
        if monitor.last_bar is not None and snapshot.bar_time <= monitor.last_bar:
            return None
        return monitor.observe(
            snapshot.bar_time, row, prediction, decision, snapshot.history["open"]
        )

    @property
    def version(self) -> str:
        return str(self.model_set.version)


def drift_monitor(config: Config, model_set: ModelSet) -> DriftMonitor | None:
    """The set's :class:`~kilo.trading.drift.DriftMonitor` with ``config.drift``, or None:
    with ``drift.enabled`` false, or (logged once, by name) when the set stores no drift
    reference."""
    manifest = model_set.manifest
    if not config.drift.enabled:
        return None
    if manifest.drift is None:
        logger.warning(
            "%s %s: the model set stores no drift reference (saved before Kilo kept "
            "one): drift is unavailable for it; retrain the symbol to measure it",
            model_set.symbol,
            manifest.version,
        )
        return None
    return DriftMonitor(
        model_set.symbol,
        str(manifest.version),
        manifest.drift,
        config.drift,
        manifest.config.target.horizon,
        pd.Timedelta(seconds=timeframe_seconds(manifest.timeframe)),
    )

"""Strategies of the walk-forward, all traded through the paper trader's own code.

Model strategies score bars with the fold's model set and the blend; baselines score
them from a rule. Either way :class:`~kilo.trading.trader.PaperTrader` runs them, with
the broker's fees, slippage, sizing and stops, so the evaluation cannot drift from
what the trader does.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from kilo.blend import Calibration
from kilo.config import Config
from kilo.inference import (
    PortfolioState,
    Prediction,
    RawOutputs,
    context_rows,
    ppo_proba,
    predict_rows,
    score_outputs,
)
from kilo.metrics import trading_metrics
from kilo.registry import ModelSet
from kilo.trading.ledger import Ledger
from kilo.trading.sources import ReplaySource
from kilo.trading.trader import PaperTrader, Scorer
from kilo.training.dataset import Dataset


@dataclass
class ModelScorer:
    """Scores a fold's bars with regressor outputs computed once and PPO per bar.

    PPO is queried at every bar with the strategy's own position, as in the trader;
    the GRU and LightGBM outputs do not depend on it and are computed in one batch.

    Attributes
    ----------
    rows : bar time -> row of ``X``, ``gru`` and ``lightgbm``
    X : ndarray (n_rows, n_features), float32, preprocessed with the fold's preprocessor
    gru, lightgbm : ndarray (n_rows,), predicted log returns (NaN outside the fold)
    """

    name: str
    model_set: ModelSet
    rows: dict[pd.Timestamp, int]
    X: np.ndarray
    gru: np.ndarray
    lightgbm: np.ndarray
    calibration: Calibration
    weights: dict[str, float]
    enter_threshold: float
    exit_threshold: float

    @classmethod
    def build(cls, name: str, model_set: ModelSet, index: pd.DatetimeIndex, X: np.ndarray,
              part: slice, calibration: Calibration, weights: dict[str, float],
              thresholds: tuple[float, float]) -> ModelScorer:
        """A scorer for the rows ``part`` of ``X`` (indexed by ``index``), regressor
        outputs computed in one batch; ``X`` needs the model set's context rows before."""
        n = part.stop - part.start
        out = predict_rows(model_set, X[part.start - context_rows(model_set) : part.stop], n)
        gru, lightgbm = (np.full(len(X), np.nan, dtype=np.float32) for _ in range(2))
        gru[part], lightgbm[part] = out.gru, out.lightgbm
        rows = {t: part.start + i for i, t in enumerate(index[part])}
        return cls(name, model_set, rows, X, gru, lightgbm, calibration, weights, *thresholds)

    @property
    def version(self) -> str:
        return self.name

    def predict(self, history: pd.DataFrame, state: PortfolioState) -> Prediction:
        i = self.rows[history.index[-1]]
        proba = ppo_proba(self.model_set, self.X[: i + 1], 1, state)
        out = RawOutputs(self.gru[i : i + 1], self.lightgbm[i : i + 1], proba)
        return score_outputs(out, self.calibration, self.weights)


@dataclass
class RuleScorer:
    """A baseline: score +1 (be long) or -1 (be flat) per bar, thresholds at 0."""

    name: str
    scores: pd.Series
    enter_threshold: float = 0.0
    exit_threshold: float = 0.0

    @property
    def version(self) -> str:
        return self.name

    def predict(self, history: pd.DataFrame, state: PortfolioState) -> Prediction:
        return Prediction(score=float(self.scores[history.index[-1]]), confidence=1.0)


def momentum_scores(close: pd.Series, lookback: int) -> pd.Series:
    """+1 where the last ``lookback``-bar log return is positive, else -1 (causal)."""
    ret = np.log(close).diff(lookback)
    return pd.Series(np.where(ret > 0, 1.0, -1.0), index=close.index)


def random_scores(index: pd.DatetimeIndex, switch_probability: float, seed: int) -> pd.Series:
    """A random long/flat policy that changes state with ``switch_probability`` per bar.

    Starts flat; the expected number of position changes over n bars is
    ``switch_probability * n``, which is how the random baseline matches the blend's
    turnover.
    """
    rng = np.random.default_rng(seed)
    flips = rng.random(len(index)) < switch_probability
    long = np.cumsum(flips) % 2 == 1
    return pd.Series(np.where(long, 1.0, -1.0), index=index)


@dataclass
class StrategyRun:
    """One strategy traded over one fold.

    Attributes
    ----------
    equity : Series (n_bars,), quote currency, after each bar's orders, marked at the fill price
    exposure : Series (n_bars,), bool, a position is open after the bar
    fills : DataFrame of the fills: time, side, price, notional, fee, realised_pnl
    """

    equity: pd.Series
    exposure: pd.Series
    fills: pd.DataFrame

    @property
    def log_returns(self) -> pd.Series:
        """Per-bar log returns of equity, the first against the initial cash."""
        first = self.equity.attrs["initial_cash"]
        return np.log(self.equity / self.equity.shift(1).fillna(first))

    @property
    def position_changes(self) -> int:
        return len(self.fills)


def trade(config: Config, symbol: str, candles: pd.DataFrame, scorer: Scorer, start: pd.Timestamp,
          n_bars: int, *, stops: bool = True) -> StrategyRun:
    """Trade ``scorer`` over ``n_bars`` bars from ``start`` with the paper trader.

    The portfolio starts flat with ``initial_cash``; the position size is
    ``evaluation.position_fraction`` of equity. ``stops=False`` disables stop-loss and
    take-profit (for buy-and-hold, which by definition has none).
    """
    update: dict[str, Any] = {"trading.max_position_fraction": config.evaluation.position_fraction,
                              "trading.max_total_exposure": 1.0}
    if not stops:
        update.update({"trading.stop_loss": None, "trading.take_profit": None})
    run_config = config.with_overrides(update)
    ledger = Ledger(":memory:")
    source = ReplaySource({symbol: candles}, {symbol: 1}, start)
    records = PaperTrader(run_config, {symbol: scorer}, source, ledger).run(n_bars)
    fills = ledger.query("SELECT time, side, price, notional, fee, realised_pnl FROM fills")
    ledger.close()
    index = pd.DatetimeIndex([r.bar_time for r in records])
    equity = pd.Series([r.equity for r in records], index=index, name=scorer.version)
    equity.attrs["initial_cash"] = config.trading.initial_cash
    exposure = pd.Series([symbol in r.portfolio.positions for r in records], index=index)
    return StrategyRun(equity, exposure, fills)


def switch_probability(run: StrategyRun) -> float:
    """Position changes per bar of a run, the turnover a random baseline should match."""
    return min(1.0, run.position_changes / max(len(run.equity), 1))


def backtest_blend(config: Config, model_set: ModelSet, data: Dataset, part: slice) -> StrategyRun:
    """Trade a saved model set's blend, as the trader would, over the rows ``part``.

    Uses the manifest's calibration and the config's weights and thresholds;
    ``data`` must be built with the engine the model set was trained with.
    """
    X = model_set.preprocessor.transform(data.features)
    calibration = model_set.manifest.calibration
    scorer = ModelScorer.build(str(model_set.version), model_set, data.index, X, part,
                               calibration, dict(config.blend.weights),
                               calibration.thresholds(config.blend))
    return trade(config, data.symbol, data.candles, scorer, data.index[part.start],
                 part.stop - part.start)


def chain(runs: list[StrategyRun], initial_cash: float) -> tuple[pd.Series, pd.Series]:
    """Per-bar log returns and the equity curve (quote currency) over consecutive runs."""
    log_returns = pd.concat([r.log_returns for r in runs])
    return log_returns, initial_cash * np.exp(log_returns.cumsum())


def run_metrics(runs: list[StrategyRun], initial_cash: float,
                periods_per_year: float) -> dict[str, float]:
    """:func:`~kilo.evaluation.metrics.trading_metrics` of consecutive runs chained."""
    log_returns, equity = chain(runs, initial_cash)
    fills = pd.concat([r.fills for r in runs])
    sells = fills[fills["side"] == "sell"]
    return trading_metrics(log_returns.to_numpy(), pd.concat([r.exposure for r in runs]).to_numpy(),
                           sells["realised_pnl"].to_numpy(), float(fills["notional"].sum()),
                           float(equity.mean()), periods_per_year)

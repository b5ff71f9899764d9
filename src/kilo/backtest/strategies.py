"""What a fold trades: predictors over the fold's model outputs, and the baselines.

A predictor maps ``(candle position, position state)`` to a
:class:`~kilo.inference.Prediction`; :func:`~kilo.backtest.simulate.simulate` trades
it. Model predictors use regressor outputs computed once per fold and query a policy
per bar with the strategy's own position, as the trader does.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

import numpy as np
import pandas as pd

from kilo.backtest.simulate import (
    CandleArrays,
    Predictor,
    StrategyRun,
    evaluation_trading,
    simulate,
)
from kilo.blend import Calibration, ThresholdRule
from kilo.blend.actions import TARGETS
from kilo.config import Config
from kilo.features.target import trailing_volatility
from kilo.inference import (
    PortfolioState,
    Prediction,
    Predictors,
    context_rows,
    predict_rows,
    score_outputs,
)
from kilo.metrics import TradingMetrics, sharpe_ratio, trading_metrics
from kilo.models.kinds import KINDS
from kilo.registry import ModelSet
from kilo.training.dataset import Dataset
from kilo.utils import JsonFloat

#: A target side as the score (+1 long, -1 short, 0 flat): long on +1, else flat (the
#: baselines, and every strategy on spot).
LONG_FLAT = ThresholdRule(0.5, 0.5)
#: A target side as the score: long on +1, short on -1, flat on 0 (futures).
LONG_SHORT = ThresholdRule(0.5, 0.5, short=True)


def side_rule(short: bool) -> ThresholdRule:
    """:data:`LONG_SHORT` where shorts are allowed, else :data:`LONG_FLAT`."""
    return LONG_SHORT if short else LONG_FLAT


def _spread(predicted: np.ndarray, n_rows: int, part: slice) -> np.ndarray:
    """``predicted`` (one value per row of ``part``) at its rows of ``n_rows``, NaN
    elsewhere."""
    out = np.full(n_rows, np.nan, dtype=np.float32)
    out[part] = predicted
    return out


@dataclass(frozen=True)
class FoldOutputs:
    """A fold's fitted models with their regressor predictions for some feature rows.

    Attributes
    ----------
    X : ndarray (n_rows, n_features), float32, every feature row, preprocessed
    predictions : regressor name -> ndarray (n_rows,), predicted labels, NaN outside the
        predicted rows (the regressors held)
    row_of : ndarray (n_candles,), int64, the feature row of each candle position, -1
        for a candle without one (warm-up, the last bars, or an outage whose labels were
        dropped): feature rows are not always consecutive candles
    volatility : ndarray (n_candles,) or None, trailing annualised volatility for sizing
    """

    models: Predictors
    X: np.ndarray
    predictions: dict[str, np.ndarray]
    row_of: np.ndarray
    volatility: np.ndarray | None = None

    @classmethod
    def predict(
        cls,
        models: Predictors,
        X: np.ndarray,
        part: slice,
        row_of: np.ndarray,
        volatility: np.ndarray | None = None,
    ) -> FoldOutputs:
        """Regressor predictions for the feature rows ``part`` in one batch."""
        out = predict_rows(
            models,
            X[part.start - context_rows(models) : part.stop],
            part.stop - part.start,
            with_policies=False,
        )
        spread = {name: _spread(pred, len(X), part) for name, pred in out.items()}
        return cls(models, X, spread, row_of, volatility)

    def regressor(self, name: str) -> np.ndarray:
        """The predictions of regressor ``name``, shape (n_rows,).

        Raises
        ------
        KeyError
            If the models hold no such regressor.
        """
        if name not in self.predictions:
            raise KeyError(f"no {name!r} predictions: the models hold no such regressor")
        return self.predictions[name]

    @classmethod
    def for_dataset(
        cls, config: Config, models: Predictors, X: np.ndarray, data: Dataset, part: slice
    ) -> tuple[CandleArrays, FoldOutputs]:
        """``data``'s candles as arrays and the models' outputs over its feature rows
        ``part`` (``X``: the preprocessed features, (n_rows, n_features)), with the
        annualised trailing volatility (``trading.volatility_window``) that sizing reads.
        """
        candles = CandleArrays.from_frame(data.candles)
        row_of = np.full(len(candles.index), -1, dtype=np.int64)
        row_of[candles.positions(data.index)] = np.arange(len(data.index))
        volatility = trailing_volatility(
            data.candles, config.trading.volatility_window, annualise=True
        ).to_numpy()
        return candles, cls.predict(models, X, part, row_of, volatility)

    def candle_range(self, part: slice) -> range:
        """The candle positions from the first feature row of ``part`` to its last."""
        first, last = (
            np.flatnonzero(self.row_of == part.start)[0],
            np.flatnonzero(self.row_of == part.stop - 1)[0],
        )
        return range(int(first), int(last) + 1)

    def tradable(self, candles: CandleArrays) -> np.ndarray:
        """Shape (n_candles,), bool: candles a strategy may decide on: with a feature row,
        neither the candle nor the next (where orders fill) filled in an outage."""
        filled = candles.filled
        return (self.row_of >= 0) & ~filled & ~np.append(filled[1:], True)

    def _volatility(self, i: int) -> float | None:
        return None if self.volatility is None else float(self.volatility[i])

    def _proba(self, name: str, row: int, state: PortfolioState) -> np.ndarray:
        """Policy ``name``'s action probabilities (1, N_ACTIONS) at feature row ``row``."""
        return KINDS[name].predict(self.models.models[name], self.X[: row + 1], 1, state)

    def blend(self, calibration: Calibration, weights: dict[str, float]) -> Predictor:
        """The blend (or one model, by ``weights``); a policy is asked only if it has
        weight."""
        asked = [
            name
            for name in self.models.models
            if not KINDS[name].regressor and weights.get(name, 0.0) > 0
        ]

        def predict(i: int, state: PortfolioState) -> Prediction:
            r = int(self.row_of[i])
            if r < 0:
                raise KeyError(f"candle {i} has no feature row (warm-up or an outage)")
            raw = {name: pred[r : r + 1] for name, pred in self.predictions.items()}
            raw.update({name: self._proba(name, r, state) for name in asked})
            return score_outputs(raw, calibration, weights, state, self._volatility(i))

        return predict

    def policy(self, name: str) -> Predictor:
        """Policy ``name``'s own deterministic action as the side it will hold after it:
        score +1 for a long (LONG, or HOLD while long), -1 for a short (SHORT, or HOLD
        while short), 0 for flat (FLAT, or HOLD while flat); trade with
        :func:`side_rule` of :meth:`shorts`."""
        kind = KINDS[name]

        def predict(i: int, state: PortfolioState) -> Prediction:
            proba = self._proba(name, int(self.row_of[i]), state)
            action = int(proba[0].argmax())
            target = TARGETS.get(action, state.position)
            return Prediction(
                score=target,
                confidence=float(proba[0].max()),
                volatility=self._volatility(i),
                raw=kind.raw_columns(proba),
            )

        return predict

    def shorts(self, name: str) -> bool:
        """Whether policy ``name`` may short (its action space holds ``SHORT``)."""
        return KINDS[name].shorts(self.models.models[name])


def rule_predictor(scores: np.ndarray, offset: int = 0) -> Predictor:
    """A baseline reading a precomputed score at ``i - offset``: the target side for
    :data:`LONG_FLAT` or :data:`LONG_SHORT` (+1 long, -1 short or flat, 0 flat)."""
    return lambda i, state: Prediction(score=float(scores[i - offset]), confidence=1.0)


def opening(fills: pd.DataFrame) -> pd.Series:
    """Shape (n_fills,), bool: the fills (:data:`~kilo.backtest.simulate.FILL_COLUMNS`)
    that opened a position: a long's buys, a short's sales (``position_side`` missing:
    long)."""
    return (fills["side"] == "buy") != fills["position_side"].eq("short")


def entry_fraction(run: StrategyRun) -> float:
    """Mean share of equity a run's entries (long or short) took (1.0 without entries)."""
    buys = run.fills[opening(run.fills)]
    if buys.empty:
        return 1.0
    before = run.equity.shift(1, fill_value=run.initial_cash)
    equity = before.reindex(
        pd.DatetimeIndex(buys["time"]) - (run.equity.index[1] - run.equity.index[0])
    )
    return float(np.clip((buys["notional"].to_numpy() / equity.to_numpy()).mean(), 0.0, 1.0))


def momentum_scores(close: np.ndarray, lookback: int) -> np.ndarray:
    """+1 where the last ``lookback``-bar log return is positive, else -1 (causal).

    Shape (n_candles,); the first ``lookback`` bars are -1 (no return yet).
    """
    log_c = np.log(np.asarray(close, dtype=np.float64))
    ret = np.full(len(log_c), np.nan)
    ret[lookback:] = log_c[lookback:] - log_c[:-lookback]
    return np.where(ret > 0, 1.0, -1.0)


class StrategyMetrics(TradingMetrics):
    """:class:`~kilo.metrics.TradingMetrics` of a strategy's runs, plus the same trades
    before costs: ``gross_total_log_return``, ``gross_sharpe`` and ``break_even_cost``
    (per round trip, log price return per unit of position: see
    :func:`break_even_cost`); and what the costs took, in log return of equity:
    ``funding_paid`` and ``funding_received`` (both >= 0; 0 on spot) and ``fees_paid``
    (fees and slippage), each the sum over events of its quote amount over the equity
    then (NaN in summaries written before it was recorded); ``n_short_trades``, of the
    ``n_trades`` closed, those that closed a short (0 on spot)."""

    gross_total_log_return: JsonFloat
    gross_sharpe: JsonFloat
    break_even_cost: JsonFloat
    fees_paid: JsonFloat = math.nan
    funding_paid: JsonFloat = 0.0
    funding_received: JsonFloat = 0.0
    n_short_trades: JsonFloat = 0.0


def run_metrics(runs: list[StrategyRun], periods_per_year: float) -> StrategyMetrics:
    """:func:`~kilo.metrics.trading_metrics` of consecutive runs, plus gross figures.

    Turnover counts each run's notional against that run's own equity. Added:
    ``gross_total_log_return`` and ``gross_sharpe`` (the same trades before fees,
    slippage and funding), :func:`break_even_cost` of the runs' fills (NaN without a
    closed round trip), and the fees and funding paid (see :class:`StrategyMetrics`).
    """
    log_returns = pd.concat([r.log_returns for r in runs]).to_numpy()
    gross = pd.concat([r.gross_log_returns for r in runs]).to_numpy()
    funding = np.concatenate(
        [np.zeros(0)] + [r.funding.to_numpy() for r in runs if r.funding is not None]
    )
    fees = sum(float(r.fees.sum()) for r in runs if r.fees is not None)
    fills = pd.concat([r.fills for r in runs])
    closes = fills[~opening(fills)]
    metrics = trading_metrics(
        log_returns,
        pd.concat([r.exposure for r in runs]).to_numpy(),
        closes["realised_pnl"].to_numpy(),
        sum(r.equity_turns for r in runs),
        periods_per_year,
    )
    return StrategyMetrics(
        **metrics.model_dump(),
        gross_total_log_return=float(gross.sum()),
        gross_sharpe=sharpe_ratio(gross, periods_per_year),
        break_even_cost=break_even_cost(fills),
        fees_paid=float(fees),
        funding_paid=float(funding[funding > 0].sum()),
        funding_received=float(-funding[funding < 0].sum()) + 0.0,  # never -0.0
        n_short_trades=float(closes["position_side"].eq("short").sum()),
    )


def break_even_cost(fills: pd.DataFrame) -> float:
    """The cost per round trip, in log price return per unit of position, at which the
    closed round trips of ``fills`` would break even before costs.

    Each closed quantity earned ``log(exit / entry)`` at reference prices (the gross
    trades' prices, before slippage; a short ``log(entry / exit)``), whatever share of
    equity the position was: the
    gross equity log return of a round trip divided by the position fraction it held,
    to first order. The mean over round trips weights each by its entry notional. So
    the number is in the units of :func:`kilo.blend.round_trip_cost` (0.003: 0.3 % a
    round trip at full size), and a strategy nets money only if it exceeds the venue's.
    Entries at several prices average into one entry price; a close with no entry
    before it in ``fills`` (a position opened earlier) is left out.

    Parameters
    ----------
    fills
        :data:`~kilo.backtest.simulate.FILL_COLUMNS` rows in time order; ``quantity``
        in base currency, ``reference_price`` in quote currency.

    Returns
    -------
    float, log return per round trip per unit of position; NaN without a closed round
    trip.
    """
    held = entry = earned = entered = 0.0
    short = fills["position_side"].eq("short")
    for opens, sign, quantity, price in zip(
        opening(fills),
        np.where(short, -1.0, 1.0),
        fills["quantity"],
        fills["reference_price"],
        strict=True,
    ):
        if opens:
            entry = (held * entry + quantity * price) / (held + quantity)
            held += quantity
        elif held > 0:
            closed = min(quantity, held)
            earned += closed * entry * sign * math.log(price / entry)
            entered += closed * entry
            held = 0.0 if math.isclose(closed, held, rel_tol=1e-9) else held - closed
    return earned / entered if entered > 0 else math.nan


def chain(runs: list[StrategyRun]) -> tuple[pd.Series, pd.Series]:
    """Per-bar log returns and the equity curve (quote currency) over consecutive runs."""
    log_returns = pd.concat([r.log_returns for r in runs])
    return log_returns, runs[0].initial_cash * np.exp(log_returns.cumsum())


def backtest_blend(config: Config, model_set: ModelSet, data: Dataset, part: slice) -> StrategyRun:
    """Trade a saved model set's blend, as the trader would, over the feature rows ``part``.

    Uses the manifest's calibration and the config's weights, thresholds and trading
    costs; ``data`` must be built with the engine the model set was trained with. The
    equity series is named after the model set's version.
    """
    X = model_set.preprocessor.transform(data.features)
    candles, outputs = FoldOutputs.for_dataset(config, model_set, X, data, part)
    calibration = model_set.manifest.calibration
    run = simulate(
        evaluation_trading(config.trading, config.evaluation.position_fraction),
        data.symbol,
        candles,
        outputs.candle_range(part),
        outputs.blend(calibration, dict(config.blend.weights)),
        calibration.rule(config),
        outputs.tradable(candles),
    )
    return replace(run, equity=run.equity.rename(str(model_set.version)))

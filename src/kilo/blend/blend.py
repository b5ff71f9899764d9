"""Signals in common units, their weighted blend, and per-symbol calibration.

The formulas are documented in the package docstring (:mod:`kilo.blend`).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
from pydantic import BaseModel, ConfigDict, model_validator

from kilo.blend.actions import N_ACTIONS, Action
from kilo.blend.edge import EdgeMap, fit_edge_map
from kilo.blend.rules import DecisionRule, EdgeRule, ThresholdRule, round_trip_cost
from kilo.config import BlendConfig, Config, QuantileBlend
from kilo.errors import ConfigError


def regressor_signal(pred: np.ndarray | float, mean: float, std: float) -> np.ndarray:
    """``tanh((pred - mean) / std)``: a predicted log return as a signal in (-1, 1).

    ``mean`` and ``std`` are those of the model's validation predictions; a zero
    ``std`` (a constant model) gives a signal of 0.
    """
    pred = np.asarray(pred, dtype=np.float64)
    if not std > 0:
        return np.zeros_like(pred)
    return np.tanh((pred - mean) / std)


def ppo_signal(proba: np.ndarray, long: np.ndarray | bool) -> np.ndarray:
    """PPO's signal ``2 p - 1``, with ``p = P(long) + P(hold) * 1[long]`` the probability
    of being long after the next action (HOLD keeps the current position; FLAT and,
    where the agent may short, SHORT count against).

    Parameters
    ----------
    proba
        Action probabilities of shape (n, :data:`~kilo.blend.actions.N_ACTIONS`), order
        of :class:`~kilo.blend.actions.Action`.
    long
        Shape (n,) or a scalar: whether the position was long when PPO was queried.

    Returns
    -------
    ndarray of shape (n,), float64, in [-1, 1].
    """
    proba = np.asarray(proba, dtype=np.float64).reshape(-1, N_ACTIONS)
    p_long = proba[:, Action.LONG] + proba[:, Action.HOLD] * np.asarray(long, dtype=np.float64)
    return 2.0 * p_long - 1.0


def blend(
    signals: dict[str, np.ndarray], weights: dict[str, float]
) -> tuple[np.ndarray, np.ndarray]:
    """Weighted mean of signals and the weighted agreement of their signs.

    Parameters
    ----------
    signals
        Model name -> array of shape (n,) in [-1, 1]; models missing from
        ``weights`` get weight 0.
    weights
        Model name -> weight >= 0.

    Returns
    -------
    (score, confidence), arrays of shape (n,) in [-1, 1] and [0, 1].

    Raises
    ------
    ValueError
        If the weights of the given signals sum to zero.
    """
    total = sum(weights.get(name, 0.0) for name in signals)
    if total <= 0:
        raise ValueError(f"blend weights {weights} give no weight to the signals {list(signals)}")
    score = np.sum(
        [weights.get(n, 0.0) * np.asarray(s, dtype=np.float64) for n, s in signals.items()], axis=0
    )
    agree = np.sum([weights.get(n, 0.0) * np.sign(s) for n, s in signals.items()], axis=0)
    return np.asarray(score / total), np.abs(agree) / total


class PredictionStats(BaseModel):
    """Mean and standard deviation of a regressor's validation predictions (log return)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    mean: float
    std: float


class Thresholds(BaseModel):
    """The quantile rule's score thresholds and where they came from (``config`` or
    ``validation quantiles``)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    enter: float
    exit: float
    source: str


class Calibration(BaseModel):
    """Per-symbol blend constants, fitted by training and stored in the manifest.

    ``prediction_stats`` maps each regressor to the mean and std of its validation
    predictions (label units); ``edge_map`` maps the score to the log return it earned
    over the label horizon on validation (the edge rule decides by it; every rule
    reports it as the expected edge); ``thresholds`` (score units) exist for the
    quantile rule only; ``validation_score_quantiles`` describe the score's
    distribution on validation.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    prediction_stats: dict[str, PredictionStats]
    validation_score_quantiles: dict[str, float]
    edge_map: EdgeMap
    thresholds: Thresholds | None = None

    @model_validator(mode="before")
    @classmethod
    def _flat_thresholds(cls, data: Any) -> Any:
        """Manifests written before the rules were apart held flat threshold keys."""
        if isinstance(data, dict) and "enter_threshold" in data:
            data = dict(data)
            data["thresholds"] = {
                "enter": data.pop("enter_threshold"),
                "exit": data.pop("exit_threshold"),
                "source": data.pop("threshold_source"),
            }
        return data

    def rule(self, config: Config) -> DecisionRule:
        """The configured decision rule (``blend.rule``) with this calibration; the edge
        rule shorts where ``trading.allow_short`` (the quantile rule stays long/flat).

        Raises
        ------
        ConfigError
            If the quantile rule has no thresholds: neither in ``blend`` nor in this
            calibration (fitted under the edge rule).
        """
        blend = config.blend
        if isinstance(blend, QuantileBlend):
            enter = blend.enter_threshold
            exit_ = blend.exit_threshold
            if self.thresholds is not None:
                enter = self.thresholds.enter if enter is None else enter
                exit_ = self.thresholds.exit if exit_ is None else exit_
            if enter is None or exit_ is None:
                raise ConfigError(
                    "this model set was calibrated for blend.rule edge and has no score "
                    "thresholds: set blend.enter_threshold and blend.exit_threshold, or "
                    "retrain it with blend.rule=quantile"
                )
            return ThresholdRule(enter, exit_)
        return EdgeRule(
            self.edge_map,
            round_trip_cost(config) * blend.cost_multiple,
            config.min_hold_bars,
            blend.exit_edge,
            short=config.trading.allow_short,
        )

    def signals(
        self,
        regressors: Mapping[str, np.ndarray],
        policies: Mapping[str, np.ndarray],
        long: np.ndarray | bool,
    ) -> dict[str, np.ndarray]:
        """The models' raw outputs as signals in [-1, 1], each of shape (n,).

        ``regressors`` maps a model to its predicted labels (n,) (standardised by its
        prediction statistics, :func:`regressor_signal`); ``policies`` a model to its
        action probabilities (n, N_ACTIONS) (:func:`ppo_signal`); ``long`` (shape (n,) or
        scalar) is the position a policy was queried with. A model not given (not in
        the set, or not asked) has no signal.

        Raises
        ------
        KeyError
            If a regressor's output is given but the calibration has no statistics
            for it (it was calibrated without that model).
        """
        stats = self.prediction_stats
        out = {
            name: regressor_signal(pred, stats[name].mean, stats[name].std)
            for name, pred in regressors.items()
        }
        out.update({name: ppo_signal(proba, long) for name, proba in policies.items()})
        return out


def calibrate(
    regressors: Mapping[str, np.ndarray],
    policies: Mapping[str, tuple[np.ndarray, np.ndarray]],
    forward_return: np.ndarray,
    config: BlendConfig,
) -> Calibration:
    """Calibration from validation outputs: prediction stats, score thresholds and the
    edge map (:func:`~kilo.blend.edge.fit_edge_map` of ``forward_return`` on the score).

    Parameters
    ----------
    regressors
        Model -> validation predictions, shape (n,), label units (the models the set
        holds).
    policies
        Model -> (validation action probabilities of shape (n, N_ACTIONS), queried along the
        policy's own simulated path; shape (n,), bool, its position on that path when
        it was queried); empty for a blend of the regressors alone.
    forward_return
        Shape (n,): log return over the label horizon after each validation bar.

    Raises
    ------
    ValueError
        Under the quantile rule, if the enter threshold would not exceed the exit
        threshold.
    """
    stats = {
        name: PredictionStats(mean=float(np.nanmean(p)), std=float(np.nanstd(p)))
        for name, p in regressors.items()
    }
    draft = Calibration(
        prediction_stats=stats, validation_score_quantiles={}, edge_map=EdgeMap(x=[0.0], y=[0.0])
    )
    signals = draft.signals(regressors, {}, False)
    signals.update({name: ppo_signal(proba, long) for name, (proba, long) in policies.items()})
    score, _ = blend(signals, config.weights)
    levels = (0.05, 0.1, 0.25, 0.4, 0.5, 0.6, 0.7, 0.75, 0.9, 0.95)
    quantiles = {f"q{round(q * 100):02d}": float(np.nanquantile(score, q)) for q in levels}
    return Calibration(
        prediction_stats=stats,
        validation_score_quantiles=quantiles,
        edge_map=fit_edge_map(score, forward_return),
        thresholds=_thresholds(score, config) if isinstance(config, QuantileBlend) else None,
    )


def _thresholds(score: np.ndarray, config: QuantileBlend) -> Thresholds:
    """The quantile rule's thresholds: the config's where set, else validation quantiles.

    Raises
    ------
    ValueError
        If the enter threshold would not exceed the exit threshold.
    """
    enter, exit_ = config.enter_threshold, config.exit_threshold
    source = "config" if enter is not None and exit_ is not None else "validation quantiles"
    if enter is None:
        enter = float(np.nanquantile(score, config.enter_quantile))
    if exit_ is None:
        exit_ = float(np.nanquantile(score, config.exit_quantile))
    if exit_ > enter:
        raise ValueError(
            f"exit threshold {exit_:.4f} is above the enter threshold {enter:.4f}; "
            "check blend.enter_* and blend.exit_* in the config"
        )
    return Thresholds(enter=float(enter), exit=float(exit_), source=source)

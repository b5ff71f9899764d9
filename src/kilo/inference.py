"""Inference: a loaded model set's raw outputs per bar, and the blended prediction record.

Sits between the registry (which loads model sets) and trading (which acts on
predictions). The portfolio state goes in, because the PPO policy observes its own
position; model outputs, signals and the blend score come out.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

import numpy as np

from kilo.blend import Calibration, blend
from kilo.models.gru import PREDICT_BATCH, GRURegressor
from kilo.models.lightgbm import LightGBMRegressor
from kilo.rl import PPOAgent, build_observations


class Predictors(Protocol):
    """The fitted models, as a :class:`~kilo.registry.ModelSet` holds them (None for a
    kind not held)."""

    @property
    def gru(self) -> GRURegressor | None: ...

    @property
    def lightgbm(self) -> LightGBMRegressor | None: ...

    @property
    def ppo(self) -> PPOAgent | None: ...


@dataclass(frozen=True)
class FittedModels:
    """Fitted models not yet saved as a model set: the evaluation's controls use the
    regressors alone (``ppo`` None)."""

    gru: GRURegressor | None
    lightgbm: LightGBMRegressor | None
    ppo: PPOAgent | None


def _regressor_context(models: Predictors, names: tuple[str, ...]) -> int:
    """Feature rows the regressors ``names`` need before their first prediction."""
    if "gru" in names and models.gru is not None:
        return models.gru.params.sequence_length - 1
    return 0


def context_rows(models: Predictors) -> int:
    """Feature rows needed before the first predicted bar: the GRU's sequence, and PPO's
    observation window (of the models held) after the context of the forecasts it
    observes (none with features), minus one."""
    regressors = _regressor_context(models, ("gru",))
    if models.ppo is None:
        return regressors
    window = models.ppo.params.window - 1
    return max(regressors, window + _regressor_context(models, models.ppo.spec_.forecasts))


def _policy(models: Predictors) -> PPOAgent:
    if models.ppo is None:
        raise ValueError("these models have no PPO agent to ask")
    return models.ppo


@dataclass(frozen=True)
class PortfolioState:
    """What the PPO agent sees of its own position (see :class:`~kilo.rl.TradingEnv`).

    ``position`` in {-1, 0, 1}; ``unrealised`` the log return since entry;
    ``bars_held`` bars since entry.
    """

    position: float = 0.0
    unrealised: float = 0.0
    bars_held: int = 0


FLAT = PortfolioState()


@dataclass(frozen=True)
class RawOutputs:
    """Raw outputs for n bars: ``gru`` and ``lightgbm`` predicted log returns of shape
    (n,), ``ppo`` action probabilities of shape (n, 3) (order of
    :class:`~kilo.blend.actions.Action`); None for a model not held (or PPO not asked)."""

    gru: np.ndarray | None
    lightgbm: np.ndarray | None
    ppo: np.ndarray | None


@dataclass(frozen=True)
class Prediction:
    """One bar's model outputs, their signals and the blend: what a scorer returns.

    Raw outputs are labels (regressors) and action probabilities (PPO); signals are in
    [-1, 1], ``score`` in [-1, 1] and ``confidence`` in [0, 1] (formulas in
    :mod:`kilo.blend`); ``expected_edge`` is the score's expected log return over the
    label horizon (the calibration's edge map); ``volatility`` the symbol's trailing
    annualised volatility, which sizing reads. Model fields are None for rule-based
    baselines.
    """

    score: float
    confidence: float
    expected_edge: float | None = None
    volatility: float | None = None
    gru_raw: float | None = None
    lightgbm_raw: float | None = None
    ppo_p_hold: float | None = None
    ppo_p_long: float | None = None
    ppo_p_flat: float | None = None
    gru_signal: float | None = None
    lightgbm_signal: float | None = None
    ppo_signal: float | None = None


def ppo_inputs(models: Predictors, X: np.ndarray, n_rows: int) -> np.ndarray:
    """The input rows PPO's window slides over, for the last ``n_rows`` rows of ``X``:
    the feature rows, the forecasts of the regressors it observes (the served models'
    predictions), or both (:meth:`~kilo.rl.observation.ObservationSpec.inputs`).

    Parameters
    ----------
    X
        Array of shape (n, n_features), float32, preprocessed rows; with forecasts the
        observed regressors' context rows come first.

    Returns
    -------
    ndarray of shape (n_rows, n_inputs), float32.

    Raises
    ------
    ValueError
        If ``models`` has no PPO agent, lacks a regressor it observes, or ``X`` has
        too few rows.
    """
    spec = _policy(models).spec_
    forecasts = None
    if spec.kind != "features":
        if len(X) < n_rows + _regressor_context(models, spec.forecasts):
            raise ValueError(f"{len(X)} feature rows are too few for {n_rows} forecasts")
        outputs = regressor_outputs(models, X, n_rows)
        missing = [name for name in spec.forecasts if name not in outputs]
        if missing:
            raise ValueError(f"PPO observes {missing}, which these models do not hold")
        forecasts = np.column_stack([outputs[name] for name in spec.forecasts])
    return spec.inputs(X[len(X) - n_rows :], forecasts)


def ppo_observations(agent: PPOAgent, inputs: np.ndarray, state: PortfolioState) -> np.ndarray:
    """Observations for the last ``len(inputs) - window + 1`` rows of ``inputs``
    (:func:`ppo_inputs`), all with the portfolio ``state``: shape (n_out, obs_dim),
    float32, as the agent's :class:`~kilo.rl.TradingEnv` builds them."""
    w = agent.params.window
    windows = np.lib.stride_tricks.sliding_window_view(inputs, (w, inputs.shape[1]))[:, 0]
    return build_observations(
        windows,
        agent.spec_,
        state.position,
        state.unrealised,
        state.bars_held,
        agent.params.episode_length,
    )


def ppo_proba(models: Predictors, X: np.ndarray, n_out: int, state: PortfolioState) -> np.ndarray:
    """PPO action probabilities for the last ``n_out`` rows of ``X``.

    Parameters
    ----------
    X
        Array of shape (n_rows, n_features), float32, preprocessed rows; needs the
        ``window - 1`` rows before the ``n_out`` predicted ones (and with forecasts the
        observed regressors' context before those).
    state
        The portfolio state shown for every one of the ``n_out`` rows.

    Returns
    -------
    ndarray of shape (n_out, 3), float32, rows summing to 1.

    Raises
    ------
    ValueError
        As :func:`ppo_inputs`.
    """
    ppo = _policy(models)
    inputs = ppo_inputs(models, X, n_out + ppo.params.window - 1)
    return ppo.predict_proba(ppo_observations(ppo, inputs, state))


def regressor_outputs(
    models: Predictors, X: np.ndarray, n_out: int, gru_batch: int = PREDICT_BATCH
) -> dict[str, np.ndarray]:
    """Predicted log returns of shape (n_out,) of each regressor held, by name, for the
    last ``n_out`` rows of ``X`` (the GRU's ``sequence_length - 1`` rows before them
    serve as context)."""
    out = {}
    if models.gru is not None:
        L = models.gru.params.sequence_length
        out["gru"] = models.gru.predict(X[len(X) - n_out - L + 1 :], gru_batch)[L - 1 :]
    if models.lightgbm is not None:
        out["lightgbm"] = models.lightgbm.predict(X[len(X) - n_out :])
    return out


def predict_rows(
    models: Predictors,
    X: np.ndarray,
    n_out: int,
    state: PortfolioState = FLAT,
    *,
    with_ppo: bool = True,
    gru_batch: int = PREDICT_BATCH,
) -> RawOutputs:
    """Outputs of the models held for the last ``n_out`` rows of ``X``.

    Parameters
    ----------
    X
        Array of shape (n_rows, n_features), float32, preprocessed rows ending at the
        last bar to predict; ``n_rows >= n_out + context_rows(models)``.
    state
        The portfolio state shown to PPO for every one of the ``n_out`` bars.
    with_ppo
        False leaves PPO out (``ppo`` is None), for callers that query it per bar;
        a set without PPO has no PPO output either way.
    gru_batch
        Windows per GRU forward pass (:meth:`~kilo.models.gru.GRURegressor.predict`).

    Raises
    ------
    ValueError
        If ``X`` has too few rows.
    """
    needed = n_out + context_rows(models)
    if len(X) < needed:
        raise ValueError(f"need {needed} feature rows, got {len(X)}")
    out = regressor_outputs(models, X, n_out, gru_batch)
    return RawOutputs(
        out.get("gru"),
        out.get("lightgbm"),
        ppo_proba(models, X, n_out, state) if with_ppo and models.ppo is not None else None,
    )


def score_outputs(
    out: RawOutputs,
    calibration: Calibration,
    weights: dict[str, float],
    state: PortfolioState,
    volatility: float | None = None,
) -> Prediction:
    """The first bar of ``out`` as a :class:`Prediction`: signals, score, confidence and
    expected edge.

    ``state`` is the position PPO was queried with; its signal depends on it.
    ``volatility`` (annualised) is passed through for sizing.
    """
    signals = calibration.signals(out.gru, out.lightgbm, out.ppo, state.position > 0)
    score, confidence = blend(signals, weights)
    p_hold, p_long, p_flat = (
        (None, None, None) if out.ppo is None else (float(v) for v in out.ppo[0])
    )
    first = {name: float(np.asarray(s)[0]) for name, s in signals.items()}
    return Prediction(
        score=float(score[0]),
        confidence=float(confidence[0]),
        expected_edge=float(calibration.edge_map(score[0])),
        volatility=volatility,
        gru_raw=None if out.gru is None else float(out.gru[0]),
        lightgbm_raw=None if out.lightgbm is None else float(out.lightgbm[0]),
        ppo_p_hold=p_hold,
        ppo_p_long=p_long,
        ppo_p_flat=p_flat,
        gru_signal=first.get("gru"),
        lightgbm_signal=first.get("lightgbm"),
        ppo_signal=first.get("ppo"),
    )

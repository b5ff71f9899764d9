"""The PPO kind: a policy (:class:`~kilo.rl.PPOAgent` on the :class:`~kilo.rl.TradingEnv`)
over the features, the regressors' forecasts or both (``models.ppo.observation``), fit
once on the training rows (nothing on validation chooses a count for it to reuse); it
trades its own actions and enters the blend as the probability of being long after its
next action. Observing forecasts, it reads the set's served regressors
(:attr:`~kilo.models.kind.ModelKind.bind`), out of fold in training
(:mod:`kilo.models.forecasts`).
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import numpy as np

from kilo.blend.actions import Action
from kilo.config import Config
from kilo.errors import ConfigError, ModelSetError
from kilo.metrics import signal_costs
from kilo.models.forecasts import observation_inputs
from kilo.models.kind import (
    FitData,
    Fitted,
    Forecaster,
    KindReport,
    ModelKind,
    PortfolioState,
    Upstream,
)
from kilo.rl import PolicyEvaluation, PolicyPath, PPOAgent, build_observations
from kilo.rl.agent import MODEL_FILE
from kilo.rl.observation import SPEC_FILE


class PPOReport(KindReport):
    """The policy's own trading over validation and test."""

    validation: PolicyEvaluation
    test: PolicyEvaluation

    @property
    def collapsed(self) -> bool:
        """The policy took one action on validation."""
        return self.validation.collapsed


def segment(
    agent: PPOAgent, data: FitData, inputs: np.ndarray, part: slice
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Input rows (``inputs``: shape (n_rows, n_inputs)), bar returns and bar funding of
    ``part`` with the policy's window of context before."""
    rows = slice(part.start - agent.params.window + 1, part.stop)
    return inputs[rows], data.bar_returns[rows], data.bar_funding[rows]


def fit(
    config: Config,
    data: FitData,
    X: np.ndarray,
    y: np.ndarray,
    progress: bool,
    upstream: Mapping[str, Upstream],
) -> Fitted:
    """Train PPO on the training rows; run its policy over validation and test.

    Observing forecasts, it observes every regressor of ``upstream`` (and is bound to
    their served models). Returns the agent, its path over validation (what the blend
    calibrates on) and its report (both runs summarised); ``y`` is not read (the policy
    learns from returns).
    """
    s = data.split
    agent = PPOAgent(config.models.ppo, seed=config.seed, **signal_costs(config.trading)._asdict())
    observed = {} if config.models.ppo.observation == "features" else dict(upstream)
    spec, inputs, rows = observation_inputs(config, data, X, observed)
    agent.fit(inputs[rows], data.bar_returns[rows], progress, data.bar_funding[rows], spec)
    bind(agent, {name: up.forecaster(up.fitted.model) for name, up in observed.items()})
    segments = {
        name: segment(agent, data, inputs, part)
        for name, part in (("validation", s.val), ("test", s.test))
    }
    path = agent.run(*segments["validation"])
    runs = {
        name: agent.evaluate(X_part, returns, path if name == "validation" else None, funding)
        for name, (X_part, returns, funding) in segments.items()
    }
    return Fitted(agent, path, PPOReport(**runs))


def validate(config: Config, data: FitData, X: np.ndarray, agent: PPOAgent) -> PolicyPath:
    """The fitted policy's own path over ``data.split.val`` (a policy observing features).

    Raises
    ------
    ConfigError
        If it observes forecasts: regressors fit after it would feed it.
    """
    if agent.spec_.kind != "features":
        raise ConfigError(
            f"the PPO agent observes {agent.spec_.kind} of {list(agent.spec_.forecasts)}: "
            "it cannot be reused beside regressors trained after it; retrain the whole set "
            "(--model all)"
        )
    return agent.run(*segment(agent, data, X, data.split.val))


def inputs(agent: PPOAgent, X: np.ndarray, n_rows: int) -> np.ndarray:
    """The rows the policy's window slides over, for the last ``n_rows`` rows of ``X``
    ((n, n_features) preprocessed, the observed regressors' context first): shape
    (n_rows, n_inputs), float32 (:meth:`~kilo.rl.observation.ObservationSpec.inputs`
    of the feature rows and the served regressors' forecasts)."""
    spec = agent.spec_
    forecasts = None
    if spec.kind != "features":
        forecasts = np.column_stack(
            [agent.forecasters_[name].predict(X, n_rows) for name in spec.forecasts]
        )
    return spec.inputs(X[len(X) - n_rows :], forecasts)


def predict(agent: PPOAgent, X: np.ndarray, n_out: int, state: PortfolioState) -> np.ndarray:
    """Action probabilities (n_out, N_ACTIONS), float32, for the last ``n_out`` rows of ``X``
    ((n_rows, n_features) preprocessed, :func:`context` rows before), each row shown
    ``state``; the observations are the env's (:func:`~kilo.rl.build_observations`)."""
    w = agent.params.window
    rows = inputs(agent, X, n_out + w - 1)
    windows = np.lib.stride_tricks.sliding_window_view(rows, (w, rows.shape[1]))[:, 0]
    obs = build_observations(
        windows,
        agent.spec_,
        state.position,
        state.unrealised,
        state.bars_held,
        agent.params.episode_length,
    )
    return agent.predict_proba(obs)


def context(agent: PPOAgent) -> int:
    """Feature rows before the first predicted row: the window's, after the observed
    regressors' own context."""
    reads = [agent.forecasters_[name].context for name in agent.spec_.forecasts]
    return agent.params.window - 1 + max(reads, default=0)


def bind(agent: PPOAgent, forecasters: Mapping[str, Forecaster]) -> None:
    """Give ``agent`` the served regressors it observes (none with features).

    Raises
    ------
    ModelSetError
        Naming the kinds it observes that ``forecasters`` lacks.
    """
    missing = [name for name in agent.spec_.forecasts if name not in forecasters]
    if missing:
        raise ModelSetError(
            f"the PPO agent observes the forecasts of {missing}, which the set lacks (it "
            f"holds {sorted(forecasters)} besides); retrain the set"
        )
    agent.forecasters_ = {name: forecasters[name] for name in agent.spec_.forecasts}


def fold_timesteps(config: Config) -> int:
    """The timesteps of one evaluation fold: ``models.ppo.total_timesteps``, at most
    ``evaluation.max_ppo_timesteps`` (None: no cap)."""
    cap = config.evaluation.max_ppo_timesteps
    budget = config.models.ppo.total_timesteps
    return budget if cap is None else min(budget, cap)


def load(folder: Path, config: Config) -> PPOAgent:
    """The saved agent of ``folder`` with the costs and seed it was trained with."""
    return PPOAgent.load(
        folder, config.models.ppo, seed=config.seed, **signal_costs(config.trading)._asdict()
    )


KIND = ModelKind(
    name="ppo",
    label="PPO",
    signal="policy",
    report=PPOReport,
    fit=fit,
    validate=validate,
    predict=predict,
    context=context,
    config_context=lambda config: config.models.ppo.window - 1,
    load=load,
    files=(MODEL_FILE, SPEC_FILE),
    columns=("ppo_p_hold", "ppo_p_long", "ppo_p_flat", "ppo_p_short"),
    monitored=int(Action.LONG),
    as_outputs=lambda path: (path.proba, path.long),
    shorts=lambda agent: bool(agent.params.allow_short),
    fold_overrides=lambda config: {"models.ppo.total_timesteps": fold_timesteps(config)},
    timesteps=fold_timesteps,
    packages=("torch", "stable-baselines3", "gymnasium"),
    observes=lambda config: config.models.ppo.observation != "features",
    bind=bind,
)

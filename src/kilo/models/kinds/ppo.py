"""The PPO kind: a policy over the features (:class:`~kilo.rl.PPOAgent` on the
:class:`~kilo.rl.TradingEnv`), fit once on the training rows (nothing on validation
chooses a count for it to reuse); it trades its own actions and enters the blend as
the probability of being long after its next action."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from kilo.blend.actions import Action
from kilo.config import Config
from kilo.metrics import signal_costs
from kilo.models.kind import FitData, Fitted, KindReport, ModelKind, PortfolioState
from kilo.rl import PolicyEvaluation, PolicyPath, PPOAgent
from kilo.rl.agent import MODEL_FILE
from kilo.rl.env import build_observations


class PPOReport(KindReport):
    """The policy's own trading over validation and test."""

    validation: PolicyEvaluation
    test: PolicyEvaluation

    @property
    def collapsed(self) -> bool:
        """The policy took one action on validation."""
        return self.validation.collapsed


def segment(
    agent: PPOAgent, data: FitData, X: np.ndarray, part: slice
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Feature rows, bar returns and bar funding of ``part`` with the policy's window of
    context before."""
    rows = slice(part.start - agent.params.window + 1, part.stop)
    return X[rows], data.bar_returns[rows], data.bar_funding[rows]


def fit(config: Config, data: FitData, X: np.ndarray, y: np.ndarray, progress: bool) -> Fitted:
    """Train PPO on the training rows; run its policy over validation and test.

    Returns the agent, its path over validation (what the blend calibrates on) and its
    report (both runs summarised); ``y`` is not read (the policy learns from returns).
    """
    p, s = config.models.ppo, data.split
    agent = PPOAgent(p, seed=config.seed, **signal_costs(config.trading)._asdict())
    agent.fit(X[s.train], data.bar_returns[s.train], progress, data.bar_funding[s.train])
    segments = {
        name: segment(agent, data, X, part)
        for name, part in (("validation", s.val), ("test", s.test))
    }
    path = agent.run(*segments["validation"])
    runs = {
        name: agent.evaluate(X_part, returns, path if name == "validation" else None, funding)
        for name, (X_part, returns, funding) in segments.items()
    }
    return Fitted(agent, path, PPOReport(**runs))


def validate(config: Config, data: FitData, X: np.ndarray, agent: PPOAgent) -> PolicyPath:
    """The fitted policy's own path over ``data.split.val``."""
    return agent.run(*segment(agent, data, X, data.split.val))


def predict(agent: PPOAgent, X: np.ndarray, n_out: int, state: PortfolioState) -> np.ndarray:
    """Action probabilities (n_out, 3), float32, for the last ``n_out`` rows of ``X``
    ((n_rows, n_features) preprocessed, ``window - 1`` rows of context before), each
    row shown ``state``."""
    w = agent.params.window
    windows = np.lib.stride_tricks.sliding_window_view(
        X[len(X) - n_out - w + 1 :], (w, X.shape[1])
    )[:, 0]
    obs = build_observations(
        windows, state.position, state.unrealised, state.bars_held, agent.params.episode_length
    )
    return agent.predict_proba(obs)


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
    context=lambda agent: agent.params.window - 1,
    config_context=lambda config: config.models.ppo.window - 1,
    load=load,
    files=(MODEL_FILE,),
    columns=("ppo_p_hold", "ppo_p_long", "ppo_p_flat"),
    monitored=int(Action.LONG),
    as_outputs=lambda path: (path.proba, path.long),
    shorts=lambda agent: bool(agent.params.allow_short),
    fold_overrides=lambda config: {"models.ppo.total_timesteps": fold_timesteps(config)},
    timesteps=fold_timesteps,
    packages=("torch", "stable-baselines3", "gymnasium"),
)

"""PPO agent (stable-baselines3) trained on :class:`~kilo.rl.env.TradingEnv`."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

import numpy as np
import torch
from pydantic import BaseModel, ConfigDict
from stable_baselines3 import PPO
from stable_baselines3.common.callbacks import BaseCallback
from stable_baselines3.common.logger import Logger
from stable_baselines3.common.vec_env import DummyVecEnv
from tqdm.auto import tqdm

from kilo.blend.actions import ACTION_NAMES, N_ACTIONS, n_actions
from kilo.config import PPOConfig
from kilo.errors import UNREADABLE_FILE_ERRORS, ModelSetError
from kilo.rl.env import TradingEnv
from kilo.rl.observation import FEATURES, ObservationSpec
from kilo.runtime import limit_threads

#: What loading a damaged file raises (other errors propagate):
#: torch raises RuntimeError for tensors of another shape.
LOAD_ERRORS: tuple[type[Exception], ...] = (*UNREADABLE_FILE_ERRORS, RuntimeError)

logger = logging.getLogger(__name__)

MODEL_FILE = "ppo.zip"
COLLAPSE_SHARE = 0.95


@dataclass(frozen=True)
class PolicyPath:
    """The policy run deterministically over a segment, starting flat.

    Attributes
    ----------
    actions : ndarray (n,), int, the argmax action at each step (SB3's deterministic one)
    proba : ndarray (n, N_ACTIONS), float32, action probabilities queried at each step
    long : ndarray (n,), bool, whether the position was long when queried
    rewards : ndarray (n,), float64, log returns after costs (:class:`TradingEnv`'s
        ``last_log_return``, whatever the training reward)
    """

    actions: np.ndarray
    proba: np.ndarray
    long: np.ndarray
    rewards: np.ndarray


class PolicyEvaluation(BaseModel):
    """A deterministic run of the policy over a segment (see :meth:`PPOAgent.evaluate`).

    ``net_log_return`` is the sum of rewards (log returns after costs);
    ``buy_and_hold_log_return`` the segment's log return; ``collapsed`` is True when one
    action took more than 95 % of the steps.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    action_counts: dict[str, int]
    n_steps: int
    net_log_return: float
    buy_and_hold_log_return: float
    collapsed: bool


class _TqdmCallback(BaseCallback):
    """A tqdm bar over timesteps, advanced once per rollout."""

    def __init__(self, total: int, enabled: bool) -> None:
        super().__init__()
        self.bar = tqdm(total=total, desc="PPO", unit="step", disable=not enabled, leave=False)

    def _on_step(self) -> bool:
        return True

    def _on_rollout_end(self) -> None:
        self.bar.update(self.num_timesteps - self.bar.n)

    def _on_training_end(self) -> None:
        self.bar.close()


class PPOAgent:
    """Train, query, save and load a stable-baselines3 ``PPO("MlpPolicy")`` policy.

    Parameters
    ----------
    params
        The ``models.ppo`` config section.
    seed
        Passed to ``PPO(seed=...)``, which seeds the env's ``np_random`` and torch.
    fee, slippage
        The trading cost fractions, the same the paper trader charges.

    Attributes
    ----------
    spec_ : the :class:`~kilo.rl.observation.ObservationSpec` the policy was fit with
        (features until :meth:`fit` or :meth:`load` says otherwise)
    forecasters_ : name -> the served regressor (:class:`~kilo.models.kind.Forecaster`)
        of each forecast it observes, given by the model set (empty with features)
    """

    def __init__(self, params: PPOConfig, *, seed: int, fee: float, slippage: float) -> None:
        self.params = params
        self.seed = seed
        self.fee = fee
        self.slippage = slippage
        self.model_: PPO | None = None
        self.spec_: ObservationSpec = FEATURES
        self.forecasters_: dict[str, Any] = {}

    def make_env(
        self, inputs: np.ndarray, log_returns: np.ndarray, funding: np.ndarray | None = None
    ) -> TradingEnv:
        """A :class:`TradingEnv` with this agent's window, episode length, costs, reward
        and observation spec."""
        p = self.params
        return TradingEnv(
            inputs,
            log_returns,
            window=p.window,
            episode_length=p.episode_length,
            fee=self.fee,
            slippage=self.slippage,
            funding=funding,
            allow_short=bool(p.allow_short),
            spec=self.spec_,
            reward=p.reward,
            sharpe_eta=p.sharpe_eta,
        )

    def fit(
        self,
        inputs: np.ndarray,
        log_returns: np.ndarray,
        progress: bool = True,
        funding: np.ndarray | None = None,
        spec: ObservationSpec = FEATURES,
    ) -> PPOAgent:
        """Learn for ``total_timesteps`` on random episodes of the given (training) rows.

        With ``n_envs`` > 1, that many environments over the same rows step together
        (stable-baselines3's ``DummyVecEnv``; SB3 seeds them ``seed``, ``seed + 1``, ...,
        so their episodes start at different bars); each collects ``n_steps / n_envs``
        transitions per rollout, so rollouts, batches and the total stay the same.

        Parameters
        ----------
        inputs
            Array of shape (n_rows, n_inputs), float32: ``spec.inputs`` of the training
            rows (the preprocessed feature rows with the features spec).
        log_returns
            Array of shape (n_rows,), ``log(close[t + 1] / close[t])``.
        funding
            Array of shape (n_rows,), the funding rate a long held over each bar pays
            (futures); None: none.
        spec
            The observation, kept as ``spec_``.

        Raises
        ------
        ValueError
            If ``spec`` is not of the kind ``params.observation`` names.
        """
        p = self.params
        if spec.kind != p.observation:
            raise ValueError(
                f"an observation of {spec.kind} for models.ppo.observation {p.observation}"
            )
        self.spec_ = spec
        env = (
            self.make_env(inputs, log_returns, funding)
            if p.n_envs == 1
            else DummyVecEnv([lambda: self.make_env(inputs, log_returns, funding)] * p.n_envs)
        )
        with limit_threads(1):  # SB3's advice for MlpPolicy on CPU
            self.model_ = PPO(
                "MlpPolicy",
                env,
                n_steps=p.n_steps // p.n_envs,
                batch_size=p.batch_size,
                n_epochs=p.n_epochs,
                learning_rate=p.learning_rate,
                gamma=p.gamma,
                ent_coef=p.ent_coef,
                seed=self.seed,
                device="cpu",
                verbose=0,
            )
            # SB3's default logger makes an empty tempdir/SB3-<time> folder per learn()
            self.model_.set_logger(Logger(folder=None, output_formats=[]))
            self.model_.learn(
                p.total_timesteps, callback=_TqdmCallback(p.total_timesteps, progress)
            )
        return self

    def _check(self) -> PPO:
        if self.model_ is None:
            raise RuntimeError("PPOAgent is not fitted; call fit() or load() first")
        return self.model_

    @torch.no_grad()
    def predict_proba(self, obs: np.ndarray) -> np.ndarray:
        """Action probabilities from the policy's distribution.

        The actor's logits go through the same two steps as SB3's
        ``policy.get_distribution(obs).distribution.probs`` (torch's ``Categorical``:
        logits less their logsumexp, then softmax), so the values are the same, without
        building a distribution object per call (the policy runs bar by bar).

        Parameters
        ----------
        obs
            Array of shape (n, obs_dim) or (obs_dim,), float32.

        Returns
        -------
        ndarray of shape (n, :data:`~kilo.blend.actions.N_ACTIONS`), float32, rows sum
        to 1: P(hold), P(long), P(flat), P(short) (0 where the agent may not short).
        """
        policy = self._check().policy
        tensor = torch.as_tensor(np.asarray(obs, dtype=np.float32)).reshape(
            -1, int(np.prod(policy.observation_space.shape or ()))
        )
        # one tensor: MlpPolicy shares its feature extractor (SB3's default)
        features = cast(torch.Tensor, policy.extract_features(tensor, policy.pi_features_extractor))
        logits = policy.action_net(policy.mlp_extractor.forward_actor(features))
        probs = torch.softmax(logits - logits.logsumexp(dim=-1, keepdim=True), dim=-1)
        out = np.zeros((len(probs), N_ACTIONS), dtype=np.float32)
        out[:, : probs.shape[1]] = probs.numpy()
        return out

    def run(
        self, inputs: np.ndarray, log_returns: np.ndarray, funding: np.ndarray | None = None
    ) -> PolicyPath:
        """Run the policy deterministically over every bar of a segment, starting flat.

        The first ``window - 1`` rows serve as context only, so the path covers the
        ``n_rows - window`` bars after them (the last row has no next-bar return).

        Parameters
        ----------
        inputs
            Array of shape (n_rows, n_inputs), float32, ``spec_.inputs`` of the rows.
        log_returns
            Array of shape (n_rows,), ``log(close[t + 1] / close[t])``.
        funding
            As :meth:`fit`'s: the rewards are net of it.
        """
        self._check()
        env = self.make_env(inputs, log_returns, funding)
        start = self.params.window - 1
        length = env.n_rows - 1 - start
        obs, _ = env.reset(options={"start": start, "length": length})
        state = env.observation_dim - self.spec_.n_state  # the position's index
        actions = np.empty(length, dtype=np.int64)
        proba = np.empty((length, N_ACTIONS), dtype=np.float32)
        long = np.empty(length, dtype=bool)
        rewards = np.empty(length, dtype=np.float64)
        with limit_threads(1):  # SB3's advice for MlpPolicy on CPU
            for i in range(length):
                long[i] = obs[state] > 0
                proba[i] = self.predict_proba(obs)[0]
                actions[i] = int(proba[i].argmax())
                obs, _, _, _, _ = env.step(int(actions[i]))
                rewards[i] = env.last_log_return
        return PolicyPath(actions, proba, long, rewards)

    def evaluate(
        self,
        inputs: np.ndarray,
        log_returns: np.ndarray,
        path: PolicyPath | None = None,
        funding: np.ndarray | None = None,
    ) -> PolicyEvaluation:
        """Summarise :meth:`run` over a segment (``path`` if already run on it; the
        net log return is net of ``funding`` too).

        Returns
        -------
        PolicyEvaluation; a collapse (one action above 95 % of steps) is also logged.
        """
        path = path or self.run(inputs, log_returns, funding)
        length = len(path.actions)
        counts = np.bincount(path.actions, minlength=n_actions(bool(self.params.allow_short)))
        collapsed = bool(counts.max() > COLLAPSE_SHARE * length)
        if collapsed:
            logger.warning(
                "PPO policy collapsed: %s of %d steps are %r",
                counts.max(),
                length,
                ACTION_NAMES[int(counts.argmax())],
            )
        start = self.params.window - 1
        return PolicyEvaluation(
            action_counts=dict(zip(ACTION_NAMES, counts.tolist(), strict=False)),
            n_steps=int(length),
            net_log_return=float(path.rewards.sum()),
            buy_and_hold_log_return=float(np.sum(log_returns[start : start + length])),
            collapsed=collapsed,
        )

    def save(self, folder: Path) -> list[str]:
        """Write the stable-baselines3 zip and the observation spec; return the file
        names."""
        self._check().save(Path(folder) / MODEL_FILE)
        return [MODEL_FILE, *self.spec_.save(folder)]

    @classmethod
    def load(
        cls, folder: Path, params: PPOConfig, *, seed: int, fee: float, slippage: float
    ) -> PPOAgent:
        """Read the zip written by :meth:`save` (on the CPU), and with forecasts the
        observation spec; a set saved before forecasts existed observes features.

        Raises
        ------
        ModelSetError
            If a file is missing, not a PPO zip or not an observation spec, or its
            action space is not the one ``params.allow_short`` asks for (a policy that
            may short, saved before short venues had a flat action, whose action 2
            meant short).
        """
        path = Path(folder) / MODEL_FILE
        agent = cls(params, seed=seed, fee=fee, slippage=slippage)
        agent.spec_ = ObservationSpec.load(folder, params.observation)
        try:
            agent.model_ = PPO.load(path, device="cpu")
        except LOAD_ERRORS as exc:
            raise ModelSetError(f"{path}: cannot load the PPO agent ({exc})") from exc
        found = int(getattr(agent.model_.action_space, "n", 0))
        expected = n_actions(bool(params.allow_short))
        if found != expected:
            raise ModelSetError(
                f"{path}: the PPO agent has {found} actions where models.ppo.allow_short "
                f"{params.allow_short} means {expected} (hold, long, flat, and short where "
                "shorts are allowed); a policy that may short saved before the flat action "
                "existed read action 2 as short: retrain the set"
            )
        return agent

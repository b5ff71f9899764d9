"""Reinforcement learning: the gymnasium trading environment and the PPO agent
(stable-baselines3). Beside :mod:`kilo.models`, below the registry."""

from kilo.rl.agent import PolicyEvaluation, PolicyPath, PPOAgent
from kilo.rl.env import TradingEnv
from kilo.rl.observation import ObservationSpec, build_observations

__all__ = [
    "ObservationSpec",
    "PPOAgent",
    "PolicyEvaluation",
    "PolicyPath",
    "TradingEnv",
    "build_observations",
]

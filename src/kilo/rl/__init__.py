"""Reinforcement learning: the trading environment and the PPO agent."""

from kilo.rl.agent import PolicyEvaluation, PPOAgent
from kilo.rl.env import TradingEnv

__all__ = ["PPOAgent", "PolicyEvaluation", "TradingEnv"]

"""Fit the PPO agent on a dataset's training rows and run it over validation and test.

PPO is fit once on the training rows: nothing on validation chooses a count for it to
reuse. What it observes is ``models.ppo.observation``
(:func:`~kilo.training.forecasts.observation_inputs`).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from kilo.config import Config
from kilo.metrics import signal_costs
from kilo.registry.manifest import PPOReport
from kilo.rl import PolicyPath, PPOAgent
from kilo.training.dataset import Dataset
from kilo.training.forecasts import observation_inputs


def ppo_segment(
    agent: PPOAgent, data: Dataset, inputs: np.ndarray, part: slice
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Input rows (``inputs``: shape (n_rows, n_inputs)), bar returns and bar funding of
    ``part`` with the policy's window of context before."""
    rows = slice(part.start - agent.params.window + 1, part.stop)
    return inputs[rows], data.bar_returns[rows], data.bar_funding[rows]


def fit_ppo(
    config: Config,
    data: Dataset,
    X: np.ndarray,
    progress: bool,
    served: Mapping[str, Any] | None = None,
    trained: Mapping[str, Any] | None = None,
) -> tuple[PPOAgent, PolicyPath, PPOReport]:
    """Train PPO on the training rows; run its policy over validation and test.

    Parameters
    ----------
    X
        Array of shape (n_rows, n_features), float32, preprocessed rows.
    served, trained
        With forecasts (``models.ppo.observation``), the regressors PPO observes by
        name, as served and as fit on the training rows alone
        (:func:`~kilo.training.forecasts.forecast_matrix`); ignored with features.

    Returns
    -------
    The agent, its path over validation (what the blend calibrates on) and its report
    (both runs summarised).
    """
    s = data.split
    agent = PPOAgent(config.models.ppo, seed=config.seed, **signal_costs(config.trading)._asdict())
    spec, inputs, rows = observation_inputs(config, data, X, served or {}, trained or {})
    agent.fit(inputs[rows], data.bar_returns[rows], progress, data.bar_funding[rows], spec)
    segments = {
        name: ppo_segment(agent, data, inputs, part)
        for name, part in (("validation", s.val), ("test", s.test))
    }
    path = agent.run(*segments["validation"])
    runs = {
        name: agent.evaluate(X_part, returns, path if name == "validation" else None, funding)
        for name, (X_part, returns, funding) in segments.items()
    }
    return agent, path, PPOReport(**runs)

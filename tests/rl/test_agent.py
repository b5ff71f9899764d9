"""The PPO agent's deterministic path: what calibration and the manifest are built on."""

from __future__ import annotations

import tempfile

import numpy as np
import pytest

from kilo.blend.actions import N_ACTIONS, Action
from kilo.config import PPOConfig
from kilo.rl import PPOAgent

PARAMS = PPOConfig(
    total_timesteps=512, n_steps=256, batch_size=64, n_epochs=1, window=3, episode_length=64
)


@pytest.fixture(scope="module")
def agent_and_data() -> tuple[PPOAgent, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    features = rng.normal(size=(400, 4)).astype(np.float32)
    returns = rng.normal(0, 0.01, 400)
    agent = PPOAgent(PARAMS, seed=1, fee=0.001, slippage=0.0005).fit(
        features, returns, progress=False
    )
    return agent, features, returns


def test_path_is_the_policy_acting_on_its_own_positions(agent_and_data) -> None:
    agent, features, returns = agent_and_data
    path = agent.run(features, returns)
    n = len(features) - PARAMS.window
    assert path.actions.shape == path.long.shape == path.rewards.shape == (n,)
    np.testing.assert_array_equal(path.actions, path.proba.argmax(axis=1))
    np.testing.assert_allclose(path.proba.sum(axis=1), 1.0, rtol=1e-5)
    assert not path.long[0]  # starts flat
    for i in range(n - 1):  # the position follows the actions (HOLD keeps it)
        expected = path.actions[i] == Action.LONG or (
            path.actions[i] == Action.HOLD and path.long[i]
        )
        assert path.long[i + 1] == expected
    env = agent.make_env(features, returns)
    obs, _ = env.reset(options={"start": PARAMS.window - 1, "length": n})
    for action in path.actions[:50]:  # SB3's own deterministic action agrees
        assert int(agent.model_.predict(obs, deterministic=True)[0]) == action
        obs, *_ = env.step(int(action))


def test_evaluate_summarises_the_path(agent_and_data) -> None:
    agent, features, returns = agent_and_data
    path = agent.run(features, returns)
    report = agent.evaluate(features, returns, path)
    assert sum(report.action_counts.values()) == report.n_steps == len(path.actions)
    assert report.net_log_return == pytest.approx(path.rewards.sum())
    assert report.buy_and_hold_log_return == pytest.approx(
        returns[PARAMS.window - 1 : PARAMS.window - 1 + report.n_steps].sum()
    )
    assert agent.evaluate(features, returns) == report  # deterministic


def test_vectorised_envs_keep_the_budget_and_the_contract(tmp_path) -> None:
    rng = np.random.default_rng(0)
    features = rng.normal(size=(400, 4)).astype(np.float32)
    returns = rng.normal(0, 0.01, 400)
    params = PPOConfig(**{**PARAMS.model_dump(), "n_envs": 4})
    agent = PPOAgent(params, seed=1, fee=0.001, slippage=0.0005).fit(
        features, returns, progress=False
    )
    model = agent.model_
    assert model.n_envs == 4 and model.n_steps == PARAMS.n_steps // 4
    assert model.num_timesteps == PARAMS.total_timesteps  # 2 rollouts of 4 x 64 steps
    path = agent.run(features, returns)  # one env again: the same observation contract
    assert path.proba.shape == (len(features) - PARAMS.window, N_ACTIONS)
    assert (path.proba[:, Action.SHORT] == 0).all()  # a long-only agent
    with pytest.raises(ValueError, match="multiple of n_envs"):
        PPOConfig(n_steps=100, n_envs=3)


def test_fitting_leaves_no_log_folder(tmp_path, monkeypatch) -> None:
    """SB3's default logger makes an empty tempdir/SB3-<time> folder per learn() call."""
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    rng = np.random.default_rng(0)
    features = rng.normal(size=(300, 4)).astype(np.float32)
    params = PPOConfig(**{**PARAMS.model_dump(), "total_timesteps": 256})
    PPOAgent(params, seed=1, fee=0.001, slippage=0.0005).fit(
        features, rng.normal(0, 0.01, 300), progress=False
    )
    # torch may put its inductor cache there on a worker's first import: only SB3's counts
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith("SB3")] == []


def test_a_short_agent_has_four_actions_and_a_policy_of_another_space_is_refused(
    agent_and_data, tmp_path
) -> None:
    """With shorts the policy picks among hold, long, flat and short, its path follows
    them; a saved policy loads only under the ``allow_short`` of its action space (a
    policy that may short, saved when action 2 meant short, is refused)."""
    from kilo.errors import ModelSetError

    spot, features, returns = agent_and_data
    params = PPOConfig(**{**PARAMS.model_dump(), "allow_short": True})
    agent = PPOAgent(params, seed=1, fee=0.001, slippage=0.0005).fit(
        features, returns, progress=False
    )
    path = agent.run(features, returns)
    assert agent.model_.action_space.n == N_ACTIONS and path.proba.shape[1] == N_ACTIONS
    assert (path.proba[:, Action.SHORT] > 0).all()
    assert set(agent.evaluate(features, returns, path).action_counts) == {
        "hold",
        "long",
        "flat",
        "short",
    }
    for saved, other in ((agent, PARAMS), (spot, params)):
        folder = tmp_path / f"{saved.model_.action_space.n}"
        folder.mkdir()
        saved.save(folder)
        PPOAgent.load(folder, saved.params, seed=1, fee=0.001, slippage=0.0005)
        with pytest.raises(ModelSetError, match="actions where models.ppo.allow_short"):
            PPOAgent.load(folder, other, seed=1, fee=0.001, slippage=0.0005)

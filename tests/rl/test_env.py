from __future__ import annotations

import math

import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env

from kilo.rl.env import TradingEnv

FEE, SLIP = 0.001, 0.0005


N = 300
RNG = np.random.default_rng(0)
FEATURES = RNG.normal(size=(N, 5)).astype(np.float32)
RETURNS = RNG.normal(0, 0.01, N)


def make_env(allow_short: bool = False, window: int = 4) -> TradingEnv:
    return TradingEnv(
        FEATURES,
        RETURNS,
        window=window,
        episode_length=50,
        fee=FEE,
        slippage=SLIP,
        allow_short=allow_short,
    )


def start_row(obs: np.ndarray, window: int = 4) -> int:
    """The bar an observation was taken at, found from its window of feature rows."""
    rows = np.lib.stride_tricks.sliding_window_view(FEATURES, (window, FEATURES.shape[1]))[:, 0]
    [[match]] = np.nonzero((rows.reshape(len(rows), -1) == obs[:-3]).all(axis=1))
    return int(match) + window - 1


@pytest.mark.parametrize("allow_short", [False, True])
def test_check_env_passes(allow_short: bool) -> None:
    check_env(make_env(allow_short=allow_short), skip_render_check=True)


def test_rewards_and_costs_by_hand() -> None:
    env = make_env()
    r = RETURNS
    obs, _ = env.reset(options={"start": 10, "length": 5})
    buy = math.log((1 + FEE) * (1 + SLIP))  # the broker's fill: fee on notional, price moved
    sell = -math.log((1 - FEE) * (1 - SLIP))
    _, reward, _, _, _ = env.step(1)  # go long at bar 10
    assert reward == pytest.approx(r[10] - buy, rel=1e-12)
    obs, reward, _, _, _ = env.step(0)  # hold the long
    assert reward == pytest.approx(r[11])
    assert obs[-3] == 1.0 and obs[-2] == pytest.approx(r[10] + r[11], rel=1e-5)
    _, reward, _, _, _ = env.step(2)  # back to flat
    assert reward == pytest.approx(-sell, rel=1e-12)
    _, reward, _, truncated, _ = env.step(2)  # stay flat: no cost
    assert reward == 0.0 and not truncated
    _, _, _, truncated, _ = env.step(0)
    assert truncated


def test_short_reward_is_exact_simple_return() -> None:
    env = make_env(allow_short=True)
    r = RETURNS
    env.reset(options={"start": 20, "length": 3})
    env.step(3)
    _, reward, _, _, _ = env.step(0)
    assert reward == pytest.approx(math.log(2 - math.exp(r[21])))


def test_the_actions_follow_the_venue() -> None:
    """Hold, long and flat on spot; short besides on futures, where every position is
    reachable from every other (a short venue's agent can go flat again)."""
    from kilo.config import Config
    from kilo.rl import PPOAgent

    for market, n in (("spot", 3), ("futures", 4)):
        params = Config().with_overrides([f"trading.market={market}"]).models.ppo
        env = PPOAgent(params, seed=0, fee=FEE, slippage=SLIP).make_env(FEATURES, RETURNS)
        assert env.action_space.n == n and env.allow_short == (market == "futures")
        env.reset(options={"start": 20, "length": 6})
        actions = (1, 2, 3, 2, 1, 3) if n == 4 else (1, 2, 1, 0, 2, 0)
        positions = [env.step(a)[0][-3] for a in actions]
        expected = [1, 0, -1, 0, 1, -1] if n == 4 else [1, 0, 1, 1, 0, 0]
        assert positions == expected


def test_observation_is_the_window_and_state() -> None:
    env = make_env(window=4)
    features = FEATURES
    obs, _ = env.reset(options={"start": 30, "length": 5})
    assert obs.shape == env.observation_space.shape and obs.dtype == np.float32
    np.testing.assert_array_equal(obs[:-3], features[27:31].ravel())
    np.testing.assert_array_equal(obs[-3:], [0, 0, 0])
    obs, *_ = env.step(0)
    np.testing.assert_array_equal(obs[:-3], features[28:32].ravel())


def test_random_episodes_are_seeded_and_in_range() -> None:
    env = make_env()
    starts = []
    for seed in (1, 1, 2):
        obs, _ = env.reset(seed=seed)
        starts.append(start_row(obs))
    assert starts[0] == starts[1] != starts[2]
    assert all(3 <= s <= 299 - 50 for s in starts)


def test_bad_input() -> None:
    with pytest.raises(ValueError, match="finite"):
        TradingEnv(
            np.zeros((20, 2)), np.full(20, np.nan), window=2, episode_length=5, fee=0, slippage=0
        )
    with pytest.raises(ValueError, match="shape"):
        TradingEnv(np.zeros((20, 2)), np.zeros(19), window=2, episode_length=5, fee=0, slippage=0)
    env = make_env()
    with pytest.raises(ValueError, match="outside"):
        env.reset(options={"start": 0, "length": 5})


def test_build_observations_matches_the_env() -> None:
    from kilo.rl.observation import FEATURES as SPEC
    from kilo.rl.observation import build_observations

    env = make_env(window=4)
    features = FEATURES
    env.reset(options={"start": 40, "length": 10})
    env.step(1)
    obs, *_ = env.step(0)  # long since row 40, observing row 42
    unrealised = RETURNS[40] + RETURNS[41]
    built = build_observations(features[None, 39:43], SPEC, 1.0, unrealised, 2, env.episode_length)
    np.testing.assert_allclose(built[0], obs, rtol=1e-6)
    flat = build_observations(features[None, 39:43], SPEC, 0.0, 0.3, 9, env.episode_length)
    np.testing.assert_array_equal(flat[0, -3:], [0, 0, 0])


def _costless_env(funding: np.ndarray) -> TradingEnv:
    return TradingEnv(
        FEATURES,
        RETURNS,
        window=4,
        episode_length=50,
        fee=0,
        slippage=0,
        funding=funding,
        allow_short=True,
    )


def test_a_long_pays_funding_and_a_short_receives_it() -> None:
    funding = np.zeros(N)
    funding[11] = 0.001  # longs pay 0.1 % of notional over bar 11
    env = _costless_env(funding)
    env.reset(options={"start": 10, "length": 4})
    env.step(1)
    _, reward, _, _, _ = env.step(0)  # long over bar 11
    assert reward == pytest.approx(RETURNS[11] + math.log(1 - 0.001), rel=1e-12)
    env.reset(options={"start": 10, "length": 4})
    env.step(3)
    _, reward, _, _, _ = env.step(0)  # short over bar 11
    assert reward == pytest.approx(math.log(2 - math.exp(RETURNS[11])) + math.log(1.001))
    with pytest.raises(ValueError, match="funding"):
        _costless_env(np.full(N, np.nan))


def test_the_differential_sharpe_reward_follows_moody_and_saffell() -> None:
    """Rewards equal eq. 4 of Moody and Saffell (2001) over the net log returns the
    log-return env pays for the same actions, recomputed here from A_0 = 0, B_0 = the
    mean squared bar return; the net returns themselves are unchanged."""
    eta = 0.05
    plain = make_env()
    sharpe = TradingEnv(
        FEATURES,
        RETURNS,
        window=4,
        episode_length=50,
        fee=FEE,
        slippage=SLIP,
        reward="differential_sharpe",
        sharpe_eta=eta,
    )
    actions = [1, 0, 0, 2, 0, 1, 2, 1, 0, 0, 0, 2]
    a, b = 0.0, float(np.mean(RETURNS**2))
    rewards = []
    for env in (plain, sharpe):
        env.reset(options={"start": 10, "length": len(actions)})
    for action in actions:
        _, r, *_ = plain.step(action)
        _, d, *_ = sharpe.step(action)
        assert sharpe.last_log_return == r == plain.last_log_return
        expected = (b * (r - a) - 0.5 * a * (r * r - b)) / (b - a * a) ** 1.5
        assert d == pytest.approx(expected, rel=1e-12)
        a, b = a + eta * (r - a), b + eta * (r * r - b)
        rewards.append((r, d))
    assert all(abs(d) > 10 * abs(r) for r, d in rewards if r != 0)  # another scale


def test_a_forecast_spec_shows_the_round_trip_cost_and_scaled_gains() -> None:
    from kilo.rl.observation import ObservationSpec

    spec = ObservationSpec("forecasts", ("gru",), (1.0,), 0.02, 0.003)
    env = TradingEnv(
        FEATURES[:, :1], RETURNS, window=4, episode_length=50, fee=FEE, slippage=SLIP, spec=spec
    )
    check_env(env, skip_render_check=True)
    env.reset(options={"start": 40, "length": 10})
    env.step(1)
    obs, *_ = env.step(0)
    assert obs.shape == (4 + 4,)
    np.testing.assert_allclose(
        obs[4:], [1.0, (RETURNS[40] + RETURNS[41]) / 0.02, 2 / 50, 0.003 / 0.02], rtol=1e-5
    )

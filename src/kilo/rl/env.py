"""A gymnasium trading environment whose ``step`` is pure numpy on precomputed arrays."""

from __future__ import annotations

from typing import Any, Literal

import gymnasium as gym
import numpy as np

from kilo.blend.actions import N_ACTIONS, TARGETS, n_actions
from kilo.metrics.costs import fill_log_cost, funding_payment
from kilo.rl.observation import FEATURES, ObservationSpec

Reward = Literal["log_return", "differential_sharpe"]
#: :data:`~kilo.blend.actions.TARGETS` by action index, None for hold (a tuple: step()
#: indexes it with the action as it comes, no int() or hashing per step).
_TARGET_BY_ACTION = tuple(TARGETS.get(a) for a in range(N_ACTIONS))


class TradingEnv(gym.Env):
    """One symbol, one position, bar by bar.

    At step ``t`` the agent sees input rows ``t - window + 1 .. t`` (flattened) and
    its portfolio state, and chooses the position held from bar ``t`` to ``t + 1``
    (:class:`~kilo.blend.actions.Action`): 0 hold (keep), 1 long, 2 flat, and with
    ``allow_short`` 3 short. Its net log return over that bar is the change of log
    portfolio value, net of costs and funding::

        r_t = log(1 + p_t * (exp(l_t) - 1)) - c * |p_t - p_{t-1}| + log(1 - p_t * f_t),
        c   = fill_log_cost(fee, slippage, "buy" if p_t > p_{t-1} else "sell")

    with ``l_t`` the bar's log return, ``f_t`` the funding rate a long held over the bar
    pays (:func:`~kilo.metrics.funding_payment` per unit of notional; 0 on spot) and
    ``p_t`` in {-1, 0, 1}; a long earns ``l_t``, a short ``log(2 - exp(l_t))``.
    ``last_log_return`` holds the last step's ``r_t``.

    The reward is ``r_t`` (``reward="log_return"``) or its differential Sharpe ratio
    (``"differential_sharpe"``; Moody and Saffell 2001, "Learning to trade via direct
    reinforcement", IEEE Trans. Neural Networks 12(4), eq. 4)::

        D_t = (B_{t-1} dA_t - 1/2 A_{t-1} dB_t) / (B_{t-1} - A_{t-1}^2)^(3/2),
        dA_t = r_t - A_{t-1},  dB_t = r_t^2 - B_{t-1},
        A_t = A_{t-1} + eta dA_t,  B_t = B_{t-1} + eta dB_t,

    exponential moving averages of ``r`` and ``r^2`` at rate ``eta``, reset each
    episode to ``A_0 = 0`` and ``B_0`` the mean squared bar return of the rows (a prior
    that keeps the first steps' denominator off zero); ``D_t = 0`` while the
    denominator is not positive.

    Observation: ``Box(float32)`` of shape ``(window * n_inputs + spec.n_state,)``: the
    window, then the portfolio state of :meth:`ObservationSpec.state
    <kilo.rl.observation.ObservationSpec.state>` (position, unrealised log return of
    the open position ``p * log(close_t / close_entry)``, bars held divided by
    ``episode_length``, and with forecasts the round-trip cost).

    Episodes start at a random row (``self.np_random``) and last ``episode_length``
    bars; ``reset(options={"start": i, "length": k})`` runs a fixed segment instead.

    Parameters
    ----------
    inputs
        Array of shape (n_rows, n_inputs), the input rows (``spec.inputs``: preprocessed
        feature rows, scaled forecasts, or both).
    log_returns
        Array of shape (n_rows,): ``log(close[t + 1] / close[t])``, finite.
    window, episode_length
        Rows per observation; bars per random episode.
    fee, slippage
        Fractions of notional charged on every unit of position change.
    funding
        Array of shape (n_rows,), finite: the funding rate a long held from bar ``t``
        to ``t + 1`` pays (fraction of notional; negative: received); None: none.
    allow_short
        Whether the agent may short: a fourth action, 3, holds -1.
    spec
        How the portfolio state enters the observation (default: features).
    reward, sharpe_eta
        The reward (above) and the differential Sharpe ratio's ``eta``.

    Raises
    ------
    ValueError
        If shapes disagree, ``inputs`` or ``log_returns`` is not finite, or there are
        too few rows.
    """

    metadata = {"render_modes": []}

    def __init__(
        self,
        inputs: np.ndarray,
        log_returns: np.ndarray,
        *,
        window: int,
        episode_length: int,
        fee: float,
        slippage: float,
        funding: np.ndarray | None = None,
        allow_short: bool = False,
        spec: ObservationSpec = FEATURES,
        reward: Reward = "log_return",
        sharpe_eta: float = 0.01,
    ) -> None:
        super().__init__()
        features = np.ascontiguousarray(inputs, dtype=np.float32)
        log_returns = np.asarray(log_returns, dtype=np.float64)
        n, n_features = features.shape
        rates = np.zeros(n) if funding is None else np.asarray(funding, dtype=np.float64)
        if log_returns.shape != (n,) or rates.shape != (n,):
            raise ValueError(
                f"log_returns and funding must have shape ({n},), got {log_returns.shape} "
                f"and {rates.shape}"
            )
        if not (np.isfinite(log_returns).all() and np.isfinite(features).all()):
            raise ValueError("inputs and log_returns must be finite")
        if not np.isfinite(rates).all():
            raise ValueError("funding rates must be finite")
        if n < window + 1:
            raise ValueError(f"need more than window={window} rows, got {n}")
        self.window, self.episode_length, self.allow_short = window, episode_length, allow_short
        self.n_rows, self.n_features = n, n_features
        self._flat = features.ravel()
        self._wf = window * n_features
        self._long = (log_returns + np.log1p(-funding_payment(rates, 1.0, 1.0))).tolist()
        short = np.log(np.clip(2.0 - np.exp(log_returns), 1e-12, None))
        self._short = (short + np.log1p(-funding_payment(rates, 1.0, -1.0))).tolist()
        self._cum = np.concatenate([[0.0], np.cumsum(log_returns)]).tolist()
        self._buy_cost = fill_log_cost(fee, slippage, "buy")
        self._sell_cost = fill_log_cost(fee, slippage, "sell")
        self._first = window - 1
        self.obs_spec, self.reward, self.sharpe_eta = spec, reward, sharpe_eta
        self._b0 = float(np.mean(log_returns**2))
        # no position's unrealised return can exceed the sum of bar moves
        state_high = np.abs(spec.state(1.0, float(np.abs(log_returns).sum()) + 1.0, 1, 1))
        input_high = np.full(self._wf, float(np.abs(features).max(initial=1.0)))
        high = np.concatenate([input_high, state_high]).astype(np.float32)
        self.observation_space = gym.spaces.Box(-high, high, dtype=np.float32)
        self.observation_dim = self._wf + spec.n_state
        self.action_space = gym.spaces.Discrete(n_actions(allow_short))
        self._t = self._end = self._first
        self._pos, self._entry, self._held = 0.0, self._first, 0
        self._a, self._b, self.last_log_return = 0.0, self._b0, 0.0

    def reset(
        self, *, seed: int | None = None, options: dict[str, Any] | None = None
    ) -> tuple[np.ndarray, dict]:
        super().reset(seed=seed)
        last = self.n_rows - 1  # the final observation row
        if options and "start" in options:
            start = int(options["start"])
            length = int(options.get("length", last - start))
            if not self._first <= start < start + length <= last:
                raise ValueError(
                    f"segment start={start} length={length} outside rows {self._first}..{last}"
                )
        else:
            length = min(self.episode_length, last - self._first)
            start = int(self.np_random.integers(self._first, last - length + 1))
        self._t, self._end = start, start + length
        self._pos, self._entry, self._held = 0.0, start, 0
        self._a, self._b, self.last_log_return = 0.0, self._b0, 0.0
        return self._obs(), {}

    def step(self, action: int) -> tuple[np.ndarray, float, bool, bool, dict]:
        t, pos = self._t, self._pos
        target = _TARGET_BY_ACTION[action]
        new = pos if target is None else target
        reward = 0.0
        if new != pos:
            reward = -(self._buy_cost if new > pos else self._sell_cost) * abs(new - pos)
            self._entry, self._held = t, 0
        if new > 0:
            reward += self._long[t]
        elif new < 0:
            reward += self._short[t]
        self._pos = new
        self._t = t + 1
        self._held += 1
        self.last_log_return = reward
        if self.reward == "differential_sharpe":
            reward = self._differential_sharpe(reward)
        return self._obs(), reward, False, self._t >= self._end, {}

    def _differential_sharpe(self, r: float) -> float:
        """``D_t`` of the net return ``r`` (class docstring), updating ``A`` and ``B``."""
        a, b = self._a, self._b
        d_a, d_b = r - a, r * r - b
        variance = b - a * a
        d = (b * d_a - 0.5 * a * d_b) / variance**1.5 if variance > 0 else 0.0
        self._a, self._b = a + self.sharpe_eta * d_a, b + self.sharpe_eta * d_b
        return d

    def _obs(self) -> np.ndarray:
        t = self._t
        obs = np.empty(self.observation_dim, dtype=np.float32)
        stop = (t + 1) * self.n_features
        obs[: self._wf] = self._flat[stop - self._wf : stop]
        gain = self._cum[t] - self._cum[self._entry]
        obs[self._wf :] = self.obs_spec.state(self._pos, gain, self._held, self.episode_length)
        return obs

"""The controls' rebuilt candles: what they keep, what they destroy, what they plant."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from kilo.evaluation.controls.candles import (
    ahead_ic,
    lead_lag_bump,
    lead_lag_ic,
    placebo_candles,
    planted_candles,
)
from kilo.evaluation.controls.drills import BUMP_STANDARD_ERRORS
from kilo.features import held_log_return
from kilo.metrics import ic_bootstrap, spearman_ic


def ar1_candles(n: int = 6000, phi: float = 0.3, seed: int = 0) -> pd.DataFrame:
    """Candles whose 1-bar returns are AR(1) with GARCH-like volatility clusters."""
    rng = np.random.default_rng(seed)
    vol = np.exp(np.convolve(rng.normal(0, 0.3, n + 49), np.ones(50) / 50 * 7, "valid"))[:n]
    r = np.zeros(n)
    for t in range(1, n):
        r[t] = phi * r[t - 1] + 0.004 * vol[t] * rng.normal()
    close = 100 * np.exp(np.cumsum(r))
    spread = np.abs(rng.normal(0, 0.002, n))
    open_ = np.concatenate([[100.0], close[:-1]])
    index = pd.date_range("2024-01-01", periods=n, freq="1h", tz="UTC", name="date")
    return pd.DataFrame(
        {
            "open": open_,
            "high": np.maximum(open_, close) * (1 + spread),
            "low": np.minimum(open_, close) * (1 - spread),
            "close": close,
            "volume": rng.random(n),
        },
        index=index,
    )


def returns(candles: pd.DataFrame) -> np.ndarray:
    return np.diff(np.log(candles["close"].to_numpy()))


def autocorr(x: np.ndarray) -> float:
    return float(np.corrcoef(x[:-1], x[1:])[0, 1])


def test_placebo_keeps_volatility_clustering_and_kills_predictability() -> None:
    candles = ar1_candles()
    placebo, _ = placebo_candles(candles, block=24, seed=1)
    r, p = returns(candles), returns(placebo)
    np.testing.assert_allclose(np.sort(np.abs(p)), np.sort(np.abs(r)), atol=1e-12)
    assert autocorr(r) > 0.25 and abs(autocorr(p)) < 0.05  # the lag-1 edge is gone
    assert autocorr(np.abs(p)) > 0.8 * autocorr(np.abs(r)) > 0.1  # clusters survive
    assert placebo.index.equals(candles.index)
    assert (placebo["high"] >= placebo[["open", "close"]].max(axis=1) - 1e-9).all()
    assert (placebo["low"] <= placebo[["open", "close"]].min(axis=1) + 1e-9).all()
    assert not placebo.equals(placebo_candles(candles, block=24, seed=2)[0])


def momentum_signal_and_label(candles: pd.DataFrame, horizon: int) -> tuple[np.ndarray, np.ndarray]:
    """The standardised trailing 24-bar return and the held return over ``horizon``
    (from the next open), written out apart from the module's own code."""
    log_c = pd.Series(np.log(candles["close"].to_numpy()))
    signal = log_c.diff(24) / (log_c.diff().rolling(24).std(ddof=0) * np.sqrt(24))
    log_o = pd.Series(np.log(candles["open"].to_numpy()))
    return signal.to_numpy(), (log_o.shift(-horizon - 1) - log_o.shift(-1)).to_numpy()


def test_planted_edge_has_the_asked_ic_on_past_prices_only(btc_candles) -> None:
    """The planted edge sets the total IC, whatever the bars' own: 2018's first 4,000 BTC
    bars hardly revert (IC +0.008), the last 4,000 do (-0.022); both end at 0.05."""
    before = []
    for candles in (btc_candles.iloc[:4000], btc_candles.iloc[-4000:]):
        planted, achieved = planted_candles(candles, 0.05, horizon=4)
        assert achieved == pytest.approx(0.05, abs=1e-4)
        signal_ic = spearman_ic(*momentum_signal_and_label(planted, 4))
        assert signal_ic == pytest.approx(0.05, abs=0.005)
        before.append(spearman_ic(*momentum_signal_and_label(candles, 4)))
        gap = (candles["open"] / candles["close"].shift()).to_numpy()[1:]
        planted_gap = (planted["open"] / planted["close"].shift()).to_numpy()[1:]
        np.testing.assert_allclose(planted_gap, gap, rtol=1e-9)  # the edge is in the bodies
        assert (planted["high"] >= planted[["open", "close"]].max(axis=1)).all()
        assert (planted["low"] <= planted[["open", "close"]].min(axis=1)).all()
    assert abs(before[0] - before[1]) > 0.02  # an added fixed edge could not hit 0.05 twice
    # an asked IC below the bars' own (+0.008): part of their momentum is taken out
    weaker, achieved = planted_candles(btc_candles.iloc[:4000], 0.002, horizon=4)
    assert achieved == pytest.approx(0.002, abs=1e-4)
    assert spearman_ic(*momentum_signal_and_label(weaker, 4)) < before[0] - 0.004
    with pytest.raises(ValueError, match="planted_ic"):
        planted_candles(btc_candles.iloc[:4000], 0.7, horizon=1)


def test_lead_lag_finds_the_shift() -> None:
    rng = np.random.default_rng(0)
    target = rng.normal(size=500)
    pred = np.full(500, np.nan)
    pred[100:400] = target[102:402]  # a prediction that knows the label two bars ahead
    profile = lead_lag_ic(pred, target, horizon=3)
    assert list(profile) == list(range(-5, 6))  # -(h + 2) .. h + 2
    assert (
        profile[2] == pytest.approx(1.0) and max(abs(v) for k, v in profile.items() if k != 2) < 0.2
    )


def _bump_in_se(pred: np.ndarray, candles: pd.DataFrame, horizon: int) -> float:
    """The lead/lag bump of ``pred`` against ``candles``' held returns, in IC s.e."""
    held = held_log_return(candles, horizon).to_numpy()
    ok = np.isfinite(pred) & np.isfinite(held)
    se = float(np.std(ic_bootstrap(pred[ok], held[ok], max(horizon, 24), n_boot=200), ddof=1))
    profile = lead_lag_ic(pred, held, horizon)
    return lead_lag_bump(profile, ahead_ic(pred, candles, candles.index, horizon), horizon) / se


@pytest.mark.slow
@pytest.mark.parametrize("horizon", [4, 12, 24])
def test_lead_lag_bump_is_silent_on_causal_signals_and_fires_on_a_leak(
    btc_candles, horizon: int
) -> None:
    """Momentum and reversal of 1 to 72 bars on two years of real BTC (honest: made of
    closes up to t) stay under the alarm at every horizon (the largest: 2 s.e.); the same
    signals plus the next bar's return at equal weight bump. Lead/lag is a coarse
    instrument: a signal whose IC with the past is high hides a small look-ahead (at a
    quarter of the weight, 24 to 72-bar momentum stays under the alarm)."""
    candles = btc_candles.loc["2022-01-01":"2023-12-31"]
    log_c = pd.Series(np.log(candles["close"].to_numpy()))
    future = log_c.diff().shift(-1).to_numpy()
    future = future / np.nanstd(future)
    for lookback in (1, 3, 6, 24, 72):
        momentum = log_c.diff(lookback).to_numpy()
        momentum = momentum / np.nanstd(momentum)
        for honest in (momentum, -momentum):
            assert _bump_in_se(honest, candles, horizon) < BUMP_STANDARD_ERRORS
            leaky = honest + future
            assert _bump_in_se(leaky, candles, horizon) > BUMP_STANDARD_ERRORS


def test_the_placebo_moves_context_symbols_with_the_symbol(config) -> None:
    """Real BTC with ETH and SOL (listed 2020-08, inside the slice) as context: the joint
    placebo keeps their same-bar correlation, so a feature that reads a context symbol's
    next bar keeps its IC on the placebo (a leak the placebo flags), while an honest
    feature's IC dies."""
    from kilo.data import load_candles

    def cut(symbol: str) -> pd.DataFrame:
        candles = load_candles(config.data.dir, "binance", symbol, "1h")
        return candles.loc["2020-06-01":"2021-06-01"]

    btc, context = cut("BTC/USDT"), {"ETH/USDT": cut("ETH/USDT"), "SOL/USDT": cut("SOL/USDT")}
    placebo, moved = placebo_candles(btc, block=24, seed=3, context=context)
    assert set(moved) == set(context)
    sol = moved["SOL/USDT"]
    assert len(sol) == len(context["SOL/USDT"]) and sol.index.isin(btc.index).all()
    assert sol.index.min() < context["SOL/USDT"].index.min()  # its bars moved in time
    assert list(sol.columns) == list(context["SOL/USDT"].columns)

    def log_returns(frame: pd.DataFrame) -> pd.Series:
        return np.log(frame["close"]).reindex(btc.index).diff()

    def same_bar_corr(a: pd.DataFrame, b: pd.DataFrame) -> float:
        return float(log_returns(a).corr(log_returns(b)))

    real = same_bar_corr(btc, context["ETH/USDT"])
    assert real > 0.6 and abs(same_bar_corr(placebo, moved["ETH/USDT"]) - real) < 0.05
    label = log_returns(placebo).shift(-1).to_numpy()
    leak = log_returns(moved["ETH/USDT"]).shift(-1).to_numpy()  # ETH's next bar, at t
    honest = log_returns(placebo).to_numpy()
    assert spearman_ic(leak, label) > 0.5
    assert abs(spearman_ic(honest, label)) < 0.03

"""Cross-asset and higher-timeframe features on small, hand-checkable candles."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from kilo.config import FeaturesConfig
from kilo.errors import ConfigError
from kilo.features.cross_asset import context_symbols, cross_asset_features
from kilo.features.timeframes import timeframe_features, timeframe_lookback


def candles(close: np.ndarray, start: str = "2025-01-01") -> pd.DataFrame:
    index = pd.date_range(start, periods=len(close), freq="1h", tz="UTC", name="date")
    return pd.DataFrame(
        {"open": close, "high": close * 1.01, "low": close * 0.99, "close": close, "volume": 1.0},
        index=index,
    )


SPEC = FeaturesConfig(
    return_periods=[1, 4],
    volatility_windows=[3],
    reference_symbols=["B/USDT"],
    universe=["A/USDT", "B/USDT", "C/USDT"],
    cross_window=10,
    ffill_limit=2,
    timeframes=["4h"],
    timeframe_period=3,
)


def test_universe_beta_residual_and_rank_by_hand() -> None:
    rng = np.random.default_rng(0)
    b = 100 * np.exp(np.cumsum(rng.normal(0, 0.01, 60)))
    c = 100 * np.exp(np.cumsum(rng.normal(0, 0.01, 60)))
    a = b**2 / 100  # A's log returns are exactly twice B's
    ctx = {"B/USDT": candles(b), "C/USDT": candles(c)}
    assert context_symbols(SPEC, "A/USDT") == ["B/USDT", "C/USDT"]
    out = cross_asset_features(candles(a), ctx, "A/USDT", SPEC)
    ra, rb, rc = (np.diff(np.log(x)) for x in (a, b, c))
    t = 40
    univ = (ra + rb + rc) / 3
    assert out["univ_log_ret_1"][t] == pytest.approx(univ[t - 1])
    assert out["ref_B_USDT_log_ret_4"][t] == pytest.approx(np.log(b[t] / b[t - 4]))
    window = slice(t - 10, t)
    beta = np.cov(ra[window], univ[window])[0, 1] / np.var(univ[window], ddof=1)
    assert out["beta_univ_10"][t] == pytest.approx(beta)
    assert out["resid_log_ret_1"][t] == pytest.approx(ra[t - 1] - beta * univ[t - 1])
    trailing = {s: np.log(x[t] / x[t - 4]) for s, x in (("A", a), ("B", b), ("C", c))}
    rank = sorted(trailing.values()).index(trailing["A"])
    assert out["xs_rank_4"][t] == pytest.approx(rank / 2)


def test_a_missing_reference_bar_is_filled_from_the_past_within_the_limit() -> None:
    rng = np.random.default_rng(1)
    own = candles(100 * np.exp(np.cumsum(rng.normal(0, 0.01, 40))))
    ref = candles(100 * np.exp(np.cumsum(rng.normal(0, 0.01, 40))))
    holed = ref.drop(index=ref.index[20:24])  # four bars missing
    spec = FeaturesConfig(
        return_periods=[1, 4],
        volatility_windows=[3],
        reference_symbols=["B/USDT"],
        universe=[],
        ffill_limit=2,
    )
    out = cross_asset_features(own, {"B/USDT": holed}, "A/USDT", spec)["ref_B_USDT_log_ret_1"]
    assert out[20] == 0.0 and out[21] == 0.0  # the last close carried forward
    assert np.isnan(out[22:24]).all()  # beyond the limit: NaN, never a future value
    assert out[19] == pytest.approx(np.log(ref["close"].iloc[19] / ref["close"].iloc[18]))


def test_higher_timeframe_bars_are_seen_only_once_complete() -> None:
    close = 100 + np.arange(48, dtype=float)  # 1h closes from 00:00
    out = timeframe_features(candles(close), SPEC, "1h")["tf4h_log_ret_1"]
    # the 4h bar 04:00-07:00 closes at 107 (row 07:00); the one before at 103 (row 03:00)
    assert out[7] == pytest.approx(np.log(107 / 103))
    assert (out[8:11] == out[7]).all()  # held until the next bar completes
    assert out[11] == pytest.approx(np.log(111 / 107))
    assert np.isnan(out[:7]).all()  # no value before a previous complete bar exists
    assert timeframe_lookback(SPEC, "1h") == (3 + 2) * 4 - 2


def test_a_partial_first_bar_is_dropped() -> None:
    close = 100 + np.arange(48, dtype=float)
    out = timeframe_features(candles(close, "2025-01-01 02:00"), SPEC, "1h")["tf4h_log_ret_1"]
    assert np.isnan(out[:9]).all()  # 02:00-03:00 is half a bar; 04:00-07:00 has no predecessor
    assert out[9] == pytest.approx(np.log(109 / 105))  # row 11:00 (close 109) vs 07:00


def test_timeframes_must_be_multiples_of_the_candles() -> None:
    with pytest.raises(ConfigError, match="whole multiple"):
        timeframe_features(
            candles(np.ones(10) * 100), SPEC.model_copy(update={"timeframes": ["90m"]}), "1h"
        )


def test_higher_timeframe_features_are_pandas_resampling_of_real_candles(
    btc_candles: pd.DataFrame,
) -> None:
    """The per-bar numpy path against pandas' resample and rolling windows, 1d bars of
    real BTC candles (outages and a partial first day included)."""
    spec = SPEC.model_copy(update={"timeframes": ["1d"], "timeframe_period": 14})
    candles = btc_candles.iloc[5:6005]
    out = timeframe_features(candles, spec, "1h")
    day = candles["close"].resample("1D").agg(["last", "count"])
    close = day.loc[day["count"] == 24, "last"]
    ret = np.log(close).diff()
    gains, losses = (r.clip(lower=0).rolling(14).mean() for r in (ret, -ret))
    expected = {
        "tf1d_log_ret_3": np.log(close).diff(3),
        "tf1d_volatility_14": ret.rolling(14).std(),
        "tf1d_rsi_14": gains / (gains + losses),
        "tf1d_trend_14": close / close.rolling(14).mean() - 1.0,
    }
    shown_at = close.index + pd.Timedelta(hours=23)  # each day's last candle
    for name, values in expected.items():
        reference = pd.Series(values.to_numpy(), shown_at).reindex(candles.index).ffill(limit=23)
        assert reference.notna().sum() > 5000
        np.testing.assert_allclose(out[name], reference, rtol=1e-12, atol=1e-15, err_msg=name)


def pandas_cross_asset(candles, context, symbol, spec) -> dict[str, pd.Series]:
    """The pandas implementation these features replaced (reindex, rolling, rank)."""
    short, long, n = min(spec.return_periods), max(spec.return_periods), spec.cross_window
    window = max(spec.volatility_windows)
    own = np.log(candles["close"])
    closes = {
        s: np.log(c["close"]).reindex(candles.index).ffill(limit=spec.ffill_limit)
        for s, c in context.items()
    }
    closes[symbol] = own
    out = {}
    for ref in spec.reference_symbols:
        r, c = ref.replace("/", "_"), closes[ref]
        out[f"ref_{r}_log_ret_{short}"], out[f"ref_{r}_log_ret_{long}"] = (
            c.diff(short),
            c.diff(long),
        )
        out[f"ref_{r}_volatility_{window}"] = c.diff().rolling(window).std()
    members = pd.DataFrame({s: closes[s] for s in spec.universe})
    univ_1, own_1 = members.diff().mean(axis=1), own.diff()
    beta = own_1.rolling(n).cov(univ_1) / univ_1.rolling(n).var()
    out[f"univ_log_ret_{short}"] = univ_short = univ_1.rolling(short).sum()
    out[f"univ_log_ret_{long}"] = univ_long = univ_1.rolling(long).sum()
    out[f"beta_univ_{n}"] = beta
    out[f"resid_log_ret_{short}"] = own.diff(short) - beta * univ_short
    out[f"resid_log_ret_{long}"] = own.diff(long) - beta * univ_long
    trailing = members.diff(long).assign(**{symbol: own.diff(long)})
    size = trailing.notna().sum(axis=1)
    out[f"xs_rank_{long}"] = ((trailing.rank(axis=1)[symbol] - 1) / (size - 1)).where(size > 1)
    return out


def test_cross_asset_features_are_the_pandas_ones_on_real_candles(config) -> None:
    """ETH against BTC and the universe around SOL's listing (a member joining, outages):
    equal NaN, values to 1e-9 relative (1e-12 of the column's scale where a residual
    cancels to ~0)."""
    from kilo.data import load_candles

    spec = config.features.model_copy(update={"universe": config.symbols})
    symbol, others = "ETH/USDT", [s for s in config.symbols if s != "ETH/USDT"]
    load = lambda s: load_candles(config.data.dir, "binance", s, "1h")  # noqa: E731
    candles = load(symbol).loc["2020-06-01":"2021-06-01"]
    context = {s: load(s).loc[:"2021-06-01"] for s in others}
    got = cross_asset_features(candles, context, symbol, spec)
    expected = pandas_cross_asset(candles, context, symbol, spec)
    assert set(got) == set(expected) and len(expected) == 9
    for name, values in expected.items():
        np.testing.assert_array_equal(np.isnan(got[name]), values.isna(), err_msg=name)
        scale = np.nanstd(values.to_numpy())
        np.testing.assert_allclose(got[name], values, rtol=1e-9, atol=1e-12 * scale, err_msg=name)

"""Indicators against hand-computed values, independent loops and pandas on real candles."""

from __future__ import annotations

import math
from fractions import Fraction

import numpy as np
import pandas as pd
import pytest

from kilo.features import indicators as ind


def loop_ema(x: np.ndarray, alpha: float) -> np.ndarray:
    out = np.empty_like(x)
    out[0] = x[0]
    for t in range(1, len(x)):
        out[t] = alpha * x[t] + (1 - alpha) * out[t - 1]
    return out


def test_ema_by_hand() -> None:
    got = ind.ema(np.array([1.0, 2.0, 3.0, 4.0]), span=3)  # alpha = 0.5
    assert np.isnan(got[:2]).all()
    assert got[2] == pytest.approx(2.25) and got[3] == pytest.approx(3.125)


def test_rsi_by_hand() -> None:
    # deltas +1, -0.5, +1; alpha 1/2: gains 1, .5, .75; losses 0, .25, .125
    got = ind.rsi(np.array([10.0, 11.0, 10.5, 11.5]), period=2)
    assert np.isnan(got[1])
    assert got[2] == pytest.approx(100 - 100 / 3)
    assert got[3] == pytest.approx(100 - 100 / 7)


def test_true_range_and_atr_by_hand() -> None:
    high = np.array([10.0, 12.0, 11.0])
    low = np.array([9.0, 10.5, 8.0])
    close = np.array([9.5, 11.0, 8.5])
    tr = ind.true_range(high, low, close)
    assert tr.tolist() == [1.0, 2.5, 3.0]  # h-l; |12-9.5|; |8-11|
    atr = ind.atr(high, low, close, period=2)
    assert math.isnan(atr[0]) and atr[1] == pytest.approx(1.75)
    assert atr[2] == pytest.approx(2.375)


def test_bollinger_by_hand() -> None:
    pctb, width = ind.bollinger(np.array([1.0, 2.0, 3.0]), window=3, n_std=2.0)
    sd = math.sqrt(2 / 3)
    assert pctb[2] == pytest.approx((3 - (2 - 2 * sd)) / (4 * sd))
    assert width[2] == pytest.approx(4 * sd / 2)


def test_indicators_match_loops_on_real_candles(btc_candles: pd.DataFrame) -> None:
    x, h, lo = (btc_candles[k].to_numpy()[:600] for k in ("close", "high", "low"))
    for span in (12, 26, 200):
        ref = loop_ema(x, 2 / (span + 1))
        np.testing.assert_allclose(ind.ema(x, span)[span - 1 :], ref[span - 1 :], rtol=1e-12)
    line, signal, hist = ind.macd(x, 12, 26, 9)
    ref_line = loop_ema(x, 2 / 13) - loop_ema(x, 2 / 27)
    np.testing.assert_allclose(line[25:], ref_line[25:], rtol=1e-10, atol=1e-10)
    ref_signal = loop_ema(ref_line[25:], 0.2)
    np.testing.assert_allclose(signal[33:], ref_signal[8:], rtol=1e-10, atol=1e-10)
    np.testing.assert_allclose(hist[33:], (line - signal)[33:])

    d = np.diff(x)
    g, ls = loop_ema(np.maximum(d, 0), 1 / 14), loop_ema(np.maximum(-d, 0), 1 / 14)
    np.testing.assert_allclose(ind.rsi(x, 14)[14:], (100 - 100 / (1 + g / ls))[13:], rtol=1e-10)

    prev = np.concatenate([[np.nan], x[:-1]])
    tr = np.nanmax(np.stack([h - lo, np.abs(h - prev), np.abs(lo - prev)]), axis=0)
    np.testing.assert_allclose(ind.atr(h, lo, x, 14)[13:], loop_ema(tr, 1 / 14)[13:], rtol=1e-12)

    pctb, width = ind.bollinger(x, 20, 2.0)
    t = 300
    win = x[t - 19 : t + 1]
    mid, sd = win.mean(), win.std(ddof=0)
    assert pctb[t] == pytest.approx((x[t] - (mid - 2 * sd)) / (4 * sd), rel=1e-9)
    assert width[t] == pytest.approx(4 * sd / mid, rel=1e-9)

    v = btc_candles["volume"].to_numpy()[:600]
    vw = v[t - 23 : t + 1]
    assert ind.zscore(v, 24)[t] == pytest.approx((vw[-1] - vw.mean()) / vw.std(ddof=1))


def test_recursive_indicators_are_pandas_ewm_bit_for_bit(btc_candles: pd.DataFrame) -> None:
    """EMA, Wilder's RSI and ATR and MACD as the pandas Series code computed them."""
    c, h, lo = (btc_candles[k] for k in ("close", "high", "low"))
    x, hv, lv = c.to_numpy(), h.to_numpy(), lo.to_numpy()
    for span in (12, 200):
        expected = c.ewm(span=span, adjust=False, min_periods=span).mean()
        np.testing.assert_array_equal(ind.ema(x, span), expected)
    delta = c.diff()
    gain, loss = (
        d.clip(lower=0).ewm(alpha=1 / 14, adjust=False, min_periods=14).mean()
        for d in (delta, -delta)
    )
    np.testing.assert_array_equal(ind.rsi(x, 14), 100.0 - 100.0 / (1.0 + gain / loss))
    prev = c.shift(1)
    tr = pd.concat([h - lo, (h - prev).abs(), (lo - prev).abs()], axis=1).max(axis=1)
    expected_atr = tr.ewm(alpha=1 / 14, adjust=False, min_periods=14).mean()
    np.testing.assert_array_equal(ind.atr(hv, lv, x, 14), expected_atr)


def test_rolling_windows_match_pandas_on_real_returns(btc_candles: pd.DataFrame) -> None:
    """Fresh two-pass windows against pandas' running sums over 8 years of BTC log
    returns: equal NaN everywhere, values to 1e-10 relative away from outages (whose
    runs of 0 returns pandas' running sums miss by ~1e-9; the engine blanks them)."""
    ret = np.log(btc_candles["close"]).diff()
    other = ret.shift(5).where(ret.index.hour != 3)  # NaN inside, so windows skip them
    x, y = ret.to_numpy(), other.to_numpy()
    filled = btc_candles["filled"].astype(float)
    for w in (24, 72):
        roll = ret.rolling(w, min_periods=w)
        clean = filled.rolling(w + 5, min_periods=1).max().to_numpy() == 0
        checks = {
            "sum": (ind.rolling_sum(x, w), roll.sum()),
            "mean": (ind.rolling_mean(x, w), roll.mean()),
            "std": (ind.rolling_std(x, w), roll.std()),
            "var0": (ind.rolling_var(x, w, ddof=0), roll.var(ddof=0)),
            "cov": (ind.rolling_cov(x, y, w), roll.cov(other)),
        }
        for name, (got, expected) in checks.items():
            np.testing.assert_array_equal(np.isnan(got), expected.isna(), err_msg=f"{name} {w}")
            np.testing.assert_allclose(
                got[clean], expected[clean], rtol=1e-10, atol=1e-18, err_msg=f"{name} {w}"
            )


def test_rolling_std_of_prices_is_exact(btc_candles: pd.DataFrame) -> None:
    """Where pandas' running sums drift (std of prices near 60,000, to ~1e-8), the
    fresh windows equal an exact rational computation to ~1 ulp."""
    x = btc_candles["close"].to_numpy()
    got = ind.rolling_std(x, 20, ddof=0)
    rows = np.random.default_rng(0).integers(19, len(x), 40)
    for t in [*rows, 70_028]:
        window = [Fraction(v) for v in x[t - 19 : t + 1]]
        mean = sum(window) / 20
        exact = math.sqrt(float(sum((v - mean) ** 2 for v in window) / 20))
        assert got[t] == pytest.approx(exact, rel=1e-14, abs=1e-300), t
    pandas = btc_candles["close"].rolling(20).std(ddof=0).to_numpy()
    np.testing.assert_allclose(got, pandas, rtol=1e-6)


def test_constant_and_missing_windows_follow_pandas() -> None:
    x = np.array([0.3, 0.1, 0.1, 0.1, 0.7, np.inf, 0.7, 0.7, 0.7, np.nan, 0.2, 0.2, 0.2])
    s, y = pd.Series(x), pd.Series(np.linspace(0.0, 1.0, len(x)))
    checks = {
        "mean": (ind.rolling_mean(x, 3), s.rolling(3).mean()),
        "std": (ind.rolling_std(x, 3), s.rolling(3).std()),
        "cov": (ind.rolling_cov(y.to_numpy(), x, 3), y.rolling(3).cov(s)),
    }
    for name, (got, expected) in checks.items():
        np.testing.assert_allclose(got, expected, rtol=1e-15, err_msg=name)  # NaN alike
        assert (got[[3, 12]] == expected.to_numpy()[[3, 12]]).all(), name  # constant: exact
    assert ind.rolling_mean(x, 3)[3] == 0.1 and ind.rolling_std(x, 3)[12] == 0.0
    assert np.isnan(ind.rolling_std(x[:2], 3)).all() and len(ind.rolling_sum(x[:2], 3)) == 2


def test_ffill_is_limited_as_pandas() -> None:
    x = np.array([np.nan, 1.0, np.nan, np.nan, np.nan, 2.0, np.nan, 3.0, np.nan])
    for limit in (None, 1, 2):
        np.testing.assert_array_equal(ind.ffill(x, limit), pd.Series(x).ffill(limit=limit))
    matrix = np.stack([x, x[::-1]], axis=1)
    np.testing.assert_array_equal(ind.ffill(matrix, 2), pd.DataFrame(matrix).ffill(limit=2))

"""Indicators against hand-computed values and independent loop implementations."""

from __future__ import annotations

import math

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
    got = ind.ema(pd.Series([1.0, 2.0, 3.0, 4.0]), span=3)  # alpha = 0.5
    assert np.isnan(got[:2]).all()
    assert got.iloc[2] == pytest.approx(2.25) and got.iloc[3] == pytest.approx(3.125)


def test_rsi_by_hand() -> None:
    # deltas +1, -0.5, +1; alpha 1/2: gains 1, .5, .75; losses 0, .25, .125
    got = ind.rsi(pd.Series([10.0, 11.0, 10.5, 11.5]), period=2)
    assert np.isnan(got.iloc[1])
    assert got.iloc[2] == pytest.approx(100 - 100 / 3)
    assert got.iloc[3] == pytest.approx(100 - 100 / 7)


def test_true_range_and_atr_by_hand() -> None:
    high = pd.Series([10.0, 12.0, 11.0])
    low = pd.Series([9.0, 10.5, 8.0])
    close = pd.Series([9.5, 11.0, 8.5])
    tr = ind.true_range(high, low, close)
    assert tr.tolist() == [1.0, 2.5, 3.0]  # h-l; |12-9.5|; |8-11|
    atr = ind.atr(high, low, close, period=2)
    assert math.isnan(atr.iloc[0]) and atr.iloc[1] == pytest.approx(1.75)
    assert atr.iloc[2] == pytest.approx(2.375)


def test_bollinger_by_hand() -> None:
    pctb, width = ind.bollinger(pd.Series([1.0, 2.0, 3.0]), window=3, n_std=2.0)
    sd = math.sqrt(2 / 3)
    assert pctb.iloc[2] == pytest.approx((3 - (2 - 2 * sd)) / (4 * sd))
    assert width.iloc[2] == pytest.approx(4 * sd / 2)


def test_indicators_match_loops_on_real_candles(btc_candles: pd.DataFrame) -> None:
    c = btc_candles["close"].iloc[:600]
    h, lo = btc_candles["high"].iloc[:600], btc_candles["low"].iloc[:600]
    x = c.to_numpy()
    for span in (12, 26, 200):
        ref = loop_ema(x, 2 / (span + 1))
        np.testing.assert_allclose(ind.ema(c, span).iloc[span - 1 :], ref[span - 1 :], rtol=1e-12)
    line, signal, hist = ind.macd(c, 12, 26, 9)
    ref_line = loop_ema(x, 2 / 13) - loop_ema(x, 2 / 27)
    np.testing.assert_allclose(line.iloc[25:], ref_line[25:], rtol=1e-10, atol=1e-10)
    ref_signal = loop_ema(ref_line[25:], 0.2)
    np.testing.assert_allclose(signal.iloc[33:], ref_signal[8:], rtol=1e-10, atol=1e-10)
    np.testing.assert_allclose(hist.iloc[33:], (line - signal).iloc[33:])

    d = np.diff(x)
    g, ls = loop_ema(np.maximum(d, 0), 1 / 14), loop_ema(np.maximum(-d, 0), 1 / 14)
    np.testing.assert_allclose(
        ind.rsi(c, 14).iloc[14:], (100 - 100 / (1 + g / ls))[13:], rtol=1e-10
    )

    prev = np.concatenate([[np.nan], x[:-1]])
    hv, lv = h.to_numpy(), lo.to_numpy()
    tr = np.nanmax(np.stack([hv - lv, np.abs(hv - prev), np.abs(lv - prev)]), axis=0)
    np.testing.assert_allclose(
        ind.atr(h, lo, c, 14).iloc[13:], loop_ema(tr, 1 / 14)[13:], rtol=1e-12
    )

    pctb, width = ind.bollinger(c, 20, 2.0)
    t = 300
    win = x[t - 19 : t + 1]
    mid, sd = win.mean(), win.std(ddof=0)
    assert pctb.iloc[t] == pytest.approx((x[t] - (mid - 2 * sd)) / (4 * sd), rel=1e-9)
    assert width.iloc[t] == pytest.approx(4 * sd / mid, rel=1e-9)

    v = btc_candles["volume"].iloc[:600]
    vw = v.to_numpy()[t - 23 : t + 1]
    assert ind.zscore(v, 24).iloc[t] == pytest.approx((vw[-1] - vw.mean()) / vw.std(ddof=1))

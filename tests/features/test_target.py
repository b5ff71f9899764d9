from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from kilo.config import TargetConfig
from kilo.errors import DataError
from kilo.features import average_uniqueness, forward_log_return, held_log_return, make_labels


def candles(close: list[float]) -> pd.DataFrame:
    index = pd.date_range("2025-01-01", periods=len(close), freq="1h", tz="UTC")
    return pd.DataFrame({"close": close}, index=index)


def test_forward_log_return(btc_candles: pd.DataFrame) -> None:
    y = forward_log_return(btc_candles, horizon=3)
    c = btc_candles["close"].to_numpy()
    assert y.index.equals(btc_candles.index)
    assert y.iloc[10] == pytest.approx(np.log(c[13] / c[10]))
    assert y.iloc[-3:].isna().all() and y.iloc[:-3].notna().all()
    labels = make_labels(btc_candles, TargetConfig(horizon=3, kind="log_return"))
    pd.testing.assert_series_equal(labels.values, y, check_names=False)
    assert labels.end[10] == 13 and labels.end[-1] == -1


def test_held_log_return_runs_from_the_next_open(btc_candles: pd.DataFrame) -> None:
    held = held_log_return(btc_candles, horizon=12)
    o = btc_candles["open"].to_numpy()
    assert held.index.equals(btc_candles.index)
    assert held.iloc[100] == pytest.approx(np.log(o[113] / o[101]))
    assert held.iloc[-13:].isna().all() and held.iloc[:-13].notna().all()
    short = btc_candles.iloc[:12]
    assert held_log_return(short, 12).isna().all()
    with pytest.raises(DataError, match="open"):
        held_log_return(btc_candles[["close"]], 12)


def test_vol_scaled_divides_by_volatility_known_at_t(btc_candles: pd.DataFrame) -> None:
    spec = TargetConfig(horizon=4, kind="vol_scaled", volatility_window=24)
    labels = make_labels(btc_candles, spec)
    r = np.diff(np.log(btc_candles["close"].to_numpy()))
    t = 500
    sigma = np.std(r[t - 24 : t], ddof=1)  # returns of bars t-23 .. t
    assert labels.values.iloc[t] == pytest.approx(labels.forward_return.iloc[t] / (sigma * 2.0))
    assert labels.values.iloc[:24].isna().all()


def test_triple_barrier_by_hand() -> None:
    # flat history (so sigma is set by the spike), then paths that touch the barriers
    base = [100.0, 101.0] * 12
    spec = TargetConfig(
        horizon=3, kind="triple_barrier", volatility_window=24, take_profit=1.0, stop_loss=1.0
    )
    up = make_labels(candles([*base, 100.0, 100.5, 103.0, 99.0, 100.0]), spec)
    down = make_labels(candles([*base, 100.0, 99.5, 96.0, 103.0, 100.0]), spec)
    timeout = make_labels(candles([*base, 100.0, 100.1, 100.2, 100.1, 100.0]), spec)
    t = 24  # the row at close 100.0 after the base
    assert (up.values.iloc[t], up.end[t]) == (1.0, t + 2)  # +3 % at the 2nd bar
    assert (down.values.iloc[t], down.end[t]) == (-1.0, t + 2)
    assert (timeout.values.iloc[t], timeout.end[t]) == (0.0, t + 3)


def test_average_uniqueness_by_hand() -> None:
    # spans [0, 1] and [1, 2]: bar 1 is shared -> (1 + 1/2) / 2 each; a lone span scores 1
    np.testing.assert_allclose(
        average_uniqueness(np.array([0, 1, 5]), np.array([1, 2, 5])), [0.75, 0.75, 1.0]
    )
    h = 4
    start = np.arange(100)
    weights = average_uniqueness(start, start + h - 1)
    assert weights[50] == pytest.approx(1 / h) and weights[0] > weights[50]


def test_rejects_bad_input() -> None:
    frame = pd.DataFrame({"close": [1.0, 0.0, 2.0]})
    with pytest.raises(DataError, match="non-positive"):
        forward_log_return(frame, 1)
    with pytest.raises(DataError, match="horizon"):
        forward_log_return(frame.assign(close=1.0), 0)


def test_outage_labels_never_start_end_or_cross_a_long_gap() -> None:
    from kilo.features.target import outage_labels, outage_runs

    filled = np.zeros(30, dtype=bool)
    filled[10:12] = True  # a 2-bar gap: crossable with limit 3
    filled[20:25] = True  # a 5-bar gap: not
    assert outage_runs(filled)[[9, 10, 11, 12, 24]].tolist() == [0, 1, 2, 0, 5]
    bad = outage_labels(filled, horizon=4, limit=3)
    assert bad[10] and bad[11] and bad[6] and bad[7]  # start on it, or end on it (6+4, 7+4)
    assert not bad[8] and not bad[9]  # 8..12 and 9..13 cross the short gap: allowed
    assert bad[16] and bad[19]  # 16..20 ends on the long gap, 19..23 crosses it
    assert bad[24] and not bad[25] and not bad[15]

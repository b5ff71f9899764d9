from __future__ import annotations

import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

from kilo.config import Config
from kilo.data import load_candles, validate_candles
from kilo.errors import DataError
from kilo.features import FeatureEngine, Preprocessor
from kilo.training.dataset import load_context

SYMBOL = "ETH/USDT"  # sees BTC/USDT as a reference, so every feature group is on


@pytest.fixture(scope="module")
def engine(config: Config) -> FeatureEngine:
    return FeatureEngine.from_config(config, SYMBOL)


@pytest.fixture(scope="module")
def eth_candles(config: Config) -> pd.DataFrame:
    return load_candles(config.data.dir, "binance", SYMBOL, "1h")


@pytest.fixture(scope="module")
def context(config: Config, engine: FeatureEngine) -> dict[str, pd.DataFrame]:
    return load_context(config, engine.context_symbols)


def randomise_after(candles: pd.DataFrame, t: int, seed: int) -> pd.DataFrame:
    """Replace every candle after position t with random, valid-looking values."""
    rng = np.random.default_rng(seed)
    out = candles.copy()
    n = len(out) - t - 1
    close = np.exp(rng.normal(10, 1, n))
    out.iloc[t + 1 :, :5] = np.column_stack(
        [
            close,
            close * 1.05,
            close * 0.95,
            close * rng.uniform(0.96, 1.04, n),
            rng.exponential(1e3, n),
        ]
    )
    out.iloc[t + 1 :, 5] = rng.random(n) < 0.5
    return out


@pytest.mark.parametrize("t", [500, 1000, 6000, 12_000, 12_345])
def test_causality_rows_up_to_t_are_bit_identical(engine, eth_candles, context, t: int) -> None:
    """Every candle after t changes (the symbol's and every other symbol's): rows up to
    t, higher-timeframe and cross-asset features included, do not."""
    base = engine.transform(eth_candles, context)
    cut = eth_candles.index[t]
    other = {
        s: randomise_after(c, int(c.index.searchsorted(cut, side="right")) - 1, seed=t + i)
        for i, (s, c) in enumerate(context.items())
    }
    changed = engine.transform(randomise_after(eth_candles, t, seed=t), other)
    a, b = base.loc[:cut].to_numpy(), changed.loc[:cut].to_numpy()
    assert a.shape == b.shape and len(a) == t - engine.max_lookback + 1
    assert np.array_equal(a, b, equal_nan=True)
    after = base.loc[cut:].iloc[1:], changed.loc[cut:].iloc[1:]
    for group in ("ref_BTC_USDT", "univ_", "tf4h_", "tf1d_", "log_ret_1"):
        cols = [c for c in engine.feature_names if c.startswith(group)]
        assert not np.array_equal(after[0][cols].to_numpy(), after[1][cols].to_numpy()), group


def test_warmup_is_max_lookback(engine, eth_candles, context) -> None:
    """max_lookback is exact up to where the first daily bar starts (at most 23 rows);
    after it, a NaN only follows a real outage (a filled stretch of constant candles),
    and the universe is defined from the first rows although SOL lists in 2020-08."""
    raw = engine.compute(eth_candles, context)
    nan_rows = np.flatnonzero(raw.isna().any(axis=1).to_numpy())
    warmup = nan_rows[nan_rows < engine.max_lookback]
    assert engine.max_lookback - 24 <= warmup.max() < engine.max_lookback
    recent_outage = eth_candles["filled"].rolling(48, min_periods=1).max().to_numpy() > 0
    after = nan_rows[nan_rows >= engine.max_lookback]
    assert len(after) and recent_outage[after].all()  # the 33-hour outage of 2018-02-08
    assert raw.index[engine.max_lookback] < pd.Timestamp("2018-03-01", tz="UTC")
    assert context["SOL/USDT"].index[0] > pd.Timestamp("2020-08-01", tz="UTC")
    out = engine.transform(eth_candles, context)
    assert out.index[0] == eth_candles.index[engine.max_lookback]
    assert list(out.columns) == engine.feature_names
    assert len(set(engine.feature_names)) == len(engine.feature_names) == 25 + 3 + 6 + 10


def test_cleaned_matrix_is_finite_with_injected_defects(engine, eth_candles, context) -> None:
    raw = eth_candles.drop(columns="filled").reset_index()
    raw.loc[500:540, "close"] = np.nan  # a 41-bar hole: a gap after validation
    raw.loc[900, "high"] = np.inf
    raw.loc[1200:1230, "volume"] = 0.0  # constant volume -> zero std -> NaN z-score
    raw = raw.drop(index=range(3000, 3005))  # a missing stretch
    raw = pd.concat([raw, raw.iloc[[2000, 2001]]])  # duplicate rows
    candles, report = validate_candles(raw, "1h")
    assert report.filled == 47 and report.duplicates_dropped == 2
    features = engine.transform(candles, context)
    assert features.isna().any().any()  # long defects survive the limited forward fill
    matrix = Preprocessor().fit(features.iloc[:4000]).transform(features)
    assert np.isfinite(matrix).all()
    assert features["filled"].sum() == 47


def test_forward_fill_is_limited(engine, eth_candles, context, monkeypatch) -> None:
    raw = engine.compute(eth_candles, context)
    holed = raw.copy()
    holed.iloc[1000:1010, 0] = np.nan
    holed.iloc[2000, 1] = np.inf
    monkeypatch.setattr(engine, "compute", lambda candles, context=None: holed)
    cleaned = engine.transform(eth_candles)
    limit = engine.spec.ffill_limit
    col = cleaned.iloc[:, 0]
    pos = col.index.get_loc(raw.index[1000])
    assert (col.iloc[pos : pos + limit] == raw.iloc[999, 0]).all()
    assert col.iloc[pos + limit : pos + 10].isna().all()
    assert cleaned.loc[raw.index[2000]].iloc[1] == raw.iloc[1999, 1]
    assert raw.iloc[2000, 1] != raw.iloc[1999, 1]


def test_spec_hash_is_stable_and_sensitive(engine, config: Config) -> None:
    code = (
        "from kilo.config import load_config; from kilo.features import FeatureEngine; "
        f"print(FeatureEngine.from_config(load_config(environ={{}}), {SYMBOL!r}).spec_hash)"
    )
    other = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert other.stdout.strip() == engine.spec_hash

    def spec_hash(overrides: dict) -> str:
        return FeatureEngine.from_config(config.with_overrides(overrides), SYMBOL).spec_hash

    assert spec_hash({"target.horizon": 5}) == engine.spec_hash  # the label is not a feature
    for change in (
        {"features.rsi_period": 21},
        {"features.timeframes": ["4h"]},
        {"features.universe": ["BTC/USDT", "ETH/USDT"]},
        {"features.reference_symbols": []},
        {"features.cross_window": 48},
    ):
        assert spec_hash(change) != engine.spec_hash, change
    assert FeatureEngine.from_config(config, "BTC/USDT").spec_hash != engine.spec_hash


def test_feature_groups_by_symbol(config: Config) -> None:
    eth = FeatureEngine.from_config(config, "ETH/USDT").feature_names
    btc = FeatureEngine.from_config(config, "BTC/USDT").feature_names
    assert "ref_BTC_USDT_log_ret_1" in eth and not any(n.startswith("ref_") for n in btc)
    assert {"univ_log_ret_1", "beta_univ_72", "xs_rank_24", "tf4h_rsi_14", "tf1d_trend_14"} <= set(
        btc
    )
    plain = FeatureEngine.from_config(
        config.with_overrides(
            {"features.reference_symbols": [], "features.universe": [], "features.timeframes": []}
        ),
        "ETH/USDT",
    )
    assert len(plain.feature_names) == 25 and plain.context_symbols == []


def test_bad_input(engine, eth_candles, context) -> None:
    with pytest.raises(DataError, match="too few"):
        engine.transform(eth_candles.iloc[: engine.max_lookback], context)
    with pytest.raises(DataError, match="volume"):
        engine.transform(eth_candles.drop(columns="volume"), context)
    with pytest.raises(DataError, match="DatetimeIndex"):
        engine.transform(eth_candles.reset_index(), context)
    with pytest.raises(DataError, match=r"need the candles of \['BTC/USDT'\]: download them"):
        engine.transform(eth_candles, {})  # the reference is needed; universe members are not


def test_a_universe_member_without_candles_is_absent(engine, eth_candles, context) -> None:
    full = engine.transform(eth_candles, context)
    without = engine.transform(eth_candles, {s: c for s, c in context.items() if s != "ADA/USDT"})
    univ = [c for c in engine.feature_names if c.startswith("univ_")]
    assert without[univ].notna().mean().min() > 0.99  # the others still make a market
    assert not np.allclose(without[univ].to_numpy(), full[univ].to_numpy(), equal_nan=True)
    own = [c for c in engine.feature_names if c.startswith("log_ret_")]
    np.testing.assert_array_equal(without[own].to_numpy(), full[own].to_numpy())


@pytest.mark.parametrize("end", [1_200, 9_377, 40_000, None])
def test_last_rows_are_the_whole_computation_bit_for_bit(engine, eth_candles, context, end) -> None:
    """``last=`` (the trader's bars) reads fewer candles for the finite windows; its rows
    equal the full computation's exactly, around outages and early history too."""
    filled_at = int(np.flatnonzero(eth_candles["filled"].to_numpy())[40])
    for stop in (end, filled_at + 2, filled_at + 40):
        candles = eth_candles.iloc[max(0, (stop or len(eth_candles)) - 3_000) : stop]
        full = engine.transform(candles, context)
        for last in (1, 48, 500):
            tail = engine.transform(candles, context, last=last)
            pd.testing.assert_frame_equal(tail, full.iloc[-last:], check_exact=True)

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

from kilo.config import Config, FeaturesConfig
from kilo.data import validate_candles
from kilo.errors import DataError
from kilo.features import FeatureEngine, Preprocessor


@pytest.fixture(scope="module")
def engine(config: Config) -> FeatureEngine:
    return FeatureEngine.from_config(config)


def randomise_after(candles: pd.DataFrame, t: int, seed: int) -> pd.DataFrame:
    """Replace every candle after position t with random, valid-looking values."""
    rng = np.random.default_rng(seed)
    out = candles.copy()
    n = len(out) - t - 1
    close = np.exp(rng.normal(10, 1, n))
    out.iloc[t + 1 :, :5] = np.column_stack(
        [close, close * 1.05, close * 0.95, close * rng.uniform(0.96, 1.04, n), rng.exponential(1e3, n)]
    )
    out.iloc[t + 1 :, 5] = rng.random(n) < 0.5
    return out


@pytest.mark.parametrize("t", [250, 1000, 6000, 12_000])
def test_causality_rows_up_to_t_are_bit_identical(engine, btc_candles, t: int) -> None:
    base = engine.transform(btc_candles)
    changed = engine.transform(randomise_after(btc_candles, t, seed=t))
    cut = btc_candles.index[t]
    a, b = base.loc[:cut].to_numpy(), changed.loc[:cut].to_numpy()
    assert a.shape == b.shape and len(a) == t - engine.max_lookback + 1
    assert np.array_equal(a, b, equal_nan=True)
    assert not np.array_equal(base.loc[cut:].to_numpy()[1:], changed.loc[cut:].to_numpy()[1:])


def test_warmup_is_exactly_max_lookback(engine, btc_candles) -> None:
    raw = engine.compute(btc_candles)
    assert raw.iloc[engine.max_lookback - 1].isna().any()
    assert raw.iloc[engine.max_lookback :].notna().all().all()
    out = engine.transform(btc_candles)
    assert out.index[0] == btc_candles.index[engine.max_lookback]
    assert list(out.columns) == engine.feature_names
    assert len(set(engine.feature_names)) == len(engine.feature_names) >= 25


def test_cleaned_matrix_is_finite_with_injected_defects(engine, btc_candles) -> None:
    raw = btc_candles.drop(columns="filled").reset_index()
    raw.loc[500:540, "close"] = np.nan  # a 41-bar hole: a gap after validation
    raw.loc[900, "high"] = np.inf
    raw.loc[1200:1230, "volume"] = 0.0  # constant volume -> zero std -> NaN z-score
    raw = raw.drop(index=range(3000, 3005))  # a missing stretch
    raw = pd.concat([raw, raw.iloc[[2000, 2001]]])  # duplicate rows
    candles, report = validate_candles(raw, "1h")
    assert report.filled == 47 and report.duplicates_dropped == 2
    features = engine.transform(candles)
    assert features.isna().any().any()  # long defects survive the limited forward fill
    matrix = Preprocessor().fit(features.iloc[:4000]).transform(features)
    assert np.isfinite(matrix).all()
    assert features["filled"].sum() == 47


def test_forward_fill_is_limited(engine, btc_candles, monkeypatch) -> None:
    raw = engine.compute(btc_candles)
    holed = raw.copy()
    holed.iloc[1000:1010, 0] = np.nan
    holed.iloc[2000, 1] = np.inf
    monkeypatch.setattr(engine, "compute", lambda candles: holed)
    cleaned = engine.transform(btc_candles)
    limit = engine.spec.ffill_limit
    col = cleaned.iloc[:, 0]
    pos = col.index.get_loc(raw.index[1000])
    assert (col.iloc[pos : pos + limit] == raw.iloc[999, 0]).all()
    assert col.iloc[pos + limit : pos + 10].isna().all()
    assert cleaned.loc[raw.index[2000]].iloc[1] == raw.iloc[1999, 1]
    assert raw.iloc[2000, 1] != raw.iloc[1999, 1]


def test_spec_hash_is_stable_and_sensitive(engine) -> None:
    code = (
        "from kilo.config import load_config; from kilo.features import FeatureEngine; "
        "print(FeatureEngine.from_config(load_config(environ={})).spec_hash)"
    )
    other = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert other.stdout.strip() == engine.spec_hash
    spec = engine.spec.model_dump()
    assert FeatureEngine(FeaturesConfig(**{**spec, "horizon": 5})).spec_hash == engine.spec_hash
    changed = FeatureEngine(FeaturesConfig(**{**spec, "rsi_period": 21}))
    assert changed.spec_hash != engine.spec_hash and "rsi_21" in changed.feature_names


def test_bad_input(engine, btc_candles) -> None:
    with pytest.raises(DataError, match="too few"):
        engine.transform(btc_candles.iloc[: engine.max_lookback])
    with pytest.raises(DataError, match="volume"):
        engine.transform(btc_candles.drop(columns="volume"))
    with pytest.raises(DataError, match="DatetimeIndex"):
        engine.transform(btc_candles.reset_index())

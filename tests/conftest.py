"""Shared fixtures: the real candles in KILO_DATA_DIR (never skipped when missing)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from kilo.config import Config, load_config
from kilo.data import load_candles

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="session")
def config() -> Config:
    """The shipped config, with data.dir from KILO_DATA_DIR; fails if there are no candles."""
    cfg = load_config(REPO / "config" / "config.yaml", ["tracking.enabled=false"])
    folder = Path(cfg.data.dir) / cfg.data.exchange
    if not folder.is_dir():
        pytest.fail(
            f"no candle folder at {folder}: set KILO_DATA_DIR to the shared data folder "
            "(e.g. KILO_DATA_DIR=../shared/data)",
            pytrace=False,
        )
    return cfg


@pytest.fixture(scope="session")
def btc_candles(config: Config) -> pd.DataFrame:
    """Validated real BTC/USDT 1h candles."""
    return load_candles(config.data.dir, config.data.exchange, "BTC/USDT", "1h")


TINY_SYMBOLS = ["BTC/USDT", "ETH/USDT", "SOL/USDT"]
TINY = [
    "symbols=[BTC/USDT, ETH/USDT, SOL/USDT]",
    "models.gru.sequence_length=16",
    "models.gru.hidden_size=16",
    "models.gru.epochs=2",
    "models.gru.batch_size=128",
    "models.lightgbm.n_estimators=60",
    "models.lightgbm.early_stopping_rounds=20",
    "models.lightgbm.learning_rate=0.1",
    "models.ppo.total_timesteps=512",
    "models.ppo.n_steps=256",
    "models.ppo.batch_size=64",
    "models.ppo.n_epochs=2",
    "models.ppo.window=4",
    "models.ppo.episode_length=128",
    # tiny models rarely find an edge worth the costs; these tests need trades
    "blend.rule=quantile",
    "tracking.enabled=false",  # the tracking tests turn it on, in a temporary folder
    "evaluation.holdout_fraction=0",  # 4,500 bars are too few for one; test_walkforward has it
    "evaluation.power_ics=[]",  # the planted control is the one point; test_walkforward adds one
]
SLICE_ROWS = 4500


@pytest.fixture(scope="session")
def tiny_config(config: Config, tmp_path_factory) -> Config:
    """Tiny model settings on the last 4,500 real 1h candles of BTC, ETH and SOL/USDT.

    The slices live in a temporary data dir; models go to a temporary models dir.
    """
    data_dir = tmp_path_factory.mktemp("data")
    (data_dir / "binance").mkdir()
    for symbol in TINY_SYMBOLS:
        candles = load_candles(config.data.dir, "binance", symbol, "1h")
        sliced = candles.iloc[-SLICE_ROWS:].drop(columns="filled").reset_index()
        sliced.to_feather(data_dir / "binance" / f"{symbol.replace('/', '_')}-1h.feather")
    models_dir = tmp_path_factory.mktemp("models")
    return load_config(
        REPO / "config" / "config.yaml", TINY, data_dir=data_dir, models_dir=models_dir
    )


@pytest.fixture(scope="session")
def tiny_report(tiny_config: Config):
    """One tiny model set trained once per test session."""
    from kilo.training.trainer import train_symbol

    return train_symbol(tiny_config, "BTC/USDT", progress=False)


@pytest.fixture(scope="session")
def tiny_models(tiny_config: Config, tiny_report) -> Config:
    """Tiny model sets for BTC, ETH and SOL/USDT in ``tiny_config.models.dir``."""
    from kilo.training.trainer import train_symbol

    for symbol in TINY_SYMBOLS[1:]:
        train_symbol(tiny_config, symbol, progress=False)
    return tiny_config


@pytest.fixture()
def private_btc_models(tiny_report, tiny_config: Config, tmp_path) -> Config:
    """``tiny_config`` with a private copy of the tiny BTC model sets, free to change."""
    import shutil

    models = tmp_path / "models"
    shutil.copytree(Path(tiny_config.models.dir) / "BTC_USDT", models / "BTC_USDT")
    return tiny_config.with_overrides({"models.dir": str(models)})


POOLED = ["training.pool=universe", "target.demean=universe"]


@pytest.fixture(scope="session")
def pooled_config(tiny_config: Config, tmp_path_factory) -> Config:
    """``tiny_config`` pooled and demeaned, with SOL/USDT's candles ending at 55 % of
    the slice (a member whose data ends mid-history: training rows only)."""
    data_dir = tmp_path_factory.mktemp("pool_data")
    (data_dir / "binance").mkdir()
    for symbol in TINY_SYMBOLS:
        candles = load_candles(tiny_config.data.dir, "binance", symbol, "1h")
        if symbol == "SOL/USDT":
            candles = candles.iloc[: int(0.55 * len(candles))]
        name = f"{symbol.replace('/', '_')}-1h.feather"
        candles.drop(columns="filled").reset_index().to_feather(data_dir / "binance" / name)
    return load_config(
        REPO / "config" / "config.yaml",
        [*TINY, *POOLED],
        data_dir=data_dir,
        models_dir=tmp_path_factory.mktemp("pool_models"),
    )

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
    cfg = load_config(REPO / "config" / "config.yaml")
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


TINY = [
    "symbols=[BTC/USDT]",
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
]
SLICE_ROWS = 3000


@pytest.fixture(scope="session")
def tiny_config(config: Config, btc_candles: pd.DataFrame, tmp_path_factory) -> Config:
    """Tiny model settings on the last 3,000 real BTC/USDT 1h candles (in a temp data dir)."""
    data_dir = tmp_path_factory.mktemp("data")
    (data_dir / "binance").mkdir()
    sliced = btc_candles.iloc[-SLICE_ROWS:].drop(columns="filled").reset_index()
    sliced.to_feather(data_dir / "binance" / "BTC_USDT-1h.feather")
    models_dir = tmp_path_factory.mktemp("models")
    return load_config(REPO / "config" / "config.yaml", TINY, data_dir=data_dir,
                       models_dir=models_dir)


@pytest.fixture(scope="session")
def tiny_report(tiny_config: Config):
    """One tiny model set trained once per test session."""
    from kilo.training.trainer import train_symbol

    return train_symbol(tiny_config, "BTC/USDT", progress=False)

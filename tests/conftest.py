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

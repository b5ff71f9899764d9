"""The retraining tests' champion: a private copy of the tiny BTC model set."""

from __future__ import annotations

import pytest

from kilo.config import Config
from kilo.registry import latest_version


@pytest.fixture()
def setup(private_btc_models: Config, tmp_path):
    """A private models dir holding the tiny BTC champion, and retrain paths in tmp."""
    cfg = private_btc_models.with_overrides(
        {
            "retrain.log_path": str(tmp_path / "retrain.jsonl"),
            "trading.ledger_path": str(tmp_path / "paper.sqlite"),
            "retrain.refresh_data": False,
            "retrain.keep_versions": 1,
        }
    )
    return cfg, latest_version(cfg.models.dir, "BTC/USDT")

"""A session survives what a user's disk throws at it: unreadable candle files."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from kilo.config import Config
from kilo.errors import DataError
from kilo.trading.session import SessionOptions, run_session


def with_damaged(config: Config, tmp_path: Path, symbols: list[str]) -> Config:
    """A copy of the data folder with the candle files of ``symbols`` cut in half."""
    data = tmp_path / "data"
    shutil.copytree(Path(config.data.dir), data)
    for symbol in symbols:
        path = data / "binance" / f"{symbol.replace('/', '_')}-1h.feather"
        path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    return config.with_overrides({"data.dir": str(data)})


def test_a_truncated_candle_file_skips_only_its_symbol(
    tiny_models: Config, tmp_path, caplog
) -> None:
    config = with_damaged(tiny_models, tmp_path, ["ETH/USDT"])
    ledger = run_session(config, SessionOptions(5, state=tmp_path / "p.sqlite"))
    traded = set(ledger.query("SELECT DISTINCT symbol FROM predictions")["symbol"])
    ledger.close()
    assert traded == {"BTC/USDT", "SOL/USDT"}  # ETH is only a universe member of theirs
    logged = " ".join(r.getMessage() for r in caplog.records)
    assert "ETH_USDT-1h.feather" in logged and "download_data.py" in logged


def test_every_bad_file_is_named_at_once_and_strict_stops(tiny_models: Config, tmp_path) -> None:
    config = with_damaged(tiny_models, tmp_path, ["ETH/USDT", "SOL/USDT"])
    with pytest.raises(DataError, match="ETH_USDT-1h.feather.*SOL_USDT-1h.feather"):
        run_session(config, SessionOptions(5, state=tmp_path / "p.sqlite", strict=True))
    everything = with_damaged(tiny_models, tmp_path / "all", ["BTC/USDT"])  # every reference
    with pytest.raises(DataError, match="no symbol has readable candles"):
        run_session(everything, SessionOptions(5, state=tmp_path / "q.sqlite"))


def test_replay_never_trades_an_outage(btc_candles) -> None:
    import pandas as pd

    from kilo.trading.sources import ReplaySource

    candles = btc_candles.loc["2018-02-07":"2018-02-11"]
    filled = candles.index[candles["filled"]]
    assert len(filled) >= 33  # the 33-hour outage of 2018-02-08/09
    source = ReplaySource({"BTC/USDT": candles}, {"BTC/USDT": 1}, candles.index[0])
    decided = pd.DatetimeIndex([t for t, snaps in source.iterations() if "BTC/USDT" in snaps])
    assert not decided.isin(filled).any()
    last_before = candles.index[candles.index.get_loc(filled[0]) - 1]
    assert last_before not in decided  # its orders would fill at a filled open
    assert len(decided) == len(candles) - len(filled) - 2  # and the last bar has no next

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from kilo.config import Config
from kilo.data import load_candles, read_binance_csv, read_cryptodatadownload_csv, read_freqtrade
from kilo.errors import DataError

ROWS = [
    [1704067200000, 100.0, 101.0, 99.0, 100.5, 10.0],
    [1704070800000, 100.5, 102.0, 100.0, 101.0, 12.0],
]


def test_real_feather_loads_validated(config: Config, btc_candles: pd.DataFrame) -> None:
    assert isinstance(btc_candles.index, pd.DatetimeIndex)
    assert str(btc_candles.index.tz) == "UTC" and btc_candles.index.name == "date"
    assert list(btc_candles.columns) == ["open", "high", "low", "close", "volume", "filled"]
    assert len(btc_candles) > 12_000 and btc_candles.index.is_monotonic_increasing
    assert (btc_candles.index.to_series().diff().dropna() == pd.Timedelta("1h")).all()


def test_freqtrade_json(tmp_path: Path) -> None:
    path = tmp_path / "BTC_USDT-1h.json"
    path.write_text(json.dumps(ROWS))
    frame = read_freqtrade(path)
    assert frame["date"].iloc[0] == pd.Timestamp("2024-01-01 00:00", tz="UTC")
    assert frame["close"].tolist() == [100.5, 101.0]


def test_parquet_round_trip(tmp_path: Path, btc_candles: pd.DataFrame) -> None:
    path = tmp_path / "x.parquet"
    btc_candles.head(50).reset_index().drop(columns="filled").to_parquet(path)
    frame = read_freqtrade(path)
    assert len(frame) == 50 and frame["close"].iloc[-1] == btc_candles["close"].iloc[49]


@pytest.mark.parametrize("scale", [1, 1000])  # epoch ms, then µs as Binance uses since 2025
def test_binance_csv(tmp_path: Path, scale: int) -> None:
    path = tmp_path / "BTCUSDT-1h-2024-01.csv"
    lines = [",".join(str(v) for v in [r[0] * scale, *r[1:], r[0] * scale + 1, 0, 0]) for r in ROWS]
    path.write_text("\n".join(lines) + "\n")
    frame = read_binance_csv(path)
    assert frame["date"].tolist() == [
        pd.Timestamp("2024-01-01 00:00", tz="UTC"),
        pd.Timestamp("2024-01-01 01:00", tz="UTC"),
    ]
    assert frame["volume"].tolist() == [10.0, 12.0]


def test_cryptodatadownload_csv_newest_first(tmp_path: Path) -> None:
    path = tmp_path / "Binance_BTCUSDT_1h.csv"
    path.write_text(
        "https://www.CryptoDataDownload.com\n"
        "Unix,Date,Symbol,Open,High,Low,Close,Volume BTC,Volume USDT,tradecount\n"
        "1704070800000,2024-01-01 01:00:00,BTCUSDT,100.5,102,100,101,12,1212,5\n"
        "1704067200000,2024-01-01 00:00:00,BTCUSDT,100,101,99,100.5,10,1005,4\n"
    )
    frame = read_cryptodatadownload_csv(path)
    assert frame["volume"].tolist() == [12.0, 10.0]  # base volume, order as in the file
    assert frame["date"].iloc[1] == pd.Timestamp("2024-01-01 00:00", tz="UTC")


def test_corrupt_empty_and_columnless_files(tmp_path: Path) -> None:
    corrupt = tmp_path / "a.feather"
    corrupt.write_bytes(b"not a feather file at all")
    with pytest.raises(DataError, match=r"a\.feather.*unreadable"):
        read_freqtrade(corrupt)
    empty = tmp_path / "b.json"
    empty.write_text("[]")
    with pytest.raises(DataError, match="no candles"):
        read_freqtrade(empty)
    no_volume = tmp_path / "c.parquet"
    pd.DataFrame(
        {
            "date": [pd.Timestamp("2024-01-01", tz="UTC")],
            "open": [1.0],
            "high": [1.0],
            "low": [1.0],
            "close": [1.0],
        }
    ).to_parquet(no_volume)
    with pytest.raises(DataError, match=r"c\.parquet.*volume"):
        read_freqtrade(no_volume)


def test_missing_file_names_the_paths_tried(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="DOGE_USDT-1h.feather.*KILO_DATA_DIR"):
        load_candles(tmp_path, "binance", "DOGE/USDT", "1h")


def test_a_json_row_short_of_a_column_names_what_is_missing(tmp_path: Path) -> None:
    path = tmp_path / "d.json"
    path.write_text(json.dumps([[1704067200000, 1.0, 2.0, 0.5, 1.5]]))  # no volume
    with pytest.raises(DataError, match=r"rows of \[5\] values, so \['volume'\] are missing"):
        read_freqtrade(path)


def test_a_csv_beside_the_missing_file_is_named_as_unsupported(tmp_path: Path) -> None:
    from kilo.data.symbols import find_candle_file

    (tmp_path / "binance").mkdir()
    (tmp_path / "binance" / "BTC_USDT-1h.csv").write_text("date,open\n")
    with pytest.raises(DataError, match=r"not CSV.*BTC_USDT-1h\.csv exists.*convert it"):
        find_candle_file(tmp_path, "binance", "BTC/USDT", "1h")

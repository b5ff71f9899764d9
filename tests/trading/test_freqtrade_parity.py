"""freqtrade's backtest of the shipped strategy trades as Kilo's replay does, trade for trade.

Runs when ``requirements-freqtrade.txt`` is installed (``.ci/run`` installs it). Both
sides trade the same tiny ETH/USDT model set over the bars it never saw, with the same
fee and slippage (the strategy's limit prices carry it; freqtrade's backtest has none)
and no portfolio risk rules (freqtrade has its own protections instead); see
:mod:`kilo.trading.freqtrade` for the mapping.
"""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from kilo.config import Config, load_config
from kilo.data import load_candles
from kilo.trading.session import SessionOptions, run_session
from kilo.trading.symbol_model import SymbolModel
from tests.conftest import REPO, TINY

pytest.importorskip("freqtrade", reason="pip install -r requirements-freqtrade.txt")

INTEGRATION = REPO / "integrations" / "freqtrade"
SYMBOL = "ETH/USDT"
PARITY = [
    "risk.daily_loss_limit=null",
    "risk.max_drawdown=null",
    "risk.max_correlated_exposure=null",
]
#: Kilo's exit reasons as freqtrade names them.
REASONS = {"signal": "kilo_exit", "stop_loss": "stop_loss", "take_profit": "roi"}
#: freqtrade rounds stop levels to the market's tick; amounts and stakes to 1e-8.
PRICE_RTOL = 1e-5


def _offline():
    spec = importlib.util.spec_from_file_location("offline", INTEGRATION / "offline.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _kilo_fills(config: Config, start: pd.Timestamp, ledger: Path) -> pd.DataFrame:
    fills = []

    def collect(record) -> None:
        fills.extend(o.fill for o in record.orders if o.fill is not None)

    options = SessionOptions(0, (SYMBOL,), "replay", start=start, state=ledger, fresh=True)
    run_session(config, options, collect)
    return pd.DataFrame(
        [
            (f.time, f.side, f.price, f.reference_price, f.notional, f.realised_pnl, f.reason)
            for f in fills
        ],
        columns=["time", "side", "price", "reference", "notional", "realised_pnl", "reason"],
    )


def _settings(config: Config, overrides: list[str], tmp: Path) -> Path:
    """A freqtrade config for SYMBOL in ``tmp``, Kilo's paths absolute."""
    settings = {
        "max_open_trades": 1,
        "stake_currency": "USDT",
        "stake_amount": "unlimited",
        "tradable_balance_ratio": 1.0,
        "dry_run": True,
        "dry_run_wallet": config.trading.initial_cash,
        "trading_mode": "spot",
        "margin_mode": "",
        "fee": config.trading.fee,
        "dataformat_ohlcv": "feather",
        "exchange": {"name": "binance", "key": "", "secret": "", "pair_whitelist": [SYMBOL]},
        "pairlists": [{"method": "StaticPairList"}],
        "entry_pricing": {"price_side": "same", "use_order_book": False, "price_last_balance": 0},
        "exit_pricing": {"price_side": "same", "use_order_book": False},
        "user_data_dir": str(tmp / "user_data"),
        "kilo": {
            "config": str(REPO / "config" / "config.yaml"),
            "set": overrides,
            "data_dir": str(config.data.dir),
            "models_dir": str(config.models.dir),
        },
    }
    path = tmp / "freqtrade.json"
    path.write_text(json.dumps(settings))
    return path


def _freqtrade_trades(config: Config, overrides: list[str], start: pd.Timestamp, tmp: Path):
    from freqtrade.data.btanalysis import load_backtest_data

    path = _settings(config, overrides, tmp)  # no user_data yet: offline.py creates it
    (tmp / "results").mkdir()  # an existing folder: freqtrade writes its zip inside
    argv = [
        "backtesting",
        *("--config", str(path), "--strategy-path", str(INTEGRATION)),
        *("--strategy", "KiloStrategy", "--datadir", str(Path(config.data.dir) / "binance")),
        *("--timerange", f"{int(start.timestamp())}-", "--export", "trades"),
        *("--backtest-directory", str(tmp / "results")),
    ]
    assert _offline().main(argv) == 0
    assert (tmp / "user_data" / "strategies").is_dir()
    return load_backtest_data(tmp / "results")


def _check_exit(
    kilo: pd.Series, ft_rate: float, entries: float, bar: pd.Series, slip: float
) -> None:
    """One exit's fill on both sides, by Kilo's reason (``bar``: the candle it filled in;
    ``entries``: Kilo's entry price over freqtrade's, 1 unless freqtrade capped its buy
    at the candle's high, which moves its stop and take-profit levels with it).

    - model exit: a sale at the open less slippage in both (freqtrade's limit order at
      Kilo's price), unless that lies below the candle's low, where freqtrade fills;
    - stop-loss: freqtrade fills at the stop, Kilo at the stop less slippage, or at the
      open less slippage when the candle opened below the stop;
    - take-profit: both at the level (a limit order), but Kilo at the open when the
      candle opened above it.
    """
    if kilo.reason == "signal":
        fill = bar.low if kilo.price < bar.low else kilo.price
        assert ft_rate == pytest.approx(fill, rel=PRICE_RTOL)
        return
    level = ft_rate * entries
    if kilo.reference == pytest.approx(level, rel=PRICE_RTOL):
        sold = level * (1 - slip if kilo.reason == "stop_loss" else 1)
        assert kilo.price == pytest.approx(sold, rel=PRICE_RTOL)
    else:  # gapped through the level: Kilo fills at the open, beyond freqtrade's level
        assert kilo.reference == bar.open
        assert bar.open < level if kilo.reason == "stop_loss" else bar.open > level


def test_freqtrade_enters_and_exits_on_the_bars_kilo_replay_does(
    tiny_models: Config, tmp_path: Path
) -> None:
    overrides = [*TINY, *PARITY]
    config = load_config(
        REPO / "config" / "config.yaml",
        overrides,
        data_dir=tiny_models.data.dir,
        models_dir=tiny_models.models.dir,
    )
    start = SymbolModel.load(config, SYMBOL).replay_start
    kilo = _kilo_fills(config, start, tmp_path / "paper.sqlite")
    trades = _freqtrade_trades(config, overrides, start, tmp_path)

    buys, sells = kilo[kilo.side == "buy"], kilo[kilo.side == "sell"]
    assert len(sells) >= 5, "too few round trips to compare"
    assert {"signal", "stop_loss"} <= set(sells.reason), "both exit paths must be exercised"
    # Kilo's last position may still be open; freqtrade force-exits it at the end
    closed = trades[trades.exit_reason != "force_exit"]
    assert len(trades) == len(buys) and len(closed) == len(sells)
    assert trades.open_date.tolist() == buys.time.tolist()
    assert closed.close_date.tolist() == sells.time.tolist()
    assert closed.exit_reason.tolist() == [REASONS[r] for r in sells.reason]
    slip = config.trading.slippage
    assert slip > 0
    # entries: Kilo's slipped price, or the candle's high where that lies above it
    entry_ratio = trades.open_rate.to_numpy() / buys.price.to_numpy()
    assert ((entry_ratio > 1 - slip - PRICE_RTOL) & (entry_ratio < 1 + PRICE_RTOL)).all()
    candles = load_candles(config.data.dir, "binance", SYMBOL, config.data.timeframe)
    capped = abs(entry_ratio - 1) >= PRICE_RTOL
    highs = candles.high.loc[buys.time[capped]].to_numpy()
    assert trades.open_rate[capped].tolist() == pytest.approx(highs.tolist(), rel=PRICE_RTOL)
    assert (highs < buys.price[capped].to_numpy()).all()
    # exits: freqtrade's level is Kilo's, but the two fill a level differently
    entries = buys.price.to_numpy() / trades.open_rate.to_numpy()
    for k, (_, kilo_exit) in enumerate(sells.iterrows()):
        bar = candles.loc[kilo_exit.time]
        _check_exit(kilo_exit, float(closed.close_rate.iloc[k]), float(entries[k]), bar, slip)
    # the stake: the same share of each side's own equity (flat at every entry: the
    # initial cash and the profits closed before; freqtrade's is larger by the stops'
    # slippage it does not pay)
    cash = config.trading.initial_cash
    kilo_equity = cash + np.concatenate([[0.0], sells.realised_pnl.cumsum().to_numpy()])
    ft_equity = cash + np.concatenate([[0.0], trades.profit_abs.cumsum().to_numpy()[:-1]])
    kilo_share = buys.notional.to_numpy() / kilo_equity[: len(buys)]
    ft_share = trades.stake_amount.to_numpy() / ft_equity
    assert ft_share.tolist() == pytest.approx(kilo_share.tolist(), rel=PRICE_RTOL)


def test_a_pair_whose_universe_files_are_missing_backtests_with_a_warning(
    tiny_models: Config, tmp_path: Path, caplog
) -> None:
    """The README's backtest on a data folder with SOL/USDT's file missing (a member of
    the tiny sets' universe): freqtrade runs to the end, and the strategy names the file."""
    data = tmp_path / "data" / "binance"
    data.mkdir(parents=True)
    for symbol in ("BTC/USDT", SYMBOL):
        name = f"{symbol.replace('/', '_')}-1h.feather"
        (data / name).symlink_to(Path(tiny_models.data.dir) / "binance" / name)
    path = _settings(tiny_models, [*TINY, *PARITY], tmp_path)
    end = load_candles(tiny_models.data.dir, "binance", SYMBOL, "1h").index[-1]
    start = end - pd.Timedelta(days=10)  # a short backtest: the start-up candles dominate
    argv = [
        "backtesting",
        *("--config", str(path), "--strategy-path", str(INTEGRATION)),
        *("--strategy", "KiloStrategy", "--datadir", str(data)),
        *("--timerange", f"{int(start.timestamp())}-", "--export", "none"),
    ]
    with caplog.at_level("WARNING", logger="kilo.trading.freqtrade"):
        assert _offline().main(argv) == 0
    warned = [r.getMessage() for r in caplog.records if r.name == "kilo.trading.freqtrade"]
    assert warned and "SOL_USDT-1h.feather" in warned[0] and "training medians" in warned[0]

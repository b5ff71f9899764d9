"""freqtrade's backtest of the shipped strategy trades as Kilo's replay does, trade for trade,
on spot (long only) and on USDT-M perpetuals (longs, shorts and funding).

Runs when ``requirements-freqtrade.txt`` is installed (``.ci/run`` installs it). Both
sides trade the same tiny ETH/USDT model set over the first bars it never saw, with the same
fee and slippage (the strategy's limit prices carry it; freqtrade's backtest has none)
and no portfolio risk rules (freqtrade has its own protections instead); see
:mod:`kilo.trading.freqtrade` for the mapping. On futures both read the perpetual's
candles and funding from freqtrade's futures layout (sliced to the tiny candles' span)
and one fee for every fill: Binance's taker 0.05 % (``trading.fee`` alone sets Kilo's
maker fee too; freqtrade's ``fee``), and the edge rule at no hurdle, so that the tiny
models trade both sides.

freqtrade's backtest (2026.9) rounds prices to a tick it reads off the traded pair's
candles (``Backtesting.load_bt_data``, ``get_tick_size_over_time``): the most decimals
any open, high, low or close of a calendar month is written with (at 14 significant
digits), tick = 10 ** -decimals, in ccxt's TICK_SIZE mode, in place of the market's own
precision (the stub's 1e-8); a trade keeps the tick of the month it was entered in. A limit
entry (Kilo's slipped price) is rounded to the nearest tick, then capped at the candle's
high (a long) or low (a short), themselves on the tick; the stop level is rounded towards
the price (up below a long, down above a short: ``Trade.adjust_stop_loss``); every exit
price is rounded to the nearest tick (``Backtesting._exit_trade``). So freqtrade's entries,
model exits and take-profits lie within half a tick of the unrounded prices the test
expects, and a stop at most one tick on the entry's side of its level. On ETH/USDT (2
decimals) the tick is 0.01 USDT, a few 1e-6 of the price; a third run trades a coarse-tick
pair, ETH/USDT's perpetual with every price divided by 10,000 and written with 4 decimals
(0.17-0.30 USDT over the replay, tick 0.0001: 3-6 bp, as XLM/USDT's). The division alone
leaves every feature unchanged (they read log returns, ratios of prices and the volume in
base currency, which stays); the rounding moves them a little (at this commit Kilo trades
the same bars, sides and reasons as on ETH/USDT).
"""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from numpy.typing import ArrayLike

from kilo.config import Config, load_config
from kilo.data import load_candles
from kilo.data.funding import futures_dir, futures_pair
from kilo.data.market import load_market_candles
from kilo.trading.session import SessionOptions, run_session
from kilo.trading.symbol_model import SymbolModel
from tests.conftest import REPO, TINY

btanalysis = pytest.importorskip(
    "freqtrade.data.btanalysis", reason="pip install -r requirements-freqtrade.txt"
)

INTEGRATION = REPO / "integrations" / "freqtrade"
SYMBOL = "ETH/USDT"
PARITY = [
    "risk.daily_loss_limit=null",
    "risk.max_drawdown=null",
    "risk.max_correlated_exposure=null",
]
#: The futures venue of both sides: one fee a fill, shorts at no hurdle.
FUTURES = [
    "trading.market=futures",
    "trading.fee=0.0005",
    "blend.rule=edge",
    "blend.cost_multiple=0",
]
#: Kilo's exit reasons as freqtrade names them.
REASONS = {"signal": "kilo_exit", "stop_loss": "stop_loss", "take_profit": "roi"}
#: Kilo's prices against its own candles and levels, and the stakes' shares of equity
#: (freqtrade rounds amounts and stakes to the stub market's 1e-8).
PRICE_RTOL = 1e-5
#: freqtrade's prices against the test's unrounded ones, beside the tick (module docstring):
#: floats, and freqtrade's profit ratios (``custom_roi``) rounded to 1e-8.
RATIO_RTOL = 1e-8
#: freqtrade's tick of ETH/USDT's candles, written with 2 decimals.
ETH_TICK = 0.01
#: The coarse-tick pair: ETH/USDT's spot, perpetual and mark prices divided by this and
#: written with this many decimals (the funding rates and volumes as they are).
COARSE_DIVISOR, COARSE_DECIMALS = 10_000.0, 4
PRICES = ["open", "high", "low", "close"]
#: Funding per trade: freqtrade values it at the mark candle's open, Kilo at the
#: perpetual's own open; they differ by the basis, a few bp of the funding.
FUNDING_RTOL = 2e-3
FUTURES_FILES = ("1h-futures", "1h-mark", "1h-funding_rate")
#: Bars replayed from the first bar the model set never saw (of the tiny slice's 620).
REPLAY_BARS = 320


def _offline():
    spec = importlib.util.spec_from_file_location("offline", INTEGRATION / "offline.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _data(
    config: Config, tiny: Config, market: str, end: pd.Timestamp, folder: Path, coarse: bool
) -> Path:
    """A data dir of the tiny spot candles up to ``end`` and, on futures, ETH's
    perpetual candles, mark candles and funding events over their span (from the
    shared data in ``config``); ``coarse``: ETH's prices made the coarse-tick pair's."""
    spot = Path(tiny.data.dir) / "binance"
    (folder / "binance").mkdir(parents=True)
    first = load_market_candles(tiny, SYMBOL).index[0] - pd.Timedelta(hours=8)
    files = {path: folder / "binance" / path.name for path in spot.iterdir()}
    if market == "futures":
        source, target = futures_dir(config.data.dir, "binance"), futures_dir(folder, "binance")
        target.mkdir()
        for kind in FUTURES_FILES:
            name = f"{futures_pair(SYMBOL)}-{kind}.feather"
            files[source / name] = target / name
    prices = {f"{SYMBOL.replace('/', '_')}-1h.feather"}
    prices |= {f"{futures_pair(SYMBOL)}-1h-{kind}.feather" for kind in ("futures", "mark")}
    for path, copy in files.items():
        frame = pd.read_feather(path)
        frame = frame[(frame.date >= first) & (frame.date <= end)].reset_index(drop=True)
        if coarse and path.name in prices:
            frame[PRICES] = (frame[PRICES] / COARSE_DIVISOR).round(COARSE_DECIMALS)
        frame.to_feather(copy)
    return folder


def _kilo_replay(config: Config, start: pd.Timestamp, ledger: Path):
    """Kilo's fills (one row each) and funding payments (quote, paid > 0) over the replay."""
    fills, funding = [], []

    def collect(record) -> None:
        fills.extend(o.fill for o in record.orders if o.fill is not None)
        funding.extend(record.funding)

    options = SessionOptions(0, (SYMBOL,), "replay", start=start, state=ledger, fresh=True)
    run_session(config, options, collect)
    columns = ["time", "side", "opens", "price", "reference", "quantity", "notional"]
    frame = pd.DataFrame(
        [
            (f.time, f.position_side, f.opens, f.price, f.reference_price, f.quantity, f.notional)
            for f in fills
        ],
        columns=columns,
    ).assign(realised_pnl=[f.realised_pnl for f in fills], reason=[f.reason for f in fills])
    paid = pd.Series([p.amount for p in funding], index=[p.time for p in funding], dtype=float)
    return frame, paid


def _settings(config: Config, overrides: list[str], tmp: Path) -> Path:
    """A freqtrade config for SYMBOL (its perpetual on futures) in ``tmp``, Kilo's paths
    absolute."""
    futures = config.trading.market == "futures"
    pair = f"{SYMBOL}:USDT" if futures else SYMBOL
    settings = {
        "max_open_trades": 1,
        "stake_currency": "USDT",
        "stake_amount": "unlimited",
        "tradable_balance_ratio": 1.0,
        "dry_run": True,
        "dry_run_wallet": config.trading.initial_cash,
        "trading_mode": config.trading.market,
        "margin_mode": "isolated" if futures else "",
        "fee": config.trading.fee,
        "dataformat_ohlcv": "feather",
        "exchange": {
            "name": "binance",
            "key": "",
            "secret": "",
            "pair_whitelist": [pair],
            # Kilo's 2,700 start-up candles: 5 calls of 1,000 (freqtrade's perpetuals: 499)
            "_ft_has_params": {"ohlcv_candle_limit": 1000} if futures else {},
        },
        "pairlists": [{"method": "StaticPairList"}],
        # Binance's perpetual tickers carry no price: futures price from the order book
        # (live only; a backtest fills at the candle)
        "entry_pricing": {"price_side": "same", "use_order_book": futures, "order_book_top": 1},
        "exit_pricing": {"price_side": "same", "use_order_book": futures, "order_book_top": 1},
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
    return btanalysis.load_backtest_data(tmp / "results")


def _ticks(actual: ArrayLike, expected: ArrayLike, tick: float) -> np.ndarray:
    """``actual - expected`` in ticks, shrunk towards 0 by ``RATIO_RTOL`` of ``expected``;
    shape of the inputs."""
    difference, expected = np.subtract(actual, expected), np.abs(expected)
    return np.sign(difference) * np.maximum(np.abs(difference) - RATIO_RTOL * expected, 0) / tick


def _check_exit(
    kilo: pd.Series, ft_rate: float, ft_entry: float, bar: pd.Series, c, tick: float
) -> None:
    """One exit's fill on both sides, by Kilo's reason (``bar``: the candle it filled
    in; ``ft_entry``: freqtrade's entry price, Kilo's rounded to the tick or capped at the
    candle's range, which moves its stop and take-profit levels with it; ``c``: the
    ``trading`` section; ``tick``: freqtrade's tick). ``s`` is +1 for a long, -1 for a
    short: a long's exit sells.

    - model exit: at the open with slippage against it in both (freqtrade's limit order
      at Kilo's price), but within the candle in freqtrade;
    - stop-loss: at the level, or at the open where the candle opened beyond it; Kilo
      with slippage against it; freqtrade at its level rounded towards the price unless
      the whole candle lies beyond it;
    - take-profit: both at the level (a limit order), or at the open where the candle
      opened beyond it.

    freqtrade's prices are rounded to the nearest tick, its stop level towards the price.
    """
    s = 1.0 if kilo.side == "long" else -1.0
    kilo_entry = kilo.entry
    if kilo.reason == "signal":
        assert kilo.price == pytest.approx(bar.open * (1 - s * c.slippage), rel=PRICE_RTOL)
        assert abs(_ticks(ft_rate, min(max(kilo.price, bar.low), bar.high), tick)) <= 0.5
        return
    if kilo.reason == "stop_loss":
        level, ft_level = (e * (1 - s * c.stop_loss) for e in (kilo_entry, ft_entry))
        gapped = s * (bar.open - level) <= 0
        assert kilo.reference == pytest.approx(bar.open if gapped else level, rel=PRICE_RTOL)
        assert kilo.price == pytest.approx(kilo.reference * (1 - s * c.slippage), rel=PRICE_RTOL)
        if s * ((bar.high if s > 0 else bar.low) - ft_level) < 0:  # beyond: at the open
            assert _ticks(ft_rate, bar.open, tick) == 0
        else:
            assert 0 <= s * _ticks(ft_rate, ft_level, tick) < 1
        return
    level, ft_level = (e * (1 + s * c.take_profit) for e in (kilo_entry, ft_entry))
    assert kilo.price == pytest.approx(
        bar.open if s * (bar.open - level) >= 0 else level, rel=PRICE_RTOL
    )
    ft_expected = bar.open if s * (bar.open - ft_level) >= 0 else ft_level
    assert abs(_ticks(ft_rate, ft_expected, tick)) <= 0.5


@pytest.mark.parametrize(
    ("market", "coarse"),
    [("spot", False), ("futures", False), ("futures", True)],
    ids=["spot", "futures", "futures-coarse-tick"],
)
def test_freqtrade_trades_the_bars_sides_and_prices_kilo_replay_does(
    market: str, coarse: bool, config: Config, tiny_models: Config, tmp_path: Path
) -> None:
    overrides = [*TINY, *PARITY, *(FUTURES if market == "futures" else [])]
    start = SymbolModel.load(tiny_models, SYMBOL).replay_start
    end = start + REPLAY_BARS * pd.Timedelta(tiny_models.data.timeframe)
    kilo_config = load_config(
        REPO / "config" / "config.yaml",
        overrides,
        data_dir=_data(config, tiny_models, market, end, tmp_path / "data", coarse),
        models_dir=tiny_models.models.dir,
    )
    fills, paid = _kilo_replay(kilo_config, start, tmp_path / "paper.sqlite")
    trades = _freqtrade_trades(kilo_config, overrides, start, tmp_path)

    entries = fills[fills.opens].reset_index(drop=True)
    exits = fills[~fills.opens].reset_index(drop=True)
    assert len(exits) >= 5, "too few round trips to compare"
    assert {"signal", "stop_loss"} <= set(exits.reason), "both exit paths must be exercised"
    if market == "futures":
        assert {"long", "short"} <= set(entries.side), "both sides must be traded"
    # Kilo's last position may still be open; freqtrade force-exits it at the end
    closed = trades[trades.exit_reason != "force_exit"].reset_index(drop=True)
    assert len(trades) == len(entries) and len(closed) == len(exits)
    assert trades.open_date.tolist() == entries.time.tolist()
    assert trades.is_short.tolist() == (entries.side == "short").tolist()
    assert closed.close_date.tolist() == exits.time.tolist()
    assert closed.exit_reason.tolist() == [REASONS[r] for r in exits.reason]
    c = kilo_config.trading
    assert c.slippage > 0
    candles = load_market_candles(kilo_config, SYMBOL)
    tick = 10.0**-COARSE_DECIMALS if coarse else ETH_TICK
    # freqtrade's tick of each month, at each entry
    ticks = btanalysis.get_tick_size_over_time(candles[PRICES].reset_index())
    assert (ticks.asof(pd.DatetimeIndex(entries.time)) == tick).all()
    # entries: Kilo's slipped price, or the candle's high (a long) or low (a short)
    # where that lies beyond it
    bars = candles.loc[entries.time]
    capped = np.where(entries.side == "long", bars.high, bars.low)
    s = np.where(entries.side == "long", 1.0, -1.0)
    expected = np.where(s * (entries.price - capped) > 0, capped, entries.price)
    assert (np.abs(_ticks(trades.open_rate, expected, tick)) <= 0.5).all()
    # exits: each side's level from its own entry price, filled by its own rule
    exits = exits.assign(entry=entries.price[: len(exits)])
    for k, kilo_exit in exits.iterrows():
        bar = candles.loc[kilo_exit.time]
        _check_exit(kilo_exit, closed.close_rate[k], trades.open_rate[k], bar, c, tick)
    # the stake: the same share of each side's own equity (flat at every entry: the
    # initial cash and the profits closed before; freqtrade's is larger by the stops'
    # slippage it does not pay)
    cash = c.initial_cash
    kilo_equity = cash + np.concatenate([[0.0], exits.realised_pnl.cumsum().to_numpy()])
    ft_equity = cash + np.concatenate([[0.0], trades.profit_abs.cumsum().to_numpy()[:-1]])
    kilo_share = entries.notional.to_numpy() / kilo_equity[: len(entries)]
    ft_share = trades.stake_amount.to_numpy() / ft_equity
    assert ft_share.tolist() == pytest.approx(kilo_share.tolist(), rel=PRICE_RTOL)
    if market == "futures":
        _check_funding(kilo_config, entries, exits, paid, closed)


def _check_funding(
    config: Config,
    entries: pd.DataFrame,
    exits: pd.DataFrame,
    paid: pd.Series,
    closed: pd.DataFrame,
) -> None:
    """Each closed trade's funding: Kilo's payments after its entry up to its exit, and
    freqtrade's (received > 0) the same plus the event at the entry's own time, which
    freqtrade charges and Kilo does not (:mod:`kilo.trading.freqtrade`)."""
    rates = load_market_candles(config, SYMBOL)["funding_rate"]
    assert paid.abs().sum() > 0 and (rates.loc[entries.time] != 0).any()
    kilo, at_entry = [], []
    for k, exit_ in exits.iterrows():
        entry = entries.loc[k]
        s = 1.0 if entry.side == "long" else -1.0
        kilo.append(paid[(paid.index > entry.time) & (paid.index <= exit_.time)].sum())
        at_entry.append(s * rates[entry.time] * entry.quantity * entry.reference)
    expected = -(np.array(kilo) + np.array(at_entry))
    scale = np.abs(expected) + 1e-6 * exits.notional.to_numpy()
    difference = np.abs(closed.funding_fees.to_numpy() - expected) / scale
    assert (difference < FUNDING_RTOL).all(), difference.max()


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

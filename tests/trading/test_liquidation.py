"""A perpetual's position whose margin funding and losses ate is liquidated."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from kilo.backtest.simulate import CandleArrays, evaluation_trading, simulate
from kilo.backtest.strategies import LONG_FLAT, rule_predictor
from kilo.config import Config
from kilo.data.market import load_market_candles
from kilo.trading.accounts import Candle, Portfolio
from kilo.trading.broker import PaperBroker
from tests.trading.test_broker import CFG, T
from tests.trading.test_broker_shorts import FUTURES


def test_a_position_is_liquidated_where_its_margin_is_gone_and_only_on_a_perpetual() -> None:
    """Isolated margin at leverage 1: a long that paid funding F is liquidated at
    F / (q (1 - m)), inside the bar like a stop (at the open where it gapped through), a
    short at (2 q e - F) / (q (1 + m)); the stops come first where they lie nearer; on
    spot nothing is liquidated."""
    bare = FUTURES.model_copy(update={"stop_loss": None, "take_profit": None})
    broker, pf = PaperBroker(bare), Portfolio(10_000.0)
    long = broker.open(pf, "A", 100.0, T, {"A": 100.0}).fill
    position = pf.positions["A"]
    assert broker.liquidation_price(position) == 0.0  # no funding paid: never
    position.funding = 0.5 * long.notional  # half the margin paid in funding
    level = 0.5 * long.notional / (long.quantity * (1 - bare.maintenance_margin))
    assert broker.liquidation_price(position) == pytest.approx(level)
    assert broker.stop_exit(position, Candle(100.0, 101.0, level + 0.01, 100.0)) is None
    assert broker.stop_exit(position, Candle(100.0, 101.0, level - 1, 99.0)) == (
        pytest.approx(level),
        "liquidation",
    )
    assert broker.stop_exit(position, Candle(level - 2, level, level - 3, level - 2)) == (
        level - 2,
        "liquidation",
    )
    [order] = broker.bar_exits(pf, "A", Candle(100.0, 101.0, level - 1, 99.0), T)
    assert order.reason == "liquidation" and order.fill is not None
    assert order.fill.price == pytest.approx(level * (1 - 0.0005))  # a market order
    short = broker.open(pf, "B", 100.0, T, {"B": 100.0}, side="short").fill
    held = pf.positions["B"]
    expected = 2 * short.quantity * short.price / (short.quantity * (1 + bare.maintenance_margin))
    assert broker.liquidation_price(held) == pytest.approx(expected)  # about twice the entry
    stopped = PaperBroker(FUTURES)  # a 5 % stop lies above a liquidation at 0
    assert stopped.stop_exit(position, Candle(100.0, 101.0, 1.0, 2.0))[1] == "stop_loss"
    spot = PaperBroker(CFG.model_copy(update={"stop_loss": None, "take_profit": None}))
    assert spot.liquidation_price(position) is None
    assert spot.stop_exit(position, Candle(100.0, 101.0, 0.001, 0.001)) is None


def test_a_funding_payment_that_takes_all_equity_costs_an_infinite_log_return() -> None:
    broker, pf = PaperBroker(FUTURES), Portfolio(10_000.0)
    broker.open(pf, "A", 100.0, T, {"A": 100.0})
    pf.cash = -pf.positions_value({"A": 100.0}) + 1.0  # equity 1 quote
    paid = broker.pay_funding(pf, "A", 0.01, 100.0, T, {"A": 100.0})
    assert paid is not None and paid.amount > paid.equity and paid.log_cost == np.inf


def test_buy_and_hold_on_btcs_perpetual_was_liquidated_by_funding(config: Config) -> None:
    """Real candles and funding: a 1x long of BTC/USDT's perpetual from 2020-12-13 paid 36 %
    of its notional in funding by the end of 2022, its margin gone by the FTX crash of
    2022-11-08; it is liquidated, not carried at negative equity."""
    futures = config.with_overrides({"trading.market": "futures"})
    candles = CandleArrays.from_frame(
        load_market_candles(futures, "BTC/USDT").loc["2020-12-13":"2023-01-01"]
    )
    rows = range(0, len(candles.index) - 1)
    run = simulate(
        evaluation_trading(futures.trading, 1.0, stops=False),
        "BTC/USDT",
        candles,
        rows,
        rule_predictor(np.ones(len(candles.index))),
        LONG_FLAT,
        ~candles.filled,
    )
    liquidation = run.fills[run.fills.reason == "liquidation"]
    assert len(liquidation) == 1
    assert pd.Timestamp(liquidation.time.iloc[0]).strftime("%Y-%m-%d") == "2022-11-08"
    assert (run.equity > 0).all() and np.isfinite(run.log_returns).all()
    assert run.equity.min() < 0.01 * futures.trading.initial_cash

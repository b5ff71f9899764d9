"""A perpetual's position whose margin funding and losses ate is liquidated."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from kilo.backtest.simulate import CandleArrays, evaluation_trading, simulate
from kilo.backtest.strategies import LONG_FLAT, rule_predictor
from kilo.config import Config
from kilo.data.market import load_market_candles
from kilo.trading.accounts import Portfolio
from kilo.trading.broker import PaperBroker
from tests.trading.test_broker import CFG, T
from tests.trading.test_broker_shorts import FUTURES


def test_a_position_is_liquidated_at_the_maintenance_margin_and_only_on_a_perpetual() -> None:
    """A long of the whole account (leverage 1) whose funding paid has left equity at the
    maintenance margin of its notional closes there; just above, it stays; on spot never."""
    full = FUTURES.model_copy(update={"max_position_fraction": 1.0})
    broker, pf = PaperBroker(full), Portfolio(10_000.0)
    quantity = broker.open(pf, "A", 100.0, T, {"A": 100.0}).fill.quantity
    margin = full.maintenance_margin * quantity * 100.0
    pf.cash -= pf.equity({"A": 100.0}) - 1.01 * margin  # funding paid, say
    assert broker.liquidate(pf, "A", 100.0, T, {"A": 100.0}) is None
    pf.cash -= 0.02 * margin
    order = broker.liquidate(pf, "A", 100.0, T, {"A": 100.0})
    assert order is not None and order.reason == "liquidation" and "A" not in pf.positions
    assert order.fill is not None and order.fill.price == pytest.approx(100.0 * (1 - 0.0005))
    spot, pf = PaperBroker(CFG), Portfolio(10_000.0)
    spot.open(pf, "A", 100.0, T, {"A": 100.0})
    pf.cash = -1e9
    assert spot.liquidate(pf, "A", 100.0, T, {"A": 100.0}) is None


def test_a_funding_payment_that_takes_all_equity_costs_an_infinite_log_return() -> None:
    broker, pf = PaperBroker(FUTURES), Portfolio(10_000.0)
    broker.open(pf, "A", 100.0, T, {"A": 100.0})
    pf.cash = -pf.positions_value({"A": 100.0}) + 1.0  # equity 1 quote
    paid = broker.pay_funding(pf, "A", 0.01, 100.0, T, {"A": 100.0})
    assert paid is not None and paid.amount > paid.equity and paid.log_cost == np.inf


def test_buy_and_hold_on_btcs_perpetual_was_liquidated_by_funding(config: Config) -> None:
    """Real candles and funding: a 1x long of BTC/USDT's perpetual from 2020-12-13 paid 36 %
    of its notional in funding by the end of 2022, its margin gone by the FTX crash of
    2022-11-09; it is liquidated, not carried at negative equity."""
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
    assert pd.Timestamp(liquidation.time.iloc[0]).strftime("%Y-%m-%d") == "2022-11-09"
    assert (run.equity > 0).all() and np.isfinite(run.log_returns).all()
    assert run.equity.min() < 0.01 * futures.trading.initial_cash

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from kilo.config import TradingConfig
from kilo.trading.accounts import Candle, Portfolio, Position
from kilo.trading.broker import PaperBroker

T = pd.Timestamp("2025-01-01", tz="UTC")
CFG = TradingConfig(
    fee=0.001,
    slippage=0.0005,
    initial_cash=10_000,
    max_position_fraction=0.2,
    max_total_exposure=0.5,
    min_notional=10,
    stop_loss=0.05,
    take_profit=0.1,
)


def test_buy_sizes_by_equity_and_charges_costs() -> None:
    broker, pf = PaperBroker(CFG), Portfolio(10_000.0)
    order = broker.open(pf, "BTC/USDT", 100.0, T, {"BTC/USDT": 100.0})
    fill = order.fill
    assert fill.notional == pytest.approx(2_000.0) and fill.fee == pytest.approx(2.0)
    assert fill.price == pytest.approx(100.05) and fill.quantity == pytest.approx(2_000 / 100.05)
    assert pf.cash == pytest.approx(10_000 - 2_002)
    assert pf.equity({"BTC/USDT": 100.05}) == pytest.approx(10_000 - 2.0)


def test_total_exposure_cap_and_min_notional() -> None:
    broker, pf = PaperBroker(CFG), Portfolio(10_000.0)
    marks = {"A": 1.0, "B": 1.0, "C": 1.0}
    broker.open(pf, "A", 1.0, T, marks)
    broker.open(pf, "B", 1.0, T, marks)
    room = 0.5 * pf.equity(marks) - pf.positions_value(marks)  # about 10 % of equity
    third = broker.open(pf, "C", 1.0, T, marks)
    assert third.fill.notional == pytest.approx(room) and room < 0.2 * pf.equity(marks)
    fourth = broker.open(pf, "D", 1.0, T, {**marks, "D": 1.0})
    assert fourth.fill is None and "total exposure cap" in fourth.skip_reason
    assert broker.open(pf, "A", 1.0, T, marks).skip_reason == "already long"


def test_cash_never_goes_negative() -> None:
    cfg = TradingConfig(
        **{**CFG.model_dump(), "max_position_fraction": 1.0, "max_total_exposure": 1.0}
    )
    broker, pf = PaperBroker(cfg), Portfolio(1_000.0)
    order = broker.open(pf, "A", 10.0, T, {"A": 10.0})
    assert pf.cash >= 0 and pf.cash == pytest.approx(0.0, abs=1e-9)
    assert order.fill.notional + order.fill.fee == pytest.approx(1_000.0)


def test_sell_realises_pnl_after_both_fees() -> None:
    broker, pf = PaperBroker(CFG), Portfolio(10_000.0)
    buy = broker.open(pf, "A", 100.0, T, {"A": 100.0}).fill
    sell = broker.close(pf, "A", 110.0, T).fill
    proceeds = buy.quantity * 110.0 * (1 - 0.0005)
    assert sell.realised_pnl == pytest.approx(proceeds * (1 - 0.001) - buy.notional - buy.fee)
    assert pf.cash == pytest.approx(10_000 + sell.realised_pnl) and not pf.positions
    assert broker.close(pf, "A", 110.0, T).skip_reason == "no position"


@pytest.mark.parametrize(
    ("bar", "expected"),
    [
        ({"open": 100, "high": 101, "low": 94, "close": 99}, (95.0, "stop_loss")),
        ({"open": 90, "high": 91, "low": 89, "close": 90}, (90.0, "stop_loss")),  # gap down
        ({"open": 100, "high": 112, "low": 99, "close": 111}, (110.0, "take_profit")),
        ({"open": 100, "high": 112, "low": 94, "close": 100}, (95.0, "stop_loss")),  # both: stop
        ({"open": 100, "high": 105, "low": 96, "close": 101}, None),
    ],
)
def test_stop_loss_and_take_profit(bar: dict, expected) -> None:
    position = Position("A", 1.0, 100.0, T, 0.1)
    hit = PaperBroker(CFG).stop_exit(position, Candle(**bar))
    if expected is None:
        assert hit is None
    else:
        assert hit[0] == pytest.approx(expected[0]) and hit[1] == expected[1]


def test_stop_loss_pays_slippage_take_profit_fills_at_its_level() -> None:
    broker = PaperBroker(CFG)
    for bar, price in (
        (Candle(100, 101, 94, 99), 95.0 * (1 - 0.0005)),  # stop: market order
        (Candle(90, 91, 89, 90), 90.0 * (1 - 0.0005)),  # gap through the stop
        (Candle(100, 112, 99, 111), 110.0),
    ):  # take-profit: limit order
        pf = Portfolio(10_000.0)
        pf.positions["A"] = Position("A", 1.0, 100.0, T, 0.1)
        [order] = broker.bar_exits(pf, "A", bar, T)
        assert order.fill.price == pytest.approx(price) and not pf.positions
        assert order.fill.reference_price == pytest.approx(
            price if price == 110.0 else price / (1 - 0.0005)
        )
    pf = Portfolio(10_000.0, {"A": Position("A", 1.0, 100.0, T, 0.1)})
    assert broker.bar_exits(pf, "A", Candle(100, 105, 96, 101), T) == [] and pf.positions
    assert pf.positions["A"].best_close == 101.0  # for the next bar's trailing stop


def test_trailing_stop_follows_the_highest_close() -> None:
    broker = PaperBroker(
        CFG.model_validate({**CFG.model_dump(), "trailing_stop": 0.03, "take_profit": None})
    )
    pf = Portfolio(10_000.0, {"A": Position("A", 1.0, 100.0, T, 0.1)})
    for close in (104.0, 108.0, 106.0):  # a run-up arms the trailing stop at 108 * 0.97
        assert broker.bar_exits(pf, "A", Candle(close, close + 1, close - 1, close), T) == []
    [order] = broker.bar_exits(pf, "A", Candle(106.0, 106.5, 104.0, 104.5), T)
    assert order.fill.reason == "trailing_stop"
    assert order.fill.price == pytest.approx(108 * 0.97 * (1 - 0.0005))  # stop fills slip


def test_partial_take_profit_sells_shares_at_each_level() -> None:
    levels = [{"at": 0.03, "sell": 0.5}, {"at": 0.06, "sell": 0.5}]
    broker = PaperBroker(
        CFG.model_validate({**CFG.model_dump(), "partial_take_profit": levels, "take_profit": 0.2})
    )
    pf = Portfolio(0.0, {"A": Position("A", 2.0, 100.0, T, 0.2)})
    [first] = broker.bar_exits(pf, "A", Candle(101, 104, 100, 103), T)
    assert first.fill.reason == "partial_take_profit" and first.fill.quantity == 1.0
    assert first.fill.price == 103.0  # a limit at the level, no slippage
    assert first.fill.realised_pnl == pytest.approx(103 * (1 - 0.001) - 100.1)
    assert pf.positions["A"].quantity == 1.0 and pf.positions["A"].entry_fee == pytest.approx(0.1)
    assert broker.bar_exits(pf, "A", Candle(103, 105, 102, 104), T) == []  # level 1 done
    [second] = broker.bar_exits(pf, "A", Candle(104, 107, 103, 106), T)
    assert second.fill.quantity == 0.5 and pf.positions["A"].partials_done == 2


def test_a_perpetual_long_pays_funding_and_its_round_trip_counts_it() -> None:
    futures = CFG.model_copy(update={"market": "futures"})
    broker, pf = PaperBroker(futures), Portfolio(10_000.0)
    buy = broker.open(pf, "A", 100.0, T, {"A": 100.0}).fill
    paid = broker.pay_funding(pf, "A", 0.0001, 110.0, T, {"A": 110.0})
    assert paid.notional == pytest.approx(buy.quantity * 110.0)
    assert paid.amount == pytest.approx(0.0001 * paid.notional)  # a long pays
    assert paid.log_cost == pytest.approx(-np.log1p(-paid.amount / paid.equity))
    received = broker.pay_funding(pf, "A", -0.0003, 110.0, T, {"A": 110.0})
    assert received.amount == pytest.approx(-0.0003 * paid.notional)  # negative rate: received
    cash = pf.cash
    sell = broker.close(pf, "A", 110.0, T).fill
    assert pf.cash == pytest.approx(cash + sell.notional - sell.fee)
    funding = paid.amount + received.amount
    assert sell.realised_pnl == pytest.approx(
        sell.notional - sell.fee - buy.notional - buy.fee - funding
    )
    assert PaperBroker(CFG).pay_funding(Portfolio(1.0), "A", 0.0001, 1.0, T, {}) is None
    spot = Portfolio(10_000.0)
    PaperBroker(CFG).open(spot, "A", 100.0, T, {"A": 100.0})
    assert PaperBroker(CFG).pay_funding(spot, "A", 0.0001, 100.0, T, {"A": 100.0}) is None


def test_take_profit_limits_pay_the_maker_fee_market_orders_the_taker() -> None:
    futures = PaperBroker(CFG.model_copy(update={"fee": 0.0005, "maker_fee": 0.0002}))
    pf = Portfolio(10_000.0)
    pf.positions["A"] = Position("A", 1.0, 100.0, T, 0.1)
    [tp] = futures.bar_exits(pf, "A", Candle(100, 112, 99, 111), T)
    assert tp.fill.fee == pytest.approx(110.0 * 0.0002) and tp.fill.price == pytest.approx(110.0)
    pf.positions["A"] = Position("A", 1.0, 100.0, T, 0.1)
    [stop] = futures.bar_exits(pf, "A", Candle(100, 101, 94, 99), T)
    assert stop.fill.fee == pytest.approx(stop.fill.notional * 0.0005)

"""Shorts on a perpetual: the broker's costs, P&L, stops and funding, mirrored."""

from __future__ import annotations

import pytest

from kilo.trading.accounts import Candle, Portfolio, Position
from kilo.trading.broker import PaperBroker
from tests.trading.test_broker import CFG, T

FUTURES = CFG.model_validate({**CFG.model_dump(), "market": "futures", "allow_short": True})


def test_a_short_sells_first_buys_back_and_earns_entry_minus_exit() -> None:
    broker, pf = PaperBroker(FUTURES), Portfolio(10_000.0)
    order = broker.open(pf, "A", 100.0, T, {"A": 100.0}, side="short")
    sale = order.fill
    assert (order.side, sale.side, sale.position_side) == ("sell", "sell", "short") and sale.opens
    # 20 % of equity sold at the open less slippage, the taker fee on it
    assert sale.notional == pytest.approx(2_000.0) and sale.price == pytest.approx(99.95)
    assert sale.fee == pytest.approx(2.0) and pf.cash == pytest.approx(10_000 + 2_000 - 2.0)
    quantity = 2_000 / 99.95
    assert pf.equity({"A": 99.95}) == pytest.approx(10_000 - 2.0)  # cash - quantity x mark
    assert pf.positions_value({"A": 90.0}) == pytest.approx(-quantity * 90.0)
    assert pf.gross_exposure({"A": 90.0}) == pytest.approx(quantity * 90.0)
    buy = broker.close(pf, "A", 90.0, T).fill
    assert (buy.side, buy.position_side, buy.opens) == ("buy", "short", False)
    assert buy.price == pytest.approx(90.0 * 1.0005)  # bought back above the open
    cost = quantity * 90.0 * 1.0005 * (1 + 0.001)
    assert buy.realised_pnl == pytest.approx(2_000 - 2.0 - cost)
    assert pf.cash == pytest.approx(10_000 + buy.realised_pnl) and not pf.positions


def test_a_short_receives_a_positive_funding_rate_and_its_pnl_counts_it() -> None:
    broker, pf = PaperBroker(FUTURES), Portfolio(10_000.0)
    sale = broker.open(pf, "A", 100.0, T, {"A": 100.0}, side="short").fill
    cash = pf.cash
    paid = broker.pay_funding(pf, "A", 0.0001, 110.0, T, {"A": 110.0})
    assert paid.amount == pytest.approx(-0.0001 * sale.quantity * 110.0)  # received
    assert pf.cash == pytest.approx(cash - paid.amount) and paid.log_cost < 0
    buy = broker.close(pf, "A", 100.0, T).fill
    assert buy.realised_pnl == pytest.approx(
        sale.notional - sale.fee - buy.notional - buy.fee - paid.amount
    )


def test_spot_refuses_shorts() -> None:
    with pytest.raises(ValueError, match="shorts are off"):
        PaperBroker(CFG).open(Portfolio(1_000.0), "A", 1.0, T, {"A": 1.0}, side="short")


def test_gross_exposure_caps_a_short_as_a_long() -> None:
    broker, pf = PaperBroker(FUTURES), Portfolio(10_000.0)
    marks = {"A": 1.0, "B": 1.0, "C": 1.0}
    broker.open(pf, "A", 1.0, T, marks)
    broker.open(pf, "B", 1.0, T, marks, side="short")  # not a hedge: 40 % gross
    room = 0.5 * pf.equity(marks) - pf.gross_exposure(marks)  # about 10 % of equity
    third = broker.open(pf, "C", 1.0, T, marks, side="short")
    assert third.fill.notional == pytest.approx(room) and room < 0.11 * pf.equity(marks)
    assert broker.open(pf, "B", 1.0, T, marks).skip_reason == "already short"


@pytest.mark.parametrize(
    ("bar", "expected"),
    [
        (Candle(100, 106, 99, 101), (105.0, "stop_loss")),  # stop above the entry
        (Candle(110, 111, 109, 110), (110.0, "stop_loss")),  # gap up through it
        (Candle(100, 101, 88, 89), (90.0, "take_profit")),  # take-profit below
        (Candle(100, 106, 88, 100), (105.0, "stop_loss")),  # both: the stop first
        (Candle(100, 104, 91, 99), None),
    ],
)
def test_a_shorts_stops_are_mirrored(bar: Candle, expected: tuple | None) -> None:
    short = Position("A", 1.0, 100.0, T, 0.1, side="short")
    hit = PaperBroker(FUTURES).stop_exit(short, bar)
    if expected is None:
        assert hit is None
    else:
        assert hit[0] == pytest.approx(expected[0]) and hit[1] == expected[1]


def test_a_shorts_trailing_stop_follows_the_lowest_close_and_buys_with_slippage() -> None:
    broker = PaperBroker(
        FUTURES.model_validate({**FUTURES.model_dump(), "trailing_stop": 0.03, "take_profit": None})
    )
    pf = Portfolio(10_000.0, {"A": Position("A", 1.0, 100.0, T, 0.1, side="short")})
    for close in (96.0, 92.0, 93.5):  # a fall arms the trailing stop at 92 * 1.03
        assert broker.bar_exits(pf, "A", Candle(close, close + 1, close - 1, close), T) == []
    assert pf.positions["A"].best_close == 92.0
    [order] = broker.bar_exits(pf, "A", Candle(93.5, 95.5, 93.0, 95.0), T)
    assert order.fill.reason == "trailing_stop" and order.fill.side == "buy"
    assert order.fill.price == pytest.approx(92 * 1.03 * 1.0005)


def test_a_shorts_partial_take_profit_closes_below_the_entry() -> None:
    levels = [{"at": 0.03, "sell": 0.5}]
    broker = PaperBroker(
        FUTURES.model_validate(
            {**FUTURES.model_dump(), "partial_take_profit": levels, "take_profit": 0.2}
        )
    )
    pf = Portfolio(10_000.0, {"A": Position("A", 2.0, 100.0, T, 0.2, side="short")})
    [part] = broker.bar_exits(pf, "A", Candle(99, 100, 96, 97), T)
    assert part.fill.price == 97.0 and part.fill.quantity == 1.0  # a limit at the level
    assert part.fill.realised_pnl == pytest.approx(100 - 97 * (1 + 0.001) - 0.1)

"""Trade one strategy over one fold, bar by bar, through the paper trader's own code.

:func:`simulate` calls :func:`kilo.trading.execution.execute_bar` (the trader's stops,
rule and broker) for every bar, without the ledger and the per-bar pandas work of a
replay, so a fold's many strategies and random draws cost seconds. A parity test holds
it to :class:`~kilo.trading.trader.PaperTrader` bar for bar. It trades one symbol and
applies no portfolio risk rule (daily loss limit, drawdown breaker, correlated-exposure
cap): those belong to ``evaluate.py --portfolio``, which runs the trader itself.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial

import numpy as np
import pandas as pd

from kilo.blend import DecisionRule
from kilo.config import TradingConfig
from kilo.data import FILLED
from kilo.data.funding import FUNDING
from kilo.inference import PortfolioState, Prediction
from kilo.metrics import equity_log_returns
from kilo.trading.accounts import Candle, Fill, Order, Portfolio
from kilo.trading.broker import PaperBroker
from kilo.trading.execution import execute_bar

Predictor = Callable[[int, PortfolioState], Prediction]
FILL_COLUMNS = [
    "time",
    "side",
    "position_side",
    "quantity",
    "price",
    "reference_price",
    "notional",
    "fee",
    "realised_pnl",
    "reason",
]


@dataclass(frozen=True)
class CandleArrays:
    """Validated candles as numpy arrays for the simulator's loop (quote currency)."""

    index: pd.DatetimeIndex
    open: np.ndarray
    high: np.ndarray
    low: np.ndarray
    close: np.ndarray
    times: list[pd.Timestamp]  # the index boxed once, for the loop
    filled: np.ndarray  # bool: inserted for an exchange outage (never traded)
    funding: np.ndarray  # float64: funding rate charged at each open (0 on spot)

    @classmethod
    def from_frame(cls, candles: pd.DataFrame) -> CandleArrays:
        """From :func:`kilo.data.load_candles`' frame."""
        index = pd.DatetimeIndex(candles.index)
        column = {
            c: candles[c].to_numpy(dtype=np.float64) for c in ("open", "high", "low", "close")
        }
        return cls(
            index=index,
            open=column["open"],
            high=column["high"],
            low=column["low"],
            close=column["close"],
            times=list(index),
            filled=(
                candles[FILLED].to_numpy(dtype=bool)
                if FILLED in candles.columns
                else np.zeros(len(index), dtype=bool)
            ),
            funding=(
                candles[FUNDING].to_numpy(dtype=np.float64)
                if FUNDING in candles.columns
                else np.zeros(len(index))
            ),
        )

    def positions(self, times: pd.DatetimeIndex) -> np.ndarray:
        """Row positions of ``times`` in :attr:`index`."""
        return self.index.get_indexer(times)


@dataclass(frozen=True)
class Book:
    """A strategy's accounts between two runs: the portfolio it trades, the cost-free
    mirror of its trades (see :func:`simulate`), and the equity of each at the last mark
    (quote currency), which the next run's first log return is measured against."""

    net: Portfolio
    gross: Portfolio
    equity: tuple[float, float]

    @classmethod
    def flat(cls, cash: float) -> Book:
        """Cash only, in both accounts (quote currency)."""
        return cls(Portfolio(cash), Portfolio(cash), (cash, cash))

    def copy(self) -> Book:
        """Independent copies of both portfolios (positions copied too)."""
        return Book(self.net.copy(), self.gross.copy(), self.equity)


@dataclass(frozen=True)
class StrategyRun:
    """One strategy traded over one fold.

    Attributes
    ----------
    equity : Series (n_bars,), quote currency, after each bar's orders, marked at the
        next bar's open (where they fill)
    gross_equity : Series (n_bars,), the same trades at their prices before slippage and
        without fees
    side : Series (n_bars,), int8, the side of the position open after the bar: +1
        long, -1 short, 0 flat (bool works too: True long)
    fills : DataFrame with columns :data:`FILL_COLUMNS`
    initial_cash, initial_gross : the net and gross equity the run started from (quote
        currency), against which the first log returns are measured
    book : the accounts after the last bar, a position still open unless the run closed
        it: the next fold's run starts from them
    funding : Series (n_bars,), log return of equity the funding events at the bar's
        fill time took (negative: received); None (none paid) on spot
    fees : Series (n_bars,), log return of equity the bar's fills paid in fees and
        slippage (quote cost over the equity after the bar, at its marks); None: unknown
    """

    equity: pd.Series
    gross_equity: pd.Series
    side: pd.Series
    fills: pd.DataFrame
    initial_cash: float
    initial_gross: float
    book: Book
    funding: pd.Series | None = None
    fees: pd.Series | None = None

    @property
    def exposure(self) -> pd.Series:
        """Series (n_bars,), bool: a position (long or short) is open after the bar."""
        return self.side != 0

    @property
    def log_returns(self) -> pd.Series:
        """Per-bar log returns of equity, the first against the initial cash."""
        return _log_returns(self.equity, self.initial_cash)

    @property
    def gross_log_returns(self) -> pd.Series:
        return _log_returns(self.gross_equity, self.initial_gross)

    @property
    def equity_turns(self) -> float:
        """Traded notional over this run's own mean equity (how often equity traded)."""
        return float(self.fills["notional"].sum() / self.equity.mean()) if len(self.fills) else 0.0


def _log_returns(equity: pd.Series, initial_cash: float) -> pd.Series:
    return pd.Series(equity_log_returns(equity.to_numpy(), initial_cash), index=equity.index)


def evaluation_trading(
    trading: TradingConfig, position_fraction: float, *, stops: bool = True
) -> TradingConfig:
    """The trading section one evaluated symbol trades with: ``position_fraction`` of
    equity per position, no other symbol to share exposure with, stops optional."""
    update = {
        **trading.model_dump(),
        "max_position_fraction": position_fraction,
        "max_total_exposure": 1.0,
    }
    if not stops:
        update.update(stop_loss=None, take_profit=None)
    return TradingConfig.model_validate(update)


def _mirror(broker: PaperBroker, gross: Portfolio, fill: Fill, marks: dict[str, float]) -> None:
    """Repeat ``fill``'s quantity on the cost-free ``gross`` portfolio at its reference
    price (``broker`` charges no fee or slippage)."""
    price = fill.reference_price
    if fill.opens:
        fraction = fill.quantity * price / gross.equity(marks)
        broker.open(
            gross, fill.symbol, price, fill.time, marks, fraction=fraction, side=fill.position_side
        )
        return
    held = gross.positions[fill.symbol].quantity
    share = 1.0 if math.isclose(fill.quantity, held, rel_tol=1e-9) else fill.quantity / held
    broker.close(gross, fill.symbol, price, fill.time, order_type="limit", share=share)


def simulate(
    trading: TradingConfig,
    symbol: str,
    candles: CandleArrays,
    rows: range,
    predict: Predictor,
    rule: DecisionRule,
    tradable: np.ndarray | None = None,
    book: Book | None = None,
    close: bool = True,
) -> StrategyRun:
    """Trade ``symbol`` over the candle positions ``rows`` from ``book``'s accounts (a
    flat portfolio of ``trading.initial_cash`` when None; ``book`` is not changed).

    A candle where ``tradable`` (shape (n_candles,), bool) is False is only marked: no
    decision, no stop, no fill (an outage's filled candles, a candle without features).

    Every bar runs :func:`~kilo.trading.execution.execute_bar` with fills at the next
    bar's open. With ``close``, after the last bar an open position is sold there with
    slippage and fee (reason ``fold_end``), so the run leaves no cost unpaid; without,
    it stays open in the returned run's ``book`` for the next fold to carry on (the
    walk-forward chains its folds so, see :func:`kilo.evaluation.fold_task.run_folds`).
    The same trades are mirrored, the same quantities at their reference prices, on a
    cost-free portfolio for the gross curve: gross minus net equity is exactly the fees,
    slippage and funding paid. On futures an open position pays the funding rate of
    ``candles.funding`` at each fill time, on bars not ``tradable`` too.

    Parameters
    ----------
    trading
        Costs, sizing and stops (see :func:`evaluation_trading`).
    rows
        Consecutive positions in ``candles``; the one after the last must exist.
    predict
        ``(candle position, position state) -> Prediction`` for that bar.
    book
        The accounts to start from (the previous fold's ``run.book``); None: flat.
    close
        Sell a position still open after the last bar (``fold_end``).

    Raises
    ------
    ValueError
        If ``rows`` is empty or runs to the last candle (no next open to fill at).
    """
    if len(rows) == 0 or rows[-1] + 1 >= len(candles.index):
        raise ValueError(f"rows {rows} need a next candle to fill at")
    start = (book or Book.flat(trading.initial_cash)).copy()
    portfolio, gross = start.net, start.gross
    broker = PaperBroker(trading)
    mirror = PaperBroker(
        TradingConfig.model_validate(
            {
                **trading.model_dump(),
                "fee": 0.0,
                "maker_fee": 0.0,
                "slippage": 0.0,
                "min_notional": 0.0,
            }
        )
    )
    n = len(rows)
    equity, gross_equity, side = np.empty(n), np.empty(n), np.zeros(n, dtype=np.int8)
    funding, fees = np.zeros(n), np.zeros(n)
    fills: list[Fill] = []
    o, h, lo, c, times = candles.open, candles.high, candles.low, candles.close, candles.times
    for k, i in enumerate(rows):
        price, fill_time, rate = float(o[i + 1]), times[i + 1], float(candles.funding[i + 1])
        marks = {symbol: price}
        orders: list[Order] = []
        if tradable is None or tradable[i]:
            outcome = execute_bar(
                broker,
                portfolio,
                marks,
                symbol,
                Candle(o[i], h[i], lo[i], c[i]),
                times[i],
                price,
                fill_time,
                partial(predict, i),
                rule,
                funding_rate=rate,
            )
            orders, paid = outcome.orders, outcome.funding
        else:
            paid = broker.pay_funding(portfolio, symbol, rate, price, fill_time, marks)
        if paid is not None:
            funding[k] = paid.log_cost
        if close and k == n - 1 and symbol in portfolio.positions:
            orders = [*orders, broker.close(portfolio, symbol, price, fill_time, "fold_end")]
        for order in orders:
            if order.fill is None:
                continue
            fills.append(order.fill)
            _mirror(mirror, gross, order.fill, marks)
        equity[k], gross_equity[k] = portfolio.equity(marks), gross.equity(marks)
        paid_fills = sum(
            o.fill.fee + o.fill.quantity * abs(o.fill.price - o.fill.reference_price)
            for o in orders
            if o.fill is not None
        )
        fees[k] = math.log1p(paid_fills / equity[k]) if paid_fills else 0.0
        held = portfolio.positions.get(symbol)
        side[k] = 0 if held is None else int(held.sign)
    bars = candles.index[rows.start : rows.stop]
    frame = pd.DataFrame(
        [{col: getattr(f, col) for col in FILL_COLUMNS} for f in fills], columns=FILL_COLUMNS
    )
    return StrategyRun(
        pd.Series(equity, index=bars),
        pd.Series(gross_equity, index=bars),
        pd.Series(side, index=bars),
        frame,
        *start.equity,
        Book(portfolio, gross, (float(equity[-1]), float(gross_equity[-1]))),
        pd.Series(funding, index=bars) if trading.market == "futures" else None,
        pd.Series(fees, index=bars),
    )

"""The portfolio kernel: several symbols traded together through the paper trader.

:func:`trade_together` replays the symbols' candles through
:class:`~kilo.trading.trader.PaperTrader` in segments of time, each traded by its own
scorers (a walk-forward's fold models): the real ``trading`` sizing and caps, the
broker's costs and stops, and the :class:`~kilo.trading.risk.RiskManager`. The
segments share one ledger, so each segment's trader resumes the previous one's book
and risk state (positions, entry prices, stops, bars held, the drawdown breaker), as a
restarted trader would; open positions are sold with costs only after the last bar.
Baselines on the same bars, marked at the same prices (the next bar's open): equal
weight bought once, equal weight rebalanced at every UTC day's first bar (costs on
what is traded), and flat.
"""

from __future__ import annotations

import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from kilo.backtest.simulate import Predictor
from kilo.blend import DecisionRule
from kilo.config import Config
from kilo.inference import PortfolioState, Prediction
from kilo.metrics import equity_log_returns, fill_cost_fraction, signal_costs
from kilo.trading.broker import PaperBroker
from kilo.trading.ledger import Ledger
from kilo.trading.records import IterationRecord
from kilo.trading.sources import MarketSnapshot, ReplaySource
from kilo.trading.trader import PaperTrader, Scorer

STRATEGIES = ("blend", "equal_weight", "equal_weight_rebalanced", "flat")


@dataclass(frozen=True)
class FoldScorer:
    """A trader scorer over one fold's precomputed model outputs: ``predictor`` reads a
    candle position of ``index`` (see :meth:`~kilo.backtest.strategies.FoldOutputs.blend`)."""

    predictor: Predictor
    index: pd.DatetimeIndex
    rule: DecisionRule
    version: str = "walk-forward"

    def predict(self, snapshot: MarketSnapshot, state: PortfolioState) -> Prediction:
        """The prediction at the snapshot's bar; raises ``KeyError`` for a bar not in ``index``."""
        position = self.index.get_loc(snapshot.bar_time)
        if not isinstance(position, int):
            raise KeyError(f"bar {snapshot.bar_time} occurs more than once in the candles")
        return self.predictor(position, state)


@dataclass(frozen=True)
class PortfolioRun:
    """One portfolio run over contiguous segments.

    Attributes
    ----------
    returns : strategy -> Series (n_bars,), per-bar log returns of equity
    exposure : Series (n_bars,), bool, the blend held a position after the bar
    pnls : ndarray (n_sells,), realised PnL of the blend's sales (quote currency)
    equity_turns : the blend's traded notional over its mean equity
    risk_events : rule -> count of risk events
    cooldown_bars : bars spent in the drawdown breaker's cooldown
    """

    returns: dict[str, pd.Series]
    exposure: pd.Series
    pnls: np.ndarray
    equity_turns: float
    risk_events: dict[str, int]
    cooldown_bars: int


def equal_weight(
    marks: pd.DataFrame, fee: float, slippage: float, rebalance: bool, cash: float
) -> pd.Series:
    """Equity of an equal-weight portfolio marked at ``marks`` (bars x symbols, quote).

    Buys 1/n of ``cash`` in each symbol at the first marks; with ``rebalance`` trades
    back to 1/n at each UTC day's first bar; sells everything at the last marks. Every
    fill pays what the broker's would (:func:`~kilo.metrics.fill_cost_fraction` of the
    value traded, by side). Returns equity per bar (quote currency).
    """
    buy = fill_cost_fraction(fee, slippage, "buy")
    sell = fill_cost_fraction(fee, slippage, "sell")
    prices = marks.to_numpy(dtype=np.float64)
    n = prices.shape[1]
    units = cash * (1.0 - buy) / n / prices[0]
    days = pd.DatetimeIndex(marks.index).normalize()
    equity = np.empty(len(prices))
    for t in range(len(prices)):
        values = units * prices[t]
        total = values.sum()
        if rebalance and t > 0 and days[t] != days[t - 1]:
            excess = values - total / n
            total -= excess.clip(min=0).sum() * sell - excess.clip(max=0).sum() * buy
            units = total / n / prices[t]
        equity[t] = total
    equity[-1] *= 1.0 - sell
    return pd.Series(equity, index=marks.index)


Segment = tuple[Mapping[str, Scorer], pd.Timestamp, pd.Timestamp]
"""``(scorers, first bar, last bar)``: symbol -> scorer for the bars in between (inclusive)."""


def trade_together(
    config: Config, candles: dict[str, pd.DataFrame], segments: Sequence[Segment]
) -> PortfolioRun:
    """Trade ``segments`` (in time order, each starting at the bar after the previous
    one's last) one after another through the paper trader with ``config``'s trading and
    risk sections, and the baselines on the same marks (module docstring)."""
    rows = config.risk.correlation_window + 1
    t = config.trading
    times = pd.DatetimeIndex(sorted(set().union(*(c.index for c in candles.values()))))
    records: list[IterationRecord] = []
    with tempfile.TemporaryDirectory() as tmp:
        ledger = Ledger(Path(tmp) / "portfolio.sqlite", durable=False)
        for scorers, start, end in segments:
            source = ReplaySource(candles, {s: rows for s in candles}, start, end=end)
            bars = int(times.searchsorted(end, "right") - times.searchsorted(start))
            records += PaperTrader(config, scorers, source, ledger).run(bars)
        events = ledger.query("SELECT rule, COUNT(*) AS n FROM risk_events GROUP BY rule")
        fills = ledger.query("SELECT side, notional, realised_pnl FROM fills")
        ledger.close()
    last = records[-1]
    broker, closing = PaperBroker(t), last.portfolio.copy()
    for symbol in list(closing.positions):
        broker.close(closing, symbol, last.marks[symbol], last.mark_time, "fold_end")
    index = pd.DatetimeIndex([r.bar_time for r in records])
    equity = pd.Series([r.equity for r in records[:-1]] + [closing.cash], index=index)
    marks = pd.DataFrame([r.marks for r in records], index=index)[sorted(candles)]
    cash, (fee, slippage) = t.initial_cash, signal_costs(t)
    curves = {
        "blend": equity,
        "equal_weight": equal_weight(marks, fee, slippage, False, cash),
        "equal_weight_rebalanced": equal_weight(marks, fee, slippage, True, cash),
        "flat": pd.Series(cash, index=index),
    }
    exposure = pd.Series([bool(r.portfolio.positions) for r in records], index=index)
    sells = fills[fills["side"] == "sell"]
    return PortfolioRun(
        {
            k: pd.Series(equity_log_returns(v.to_numpy(), cash), index=index)
            for k, v in curves.items()
        },
        exposure,
        sells["realised_pnl"].to_numpy(),
        float(fills["notional"].sum() / equity.mean()),
        dict(zip(events["rule"], events["n"].astype(int), strict=True)),
        sum(r.risk_state.cooldown_left > 0 for r in records),
    )

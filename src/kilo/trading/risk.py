"""Portfolio risk rules, consulted by the trader after every mark and before every order.

Rules (the ``risk`` config section; each independent, ``None`` disables it):

- **daily loss**: once equity falls ``daily_loss_limit`` below the UTC day's opening
  equity, no new entries until the next UTC day (open positions keep their stops);
- **drawdown breaker**: once equity falls ``max_drawdown`` below its peak, every
  position is closed at the next fill and no entry is made for
  ``drawdown_cooldown_bars`` bars; then trading resumes with the peak reset to the
  equity at resumption;
- **correlated exposure**: symbols whose returns over the last ``correlation_window``
  closed bars correlate above ``correlation_threshold`` form a cluster (connected
  through such pairs); an entry is shrunk so that the cluster holds at most
  ``max_correlated_exposure`` of equity in gross exposure (longs and shorts both
  count: a long and a short of correlated symbols are not a hedge), or blocked when
  no room is left.

Every block, shrink or forced exit is a :class:`RiskEvent` (written to the ledger's
``risk_events`` table) and a log line.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date

import numpy as np
import pandas as pd
from pydantic import BaseModel

from kilo.config import RiskConfig
from kilo.trading.accounts import Portfolio

logger = logging.getLogger(__name__)

PORTFOLIO = "*"  # the symbol of events about the whole portfolio


@dataclass(frozen=True)
class RiskEvent:
    """A rule blocked, shrank or closed an order (``symbol`` ``*`` for the portfolio)."""

    bar_time: pd.Timestamp
    symbol: str
    rule: str  # daily_loss, drawdown or correlation
    detail: str


class RiskState(BaseModel):
    """What the rules remember between bars, saved with every iteration of the ledger."""

    day: date | None = None
    day_open: float | None = None
    day_blocked: bool = False
    peak: float | None = None
    cooldown_left: int = 0
    liquidate: bool = False


def correlated_cluster(
    symbol: str, closes: Mapping[str, np.ndarray], window: int, threshold: float
) -> set[str]:
    """``symbol`` and every symbol linked to it by return correlations above ``threshold``.

    Correlations are Pearson's, of the 1-bar log returns of the last ``window + 1``
    closes of each symbol (closed bars only); symbols with too few closes are alone.
    """
    usable = {s: np.diff(np.log(c[-(window + 1) :])) for s, c in closes.items() if len(c) > window}
    if symbol not in usable:
        return {symbol}
    names = list(usable)
    corr = np.corrcoef(np.vstack([usable[s] for s in names]))
    cluster, frontier = {symbol}, [symbol]
    while frontier:
        i = names.index(frontier.pop())
        for j, other in enumerate(names):
            if other not in cluster and corr[i, j] > threshold:
                cluster.add(other)
                frontier.append(other)
    return cluster


class RiskManager:
    """Applies the ``risk`` rules to one portfolio, bar after bar.

    Call :meth:`after_mark` once per iteration with the marked equity, then the trader
    asks :meth:`forced_exit` and :meth:`entry_fraction` per symbol, and
    :meth:`end_iteration` returns the iteration's events.
    """

    def __init__(self, config: RiskConfig, state: RiskState | None = None) -> None:
        self.config = config
        self.state = state or RiskState()
        self.closes: Mapping[str, np.ndarray] = {}
        self.bar_time = pd.Timestamp(0, tz="UTC")
        self._events: list[RiskEvent] = []

    def _event(self, symbol: str, rule: str, detail: str) -> None:
        logger.warning("risk %s %s: %s", rule, symbol, detail)
        self._events.append(RiskEvent(self.bar_time, symbol, rule, detail))

    def after_mark(
        self, bar_time: pd.Timestamp, equity: float, closes: Mapping[str, np.ndarray]
    ) -> None:
        """Update the day, the peak and the breaker with the equity marked at ``bar_time``.

        ``closes`` maps each symbol to its recent closes (closed bars up to now), for
        the correlation rule.
        """
        c, s = self.config, self.state
        self.bar_time, self.closes = bar_time, closes
        today = bar_time.date()
        if s.day != today:
            s.day, s.day_open, s.day_blocked = today, equity, False
        if (
            c.daily_loss_limit is not None
            and not s.day_blocked
            and s.day_open
            and equity <= s.day_open * (1.0 - c.daily_loss_limit)
        ):
            s.day_blocked = True
            self._event(
                PORTFOLIO,
                "daily_loss",
                f"equity {equity:.2f} is {c.daily_loss_limit:.1%} "
                f"below the day's open {s.day_open:.2f}: no entries until tomorrow (UTC)",
            )
        if s.cooldown_left > 0:
            s.cooldown_left -= 1
            if s.cooldown_left == 0:
                s.peak = equity
            return
        s.peak = max(s.peak or equity, equity)
        if c.max_drawdown is not None and equity <= s.peak * (1.0 - c.max_drawdown):
            s.liquidate, s.cooldown_left = True, c.drawdown_cooldown_bars + 1  # + this bar
            self._event(
                PORTFOLIO,
                "drawdown",
                f"equity {equity:.2f} is {c.max_drawdown:.1%} below "
                f"the peak {s.peak:.2f}: closing every position, no entries for "
                f"{c.drawdown_cooldown_bars} bars",
            )

    def forced_exit(self, symbol: str) -> str | None:
        """The rule that closes ``symbol``'s open position at this fill, if any."""
        if self.state.liquidate:
            self._event(symbol, "drawdown", "position closed by the drawdown breaker")
            return "drawdown"
        return None

    def entry_fraction(
        self, symbol: str, fraction: float, portfolio: Portfolio, marks: Mapping[str, float]
    ) -> float:
        """The share of equity ``symbol`` may enter with, long or short (``fraction``
        asked; 0 blocks)."""
        c, s = self.config, self.state
        if s.day_blocked:
            self._event(symbol, "daily_loss", "entry blocked for the rest of the UTC day")
            return 0.0
        if s.liquidate or s.cooldown_left > 0:
            self._event(symbol, "drawdown", f"entry blocked, {s.cooldown_left} cooldown bars left")
            return 0.0
        if c.max_correlated_exposure is None:
            return fraction
        cluster = correlated_cluster(
            symbol, self.closes, c.correlation_window, c.correlation_threshold
        )
        equity = portfolio.equity(marks)
        # gross: a quantity is positive on either side, so a short adds as a long does
        held = sum(p.quantity * marks[n] for n, p in portfolio.positions.items() if n in cluster)
        room = c.max_correlated_exposure - held / equity if equity > 0 else 0.0
        if room >= fraction:
            return fraction
        detail = (
            f"cluster {sorted(cluster)} holds {held / equity:.1%} of equity (cap "
            f"{c.max_correlated_exposure:.0%}): entry {'shrunk' if room > 0 else 'blocked'} "
            f"from {fraction:.1%} to {max(room, 0.0):.1%}"
        )
        self._event(symbol, "correlation", detail)
        return max(room, 0.0)

    def end_iteration(self) -> list[RiskEvent]:
        """Close the iteration: the breaker's liquidation is done; return its events."""
        self.state.liquidate = False
        events, self._events = self._events, []
        return events

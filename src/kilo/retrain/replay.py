"""Retraining inside a replay: a symbol's model set retrained on drift or on dates, mid-run.

:func:`replay_with_retraining` replays one symbol through the paper trader
(:func:`kilo.trading.session.run_session`) with a :class:`ReplayRetrainer` as its hooks.
After a bar that triggers, the retrainer trains a new set on the candles up to and
including that bar (``data.end`` one candle after it) with the trainer's code, which
saves and promotes it; the trader's hot reload swaps it in before the next bar, so the
new set trades from the next bar on, its drift monitor warming up anew. Triggers:

- on drift: the bar's drift measures count the symbol as drifted
  (:func:`kilo.trading.drift.drift_reason`, the rule ``retrain.py --on-drift`` acts on)
  and ``min_spacing`` has passed since the replay's first bar or the last retraining.
  A set is retrained on drift at most once, as by ``retrain.py --on-drift``: the new
  set's monitor measures nothing for ``drift.window`` bars, so a rule that keeps firing
  retrains at most once per ``max(min_spacing, drift.window bars)``;
- on dates: the first bar at or after each date (dates passed together: one retraining).

Unlike :func:`kilo.retrain.champion.retrain_symbol`, the new set is always promoted: no
challenger comparison, so two ways of timing the retraining can be compared alone.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from kilo.config import Config
from kilo.data import timeframe_delta
from kilo.trading.ledger import Ledger
from kilo.trading.records import IterationRecord
from kilo.trading.session import SessionOptions, run_session
from kilo.training.trainer import train_symbol

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Retraining:
    """One retraining inside a replay.

    ``bar_time`` is the last candle (UTC open time) the new set's data holds; it trades
    from the next bar. ``trigger`` is the drift reason, or ``schedule``; ``seconds`` the
    training's wall time.
    """

    bar_time: pd.Timestamp
    trigger: str
    version: str
    seconds: float


class ReplayRetrainer:
    """The hooks of a replay that retrains one symbol on drift or on dates.

    :meth:`observe` is the session's ``on_iteration`` (it notes a trigger), the instance
    itself its ``before_iteration`` (it trains the noted set before the next bar).

    Parameters
    ----------
    config
        The replay's config; each new set is trained with it and ``data.end`` set one
        candle after the triggering bar, into ``config.models.dir``.
    on_drift
        Retrain when the symbol's drift measures say drifted.
    dates
        Retrain at the first bar at or after each of these (UTC).
    min_spacing
        On drift: the least time since the replay's first bar or the last retraining
        (None: none).
    """

    def __init__(
        self,
        config: Config,
        symbol: str,
        *,
        on_drift: bool = False,
        dates: Sequence[pd.Timestamp] = (),
        min_spacing: pd.Timedelta | None = None,
    ) -> None:
        self.config, self.symbol = config, symbol
        self.on_drift = on_drift
        self.min_spacing = pd.Timedelta(0) if min_spacing is None else min_spacing
        self.dates = sorted(dates)
        self.retrainings: list[Retraining] = []
        self._candle = timeframe_delta(config.data.timeframe)
        self._last: pd.Timestamp | None = None
        self._due: tuple[pd.Timestamp, str] | None = None

    def observe(self, record: IterationRecord) -> None:
        """Note whether the bar of ``record`` triggers a retraining."""
        bar = record.bar_time
        self._last = bar if self._last is None else self._last
        if self.dates and self.dates[0] <= bar:
            self.dates = [d for d in self.dates if d > bar]
            self._due = (bar, "schedule")
            return
        if not self.on_drift or bar - self._last < self.min_spacing:
            return
        drifted = [d for d in record.drift if d.symbol == self.symbol and d.status == "drifted"]
        if drifted:
            self._due = (bar, str(drifted[0].reason))

    def __call__(self) -> None:
        """Train, save and promote the set a noted trigger asks for (nothing otherwise)."""
        if self._due is None:
            return
        bar, trigger = self._due
        self._due = None
        end = (bar + self._candle).isoformat()
        report = train_symbol(
            self.config.with_overrides({"data.end": end}), self.symbol, progress=False
        )
        self._last = bar
        done = Retraining(bar, trigger, str(report.version), report.seconds["total"])
        self.retrainings.append(done)
        logger.info(
            "%s: retrained on candles to %s (%s): %s in %.0f s",
            self.symbol,
            bar,
            trigger,
            done.version,
            done.seconds,
        )


def replay_with_retraining(
    config: Config,
    symbol: str,
    start: pd.Timestamp,
    state: Path,
    retrainer: ReplayRetrainer | None = None,
) -> Ledger:
    """Replay ``symbol``'s LATEST set in ``config.models.dir`` from ``start`` to the
    end of its candles (``data.end``), into a fresh ledger at ``state``, retrained by
    ``retrainer`` (None: never). Returns the open ledger.

    Raises
    ------
    ModelSetError, DataError
        If the symbol has no usable model set or no candles to replay.
    """
    options = SessionOptions(0, (symbol,), "replay", start, state=state, fresh=True, strict=True)
    return run_session(
        config,
        options,
        on_iteration=None if retrainer is None else retrainer.observe,
        before_iteration=retrainer,
    )

"""What an iteration of the trader produces: typed records the ledger stores as rows.

A field added to :class:`PredictionRecord`, or a kind added to the registry (its raw
and signal columns, :meth:`~kilo.inference.Prediction.columns`), becomes a column of
the ledger's ``predictions`` table without other edits.
"""

from __future__ import annotations

import dataclasses
import types
import typing
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from kilo.inference import Prediction
from kilo.trading.accounts import FundingPayment, Order, Portfolio
from kilo.trading.drift import DriftRecord
from kilo.trading.risk import RiskEvent, RiskState

_SQL_TYPES = {float: "REAL", int: "INTEGER", str: "TEXT", pd.Timestamp: "TEXT"}


@dataclass(frozen=True)
class PredictionRecord:
    """One symbol's prediction at one bar and what the trader decided on it.

    ``decision`` is ``enter`` (long) or ``enter_short`` (each maybe `` skipped`` or
    `` blocked``), ``exit``, ``risk exit``, ``hold`` or ``wait``;
    ``mark_price`` the price the bar's order would fill at (quote currency).
    """

    symbol: str
    bar_time: pd.Timestamp
    model_version: str
    decision: str
    mark_price: float
    prediction: Prediction

    def row(self) -> dict[str, Any]:
        """The flat ledger row: own fields (times as ISO strings) and the prediction's."""
        own = {
            f.name: getattr(self, f.name)
            for f in dataclasses.fields(self)
            if f.name != "prediction"
        }
        own["bar_time"] = self.bar_time.isoformat()
        return {**own, **self.prediction.row()}

    @classmethod
    def columns(cls) -> list[tuple[str, str, bool]]:
        """``(name, SQL type, nullable)`` of every column of :meth:`row`, in order."""
        out = []
        hints = typing.get_type_hints(cls)
        for f in dataclasses.fields(cls):
            if f.name == "prediction":
                continue
            kind = hints[f.name]
            args = typing.get_args(kind) if isinstance(kind, types.UnionType) else (kind,)
            base = next(a for a in args if a is not type(None))
            out.append((f.name, _SQL_TYPES[base], type(None) in args))
        return out + [(name, "REAL", nullable) for name, nullable in Prediction.columns()]


@dataclass
class IterationRecord:
    """Everything one iteration produced, written by :meth:`Ledger.write_iteration`.

    ``bar_time`` is the candle the decisions were made on; ``mark_time`` the time of
    the prices (``marks``) the portfolio is valued at. ``portfolio`` is a copy taken
    at the end of the iteration, so records stay valid as trading goes on;
    ``risk_state`` is the risk rules' memory after it; ``funding`` the funding its
    positions paid or received (futures).
    """

    bar_time: pd.Timestamp
    mark_time: pd.Timestamp
    predictions: list[PredictionRecord]
    orders: list[Order]
    portfolio: Portfolio
    marks: dict[str, float]
    risk_events: list[RiskEvent] = field(default_factory=list)
    risk_state: RiskState = field(default_factory=RiskState)
    errors: dict[str, str] = field(default_factory=dict)  # symbols skipped -> why (not stored)
    funding: list[FundingPayment] = field(default_factory=list)  # perpetuals' funding events
    drift: list[DriftRecord] = field(default_factory=list)  # each symbol's drift measures

    @property
    def equity(self) -> float:
        return self.portfolio.equity(self.marks)

    @property
    def scores(self) -> dict[str, float]:
        """Symbol -> blended score of this iteration."""
        return {p.symbol: p.prediction.score for p in self.predictions}

"""Retraining decisions: a typed record, appended to a JSON-lines log and the ledger database.

The ``retrain_decisions`` table belongs to retraining: this module creates and writes
it in the ledger's database through :func:`kilo.trading.ledger.connect`, the ledger's
one narrow entry point, so the trader's ledger knows nothing of retraining.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pandas as pd
from pydantic import BaseModel, ConfigDict

from kilo.registry.manifest import SplitRange
from kilo.trading.ledger import connect

SCHEMA = """
CREATE TABLE IF NOT EXISTS retrain_decisions (
    id INTEGER PRIMARY KEY, time TEXT NOT NULL, symbol TEXT NOT NULL, champion TEXT,
    challenger TEXT, champion_sharpe REAL, challenger_sharpe REAL, promoted INTEGER NOT NULL,
    reason TEXT NOT NULL, detail TEXT NOT NULL)
"""


class DriftTrigger(BaseModel):
    """The drift measures that started a challenger (``retrain.py --on-drift``): the
    ledger's latest ``drift`` row of the symbol (:mod:`kilo.trading.drift_store`), read
    by :func:`kilo.trading.drift.drift_reason` with the running ``drift`` config.

    ``bar_time`` is the bar measured (UTC); ``share_drifted`` the share of features
    above their threshold; ``top_features`` (name, PSI); ``ic`` the score's live
    IC, ``validation_low`` the lower end of its validation interval, ``ic_below_bars``
    how long it has been below it.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    bar_time: datetime
    model_version: str
    reason: str
    share_drifted: float | None = None
    psi_max: float | None = None
    top_features: list[tuple[str, float]] = []
    ic: float | None = None
    validation_low: float | None = None
    ic_below_bars: int = 0


class RetrainDecision(BaseModel):
    """The outcome of retraining one symbol.

    Sharpe ratios are annualised and net of costs; they and ``window`` (the bars of
    the comparison, UTC, inclusive) are None when no comparison ran (no champion, a collapsed
    challenger, too few bars, or a failure). ``trigger`` is the drift that started the
    challenger (None on a schedule).
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    time: datetime
    symbol: str
    promoted: bool
    reason: str
    champion: str | None = None
    challenger: str | None = None
    champion_sharpe: float | None = None
    challenger_sharpe: float | None = None
    window: SplitRange | None = None
    candles_refreshed: bool | None = None
    deleted_versions: list[str] = []
    trigger: DriftTrigger | None = None

    @classmethod
    def failed(
        cls, symbol: str, exc: Exception, trigger: DriftTrigger | None = None
    ) -> RetrainDecision:
        """The decision recorded when retraining ``symbol`` raised ``exc``."""
        return cls(
            time=pd.Timestamp.now(tz="UTC"),
            symbol=symbol,
            promoted=False,
            reason=f"retraining failed: {type(exc).__name__}: {exc}",
            trigger=trigger,
        )


def record_decision(
    decision: RetrainDecision, log_path: str | Path, ledger_path: str | Path
) -> None:
    """Append ``decision`` to the JSON-lines log and to the ledger's ``retrain_decisions``."""
    path = Path(log_path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a") as fh:
        fh.write(decision.model_dump_json() + "\n")
    conn = connect(ledger_path)
    try:
        conn.execute(SCHEMA)
        conn.execute(
            "INSERT INTO retrain_decisions (time, symbol, champion, challenger, champion_sharpe, "
            "challenger_sharpe, promoted, reason, detail) VALUES (?,?,?,?,?,?,?,?,?)",
            (
                decision.time.isoformat(),
                decision.symbol,
                decision.champion,
                decision.challenger,
                decision.champion_sharpe,
                decision.challenger_sharpe,
                int(decision.promoted),
                decision.reason,
                decision.model_dump_json(),
            ),
        )
    finally:
        conn.close()

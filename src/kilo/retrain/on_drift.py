"""Retraining on drift: a challenger for each symbol whose trader measures drift.

Reads each symbol's latest row of the ledger's ``drift`` table (the trader's live
measures, :mod:`kilo.trading.drift`) and applies :func:`kilo.trading.drift.drift_reason`
with the running ``drift`` config and the champion's reference: more than
``drift.feature_share`` of the features above their threshold, or the score's live IC
below its validation interval for ``drift.ic_bars`` bars. A symbol that fired starts a
challenger through the usual champion/challenger pass (promotion rules unchanged), with
the trigger and its figures in the decision. A champion version is retrained on drift
once: while it stays champion its drift keeps firing, and the schedule (``--every``) is
what retries.
"""

from __future__ import annotations

import json
import logging
import math
import sqlite3
from pathlib import Path

import pandas as pd

from kilo.config import Config
from kilo.errors import ModelSetError
from kilo.registry import latest_version, symbol_dir
from kilo.registry.manifest import read_manifest
from kilo.retrain.champion import retrain_pass
from kilo.retrain.decisions import DriftTrigger, RetrainDecision
from kilo.trading.drift import drift_reason, feature_thresholds
from kilo.trading.drift_store import latest_drift
from kilo.trading.ledger import connect

logger = logging.getLogger(__name__)


def _triggered_versions(conn: sqlite3.Connection) -> set[tuple[str, str]]:
    """(symbol, champion version) pairs a drift already retrained."""
    try:
        rows = conn.execute("SELECT detail FROM retrain_decisions").fetchall()
    except sqlite3.OperationalError:  # no decision recorded yet
        return set()
    out = set()
    for (detail,) in rows:
        trigger = json.loads(detail).get("trigger")
        if trigger:
            out.add((json.loads(detail)["symbol"], trigger["model_version"]))
    return out


def drift_triggers(config: Config, symbols: list[str]) -> dict[str, DriftTrigger]:
    """The symbols of ``symbols`` whose latest drift measures in the ledger at
    ``trading.ledger_path`` count as drift, with what fired.

    A row measured on another version than the symbol's LATEST (promoted since), or on
    a version a drift already retrained, fires nothing. No ledger: nothing fires.
    """
    path = Path(config.trading.ledger_path)
    if not path.is_file():
        logger.warning("no ledger at %s: no drift measures to act on", path)
        return {}
    conn = connect(path, read_only=True)
    try:
        rows, done = latest_drift(conn), _triggered_versions(conn)
    finally:
        conn.close()
    triggers = {}
    for row in rows.to_dict("records"):
        symbol, version = str(row["symbol"]), str(row["model_version"])
        if symbol not in symbols:
            continue
        try:
            champion = latest_version(config.models.dir, symbol)
        except ModelSetError:
            champion = None
        if version != champion or (symbol, version) in done:
            continue
        below = int(row["ic_below_bars"])
        reference = read_manifest(symbol_dir(config.models.dir, symbol) / version).drift
        thresholds = None if reference is None else feature_thresholds(reference, config.drift)
        reason = drift_reason(json.loads(row["feature_psi"]), below, config.drift, thresholds)
        if reason is None:
            logger.info("%s: no drift at %s", symbol, row["bar_time"])
            continue
        triggers[symbol] = DriftTrigger(
            bar_time=pd.Timestamp(row["bar_time"]),
            model_version=version,
            reason=reason,
            share_drifted=_number(row["share_drifted"]),
            psi_max=_number(row["psi_max"]),
            top_features=[tuple(t) for t in json.loads(row["top_features"])],
            ic=_number(row["ic"]),
            validation_low=_number(row["validation_low"]),
            ic_below_bars=below,
        )
    return triggers


def drift_pass(
    config: Config, symbols: list[str], *, refresh: bool | None = None
) -> list[RetrainDecision]:
    """A challenger for every symbol :func:`drift_triggers` names; its decisions (none
    when nothing fired), recorded as :func:`~kilo.retrain.champion.retrain_pass` does."""
    triggers = drift_triggers(config, symbols)
    return retrain_pass(config, list(triggers), refresh=refresh, triggers=triggers)


def _number(value: float | None) -> float | None:
    """A nullable REAL of a pandas row (None or NaN where NULL) as a float or None."""
    return None if value is None or math.isnan(value) else float(value)

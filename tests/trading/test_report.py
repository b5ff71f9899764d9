"""What the trader prints: the per-bar line and the final table, with units."""

from __future__ import annotations

import pandas as pd

from kilo.inference import Prediction
from kilo.trading.ledger import Ledger
from kilo.trading.records import PredictionRecord
from kilo.trading.report import format_summary
from tests.trading.test_ledger import T, record


def test_the_summary_labels_its_units_and_marks_undefined_values(tmp_path) -> None:
    ledger = Ledger(tmp_path / "l.sqlite")
    ledger.start_run("replay", ["A"], 100.0, {})
    for k, mark in enumerate((10.0, 12.0)):
        bar = T + pd.Timedelta(hours=k)
        seen = PredictionRecord("A", bar, "v1", "hold", mark, Prediction(score=0.2, confidence=1))
        ledger.write_iteration(record(bar, 80.0, [seen]))
    text = format_summary(ledger)
    header = text.splitlines()[0]
    for column in ("round trips", "fees (quote)", "PnL (quote)", "hit rate", "buy-and-hold"):
        assert column in header
    row = text.splitlines()[1]
    assert "–" in row and "nan" not in row.lower()  # no closed trade: no hit rate
    assert "+20.00%" in row  # the symbol's buy-and-hold over the same bars (10 -> 12)
    assert "(quote, " in text and "(no costs)" in text

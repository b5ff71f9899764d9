"""The trainer's closing table: a row per symbol and model."""

from __future__ import annotations

from typing import Any

import pandas as pd

from kilo.models.kinds import KINDS
from kilo.training.trainer import TrainReport


def summary_table(reports: list[TrainReport]) -> pd.DataFrame:
    """Key metrics and seconds per symbol and model the set holds (failed symbols are
    left out: see :func:`format_summary`).

    Columns: ``seconds`` of training (NaN for a model reused from the previous version);
    for regressors validation RMSE (label units) and Spearman IC, test IC and test
    directional accuracy (share of bars with the right sign); for a policy the validation and
    test log return of its own trading, net of costs, beside buy-and-hold's over the
    same bars; ``status``: ``trained``, ``pooled`` (fit on the universe together, see
    :mod:`kilo.training.pool`), ``reused`` or ``collapsed`` (the policy took one action).
    """
    rows: list[dict[str, object]] = []
    for rep in reports:
        if rep.error or rep.metrics is None:
            continue
        for name, kind in KINDS.items():
            m: Any = rep.metrics.get(name)
            if m is None:  # a kind the set does not hold
                continue
            trained = name in rep.seconds
            row: dict[str, object] = {
                "symbol": rep.symbol,
                "model": name,
                "seconds": rep.seconds.get(name, float("nan")),
            }
            val, test = m.validation, m.test
            if kind.regressor:
                row.update(
                    {
                        "val RMSE": val.rmse,
                        "val IC": val.ic_spearman,
                        "test IC": test.ic_spearman,
                        "test dir. acc.": test.directional_accuracy,
                    }
                )
                status = "pooled" if name in rep.pooled else "trained" if trained else "reused"
            else:
                row.update(
                    {
                        "val log ret (net)": val.net_log_return,
                        "val log ret (b&h)": val.buy_and_hold_log_return,
                        "test log ret (net)": test.net_log_return,
                        "test log ret (b&h)": test.buy_and_hold_log_return,
                    }
                )
                status = "collapsed" if val.collapsed else "trained" if trained else "reused"
            rows.append({**row, "status": status})
    return pd.DataFrame(rows)


def format_summary(reports: list[TrainReport]) -> str:
    """:func:`summary_table` as fixed-width text (seconds with one decimal, other numbers
    with four significant digits, ``–`` where a number does not apply), then one line
    per failed symbol with its reason."""
    table = summary_table(reports)
    lines = []
    if not table.empty:
        shown = table.astype(object).where(table.notna(), "–")
        shown["seconds"] = [v if v == "–" else f"{v:.1f}" for v in shown["seconds"]]
        lines.append(shown.to_string(index=False, float_format=lambda v: f"{v:.4g}"))
    lines += [f"{r.symbol}: FAILED: {r.error}" for r in reports if r.error]
    return "\n".join(lines)

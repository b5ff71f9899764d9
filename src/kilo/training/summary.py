"""The trainer's closing table: a row per symbol and model."""

from __future__ import annotations

import pandas as pd

from kilo.training.kinds import KINDS
from kilo.training.trainer import TrainReport


def summary_table(reports: list[TrainReport]) -> pd.DataFrame:
    """Key metrics and seconds per symbol and model; failed symbols carry their reason.

    Regressors show validation RMSE and IC and test IC and directional accuracy
    (``val_ic``/``test_ic``: Spearman); PPO shows validation and test net log return
    against buy-and-hold over the same bars.
    """
    rows: list[dict[str, object]] = []
    for rep in reports:
        if rep.error:
            rows.append({"symbol": rep.symbol, "model": "-", "status": f"FAILED: {rep.error}"})
            continue
        assert rep.metrics is not None, "a report without error has metrics"
        for name in KINDS:
            m = getattr(rep.metrics, name)
            row: dict[str, object] = {
                "symbol": rep.symbol,
                "model": name,
                "seconds": rep.seconds.get(name),
            }
            val, test = m.validation, m.test
            if name == "ppo":
                row.update(
                    val_net=val.net_log_return,
                    val_bh=val.buy_and_hold_log_return,
                    test_net=test.net_log_return,
                    test_bh=test.buy_and_hold_log_return,
                    status="collapsed" if val.collapsed else "ok",
                )
            else:
                row.update(
                    val_rmse=val.rmse,
                    val_ic=val.ic_spearman,
                    test_ic=test.ic_spearman,
                    test_dir_acc=test.directional_accuracy,
                    status="ok" if name in rep.seconds else "reused",
                )
            rows.append(row)
    return pd.DataFrame(rows)


def format_summary(reports: list[TrainReport]) -> str:
    """:func:`summary_table` as fixed-width text."""
    table = summary_table(reports)
    return table.to_string(index=False, float_format=lambda v: f"{v:.4g}", na_rep="")

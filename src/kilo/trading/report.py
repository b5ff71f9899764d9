"""What the trader prints: a line per iteration and a summary from the ledger."""

from __future__ import annotations

import numpy as np
import pandas as pd

from kilo.trading.ledger import Ledger
from kilo.trading.records import IterationRecord


def iteration_line(record: IterationRecord) -> str:
    """``2025-12-03 22:00  equity 10,012.34  BTC/USDT +0.123 L  ETH/USDT -0.050 .``

    Per symbol: the blended score in [-1, 1] (above 0 leans long) and the position
    after the iteration (``L`` long, ``.`` flat); equity in the quote currency.
    """
    parts = [f"{record.bar_time:%Y-%m-%d %H:%M}", f"equity {record.equity:,.2f}"]
    for symbol, score in sorted(record.scores.items()):
        held = "L" if symbol in record.portfolio.positions else "."
        parts.append(f"{symbol} {score:+.3f} {held}")
    return "  ".join(parts)


def trading_summary(ledger: Ledger) -> tuple[pd.DataFrame, dict[str, float]]:
    """Per-symbol results and portfolio totals over every iteration in the ledger.

    Returns
    -------
    (per_symbol, totals)
        ``per_symbol`` has a row per symbol: ``trades`` (closed round trips), ``fees``
        and ``pnl`` (realised plus open, quote currency, fees included), ``hit_rate``
        (share of closed trades with positive PnL) and ``buy_and_hold`` (simple return
        of the symbol over the same bars). ``totals`` has ``initial_equity``,
        ``final_equity``, ``return`` and ``buy_and_hold_return`` (equal-weight
        portfolio of the symbols, no costs) and ``iterations``.
    """
    fills = ledger.query("SELECT symbol, side, fee, realised_pnl FROM fills")
    prices = ledger.query(
        "SELECT iteration_id, symbol, mark_price FROM predictions ORDER BY iteration_id"
    )
    last = ledger.query(
        "SELECT iteration_id, equity FROM equity ORDER BY iteration_id DESC LIMIT 1"
    )
    runs = ledger.query("SELECT initial_cash FROM runs ORDER BY id LIMIT 1")
    if last.empty:
        return pd.DataFrame(), {"iterations": 0}
    open_positions = ledger.query(
        "SELECT symbol, quantity * mark_price - quantity * entry_price - entry_fee AS open_pnl "
        "FROM positions WHERE iteration_id = ?",
        (int(last["iteration_id"].iloc[0]),),
    )
    rows = []
    for symbol, group in prices.groupby("symbol"):
        f = fills[fills["symbol"] == symbol]
        sells = f[f["side"] == "sell"]
        open_pnl = open_positions.loc[open_positions["symbol"] == symbol, "open_pnl"].sum()
        rows.append(
            {
                "symbol": symbol,
                "trades": len(sells),
                "fees": f["fee"].sum(),
                "pnl": sells["realised_pnl"].sum() + open_pnl,
                "hit_rate": (sells["realised_pnl"] > 0).mean() if len(sells) else np.nan,
                "buy_and_hold": group["mark_price"].iloc[-1] / group["mark_price"].iloc[0] - 1.0,
            }
        )
    per_symbol = pd.DataFrame(rows)
    initial = float(runs["initial_cash"].iloc[0])
    final = float(last["equity"].iloc[0])
    totals = {
        "iterations": int(ledger.query("SELECT COUNT(*) AS n FROM iterations")["n"].iloc[0]),
        "initial_equity": initial,
        "final_equity": final,
        "return": final / initial - 1.0,
        "buy_and_hold_return": float(per_symbol["buy_and_hold"].mean()),
    }
    return per_symbol, totals


def format_summary(ledger: Ledger) -> str:
    """:func:`trading_summary` as text for the terminal, every column with its unit and
    ``–`` where a number is undefined (a hit rate without closed trades)."""
    per_symbol, totals = trading_summary(ledger)
    if per_symbol.empty:
        return "no iteration recorded"
    quote = lambda v: f"{v:,.2f}"  # noqa: E731 (formatters of a table)
    shown = pd.DataFrame(
        {
            "symbol": per_symbol["symbol"],
            "round trips": per_symbol["trades"],
            "fees (quote)": per_symbol["fees"].map(quote),
            "PnL (quote)": per_symbol["pnl"].map(quote),
            "hit rate": per_symbol["hit_rate"].map(lambda v: "–" if np.isnan(v) else f"{v:.0%}"),
            "buy-and-hold": per_symbol["buy_and_hold"].map(lambda v: f"{v:+.2%}"),
        }
    )
    return (
        f"{shown.to_string(index=False)}\n\nportfolio: {totals['iterations']} iterations, "
        f"equity {totals['initial_equity']:,.2f} -> {totals['final_equity']:,.2f} (quote, "
        f"{totals['return']:+.2%}); equal-weight buy-and-hold "
        f"{totals['buy_and_hold_return']:+.2%} (no costs)"
    )

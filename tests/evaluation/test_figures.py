from __future__ import annotations

import numpy as np
import pandas as pd

from kilo.evaluation.report.figures import (
    downsample,
    equity_figure,
    equity_png_figure,
    write_equity_png,
)
from kilo.evaluation.summary import FoldWindow, SymbolSummary
from kilo.evaluation.symbol import SymbolEvaluation


def test_downsample_keeps_extremes_and_order() -> None:
    index = pd.date_range("2025-01-01", periods=10_000, freq="1h", tz="UTC")
    series = pd.Series(np.random.default_rng(0).normal(size=10_000).cumsum(), index=index)
    shown = downsample(series, 1000)
    assert len(shown) <= 1000 and shown.index.is_monotonic_increasing
    assert shown.max() == series.max() and shown.min() == series.min()
    assert shown.index.isin(series.index).all()
    short = series.iloc[:500]
    assert downsample(short, 1000) is short


def _evaluation(n: int = 300) -> SymbolEvaluation:
    """A synthetic symbol: three equity curves, a blend long, flat and short, one fold."""
    index = pd.date_range("2025-01-01", periods=n, freq="1h", tz="UTC")
    steps = np.random.default_rng(1).normal(0, 0.01, size=(3, n)).cumsum(axis=1)
    curves = {
        name: pd.Series(10_000 * np.exp(path), index=index)
        for name, path in zip(("buy_and_hold", "gru", "blend"), steps, strict=True)
    }
    side = pd.Series(np.repeat(np.array([1, 0, -1], dtype=np.int8), n // 3), index=index)
    fills = pd.DataFrame(
        {"time": index[[0, n // 3]], "side": ["buy", "sell"], "price": [100.0, 101.0]}
    )
    window = FoldWindow(
        train_start=index[0], train_end=index[0], test_start=index[0], test_end=index[-1]
    )
    summary = SymbolSummary.model_construct(folds=[window], bars=n)  # the figures read these
    close = curves["buy_and_hold"] / 100
    return SymbolEvaluation("BTC/USDT", summary, curves, {}, fills, close, side)


def test_the_png_draws_equity_on_a_log_axis_with_drawdown_and_side_below(tmp_path) -> None:
    fig = equity_png_figure({"BTC/USDT": [_evaluation()]})
    equity, drawdown, side = fig.axes
    assert equity.get_yscale() == "log" and "log scale" in equity.get_ylabel()
    lines = {line.get_label(): line for line in equity.get_lines()}
    assert equity.get_lines()[0].get_label() == "blend"  # drawn first
    assert lines["blend"].get_linewidth() > max(
        line.get_linewidth() for name, line in lines.items() if name != "blend"
    )
    assert lines["buy_and_hold"].get_linestyle() == "--"
    assert lines["gru"].get_linestyle() == "-"
    assert drawdown.get_ylabel() == "drawdown (%)"
    drawn = {line.get_label(): line.get_ydata() for line in drawdown.get_lines()}
    assert -100 < min(drawn["blend"]) < -1  # in percent below the peak, not a fraction
    assert [t.get_text() for t in side.get_yticklabels()] == ["short", "flat", "long"]
    assert write_equity_png({"BTC/USDT": [_evaluation()]}, tmp_path).stat().st_size > 0


def test_the_report_figure_has_the_same_panels() -> None:
    fig = equity_figure(_evaluation())
    assert fig.layout.yaxis2.type == "log" and "log scale" in fig.layout.yaxis2.title.text
    assert fig.layout.yaxis3.title.text == "drawdown (%)"
    assert list(fig.layout.yaxis4.ticktext) == ["short", "flat", "long"]
    equity = [t for t in fig.data if t.yaxis == "y2"]
    assert equity[0].name == "blend"
    widths = {t.name: t.line.width for t in equity}
    assert widths["blend"] > max(w for name, w in widths.items() if name != "blend")
    assert {t.name: t.line.dash for t in equity}["buy_and_hold"] == "dash"
    (side,) = [t for t in fig.data if t.yaxis == "y4"]
    assert set(side.y) == {-1, 0, 1}

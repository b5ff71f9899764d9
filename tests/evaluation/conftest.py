"""Fixtures of the evaluation's tests: real BTC candles as arrays, and the cost curve of
some strategy plans traded over two chained folds of them."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import pytest

from kilo.backtest.simulate import Book, CandleArrays, StrategyRun, simulate
from kilo.config import Config
from kilo.evaluation.cost_curve import CurveRuns, Plan, curve_runs

COSTS = (0.0, 0.0005, 0.001, 0.002, 0.003, 0.004)
#: Two chained test folds of 1h bars (2020-04 .. 2020-07).
FOLDS = (range(20_000, 21_000), range(21_000, 22_000))

CurveChain = Callable[[dict[str, Plan], Sequence[float]], list[CurveRuns]]


@pytest.fixture(scope="session")
def btc_arrays(btc_candles) -> CandleArrays:
    return CandleArrays.from_frame(btc_candles)


@pytest.fixture()
def curve_chain(config: Config, btc_arrays: CandleArrays) -> CurveChain:
    """``(plans, costs) -> each fold's curve runs`` over :data:`FOLDS`, the second fold
    carrying on from the first's accounts and closing what is open after its last bar."""

    def chain(plans: dict[str, Plan], costs: Sequence[float] = COSTS) -> list[CurveRuns]:
        out: list[CurveRuns] = []
        for k, rows in enumerate(FOLDS):
            close = k == len(FOLDS) - 1

            def trade(
                plan: Plan, at: Config, book: Book | None, rows=rows, close=close
            ) -> StrategyRun:
                return simulate(
                    plan.trading(at), "BTC/USDT", btc_arrays, rows, plan.predict, plan.rule(at),
                    None, book, close,
                )  # fmt: skip

            out.append(curve_runs(config, plans, costs, trade, out[-1] if out else None))
        return out

    return chain

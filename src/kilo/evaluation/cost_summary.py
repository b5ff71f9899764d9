"""The cost curve of one symbol's evaluation, a part of
:class:`~kilo.evaluation.summary.SymbolSummary`: every strategy's net total log return
and Sharpe over the chained test folds at each cost per round trip, traded by
:mod:`kilo.evaluation.cost_curve`, with its break-even cost and the venue's own.

Costs are per round trip in price units, fractions of price (0.001 = 0.1 %), under the
convention of :mod:`kilo.evaluation.cost_curve` (a fee of half the cost on each fill).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
from pydantic import BaseModel, ConfigDict, Field

from kilo.config import Config
from kilo.evaluation.cost_curve import price_cost
from kilo.evaluation.fold_task import FoldResult
from kilo.metrics import round_trip_log_cost, sharpe_ratio
from kilo.utils import JsonFloat


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


class CostPoint(_Model):
    """A strategy traded at one cost, its decisions re-taken, over the chained folds."""

    cost: float = Field(description="per round trip, fraction of price (0.001 = 0.1 %)")
    net_total_log_return: JsonFloat
    sharpe: JsonFloat = Field(description="net, annualised")
    n_trades: int = Field(description="closed trades (sells)")


class StrategyCostCurve(_Model):
    """One strategy's points, cheapest first, and its break-even cost
    (:func:`curve_break_even`)."""

    points: list[CostPoint]
    break_even_cost: JsonFloat = Field(
        description="per round trip, fraction of price: where the net total log return "
        "falls to 0 (the first cost when it is <= 0 there; null when > 0 at every cost)"
    )


class CostCurve(_Model):
    """Every strategy's cost curve (random paths not: they are not traded again) beside
    the venue's own round trip; of the first seed when there are several."""

    venue_cost: float = Field(
        description="the venue's round trip, entry and signal exit at full size, in "
        "price units on the curve's axis (fraction of price)"
    )
    strategies: dict[str, StrategyCostCurve]
    seconds: float = Field(description="seconds the curve's runs took, summed over folds")


def curve_break_even(costs: Sequence[float], nets: Sequence[float]) -> float:
    """The lowest cost at which the net total log return reaches 0, linear between the
    two points around it: the cost per round trip at which the strategy, its decisions
    re-taken at each cost, would net nothing.

    Where decisions do not depend on costs (long or flat at full size, on spot), each
    round trip nets its gross log price return less the round trip's log cost, so this
    is the cost whose log cost is their mean: the unit and meaning of
    :func:`kilo.backtest.strategies.break_even_cost` (which weights round trips by entry
    notional, this one alike). Re-taken decisions (a higher hurdle trades less) can
    move it either way; funding, paid for holding, stays in the nets.

    Parameters
    ----------
    costs
        Increasing costs per round trip, fractions of price.
    nets
        The net total log return at each cost, same length.

    Returns
    -------
    float, fraction of price per round trip: ``costs[0]`` when ``nets[0] <= 0`` (it
    never nets money on the curve), NaN when every net is > 0 (it breaks even above
    ``costs[-1]``) or there is no point.
    """
    for k, (cost, net) in enumerate(zip(costs, nets, strict=True)):
        if net <= 0:
            if k == 0:
                return float(cost)
            before, above = costs[k - 1], nets[k - 1]
            return float(before + (cost - before) * above / (above - net))
    return math.nan


def summarise_cost_curve(
    config: Config, results: list[FoldResult], per_year: float
) -> CostCurve | None:
    """The cost curve of ``results`` (one chain of folds, in order), each strategy's
    per-bar log returns at a cost chained over the folds; None when the folds traded
    no cost curve (``evaluation.cost_curve: []``)."""
    if not results or not results[0].cost_curve.runs:
        return None
    by_cost = [r.cost_curve.runs for r in results]
    costs = sorted(by_cost[0])
    strategies = {}
    for name in by_cost[0][costs[0]]:
        points = []
        for cost in costs:
            runs = [fold[cost][name] for fold in by_cost]
            returns = np.concatenate([run.log_returns for run in runs])
            points.append(
                CostPoint(
                    cost=cost,
                    net_total_log_return=float(returns.sum()),
                    sharpe=sharpe_ratio(returns, per_year),
                    n_trades=sum(run.n_trades for run in runs),
                )
            )
        nets = [p.net_total_log_return for p in points]
        strategies[name] = StrategyCostCurve(
            points=points, break_even_cost=curve_break_even(costs, nets)
        )
    return CostCurve(
        venue_cost=price_cost(round_trip_log_cost(config.trading)),
        strategies=strategies,
        seconds=float(sum(r.cost_curve.seconds for r in results)),
    )

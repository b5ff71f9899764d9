"""The leak drills' planted faults (:mod:`kilo.evaluation.controls.drills`).

Inside the FeatureEngine (:class:`LeakyEngine` overwrites :data:`DRILL_COLUMN`):

- ``own look-ahead IC x``: ``a * z(t + 1) + N(0, 1)``, z the symbol's next 1-bar log
  return (standardised), ``a`` set so the column's raw Spearman IC with the held return
  ``log(open[t + 1 + h] / open[t + 1])`` is x;
- ``cross-asset look-ahead IC x``: the same with the first context symbol's next return;
- ``label leak``: the forward log return over the horizon itself.

In the data files (the engine is the configured one; :meth:`Fault.plant`):

- ``context file N bar(s) early``: the first context symbol's candles moved so that bar
  t holds bar t + N's values;
- ``own close a bar ahead``: the symbol's close column holds the next bar's close (its
  open, high and low stay; high and low widened to hold it, as a vendor's file would).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd

from kilo.config import Config
from kilo.features import FeatureEngine, held_log_return
from kilo.features.target import forward_log_return
from kilo.metrics import spearman_ic

#: The column every in-engine fault overwrites (a feature every engine has).
DRILL_COLUMN = "log_ret_1"
#: Look-ahead strengths (raw IC of the leaking column with the held return).
LEAK_ICS = (0.02, 0.03, 0.05)
#: How many bars early the shifted context file is.
SHIFT_BARS = (1, 2)
#: Kinds of faults planted in the data files rather than in a feature column.
DATA_KINDS = ("context shift", "close ahead")


@dataclass(frozen=True)
class Fault:
    """One planted fault: ``kind`` own, cross, label (a feature column) or context shift,
    close ahead (the data); ``scale`` the weight of the next return in a look-ahead;
    ``bars`` how early a shifted context file is."""

    name: str
    kind: str
    scale: float = 0.0
    bars: int = 0

    @property
    def in_data(self) -> bool:
        """True when the fault lives in the candle files, not in a feature column."""
        return self.kind in DATA_KINDS

    def plant(
        self, candles: pd.DataFrame, context: Mapping[str, pd.DataFrame], context_symbol: str
    ) -> tuple[pd.DataFrame, dict[str, pd.DataFrame]]:
        """The candles and context as the faulty files would load them (inputs unchanged).

        Returns
        -------
        (candles, context): like the inputs; a shifted or moved series loses its last
        ``bars`` (or 1) rows.
        """
        context = dict(context)
        if self.kind == "context shift":
            other = context[context_symbol]
            context[context_symbol] = (
                other.shift(-self.bars).iloc[: -self.bars].astype(other.dtypes.to_dict())
            )
        elif self.kind == "close ahead":
            close = candles["close"].shift(-1)
            candles = candles.assign(
                close=close,
                high=np.maximum(candles["high"], close),
                low=np.minimum(candles["low"], close),
            ).iloc[:-1]
        return candles, context

    def values(
        self,
        candles: pd.DataFrame,
        context: Mapping[str, pd.DataFrame],
        context_symbol: str,
        horizon: int,
        seed: int,
    ) -> pd.Series:
        """The leak over ``candles``' index: the leaking column of an in-engine fault
        (noise drawn per candle position, so a bar's value does not depend on later
        candles' presence), the faulty series' 1-bar log return at t of a data fault
        (``candles`` and ``context`` planted)."""
        if self.kind == "label":
            return forward_log_return(candles, horizon)
        if self.kind == "context shift":
            close = context[context_symbol]["close"].reindex(candles.index)
            return np.log(close).diff()
        if self.kind == "close ahead":
            return np.log(candles["close"]).diff()
        source = context[context_symbol].reindex(candles.index) if self.kind == "cross" else candles
        z = forward_log_return(source)
        z = z / z.std()
        noise = np.random.default_rng(seed).normal(size=len(candles))
        return self.scale * z + noise


class LeakyEngine(FeatureEngine):
    """The configured engine with ``fault`` in :data:`DRILL_COLUMN`."""

    def __init__(self, base: FeatureEngine, fault: Fault, horizon: int, seed: int) -> None:
        super().__init__(base.spec, base.symbol, base.timeframe)
        self.fault, self.horizon, self.seed = fault, horizon, seed

    def transform(
        self,
        candles: pd.DataFrame,
        context: Mapping[str, pd.DataFrame] | None = None,
        *,
        last: int | None = None,
    ) -> pd.DataFrame:
        frame = super().transform(candles, context, last=last)
        leak = self.fault.values(
            candles, context or {}, self.context_symbols[0], self.horizon, self.seed
        )
        frame[DRILL_COLUMN] = leak.reindex(frame.index).to_numpy()
        return frame


def leak_scale(
    kind: str,
    candles: pd.DataFrame,
    context: Mapping[str, pd.DataFrame],
    context_symbol: str,
    ic: float,
    horizon: int,
    seed: int,
) -> float:
    """The weight ``a`` of the next return (own or cross ``kind``) whose column reaches
    raw IC ``ic`` with the held return over ``horizon`` on ``candles`` (bisection on
    [0, 100]; 100 where even that falls short)."""
    held = held_log_return(candles, horizon).to_numpy()

    def reached(a: float) -> float:
        values = Fault("probe", kind, a).values(candles, context, context_symbol, horizon, seed)
        return spearman_ic(values.to_numpy(), held)

    low, high = 0.0, 100.0
    for _ in range(40):
        mid = (low + high) / 2
        low, high = (mid, high) if reached(mid) < ic else (low, mid)
    return (low + high) / 2


def faults(
    config: Config, candles: pd.DataFrame, context: Mapping[str, pd.DataFrame], context_symbol: str
) -> list[Fault]:
    """The drill's faults, the look-aheads scaled on ``candles`` (and ``context``)."""
    h, seed = config.target.horizon, config.seed
    leaks = [
        Fault(
            f"{label} look-ahead IC {ic:g}",
            kind,
            leak_scale(kind, candles, context, context_symbol, ic, h, seed),
        )
        for kind, label in (("own", "own"), ("cross", "cross-asset"))
        for ic in LEAK_ICS
    ]
    shifts = [
        Fault(f"context file {n} bar{'s' * (n > 1)} early", "context shift", bars=n)
        for n in SHIFT_BARS
    ]
    return [
        *leaks,
        Fault("label leak", "label"),
        *shifts,
        Fault("own close a bar ahead", "close ahead"),
    ]

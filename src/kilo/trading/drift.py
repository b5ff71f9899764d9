"""Live drift measures of one symbol's model set against the reference it stores.

Per bar, over the trailing ``drift.window`` bars: the population stability index
(:mod:`kilo.metrics.drift`) of every preprocessed feature and every model output against
the manifest's reference (:class:`~kilo.registry.drift.DriftReference`); every
``drift.ic_every`` bars, the realised IC of the blend's score and of each model's output
against the held return once it is known (``log(open[t + 1 + h] / open[t + 1])``, h the
label horizon: ``h + 1`` bars later), with a moving-block bootstrap interval, beside the
validation IC; and the calibration of what the rule acted on (the mean expected edge of
the entries against the mean held return they realised).

PSI is kept incrementally: each bar adds one row of bin indices to per-bin counts and
removes the row that left the window, so a bar costs O(variables), not O(window).
"""

from __future__ import annotations

import logging
import math
from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from kilo.config import DriftConfig
from kilo.inference import Prediction
from kilo.metrics import ic_bootstrap_ci, spearman_ic
from kilo.metrics.drift import bin_rows, padded_edges, psi
from kilo.models.kinds import KINDS
from kilo.registry.drift import DriftReference, ReferenceIC

logger = logging.getLogger(__name__)

#: Each reference output -> the :meth:`~kilo.inference.Prediction.row` column it is read
#: from: a kind's monitored raw output (:attr:`~kilo.models.kind.ModelKind.monitored`),
#: and the blend's score.
OUTPUT_FIELDS = {
    **{name: kind.columns[kind.monitored] for name, kind in KINDS.items()},
    "score": "score",
}
#: Level of the live IC's bootstrap interval.
LIVE_IC_LEVEL = 0.95


@dataclass(frozen=True)
class LiveIC:
    """Spearman IC of an output with its realised held returns over the trailing
    ``pairs`` bars, and its moving-block bootstrap interval (95 %)."""

    ic: float
    low: float
    high: float
    pairs: int


@dataclass(frozen=True)
class DriftRecord:
    """One symbol's drift measures after one bar, as the ledger's ``drift`` table holds them.

    ``status``: ``warming`` (fewer than ``drift.window`` bars seen: no PSI yet), ``ok``
    or ``drifted`` (``reason`` says why: :func:`drift_reason`). PSI values are unitless
    (>= 0); ``top_features`` the ``drift.top_features`` highest, (name, PSI);
    ``share_drifted`` the share of features above their threshold
    (:func:`feature_thresholds`). ``live_ic``
    maps each output (``score`` and each kind held) to its last
    :class:`LiveIC` (empty until ``drift.window`` held returns are realised);
    ``validation`` is the score's validation IC; ``ic_below_bars`` how many bars the
    score's live IC has stayed below the validation interval. ``edge_acted`` and
    ``return_acted``: mean expected edge and mean realised held return (log return over
    the horizon) of the ``entries`` among the realised bars; None without one.
    """

    symbol: str
    bar_time: pd.Timestamp
    model_version: str
    status: str
    feature_psi: dict[str, float] = field(default_factory=dict)
    output_psi: dict[str, float] = field(default_factory=dict)
    top_features: list[tuple[str, float]] = field(default_factory=list)
    share_drifted: float | None = None
    live_ic: dict[str, LiveIC] = field(default_factory=dict)
    validation: ReferenceIC | None = None
    ic_below_bars: int = 0
    edge_acted: float | None = None
    return_acted: float | None = None
    entries: int = 0
    reason: str | None = None


def feature_thresholds(reference: DriftReference, config: DriftConfig) -> dict[str, float]:
    """Each feature's PSI threshold: ``psi_threshold``, raised to the feature's stored
    ``null_psi`` (its PSI over the training split's own trailing windows) when
    ``null_quantile`` is set and the reference was measured at ``config.window``."""
    calibrated = config.null_quantile is not None and reference.window == config.window
    return {
        name: max(config.psi_threshold, b.null_psi or 0.0) if calibrated else config.psi_threshold
        for name, b in reference.features.items()
    }


def drift_reason(
    feature_psi: Mapping[str, float],
    ic_below_bars: int,
    config: DriftConfig,
    thresholds: Mapping[str, float] | None = None,
) -> str | None:
    """Why a symbol counts as drifted, or None: more than ``feature_share`` of the
    features above their threshold (``thresholds``, :func:`feature_thresholds`; default
    ``psi_threshold``), or the score's live IC below its validation interval for at
    least ``ic_bars`` bars. The trader's status and ``retrain.py --on-drift`` decide by
    this one rule."""
    reasons = []
    limit = thresholds or {}
    over = sorted((v, k) for k, v in feature_psi.items() if v > limit.get(k, config.psi_threshold))[
        ::-1
    ]
    if feature_psi and len(over) / len(feature_psi) > config.feature_share:
        top = ", ".join(f"{k} {v:.2f}" for v, k in over[:3])
        raised = any(v > config.psi_threshold for v in limit.values())
        above = f"PSI > {config.psi_threshold:g}" + (
            " and its training windows' quantile" if raised else ""
        )
        reasons.append(
            f"{above} on {len(over)} of {len(feature_psi)} features "
            f"(more than {config.feature_share:.0%}; highest {top})"
        )
    if ic_below_bars >= config.ic_bars:
        reasons.append(
            f"live IC below its validation interval for {ic_below_bars} bars (>= {config.ic_bars})"
        )
    return "; ".join(reasons) or None


class DriftMonitor:
    """The live drift measures of one symbol's model set (module docstring).

    Parameters
    ----------
    reference
        The model set's :class:`~kilo.registry.drift.DriftReference`; its features in
        the order of the rows :meth:`observe` receives (the manifest's feature names).
    horizon
        The label horizon, bars: a held return is realised ``horizon + 1`` bars later.
    timeframe
        One candle.
    """

    def __init__(
        self,
        symbol: str,
        version: str,
        reference: DriftReference,
        config: DriftConfig,
        horizon: int,
        timeframe: pd.Timedelta,
    ) -> None:
        self.symbol, self.version, self.config = symbol, version, config
        self.horizon, self.timeframe = horizon, timeframe
        self.features = list(reference.features)
        self.outputs = [o for o in OUTPUT_FIELDS if o in reference.outputs]
        bins = [reference.features[n] for n in self.features]
        bins += [reference.outputs[o] for o in self.outputs]
        self.edges = padded_edges([b.edges for b in bins])
        self.expected = np.zeros((len(bins), self.edges.shape[1] + 1))
        for i, b in enumerate(bins):
            self.expected[i, : len(b.shares)] = b.shares
        self.validation = reference.validation_ic.get("score")
        self.thresholds = feature_thresholds(reference, config)
        self._limits = np.array([self.thresholds[n] for n in self.features])
        w = config.window
        self._rows = np.zeros((w, len(bins)), dtype=np.int64)
        self._counts = np.zeros_like(self.expected, dtype=np.int64)
        self._vars = np.arange(len(bins))
        self._seen = 0
        self._pending: deque[tuple[pd.Timestamp, np.ndarray, float, bool]] = deque()
        self._pred = np.full((w, len(self.outputs)), np.nan)
        self._held = np.full(w, np.nan)
        self._edge = np.full(w, np.nan)
        self._entered = np.zeros(w, dtype=bool)
        self._realised = 0
        self._live_ic: dict[str, LiveIC] = {}
        self._ic_below = 0
        self.last_bar: pd.Timestamp | None = None
        self.drifted = False

    def observe(
        self,
        bar_time: pd.Timestamp,
        row: np.ndarray,
        prediction: Prediction,
        decision: str,
        opens: pd.Series,
    ) -> DriftRecord:
        """Take one bar's preprocessed feature row (n_features,), its prediction and the
        decision made on it; ``opens`` (quote currency, indexed by candle open time up to
        ``bar_time``) realise the held returns that have come due. Returns the measures
        after the bar and sets :attr:`drifted`."""
        outputs = np.array([_value(prediction, OUTPUT_FIELDS[o]) for o in self.outputs])
        self._add_bins(np.concatenate([row.astype(np.float64), outputs]))
        self._realise(bar_time, opens)
        self._pending.append(
            (bar_time, outputs, _value(prediction, "expected_edge"), decision == "enter")
        )
        self.last_bar = bar_time
        if self._seen % self.config.ic_every == 0:
            self._measure_ic()
        if self._seen < self.config.window:
            self.drifted = False
            return DriftRecord(
                self.symbol, bar_time, self.version, "warming", validation=self.validation
            )
        return self._record(bar_time)

    def _add_bins(self, values: np.ndarray) -> None:
        """Count the bar's bin per variable, uncounting the bar that left the window."""
        slot = self._seen % self.config.window
        if self._seen >= self.config.window:
            self._counts[self._vars, self._rows[slot]] -= 1
        self._rows[slot] = bin_rows(values, self.edges)
        self._counts[self._vars, self._rows[slot]] += 1
        self._seen += 1

    def _realise(self, now: pd.Timestamp, opens: pd.Series) -> None:
        """Move the pending bars whose held return is known into the realised window."""
        due = (self.horizon + 1) * self.timeframe
        if not self._pending or self._pending[0][0] + due > now:
            return
        times, values = pd.DatetimeIndex(opens.index).as_unit("ns").asi8, opens.to_numpy()
        while self._pending and self._pending[0][0] + due <= now:
            t, outputs, edge, entered = self._pending.popleft()
            wanted = np.array([(t + self.timeframe).value, (t + due).value])  # ns
            at = np.minimum(np.searchsorted(times, wanted), len(times) - 1)
            if (times[at] != wanted).any():
                continue  # a candle missing (an outage): no held return for this bar
            held = math.log(values[at[1]] / values[at[0]])
            slot = self._realised % self.config.window
            self._pred[slot], self._held[slot] = outputs, held
            self._edge[slot], self._entered[slot] = edge, entered
            self._realised += 1

    def _measure_ic(self) -> None:
        """Live IC of every output over the realised window, and the score's run below
        its validation interval."""
        if self._realised < self.config.window:
            return
        for j, name in enumerate(self.outputs):
            pred = self._pred[:, j]
            if (np.isfinite(pred) & np.isfinite(self._held)).sum() < 3:
                continue
            low, high = ic_bootstrap_ci(
                pred,
                self._held,
                self.horizon,
                n_boot=self.config.bootstrap,
                level=LIVE_IC_LEVEL,
            )
            self._live_ic[name] = LiveIC(spearman_ic(pred, self._held), low, high, len(pred))
        score = self._live_ic.get("score")
        below = score is not None and self.validation is not None
        below = below and score.ic < self.validation.low  # type: ignore[union-attr]
        self._ic_below = self._ic_below + self.config.ic_every if below else 0

    def _record(self, bar_time: pd.Timestamp) -> DriftRecord:
        values = psi(self._counts / self.config.window, self.expected, self.config.epsilon)
        n = len(self.features)
        feature_psi = dict(zip(self.features, values[:n].tolist(), strict=True))
        top = sorted(feature_psi.items(), key=lambda kv: -kv[1])[: self.config.top_features]
        reason = drift_reason(feature_psi, self._ic_below, self.config, self.thresholds)
        self.drifted = reason is not None
        edge_acted = return_acted = None
        realised = min(self._realised, self.config.window)
        entered = self._entered[:realised]
        if entered.any():
            edge_acted = float(np.nanmean(self._edge[:realised][entered]))
            return_acted = float(np.mean(self._held[:realised][entered]))
        return DriftRecord(
            self.symbol,
            bar_time,
            self.version,
            "drifted" if self.drifted else "ok",
            feature_psi,
            dict(zip(self.outputs, values[n:].tolist(), strict=True)),
            top,
            float(np.mean(values[:n] > self._limits)) if n else None,
            dict(self._live_ic),
            self.validation,
            self._ic_below,
            edge_acted,
            return_acted,
            int(entered.sum()),
            reason,
        )


def _value(prediction: Prediction, name: str) -> float:
    """A prediction's ledger column as a float, NaN where it is None."""
    value = prediction.row()[name]
    return math.nan if value is None else float(value)

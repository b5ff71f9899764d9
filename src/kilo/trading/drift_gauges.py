"""The drift measures as Prometheus gauges, and what ``/health`` says of them."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from prometheus_client import CollectorRegistry, Gauge

from kilo.trading.drift import DriftRecord


class DriftGauges:
    """Gauges labelled by symbol (and feature or output) of the latest drift records.

    ``kilo_drift_feature_psi{symbol,feature}`` and ``kilo_drift_output_psi{symbol,output}``
    (PSI, unitless); ``kilo_drift_share{symbol}`` (share of features above their
    threshold, :func:`~kilo.trading.drift.feature_thresholds`);
    ``kilo_drift_live_ic{symbol,output,bound}`` (``bound``: ``ic``, ``low``, ``high`` of
    the live IC and its interval);
    ``kilo_drift_validation_ic{symbol,bound}`` (the score's validation IC and interval);
    ``kilo_drift_ic_below_bars{symbol}``; ``kilo_drift_drifted{symbol}`` (1 drifted, 0
    not); ``kilo_drift_available{symbol}`` (0 for a model set without a reference).
    """

    def __init__(self, registry: CollectorRegistry) -> None:
        r = registry
        self.feature_psi = Gauge(
            "kilo_drift_feature_psi",
            "PSI of a feature over the trailing window against the model set's reference",
            ["symbol", "feature"],
            registry=r,
        )
        self.output_psi = Gauge(
            "kilo_drift_output_psi",
            "PSI of a model output or the blend score against the reference",
            ["symbol", "output"],
            registry=r,
        )
        self.share = Gauge(
            "kilo_drift_share",
            "Share of features above their PSI threshold",
            ["symbol"],
            registry=r,
        )
        self.live_ic = Gauge(
            "kilo_drift_live_ic",
            "Realised IC over the trailing window and its bootstrap interval",
            ["symbol", "output", "bound"],
            registry=r,
        )
        self.validation_ic = Gauge(
            "kilo_drift_validation_ic",
            "The score's validation IC and its bootstrap interval",
            ["symbol", "bound"],
            registry=r,
        )
        self.ic_below = Gauge(
            "kilo_drift_ic_below_bars",
            "Bars the score's live IC has stayed below its validation interval",
            ["symbol"],
            registry=r,
        )
        self.drifted = Gauge("kilo_drift_drifted", "1 while drifted", ["symbol"], registry=r)
        self.available = Gauge(
            "kilo_drift_available",
            "1 when the model set has a drift reference",
            ["symbol"],
            registry=r,
        )
        self.reasons: dict[str, str] = {}
        self.unavailable: list[str] = []

    def set_available(self, available: Mapping[str, bool]) -> None:
        """Which symbols' model sets have a drift reference (the others: unavailable)."""
        for symbol, ok in available.items():
            self.available.labels(symbol=symbol).set(1.0 if ok else 0.0)
            if not ok:
                self.reasons.pop(symbol, None)
        self.unavailable = sorted(s for s, ok in available.items() if not ok)

    def observe(self, records: Iterable[DriftRecord]) -> None:
        """Set every gauge from an iteration's records; remember the drifted symbols."""
        for r in records:
            s = r.symbol
            for name, value in r.feature_psi.items():
                self.feature_psi.labels(symbol=s, feature=name).set(value)
            for name, value in r.output_psi.items():
                self.output_psi.labels(symbol=s, output=name).set(value)
            if r.share_drifted is not None:
                self.share.labels(symbol=s).set(r.share_drifted)
            for name, ic in r.live_ic.items():
                for bound, value in (("ic", ic.ic), ("low", ic.low), ("high", ic.high)):
                    self.live_ic.labels(symbol=s, output=name, bound=bound).set(value)
            if r.validation is not None:
                v = r.validation
                for bound, value in (("ic", v.ic), ("low", v.low), ("high", v.high)):
                    self.validation_ic.labels(symbol=s, bound=bound).set(value)
            self.ic_below.labels(symbol=s).set(r.ic_below_bars)
            self.drifted.labels(symbol=s).set(1.0 if r.reason else 0.0)
            if r.reason:
                self.reasons[s] = r.reason
            else:
                self.reasons.pop(s, None)

    def health(self) -> dict[str, Any]:
        """``drifted`` (symbol -> reason) and ``unavailable`` (symbols without a reference)."""
        return {"drifted": dict(sorted(self.reasons.items())), "unavailable": self.unavailable}

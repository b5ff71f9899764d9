"""Live drift measures: PSI against the stored reference, realised IC, the rule, the action."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest

from kilo.config import DriftConfig, TradingConfig
from kilo.inference import Prediction
from kilo.metrics import spearman_ic
from kilo.metrics.drift import bin_shares, psi
from kilo.registry.drift import DriftReference, ReferenceIC
from kilo.trading.broker import Portfolio
from kilo.trading.drift import DriftMonitor, drift_reason, feature_thresholds
from kilo.trading.trader import drift_scale
from kilo.training.reference import reference_bins
from tests.trading.test_execution import CFG, RULE, Candle, PaperBroker, T, execute_bar

H, W = 3, 40
HOUR = pd.Timedelta("1h")


def reference(rng: np.random.Generator) -> DriftReference:
    train = rng.normal(size=(5000, 3))
    return DriftReference(
        bins=10,
        features={f"f{j}": reference_bins(train[:, j], 10) for j in range(3)},
        outputs={"score": reference_bins(rng.normal(size=5000), 10)},
        validation_ic={
            "score": ReferenceIC(ic=0.05, low=0.01, high=0.09, level=0.95, block=H, rows=5000)
        },
    )


def replay(config: DriftConfig, shift_after: int, sign: float, n: int = 150, seed: int = 0):
    """``n`` bars into a monitor; features shift by +3 from bar ``shift_after``; the score
    is ``sign`` x the bar's held return plus noise. Returns the monitor, every record,
    the feature rows, scores and held returns."""
    rng = np.random.default_rng(seed)
    ref = reference(rng)
    monitor = DriftMonitor("X/USDT", "v1", ref, config, H, HOUR)
    times = pd.date_range("2024-01-01", periods=n + H + 2, freq="h", tz="UTC")
    opens = pd.Series(100 * np.exp(np.cumsum(rng.normal(0, 0.01, len(times)))), index=times)
    held = np.log(opens.shift(-(H + 1)) / opens.shift(-1)).to_numpy()
    rows = rng.normal(size=(n, 3)) + 3.0 * (np.arange(n) >= shift_after)[:, None]
    scores = sign * held[:n] * 50 + rng.normal(0, 0.3, n)
    records = [
        monitor.observe(
            times[i],
            rows[i],
            Prediction(score=float(scores[i]), confidence=1.0, expected_edge=0.01),
            "enter" if i % 10 == 0 else "wait",
            opens.iloc[: i + 1],
        )
        for i in range(n)
    ]
    return monitor, ref, records, rows, scores, held


def test_incremental_psi_equals_psi_recomputed_on_the_window() -> None:
    config = DriftConfig(window=W, ic_every=1, bootstrap=50)
    _, ref, records, rows, scores, _ = replay(config, shift_after=120, sign=1.0)
    assert all(r.status == "warming" for r in records[: W - 1])
    for end in (W, 100, 130, 150):  # before and inside the shift: rows leave the window
        record, window = records[end - 1], slice(end - W, end)
        for j, name in enumerate(ref.features):
            b = ref.features[name]
            want = psi(bin_shares(rows[window, j], np.array(b.edges)), np.array(b.shares))
            assert record.feature_psi[name] == pytest.approx(float(want), abs=1e-12)
        b = ref.outputs["score"]
        want = psi(bin_shares(scores[window], np.array(b.edges)), np.array(b.shares))
        assert record.output_psi["score"] == pytest.approx(float(want), abs=1e-12)
    assert records[100].status == "ok" and records[-1].status == "drifted"
    assert "PSI > 0.25 on 3 of 3 features" in records[-1].reason
    assert records[-1].share_drifted == 1.0 and records[-1].top_features[0][1] > 1.0


def test_live_ic_is_the_rank_correlation_of_the_realised_window() -> None:
    config = DriftConfig(window=W, ic_every=1, bootstrap=50)
    _, _, records, _, scores, held = replay(config, shift_after=10_000, sign=1.0)
    last = records[-1]
    realised = slice(150 - (H + 1) - W, 150 - (H + 1))  # bars whose held return is known
    assert last.live_ic["score"].ic == pytest.approx(spearman_ic(scores[realised], held[realised]))
    ic = last.live_ic["score"]
    assert ic.ic > 0.5 and ic.low <= ic.ic <= ic.high and ic.pairs == W
    assert last.entries == 4 and last.edge_acted == pytest.approx(0.01)  # every 10th bar entered
    entered = [i for i in range(realised.start, realised.stop) if i % 10 == 0]
    assert last.return_acted == pytest.approx(float(np.mean(held[entered])))
    assert last.status == "ok" and last.ic_below_bars == 0


def test_an_ic_below_its_validation_interval_for_long_enough_is_drift() -> None:
    config = DriftConfig(window=W, ic_every=5, ic_bars=40, bootstrap=50)
    monitor, _, records, _, _, _ = replay(config, shift_after=10_000, sign=-1.0)
    below = [r.ic_below_bars for r in records]
    assert max(below) >= 40 and below == sorted(below)  # grows by ic_every while below
    assert records[-1].status == "drifted" and "live IC below" in records[-1].reason
    assert monitor.drifted


def test_the_rule_counts_more_than_the_share_of_features() -> None:
    config = DriftConfig(psi_threshold=0.25, feature_share=0.5, ic_bars=10)
    assert drift_reason({"a": 0.3, "b": 0.1}, 0, config) is None  # half is not more than half
    assert "2 of 3 features" in str(drift_reason({"a": 0.3, "b": 0.4, "c": 0.0}, 0, config))
    assert "for 10 bars" in str(drift_reason({"a": 0.0}, 10, config))
    raised = {"a": 2.0, "b": 0.25, "c": 0.25}  # a persistent feature's own windows reach 2.0
    assert drift_reason({"a": 1.5, "b": 0.4, "c": 0.0}, 0, config, raised) is None


def test_thresholds_rise_to_the_training_windows_psi_only_at_their_window() -> None:
    ref = reference(np.random.default_rng(3))
    features = {
        n: b.model_copy(update={"null_psi": 0.5 + i})
        for i, (n, b) in enumerate(ref.features.items())
    }
    ref = ref.model_copy(update={"features": features, "window": W})
    assert feature_thresholds(ref, DriftConfig(window=W)) == {"f0": 0.5, "f1": 1.5, "f2": 2.5}
    assert set(feature_thresholds(ref, DriftConfig(window=2 * W)).values()) == {0.25}
    assert set(feature_thresholds(ref, DriftConfig(window=W, null_quantile=None)).values()) == {
        0.25
    }


@pytest.mark.parametrize(("action", "scale"), [("none", 1.0), ("reduce", 0.3), ("flat", 0.0)])
def test_drift_action_scales_or_refuses_entries_only_while_drifted(action, scale) -> None:
    trading = TradingConfig(drift_action=action, drift_reduce=0.3)
    drifted = SimpleNamespace(drift=SimpleNamespace(drifted=True), observe_drift=print)
    calm = SimpleNamespace(drift=SimpleNamespace(drifted=False), observe_drift=print)
    unavailable = SimpleNamespace(drift=None, observe_drift=print)
    assert drift_scale(trading, drifted) == scale  # type: ignore[arg-type]
    assert drift_scale(trading, calm) == 1.0 == drift_scale(trading, unavailable)  # type: ignore[arg-type]
    portfolio = Portfolio(10_000.0)
    outcome = execute_bar(
        PaperBroker(CFG),
        portfolio,
        {"A": 100.0},
        "A",
        Candle(100.0, 101.0, 99.0, 100.0),
        T,
        100.0,
        T,
        lambda state: Prediction(score=0.3, confidence=1.0, volatility=0.8),
        RULE,
        entry_scale=scale,
    )
    if scale == 0.0:
        assert outcome.decision == "drift blocked" and not portfolio.positions
    else:  # as test_execution's entry, times the scale
        assert outcome.orders[0].fill.notional == pytest.approx(10_000 * 0.5 * 0.75 * 0.5 * scale)

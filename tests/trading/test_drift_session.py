"""Drift in a paced replay: the endpoints, the ledger against an independent recomputation,
and a model set saved before drift references."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from kilo.config import Config
from kilo.data.market import load_market_candles
from kilo.features import FeatureEngine
from kilo.metrics.drift import bin_shares, psi
from kilo.registry import ModelSet, latest_version, symbol_dir
from kilo.trading.session import SessionOptions, run_session
from kilo.training.dataset import load_context
from tests.trading.test_monitoring import free_port, get, samples

pytestmark = pytest.mark.slow

SYMBOL, WINDOW, ITERATIONS = "BTC/USDT", 24, 48


def test_paced_replay_serves_drift_and_the_ledger_window_recomputes_its_psi(
    private_btc_models: Config, tmp_path
) -> None:
    config = private_btc_models.with_overrides(
        {"drift.window": WINDOW, "drift.ic_every": 4, "drift.bootstrap": 50}
    )
    config = config.with_overrides({"drift.feature_share": 0.01})  # one drifted feature is drift
    port, seen = free_port(), {}

    def on_iteration(record) -> None:
        if len(seen) == 0 and record.drift and record.drift[0].live_ic:
            seen["metrics"] = samples(get(f"http://127.0.0.1:{port}/metrics")[1])
            seen["health"] = get(f"http://127.0.0.1:{port}/health")

    options = SessionOptions(
        ITERATIONS, (SYMBOL,), state=tmp_path / "paper.sqlite", pace=0.01, metrics_port=port
    )
    ledger = run_session(config, options, on_iteration)
    metrics, (code, body) = seen["metrics"], seen["health"]
    health = json.loads(body)
    assert code == 200 and health["status"] == "degraded"  # degraded, still trading
    assert "PSI > 0.25" in health["drift"]["drifted"][SYMBOL]
    assert health["drift"]["unavailable"] == []
    model_set = ModelSet.load(SYMBOL, "latest", config.models.dir, config=config)
    reference = model_set.manifest.drift
    assert reference is not None
    for name in reference.features:
        assert f"kilo_drift_feature_psi{{feature={name},symbol={SYMBOL}}}" in metrics
    assert f"kilo_drift_live_ic{{bound=ic,output=score,symbol={SYMBOL}}}" in metrics
    assert metrics[f"kilo_drift_drifted{{symbol={SYMBOL}}}"] == 1.0

    # independently: the ledger's last window of bars, features recomputed from candles
    last = ledger.query("SELECT * FROM drift ORDER BY iteration_id DESC LIMIT 1").iloc[0]
    bars = ledger.query(
        "SELECT bar_time, score, gru_raw FROM predictions WHERE symbol = ? "
        "ORDER BY iteration_id DESC LIMIT ?",
        (SYMBOL, WINDOW),
    )
    assert last["bar_time"] == bars["bar_time"][0] and last["status"] == "drifted"
    engine = FeatureEngine.from_config(config, SYMBOL)
    candles = load_market_candles(config, SYMBOL)
    features = engine.transform(candles, load_context(config, engine.context_symbols))
    rows = features.loc[pd.DatetimeIndex(pd.to_datetime(bars["bar_time"]))]
    X = model_set.preprocessor.transform(rows)
    stored = json.loads(last["feature_psi"])
    eps = config.drift.epsilon
    for j, name in enumerate(model_set.manifest.feature_names):
        b = reference.features[name]
        want = float(psi(bin_shares(X[:, j], np.array(b.edges)), np.array(b.shares), eps))
        assert stored[name] == pytest.approx(want, abs=1e-9), name
    outputs = json.loads(last["output_psi"])
    for name, column in (("score", "score"), ("gru", "gru_raw")):
        b = reference.outputs[name]
        shares = bin_shares(bars[column].to_numpy(), np.array(b.edges))
        assert outputs[name] == pytest.approx(float(psi(shares, np.array(b.shares), eps)))
    assert last["psi_max"] == pytest.approx(max(stored.values()))


def test_a_set_without_a_reference_trades_with_drift_unavailable_said_once(
    private_btc_models: Config, tmp_path, caplog
) -> None:
    folder = symbol_dir(private_btc_models.models.dir, SYMBOL) / latest_version(
        private_btc_models.models.dir, SYMBOL
    )
    manifest = json.loads((folder / "manifest.json").read_text())
    del manifest["drift"], manifest["drift_sha256"]  # as saved before drift references
    (folder / "manifest.json").write_text(json.dumps(manifest))
    caplog.set_level(logging.WARNING, logger="kilo.trading")
    options = SessionOptions(5, (SYMBOL,), state=Path(tmp_path) / "paper.sqlite")
    ledger = run_session(private_btc_models, options)
    said = [r.getMessage() for r in caplog.records if "drift reference" in r.getMessage()]
    assert len(said) == 1 and SYMBOL in said[0] and "unavailable" in said[0]
    assert len(ledger.query("SELECT * FROM predictions")) == 5  # it traded every bar
    assert ledger.query("SELECT COUNT(*) AS n FROM drift")["n"][0] == 0

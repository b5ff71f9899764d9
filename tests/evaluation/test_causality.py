"""A feature that reads a later candle, of the symbol or of a context symbol, stops the
evaluation before any model is fit, with an error that names it."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from kilo.config import Config
from kilo.errors import LookAheadError
from kilo.evaluation import walkforward
from kilo.features import FeatureEngine
from kilo.models.kinds import KINDS


@pytest.mark.parametrize("source", ["ETH/USDT", "own"])
def test_a_look_ahead_stops_the_evaluation_and_names_the_feature(
    tiny_config: Config, monkeypatch, source: str
) -> None:
    honest = FeatureEngine.transform

    def leaky(self, candles, context=None):
        features = honest(self, candles, context)
        close = candles["close"] if source == "own" else context[source]["close"]
        future = np.log(close).reindex(features.index.union(close.index)).shift(-1)
        features["log_ret_1"] = future.reindex(features.index).to_numpy()
        return features

    def refuse(*args, **kwargs):
        raise AssertionError("a model was fit before the causality check")

    monkeypatch.setattr(FeatureEngine, "transform", leaky)
    for name, kind in KINDS.items():
        monkeypatch.setitem(KINDS, name, replace(kind, fit=refuse))
    cfg = tiny_config.with_overrides({"evaluation.folds": 1})
    with pytest.raises(LookAheadError, match=r"\['log_ret_1'\].*read the future"):
        walkforward.evaluate_symbol(cfg, "BTC/USDT")

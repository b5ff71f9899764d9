"""Benchmarks behind ``scripts/bench.py``: each prints one JSON line per figure.

A measurement is the median of ``repeats`` timed runs after one warm-up run. Register
a benchmark with :func:`register`; it receives the config and returns the records.
"""

from __future__ import annotations

import json
import statistics
import time
from collections.abc import Callable
from typing import Any

from kilo.config import Config

BENCHES: dict[str, Callable[[Config], list[dict[str, Any]]]] = {}


def register(name: str) -> Callable:
    """Decorator: make a benchmark function available under ``name``."""

    def wrap(fn: Callable[[Config], list[dict[str, Any]]]) -> Callable:
        BENCHES[name] = fn
        return fn

    return wrap


def time_runs(run: Callable[[], Any], repeats: int = 3, warmup: int = 1) -> list[float]:
    """Wall-clock seconds of ``repeats`` calls of ``run`` after ``warmup`` untimed calls."""
    for _ in range(warmup):
        run()
    runs = []
    for _ in range(repeats):
        start = time.perf_counter()
        run()
        runs.append(time.perf_counter() - start)
    return runs


def record(
    name: str, runs: list[float], unit: str, params: dict[str, Any], work: float | None = None
) -> dict[str, Any]:
    """One benchmark record; ``figure`` is ``work / median`` for rates, else the median."""
    median = statistics.median(runs)
    figure = work / median if work is not None else median
    return {
        "bench": name,
        "figure": round(figure, 3),
        "unit": unit,
        "median_s": round(median, 6),
        "runs_s": [round(r, 6) for r in runs],
        "params": params,
    }


@register("features")
def bench_features(config: Config) -> list[dict[str, Any]]:
    """FeatureEngine.transform rate on BTC/USDT candles (file loading excluded)."""
    from kilo.data import load_candles
    from kilo.features import FeatureEngine

    symbol = "BTC/USDT"
    candles = load_candles(config.data.dir, config.data.exchange, symbol, config.data.timeframe)
    engine = FeatureEngine.from_config(config)
    runs = time_runs(lambda: engine.transform(candles))
    params = {"symbol": symbol, "timeframe": config.data.timeframe, "rows": len(candles),
              "features": len(engine.feature_names)}
    return [record("features", runs, "rows/s", params, work=len(candles))]


def run_bench(name: str, config: Config) -> list[dict[str, Any]]:
    """Run one registered benchmark and print its JSON lines.

    Raises
    ------
    KeyError
        If no benchmark has that name.
    """
    results = BENCHES[name](config)
    for item in results:
        print(json.dumps(item), flush=True)
    return results

"""The benchmark registry and its timing: one JSON record per figure.

A measurement is the median of 3 timed runs after one warm-up run (benchmarks that
take minutes skip the warm-up and say so). Register a benchmark with
:func:`register`; it receives the config and returns the records.
"""

from __future__ import annotations

import json
import statistics
import time
from collections.abc import Callable
from typing import Any

import numpy as np

from kilo.config import Config

#: Benchmark name -> function of the config returning its records.
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
    name: str,
    runs: list[float],
    unit: str,
    params: dict[str, Any],
    work: float | None = None,
    scale: float = 1.0,
) -> dict[str, Any]:
    """One benchmark record; ``figure`` is ``work / median`` for rates, else the median
    times ``scale`` (1000 for milliseconds)."""
    median = statistics.median(runs)
    figure = work / median if work is not None else median * scale
    return {
        "bench": name,
        "figure": round(figure, 3),
        "unit": unit,
        "median_s": round(median, 6),
        "runs_s": [round(r, 6) for r in runs],
        "params": params,
    }


def btc_training_rows(config: Config) -> tuple[np.ndarray, np.ndarray]:
    """Preprocessed BTC/USDT training rows and their bar returns, as the trainer builds them."""
    from kilo.features import FeatureEngine, Preprocessor
    from kilo.training.dataset import build_dataset

    data = build_dataset(config, "BTC/USDT", FeatureEngine.from_config(config, "BTC/USDT"))
    train = data.split.train
    X = Preprocessor().fit(data.features.iloc[train]).transform(data.features.iloc[train])
    return X, data.bar_returns[train]


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

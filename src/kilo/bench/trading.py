"""Benchmarks of the paper trader: replay rate and a long soak."""

from __future__ import annotations

import itertools
import statistics
import time
from typing import Any

import numpy as np

from kilo.bench.core import record, register
from kilo.config import Config


def replay_latency(config: Config, iterations: int) -> float:
    """Median seconds between consecutive completed iterations of a replay of
    ``iterations`` bars over the configured symbols (ledger in a temporary folder)."""
    import tempfile
    from pathlib import Path

    from kilo.trading.session import SessionOptions, run_session

    stamps: list[float] = []
    with tempfile.TemporaryDirectory() as tmp:
        options = SessionOptions(iterations, state=Path(tmp) / "bench.sqlite")
        run_session(config, options, lambda r: stamps.append(time.perf_counter())).close()
    return statistics.median(b - a for a, b in itertools.pairwise(stamps))


@register("trade")
def bench_trade(config: Config) -> list[dict[str, Any]]:
    """Median iteration latency of a 200-bar replay over the configured symbols.

    Uses the LATEST model sets in ``models.dir`` (train them first). Latency is the
    time between consecutive completed iterations (features, predictions, blend,
    orders and the ledger transaction); model loading is excluded. Each of the runs
    gives its median; the figure is the median of those. Also the peak memory.
    """
    import resource

    iterations = 200
    replay_latency(config, iterations)
    latencies = [replay_latency(config, iterations) for _ in range(3)]
    params = {"iterations": iterations, "symbols": config.symbols, "source": "replay"}
    latency = record("trade", latencies, "ms", params, scale=1000)
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    memory = {**latency, "bench": "trade_peak_memory", "figure": round(peak_mb, 1), "unit": "MB"}
    return [latency, memory]


@register("drift")
def bench_drift(config: Config) -> list[dict[str, Any]]:
    """What the live drift measures add to an iteration: 300-bar replays over the
    configured symbols with ``drift.enabled`` true and false, alternated, 3 of each
    after one warm-up of each; the figure is the difference of the medians (ms).

    Uses the LATEST model sets in ``models.dir``, which must hold drift references.
    """
    iterations = 300
    runs: dict[bool, list[float]] = {True: [], False: []}
    for repeat in range(4):
        for enabled in (True, False):
            latency = replay_latency(config.with_overrides({"drift.enabled": enabled}), iterations)
            if repeat:
                runs[enabled].append(latency)
    on, off = statistics.median(runs[True]), statistics.median(runs[False])
    params = {
        "iterations": iterations,
        "symbols": config.symbols,
        "with_drift_ms": [round(r * 1000, 2) for r in runs[True]],
        "without_drift_ms": [round(r * 1000, 2) for r in runs[False]],
        "goal_ms": 5.0,
    }
    added = record("drift_added_latency", [on - off], "ms", params, scale=1000)
    return [added]


def resident_mb() -> float:
    """This process's resident memory now (MB), from ``/proc/self/statm`` (Linux); the
    peak (``ru_maxrss``) elsewhere."""
    import os
    import resource

    try:
        pages = int(open("/proc/self/statm").read().split()[1])  # noqa: SIM115 (one read)
        return pages * os.sysconf("SC_PAGE_SIZE") / 2**20
    except (OSError, ValueError, IndexError):
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


@register("soak")
def bench_soak(config: Config) -> list[dict[str, Any]]:
    """5,000 replayed iterations: latency percentiles and memory growth per 1,000.

    Uses the LATEST model sets in ``models.dir`` (train them first) over the configured
    symbols, with a ledger in a temporary folder. Latency is the time between
    consecutive completed iterations. Goals: RSS growth <= 5 MB per 1,000 iterations
    after the first 1,000 (no leak) and p99 <= 3 x the median.
    """
    import tempfile
    from pathlib import Path

    from kilo.trading.session import SessionOptions, run_session

    iterations, every = 5000, 1000
    stamps: list[float] = []
    rss: list[float] = []

    def on_iteration(_: Any) -> None:
        stamps.append(time.perf_counter())
        if len(stamps) % every == 0:
            rss.append(resident_mb())

    with tempfile.TemporaryDirectory() as tmp:
        options = SessionOptions(iterations, state=Path(tmp) / "soak.sqlite")
        run_session(config, options, on_iteration).close()
    gaps = np.diff(stamps) * 1000
    median, p99 = float(np.median(gaps)), float(np.percentile(gaps, 99))
    growth = float(np.polyfit(np.arange(1, len(rss)), rss[1:], 1)[0]) if len(rss) > 2 else 0.0
    params = {
        "iterations": len(stamps),
        "symbols": config.symbols,
        "latency_ms": {
            "p50": round(median, 2),
            "p90": round(float(np.percentile(gaps, 90)), 2),
            "p99": round(p99, 2),
            "max": round(float(gaps.max()), 2),
        },
        "p99_over_median": round(p99 / median, 2),
        "rss_mb_every_1000": [round(r, 1) for r in rss],
        "goals": {"rss_growth_mb_per_1000": 5.0, "p99_over_median": 3.0},
    }
    base = {"median_s": round(median / 1000, 6), "runs_s": [], "params": params}
    return [
        {"bench": "soak_rss_growth", "figure": round(growth, 2), "unit": "MB/1000 it", **base},
        {"bench": "soak_latency_p99", "figure": round(p99, 2), "unit": "ms", **base},
    ]

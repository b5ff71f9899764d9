"""Benchmarks behind ``scripts/bench.py``: each prints one JSON line per figure.

A measurement is the median of 3 timed runs after one warm-up run (``train``
skips the warm-up). Register
a benchmark with :func:`register`; it receives the config and returns the records.
"""

from __future__ import annotations

import itertools
import json
import statistics
import time
from collections.abc import Callable
from typing import Any

import numpy as np

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


@register("features")
def bench_features(config: Config) -> list[dict[str, Any]]:
    """FeatureEngine.transform rate on BTC/USDT candles (file loading excluded)."""
    from kilo.data import load_candles
    from kilo.features import FeatureEngine
    from kilo.training.dataset import load_context

    symbol = "ETH/USDT"  # sees BTC/USDT as a reference: every feature group runs
    candles = load_candles(config.data.dir, config.data.exchange, symbol, config.data.timeframe)
    engine = FeatureEngine.from_config(config, symbol)
    context = load_context(config, engine.context_symbols)
    runs = time_runs(lambda: engine.transform(candles, context))
    params = {
        "symbol": symbol,
        "timeframe": config.data.timeframe,
        "rows": len(candles),
        "features": len(engine.feature_names),
    }
    return [record("features", runs, "rows/s", params, work=len(candles))]


def _btc_training_rows(config: Config) -> tuple[np.ndarray, np.ndarray]:
    """Preprocessed BTC/USDT training rows and their bar returns, as the trainer builds them."""
    from kilo.features import FeatureEngine, Preprocessor
    from kilo.training.dataset import build_dataset

    data = build_dataset(config, "BTC/USDT", FeatureEngine.from_config(config, "BTC/USDT"))
    train = data.split.train
    X = Preprocessor().fit(data.features.iloc[train]).transform(data.features.iloc[train])
    return X, data.bar_returns[train]


@register("env")
def bench_env(config: Config) -> list[dict[str, Any]]:
    """Raw TradingEnv.step rate with pre-drawn random actions (resets included)."""
    from kilo.rl import PPOAgent

    X, returns = _btc_training_rows(config)
    env = PPOAgent(
        config.models.ppo,
        seed=config.seed,
        fee=config.trading.fee,
        slippage=config.trading.slippage,
    ).make_env(X, returns)
    n_steps = 200_000
    actions = np.random.default_rng(config.seed).integers(0, 3, n_steps).tolist()

    def run() -> None:
        env.reset(seed=config.seed)
        for action in actions:
            if env.step(action)[3]:
                env.reset()

    params = {
        "steps": n_steps,
        "obs_dim": env.observation_dim,
        "window": config.models.ppo.window,
    }
    return [record("env", time_runs(run), "steps/s", params, work=n_steps)]


@register("ppo")
def bench_ppo(config: Config) -> list[dict[str, Any]]:
    """PPO learn() rate with the default observation and hyper-parameters."""
    from kilo.rl import PPOAgent

    X, returns = _btc_training_rows(config)
    n_steps = 10 * config.models.ppo.n_steps
    params = config.with_overrides({"models.ppo.total_timesteps": n_steps}).models.ppo
    agent = PPOAgent(
        params, seed=config.seed, fee=config.trading.fee, slippage=config.trading.slippage
    )
    info = {
        "timesteps": n_steps,
        "n_steps": params.n_steps,
        "batch_size": params.batch_size,
        "n_epochs": params.n_epochs,
        "n_envs": params.n_envs,
        "obs_dim": params.window * X.shape[1] + 3,
    }
    runs = time_runs(lambda: agent.fit(X, returns, progress=False))
    return [record("ppo", runs, "steps/s", info, work=n_steps)]


@register("train")
def bench_train(config: Config) -> list[dict[str, Any]]:
    """Seconds to train one symbol with the config, and the process's peak memory.

    No warm-up run: one run takes minutes and imports are done before timing.
    """
    import resource
    import tempfile

    from kilo.training.trainer import train_symbol

    symbol = config.symbols[0]
    with tempfile.TemporaryDirectory() as models_dir:
        runs = time_runs(
            lambda: train_symbol(config, symbol, models_dir=models_dir, progress=False), warmup=0
        )
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    params = {
        "symbol": symbol,
        "timeframe": config.data.timeframe,
        "ppo_timesteps": config.models.ppo.total_timesteps,
        "gru_epochs": config.models.gru.epochs,
    }
    seconds = record("train", runs, "s", params)
    memory = {**seconds, "bench": "train_peak_memory", "figure": round(peak_mb, 1), "unit": "MB"}
    return [seconds, memory]


@register("train-all")
def bench_train_all(config: Config) -> list[dict[str, Any]]:
    """Seconds to train every configured symbol with ``--jobs 1`` and ``--jobs 2``.

    One timed run each and no warm-up: a run takes minutes. The ``train-all_jobs2``
    record's params carry the ratio of the two times.
    """
    import tempfile

    from kilo.training.parallel import train_symbols

    records = []
    for jobs in (1, 2):
        with tempfile.TemporaryDirectory() as models_dir:

            def run(jobs: int = jobs, models_dir: str = models_dir) -> None:
                train_symbols(
                    config,
                    config.symbols,
                    models_dir=models_dir,
                    progress=False,
                    jobs=jobs,
                    backend="joblib",
                )

            runs = time_runs(run, repeats=1, warmup=0)
        records.append(
            record(f"train-all_jobs{jobs}", runs, "s", {"symbols": config.symbols, "jobs": jobs})
        )
    records[1]["params"]["ratio_to_jobs1"] = round(
        records[1]["median_s"] / records[0]["median_s"], 3
    )
    return records


@register("evaluate")
def bench_evaluate(config: Config) -> list[dict[str, Any]]:
    """Wall time of a 5-fold BTC/USDT evaluation with every control, against one training.

    One default ``train`` of BTC/USDT is timed in the same run; the record's params
    carry ``ratio_to_train`` (evaluation seconds / training seconds, target <= 3) and
    the worker processes used. One run each, no warm-up: each takes minutes.
    """
    import os
    import tempfile

    from kilo.evaluation.walkforward import evaluate_symbol
    from kilo.training.trainer import train_symbol

    symbol = "BTC/USDT"
    with tempfile.TemporaryDirectory() as models_dir:
        train = time_runs(
            lambda: train_symbol(config, symbol, models_dir=models_dir, progress=False),
            repeats=1,
            warmup=0,
        )
    folds = config.with_overrides({"evaluation.folds": 5})
    evaluation = time_runs(
        lambda: evaluate_symbol(folds, symbol, progress=False), repeats=1, warmup=0
    )
    jobs = config.evaluation.jobs or os.cpu_count()
    params = {
        "symbol": symbol,
        "folds": 5,
        "jobs": jobs,
        "train_s": round(train[0], 2),
        "ratio_to_train": round(evaluation[0] / train[0], 3),
        "random_draws": config.evaluation.random_draws,
        "controls": ["placebo", "planted", "lead_lag", "label_shuffle", "causality"],
    }
    return [record("evaluate", evaluation, "s", params)]


@register("trade")
def bench_trade(config: Config) -> list[dict[str, Any]]:
    """Median iteration latency of a 200-bar replay over the configured symbols.

    Uses the LATEST model sets in ``models.dir`` (train them first). Latency is the
    time between consecutive completed iterations (features, predictions, blend,
    orders and the ledger transaction); model loading is excluded. Each of the runs
    gives its median; the figure is the median of those. Also the peak memory.
    """
    import resource
    import tempfile
    from pathlib import Path

    from kilo.trading.session import SessionOptions, run_session

    iterations = 200

    def one_run() -> float:
        stamps: list[float] = []
        with tempfile.TemporaryDirectory() as tmp:
            options = SessionOptions(iterations, state=Path(tmp) / "bench.sqlite")
            run_session(config, options, lambda r: stamps.append(time.perf_counter())).close()
        return statistics.median(b - a for a, b in itertools.pairwise(stamps))

    one_run()
    latencies = [one_run() for _ in range(3)]
    params = {"iterations": iterations, "symbols": config.symbols, "source": "replay"}
    latency = record("trade", latencies, "ms", params, scale=1000)
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    memory = {**latency, "bench": "trade_peak_memory", "figure": round(peak_mb, 1), "unit": "MB"}
    return [latency, memory]


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

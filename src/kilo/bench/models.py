"""Benchmarks of the parts: features, the trading environment, PPO, a GRU epoch."""

from __future__ import annotations

import statistics
import time
from typing import Any

import numpy as np

from kilo.bench.core import btc_training_rows, record, register, time_runs
from kilo.config import Config
from kilo.metrics import signal_costs


@register("features")
def bench_features(config: Config) -> list[dict[str, Any]]:
    """FeatureEngine.transform rate on ETH/USDT candles, BTC/USDT its reference so every
    feature group runs (file loading excluded)."""
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


@register("env")
def bench_env(config: Config) -> list[dict[str, Any]]:
    """Raw TradingEnv.step rate with pre-drawn random actions (resets included)."""
    from kilo.rl import PPOAgent

    X, returns = btc_training_rows(config)
    env = PPOAgent(
        config.models.ppo,
        seed=config.seed,
        **signal_costs(config.trading)._asdict(),
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

    X, returns = btc_training_rows(config)
    n_steps = 10 * config.models.ppo.n_steps
    params = config.with_overrides({"models.ppo.total_timesteps": n_steps}).models.ppo
    agent = PPOAgent(params, seed=config.seed, **signal_costs(config.trading)._asdict())
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


def gru_epoch_seconds(config: Config, rows: tuple[np.ndarray, np.ndarray] | None = None) -> float:
    """Seconds of one GRU training epoch (its validation pass included) on BTC/USDT's
    preprocessed training rows (the last 15 % as validation), with the config's GRU and
    torch's default threads; ``rows`` are :func:`btc_training_rows`' when given."""
    from kilo.models.gru import GRURegressor

    X, returns = rows or btc_training_rows(config)
    y = returns.astype(np.float32)
    cut = int(len(X) * 0.85)
    params = config.models.gru.model_copy(update={"epochs": 1})
    model = GRURegressor(params, seed=config.seed)
    start = time.perf_counter()
    model.fit(X[:cut], y[:cut], X_val=X[cut:], y_val=y[cut:], progress=False)
    return time.perf_counter() - start


@register("gru")
def bench_gru(config: Config) -> list[dict[str, Any]]:
    """Seconds per GRU epoch on BTC/USDT, window mode against sequence mode (speed-up).

    The config's GRU on BTC/USDT's preprocessed training rows, in both modes in one run.

    Each epoch includes its validation pass (:func:`gru_epoch_seconds`); three timed
    runs per mode, the modes interleaved, after no warm-up. Records ``gru_epoch_window``
    and ``gru_epoch_sequence`` (median seconds), the latter with ``speedup_vs_window``
    (the ratio of the medians): compare the ratio within one run, since the machine's
    load moves both.
    """
    rows = btc_training_rows(config)
    p = config.models.gru
    info = {
        "rows": len(rows[0]),
        "features": rows[0].shape[1],
        "sequence_length": p.sequence_length,
        "hidden_size": p.hidden_size,
        "device": p.device,
    }
    per_mode = {
        "window": {"batch_size": p.batch_size},
        "sequence": {"chunk_length": p.chunk_length, "chunk_batch": p.chunk_batch},
    }
    configs = {mode: config.with_overrides({"models.gru.mode": mode}) for mode in per_mode}
    runs: dict[str, list[float]] = {mode: [] for mode in per_mode}
    for _ in range(3):  # interleaved: a change in the machine's load hits both modes
        for mode in per_mode:
            runs[mode].append(gru_epoch_seconds(configs[mode], rows))
    ratio = statistics.median(runs["window"]) / statistics.median(runs["sequence"])
    speedup = {"sequence": {"speedup_vs_window": round(ratio, 2)}}
    return [
        record(
            f"gru_epoch_{mode}",
            runs[mode],
            "s",
            {**info, "mode": mode, **extra, **speedup.get(mode, {})},
        )
        for mode, extra in per_mode.items()
    ]


def _burn(stop: Any) -> None:
    while not stop.is_set():
        pass


@register("gru-contention")
def bench_gru_contention(config: Config) -> list[dict[str, Any]]:
    """One GRU epoch on a quiet machine and beside one busy process per core, with GNU
    OpenMP's default spinning, Kilo's ``GOMP_SPINCOUNT=2000`` and ``OMP_WAIT_POLICY=PASSIVE``.

    Each run is a fresh interpreter (the settings are read when torch loads OpenMP);
    one run per cell, no warm-up. Records ``gru_epoch_<setting>_<quiet|busy>`` in seconds.
    """
    import multiprocessing
    import os
    import subprocess
    import sys
    import tempfile
    from pathlib import Path

    import yaml

    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "config.yaml"
        path.write_text(yaml.safe_dump(config.model_dump(mode="json")))
        code = (
            "from kilo.config import load_config; from kilo.bench.models import gru_epoch_seconds; "
            f"print(gru_epoch_seconds(load_config({str(path)!r})))"
        )
        records = []
        settings = {
            "default": {"GOMP_SPINCOUNT": "300000", "OMP_WAIT_POLICY": ""},
            "spin2000": {"GOMP_SPINCOUNT": "2000", "OMP_WAIT_POLICY": ""},
            "passive": {"GOMP_SPINCOUNT": "2000", "OMP_WAIT_POLICY": "PASSIVE"},
        }
        for policy, values in settings.items():
            env = {**os.environ, **values}
            for load in ("quiet", "busy"):
                stop = multiprocessing.Event()
                burners = [
                    multiprocessing.Process(target=_burn, args=(stop,), daemon=True)
                    for _ in range((os.cpu_count() or 1) if load == "busy" else 0)
                ]
                for b in burners:
                    b.start()
                try:
                    out = subprocess.run(
                        [sys.executable, "-c", code],
                        env=env,
                        capture_output=True,
                        text=True,
                        check=True,
                    )
                finally:
                    stop.set()
                    for b in burners:
                        b.join()
                seconds = float(out.stdout.strip().splitlines()[-1])
                params = {"policy": policy, "load": load, "busy_processes": len(burners)}
                records.append(record(f"gru_epoch_{policy}_{load}", [seconds], "s", params))
    return records


#: learn() steps the peer is timed for; its 100k-step seconds are scaled from them.
PEER_STEPS = 10_240


def peer_seconds(config: Config, steps: int = PEER_STEPS) -> float | None:
    """Seconds stable-baselines3's PPO (MlpPolicy, its defaults) takes for ``steps``
    learn() steps on gym-anytrading's stocks-v0 (bundled stock data, window 10): the
    peer of the speed targets. None when gym-anytrading is not installed."""
    try:
        import gym_anytrading  # noqa: F401  (registers stocks-v0)
    except ImportError:
        return None
    import gymnasium
    from stable_baselines3 import PPO

    env = gymnasium.make("stocks-v0", frame_bound=(50, 2300), window_size=10)
    peer = PPO("MlpPolicy", env, seed=config.seed, verbose=0)
    [seconds] = time_runs(lambda: peer.learn(steps), repeats=1, warmup=0)
    return seconds


def peer_100k_seconds(config: Config) -> float | None:
    """The peer of the speed targets, SB3's PPO for 100k steps on gym-anytrading:
    :func:`peer_seconds` of :data:`PEER_STEPS` steps, scaled (None without
    gym-anytrading)."""
    peer = peer_seconds(config, PEER_STEPS)
    return None if peer is None else peer * 1e5 / PEER_STEPS


@register("ppo-peer")
def bench_ppo_peer(config: Config) -> list[dict[str, Any]]:
    """stable-baselines3's PPO on gym-anytrading's stocks-v0 (the peer) and Kilo's PPO at
    models.ppo.n_envs and at 8 environments, in one run: steps/s and the ratio to the peer.

    Needs ``pip install gym-anytrading`` (not a Kilo dependency). The peer is SB3's
    defaults (MlpPolicy, n_steps 2048) on the package's bundled stock data, window 10;
    its ``params`` also carry the seconds its 100k steps take at that rate, the figure a
    default training is compared with. One timed run each after no warm-up.
    """
    steps = PEER_STEPS
    peer_s = peer_seconds(config, steps)
    if peer_s is None:
        raise SystemExit("bench ppo-peer needs gym-anytrading: pip install gym-anytrading")
    peer_rate = steps / peer_s
    records = [
        record(
            "ppo_peer", [peer_s], "steps/s", {"peer_100k_s": round(1e5 / peer_rate, 1)}, work=steps
        )
    ]
    from kilo.rl import PPOAgent

    X, returns = btc_training_rows(config)
    for n_envs in sorted({config.models.ppo.n_envs, 8}):
        params = config.with_overrides(
            {"models.ppo.total_timesteps": steps, "models.ppo.n_envs": n_envs}
        ).models.ppo
        agent = PPOAgent(params, seed=config.seed, **signal_costs(config.trading)._asdict())
        start = time.perf_counter()
        agent.fit(X, returns, progress=False)
        seconds = time.perf_counter() - start
        info = {"n_envs": n_envs, "ratio_to_peer": round(steps / seconds / peer_rate, 2)}
        records.append(record(f"ppo_n_envs{n_envs}", [seconds], "steps/s", info, work=steps))
    return records

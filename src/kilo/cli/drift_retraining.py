"""Drift-triggered against scheduled retraining, replayed through the paper trader.

For one symbol, :func:`compare_arms` trains an initial set on the candles before
``start`` and replays ``start`` .. ``data.end`` (exclusive) through the paper trader
once per arm, each from its own copy of that set
(:func:`kilo.retrain.replay.replay_with_retraining`):

- ``drift``: a new set whenever the drift rule fires (:func:`kilo.trading.drift.drift_reason`,
  the rule ``retrain.py --on-drift`` acts on), at least ``min_spacing`` apart;
- ``schedule``: as many new sets as the drift arm trained, at evenly spaced dates
  (:func:`schedule_dates`);
- ``never``: the initial set throughout.

:func:`arm_result` reads an arm's ledger: the per-bar net log returns of its equity,
their annualised Sharpe ratio with its standard error, the round trips, the blend
score's IC against the held return and buy-and-hold over the same bars;
:func:`paired_sharpe_se` the standard error of two arms' Sharpe difference.
"""

from __future__ import annotations

import json
import shutil
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from kilo.config import Config
from kilo.data import pair_name, timeframe_delta
from kilo.data.market import load_market_candles
from kilo.errors import ConfigError, KiloError
from kilo.features.target import held_log_return
from kilo.metrics import (
    equity_log_returns,
    ic_bootstrap_ci,
    sharpe_difference_bootstrap,
    sharpe_ratio,
    sharpe_standard_error,
    spearman_ic,
)
from kilo.retrain.replay import ReplayRetrainer, Retraining, replay_with_retraining
from kilo.runtime.tracking import config_hash
from kilo.trading.ledger import Ledger
from kilo.trading.report import trading_summary
from kilo.training.trainer import train_symbol

ARMS = ("drift", "schedule", "never")


@dataclass(frozen=True)
class ArmResult:
    """One arm's replay of one symbol.

    ``returns``: per-bar net log returns of the ledger's equity (shape (n_bars,),
    indexed by bar time, UTC; the first against the initial cash). ``sharpe``: their
    annualised Sharpe ratio, ``sharpe_se`` its standard error (Mertens, 2002,
    annualised). ``trades``: closed round trips. ``ic``: Spearman IC of the blend score
    against the held return (:func:`kilo.features.target.held_log_return`) with its 95 %
    block-bootstrap interval (``ic_low``, ``ic_high``; blocks of the label horizon).
    ``buy_and_hold``: log return of the symbol from the first to the last fill price of
    the replay. ``minutes``: wall time of the replay and its retrainings.
    """

    symbol: str
    arm: str
    retrainings: tuple[Retraining, ...]
    returns: pd.Series
    sharpe: float
    sharpe_se: float
    trades: int
    ic: float
    ic_low: float
    ic_high: float
    buy_and_hold: float
    minutes: float

    @property
    def net_log_return(self) -> float:
        """Total net log return of the replay's equity."""
        return float(self.returns.sum())

    def summary(self) -> dict[str, object]:
        """The result as JSON-ready values (without the per-bar returns)."""
        out = {k: v for k, v in asdict(self).items() if k not in ("returns", "retrainings")}
        out["net_log_return"] = self.net_log_return
        out["bars"] = len(self.returns)
        out["retrainings"] = [
            {**asdict(r), "bar_time": r.bar_time.isoformat()} for r in self.retrainings
        ]
        return out


def schedule_dates(start: pd.Timestamp, end: pd.Timestamp, n: int, candle: pd.Timedelta) -> list:
    """``n`` dates evenly spaced inside ``(start, end)``: ``start + k (end - start) / (n + 1)``
    for k = 1 .. n, floored to the candle."""
    step = (end - start) / (n + 1)
    return [(start + k * step).floor(candle) for k in range(1, n + 1)]


def arm_result(
    config: Config,
    ledger: Ledger,
    symbol: str,
    arm: str,
    retrainings: Sequence[Retraining] = (),
    minutes: float = float("nan"),
) -> ArmResult:
    """Read one arm's ledger (one symbol traded) into an :class:`ArmResult`.

    Raises
    ------
    DataError
        If the symbol's candles cannot be read.
    """
    equity = ledger.query("SELECT bar_time, equity FROM equity ORDER BY iteration_id")
    runs = ledger.query("SELECT initial_cash FROM runs ORDER BY id LIMIT 1")
    initial = float(runs["initial_cash"].iloc[0])
    times = pd.DatetimeIndex(pd.to_datetime(equity["bar_time"], utc=True))
    returns = pd.Series(equity_log_returns(equity["equity"].to_numpy(), initial), index=times)
    scores = ledger.query(
        "SELECT bar_time, score, mark_price FROM predictions WHERE symbol = ? "
        "ORDER BY iteration_id",
        (symbol,),
    )
    scored_at = pd.DatetimeIndex(pd.to_datetime(scores["bar_time"], utc=True))
    horizon = config.target.horizon
    held = held_log_return(load_market_candles(config, symbol), horizon).reindex(scored_at)
    pred, label = scores["score"].to_numpy(dtype=float), held.to_numpy()
    low, high = ic_bootstrap_ci(pred, label, horizon)
    per_symbol, _ = trading_summary(ledger)
    bars_per_year = config.data.bars_per_year
    marks = scores["mark_price"].to_numpy(dtype=float)
    return ArmResult(
        symbol,
        arm,
        tuple(retrainings),
        returns,
        sharpe_ratio(returns.to_numpy(), bars_per_year),
        sharpe_standard_error(returns.to_numpy()) * np.sqrt(bars_per_year),
        int(per_symbol["trades"].sum()) if len(per_symbol) else 0,
        spearman_ic(pred, label),
        low,
        high,
        float(np.log(marks[-1] / marks[0])),
        minutes,
    )


def paired_sharpe_se(a: ArmResult, b: ArmResult, block: int, bars_per_year: float) -> float:
    """Standard error of ``a.sharpe - b.sharpe`` (annualised): the standard deviation of
    :func:`kilo.metrics.sharpe_difference_bootstrap` over the bars both arms hold, in
    blocks of ``block`` bars."""
    both = pd.concat([a.returns, b.returns], axis=1, join="inner").to_numpy()
    replicates = sharpe_difference_bootstrap(both[:, 0], both[:, 1], block)
    return float(np.std(replicates, ddof=1) * np.sqrt(bars_per_year))


def compare_arms(
    config: Config,
    symbol: str,
    start: pd.Timestamp,
    work: Path,
    *,
    min_spacing: pd.Timedelta,
    arms: Sequence[str] = ARMS,
    retrainings: int | None = None,
) -> tuple[list[ArmResult], float]:
    """Train the initial set, replay each arm, read each ledger.

    The initial set is trained with ``data.end`` = ``start`` into ``work/initial``; each
    arm replays a copy of it from ``work/<arm>/models`` into ``work/<arm>/ledger.sqlite``
    until ``data.end``. The ``schedule`` arm retrains ``retrainings`` times (None: as
    often as the ``drift`` arm did, which must then come before it in ``arms``). An
    initial set or an arm finished by an earlier call with the same ``work`` is reused,
    not trained or replayed again (an arm's retrainings and minutes are kept in
    ``work/<arm>/arm.json``), so an interrupted study resumes and arms can be added.

    Returns
    -------
    The arms' results in the order of ``arms``, and the initial training's minutes (0
    when reused).

    Raises
    ------
    ValueError
        If ``schedule`` has no count to follow.
    KiloError
        If a replay stopped before the last bar (SIGINT or SIGTERM); ModelSetError or
        DataError if a set cannot be trained or replayed.
    """
    if "schedule" in arms and retrainings is None and "drift" not in arms[: arms.index("schedule")]:
        raise ValueError("the schedule arm needs --retrainings or the drift arm before it")
    started = time.perf_counter()
    initial = work / "initial"
    if not (initial / pair_name(symbol) / "LATEST").is_file():
        train_symbol(
            config.with_overrides({"data.end": start.isoformat()}),
            symbol,
            models_dir=initial,
            progress=False,
        )
    initial_minutes = (time.perf_counter() - started) / 60
    candle = timeframe_delta(config.data.timeframe)
    last_bar = load_market_candles(config, symbol).index[-1]
    results: list[ArmResult] = []
    for arm in arms:
        folder = work / arm
        cfg = config.with_overrides({"models.dir": str(folder / "models")})
        record = folder / "arm.json"
        if not record.is_file():
            dates = []
            if arm == "schedule":
                drift = [len(r.retrainings) for r in results if r.arm == "drift"]
                n = retrainings if retrainings is not None else drift[0]
                dates = schedule_dates(start, last_bar, n, candle)
            retrainer = ReplayRetrainer(
                cfg, symbol, on_drift=arm == "drift", dates=dates, min_spacing=min_spacing
            )
            _replay_arm(cfg, symbol, start, initial, folder, retrainer, last_bar - candle)
        saved = json.loads(record.read_text())
        if saved.get("config", _arm_config(cfg)) != _arm_config(cfg):
            raise ConfigError(
                f"{record} was replayed with another configuration (its --set or seed "
                "differ): give a new --work-dir, or delete that arm's folder to redo it"
            )
        done = [
            Retraining(pd.Timestamp(r["bar_time"]), r["trigger"], r["version"], r["seconds"])
            for r in saved["retrainings"]
        ]
        ledger = Ledger(folder / "ledger.sqlite")
        try:
            results.append(arm_result(cfg, ledger, symbol, arm, done, saved["minutes"]))
        finally:
            ledger.close()
    return results, initial_minutes


def _replay_arm(
    config: Config,
    symbol: str,
    start: pd.Timestamp,
    initial: Path,
    folder: Path,
    retrainer: ReplayRetrainer,
    last_bar: pd.Timestamp,
) -> None:
    """Replay one arm from a copy of the initial set; write ``folder/arm.json`` once the
    replay reached ``last_bar`` (the last bar with a candle to fill at).

    Raises
    ------
    KiloError
        If the replay stopped before ``last_bar``.
    """
    started = time.perf_counter()
    shutil.rmtree(folder, ignore_errors=True)
    shutil.copytree(initial, folder / "models")
    ledger = replay_with_retraining(config, symbol, start, folder / "ledger.sqlite", retrainer)
    try:
        reached = ledger.query("SELECT MAX(bar_time) AS t FROM iterations")["t"].iloc[0]
    finally:
        ledger.close()
    if reached is None or pd.Timestamp(reached) < last_bar:
        raise KiloError(
            f"{symbol}: the replay in {folder} stopped at {reached}, before {last_bar} "
            "(SIGINT or SIGTERM?): run again with the same work folder to redo that arm"
        )
    minutes = (time.perf_counter() - started) / 60
    retrainings = [{**asdict(r), "bar_time": r.bar_time.isoformat()} for r in retrainer.retrainings]
    (folder / "arm.json").write_text(
        json.dumps({"retrainings": retrainings, "minutes": minutes, "config": _arm_config(config)})
    )


def _arm_config(config: Config) -> str:
    """What an arm was replayed with: the configuration's hash and the seed (which the
    hash leaves out)."""
    return f"{config_hash(config)} seed {config.seed}"


def results_table(results: Sequence[ArmResult], block: int, bars_per_year: float) -> str:
    """A Markdown table of the arms per symbol, then each symbol's paired Sharpe
    differences (drift - schedule, drift - never, schedule - never) with their
    standard errors (:func:`paired_sharpe_se`)."""
    lines = [
        "| symbol | arm | retrainings | net log return | net Sharpe (± s.e.) | round trips "
        "| score IC [95 % CI] | buy-and-hold (log) | minutes |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for r in results:
        lines.append(
            f"| {r.symbol} | {r.arm} | {len(r.retrainings)} | {r.net_log_return:+.4f} "
            f"| {r.sharpe:+.2f} ± {r.sharpe_se:.2f} | {r.trades} "
            f"| {r.ic:+.3f} [{r.ic_low:+.3f}, {r.ic_high:+.3f}] | {r.buy_and_hold:+.3f} "
            f"| {r.minutes:.1f} |"
        )
    lines += ["", "| symbol | difference | Sharpe difference | paired s.e. |", "|---|---|---|---|"]
    for symbol in dict.fromkeys(r.symbol for r in results):
        by_arm = {r.arm: r for r in results if r.symbol == symbol}
        for a, b in (("drift", "schedule"), ("drift", "never"), ("schedule", "never")):
            if a in by_arm and b in by_arm:
                diff = by_arm[a].sharpe - by_arm[b].sharpe
                se = paired_sharpe_se(by_arm[a], by_arm[b], block, bars_per_year)
                lines.append(f"| {symbol} | {a} − {b} | {diff:+.2f} | {se:.2f} |")
    return "\n".join(lines)


def write_results(results: Sequence[ArmResult], path: Path) -> Path:
    """Write the arms' :meth:`ArmResult.summary` as JSON to ``path``; returns it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps([r.summary() for r in results], indent=1, default=str))
    return path

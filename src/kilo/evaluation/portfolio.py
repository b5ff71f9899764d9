"""Portfolio walk-forward: every symbol traded together, as the paper trader would.

For each fold, every symbol's model set is fit on that symbol's own fold training
window; then the symbols' blends trade the fold's common test bars together through
:class:`~kilo.trading.trader.PaperTrader`: the real ``trading`` sizing and caps, the
broker's costs and stops, and the :class:`~kilo.trading.risk.RiskManager`. Open
positions are sold with costs at the fold's end. Baselines on the same bars, marked at
the same prices (the next bar's open): equal weight bought once, equal weight
rebalanced at every UTC day's first bar (costs on what is traded), and flat.
"""

from __future__ import annotations

import tempfile
import time
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from kilo.blend import DecisionRule
from kilo.config import Config, timeframe_seconds
from kilo.evaluation.folds import walk_forward_folds
from kilo.evaluation.simulate import Predictor
from kilo.evaluation.strategies import FoldOutputs
from kilo.features import FeatureEngine
from kilo.inference import PortfolioState, Prediction
from kilo.metrics import bars_per_year, trading_metrics
from kilo.rl.agent import torch_threads
from kilo.trading.broker import PaperBroker
from kilo.trading.ledger import Ledger
from kilo.trading.sources import MarketSnapshot, ReplaySource
from kilo.trading.trader import PaperTrader
from kilo.training.dataset import Dataset, build_dataset
from kilo.training.parallel import threads_per_job
from kilo.training.split import TimeSplit, required_embargo
from kilo.training.trainer import fit_model_set

STRATEGIES = ("blend", "equal_weight", "equal_weight_rebalanced", "flat")


@dataclass(frozen=True)
class FoldScorer:
    """A trader scorer over one fold's precomputed model outputs: ``predictor`` reads a
    candle position of ``index`` (see :meth:`FoldOutputs.blend`)."""

    predictor: Predictor
    index: pd.DatetimeIndex
    rule: DecisionRule
    version: str = "walk-forward"

    def predict(self, snapshot: MarketSnapshot, state: PortfolioState) -> Prediction:
        """The prediction at the snapshot's bar; raises ``KeyError`` for a bar not in ``index``."""
        position = self.index.get_loc(snapshot.bar_time)
        if not isinstance(position, int):
            raise KeyError(f"bar {snapshot.bar_time} occurs more than once in the candles")
        return self.predictor(position, state)


@dataclass(frozen=True)
class PortfolioFold:
    """One fold's portfolio run: per-bar log returns of each strategy, risk event counts
    by rule, bars spent in the drawdown breaker's cooldown, and seconds."""

    returns: dict[str, pd.Series]
    exposure: pd.Series
    pnls: np.ndarray
    equity_turns: float
    risk_events: dict[str, int]
    cooldown_bars: int
    seconds: float


def _scorer(config: Config, engine: FeatureEngine, data: Dataset, fold: TimeSplit) -> FoldScorer:
    result = fit_model_set(config, replace(data, split=fold), engine, progress=False)
    model_set = result.model_set
    X = model_set.preprocessor.transform(data.features)
    _, outputs = FoldOutputs.for_dataset(config, model_set, X, data, fold.test)
    calibration = result.validation.calibrate(config)
    return FoldScorer(
        outputs.blend(calibration, dict(config.blend.weights)),
        pd.DatetimeIndex(data.candles.index),
        calibration.rule(config),
    )


def equal_weight(marks: pd.DataFrame, cost: float, rebalance: bool, cash: float) -> pd.Series:
    """Equity of an equal-weight portfolio marked at ``marks`` (bars x symbols, quote).

    Buys 1/n of ``cash`` in each symbol at the first marks paying ``cost`` (fee plus
    slippage, a fraction of notional); with ``rebalance`` trades back to 1/n at each
    UTC day's first bar paying ``cost`` on the notional traded; sells everything at
    the last marks paying ``cost``. Returns equity per bar (quote currency).
    """
    prices = marks.to_numpy(dtype=np.float64)
    n = prices.shape[1]
    units = cash * (1.0 - cost) / n / prices[0]
    days = pd.DatetimeIndex(marks.index).normalize()
    equity = np.empty(len(prices))
    for t in range(len(prices)):
        values = units * prices[t]
        total = values.sum()
        if rebalance and t > 0 and days[t] != days[t - 1]:
            traded = np.abs(values - total / n).sum()
            total -= traded * cost
            units = total / n / prices[t]
        equity[t] = total
    equity[-1] *= 1.0 - cost
    return pd.Series(equity, index=marks.index)


def _log_returns(equity: pd.Series, cash: float) -> pd.Series:
    return pd.Series(np.diff(np.log(equity.to_numpy()), prepend=np.log(cash)), index=equity.index)


def portfolio_fold(
    config: Config,
    engines: dict[str, FeatureEngine],
    datasets: dict[str, Dataset],
    folds: dict[str, TimeSplit],
    threads: int = 1,
) -> PortfolioFold:
    """Fit every symbol on its fold, trade them together on the common test bars."""
    started = time.perf_counter()
    with torch_threads(threads):
        scorers = {s: _scorer(config, engines[s], datasets[s], folds[s]) for s in datasets}
    common = sorted(set.intersection(*(set(d.index[folds[s].test]) for s, d in datasets.items())))
    candles = {s: d.candles for s, d in datasets.items()}
    rows = config.risk.correlation_window + 1
    source = ReplaySource(candles, {s: rows for s in candles}, common[0])
    cash = config.trading.initial_cash
    with tempfile.TemporaryDirectory() as tmp:
        ledger = Ledger(Path(tmp) / "portfolio.sqlite")
        records = PaperTrader(config, scorers, source, ledger).run(len(common))
        events = ledger.query("SELECT rule, COUNT(*) AS n FROM risk_events GROUP BY rule")
        fills = ledger.query("SELECT side, notional, realised_pnl FROM fills")
        ledger.close()
    last = records[-1]
    broker, closing = PaperBroker(config.trading), last.portfolio.copy()
    for symbol in list(closing.positions):
        broker.sell(closing, symbol, last.marks[symbol], last.mark_time, "fold_end")
    index = pd.DatetimeIndex([r.bar_time for r in records])
    equity = pd.Series([r.equity for r in records[:-1]] + [closing.cash], index=index)
    marks = pd.DataFrame([r.marks for r in records], index=index)[sorted(candles)]
    cost = config.trading.fee + config.trading.slippage
    curves = {
        "blend": equity,
        "equal_weight": equal_weight(marks, cost, False, cash),
        "equal_weight_rebalanced": equal_weight(marks, cost, True, cash),
        "flat": pd.Series(cash, index=index),
    }
    exposure = pd.Series([bool(r.portfolio.positions) for r in records], index=index)
    sells = fills[fills["side"] == "sell"]
    return PortfolioFold(
        {k: _log_returns(v, cash) for k, v in curves.items()},
        exposure,
        sells["realised_pnl"].to_numpy(),
        float(fills["notional"].sum() / equity.mean()),
        dict(zip(events["rule"], events["n"].astype(int), strict=True)),
        sum(r.risk_state.cooldown_left > 0 for r in records),
        time.perf_counter() - started,
    )


def summarise_portfolio(config: Config, folds: list[PortfolioFold]) -> dict[str, Any]:
    """The ``portfolio`` section of ``summary.json``: metrics of each strategy over the
    chained folds, risk events by rule, the worst UTC day and the breaker's cooldown."""
    per_year = bars_per_year(timeframe_seconds(config.data.timeframe))
    out: dict[str, Any] = {"strategies": {}}
    for name in STRATEGIES:
        returns = pd.concat([f.returns[name] for f in folds])
        exposure = (
            pd.concat([f.exposure for f in folds]).to_numpy()
            if name == "blend"
            else np.full(len(returns), name != "flat")
        )
        pnls = np.concatenate([f.pnls for f in folds]) if name == "blend" else np.empty(0)
        turns = sum(f.equity_turns for f in folds) if name == "blend" else 0.0
        out["strategies"][name] = trading_metrics(
            returns.to_numpy(), exposure, pnls, turns, per_year
        )
    daily = pd.concat([f.returns["blend"] for f in folds]).groupby(lambda t: t.date()).sum()
    events: dict[str, int] = {}
    for f in folds:
        for rule, n in f.risk_events.items():
            events[rule] = events.get(rule, 0) + n
    out.update(
        risk_events=events,
        worst_day={"date": str(daily.idxmin()), "log_return": float(daily.min())},
        cooldown_bars=int(sum(f.cooldown_bars for f in folds)),
        bars=int(sum(len(f.exposure) for f in folds)),
        seconds=float(sum(f.seconds for f in folds)),
    )
    return out


def evaluate_portfolio(
    config: Config, symbols: list[str], *, jobs: int | None = None, progress: bool = True
) -> dict[str, Any]:
    """Portfolio walk-forward of ``symbols`` (module docstring); folds run in ``jobs``
    processes (default ``evaluation.jobs``, or every core).

    Returns
    -------
    The ``portfolio`` section of ``summary.json`` (:func:`summarise_portfolio`).

    Raises
    ------
    DataError
        If a symbol's candles are missing or too short for the folds.
    """
    import os

    from joblib import Parallel, delayed
    from tqdm.auto import tqdm

    ev = config.evaluation
    engines = {s: FeatureEngine.from_config(config, s) for s in symbols}
    datasets = {s: build_dataset(config, s, engines[s]) for s in symbols}
    folds = {
        s: walk_forward_folds(len(d.features), ev, required_embargo(config, engines[s]))
        for s, d in datasets.items()
    }
    fold_config = config.with_overrides({"models.ppo.total_timesteps": ev.ppo_timesteps})
    jobs = min(jobs or ev.jobs or os.cpu_count() or 1, ev.folds)
    calls = [
        delayed(portfolio_fold)(
            fold_config,
            engines,
            datasets,
            {s: f[k] for s, f in folds.items()},
            threads_per_job(jobs),
        )
        for k in range(ev.folds)
    ]
    runner = (
        Parallel(n_jobs=jobs, backend="loky", return_as="generator")
        if jobs > 1
        else (lambda tasks: (call(*args, **kwargs) for call, args, kwargs in tasks))
    )
    results = list(
        tqdm(
            runner(calls),
            total=len(calls),
            desc="portfolio folds",
            unit="fold",
            disable=not progress,
        )
    )
    return summarise_portfolio(config, results)

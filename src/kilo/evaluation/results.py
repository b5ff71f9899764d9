"""Every symbol's evaluation combined over seeds, with deflated Sharpes, as one
:class:`~kilo.evaluation.summary.EvaluationSummary`, and its tables."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from kilo.evaluation.strategy_set import MODEL_STRATEGIES, STRATEGY_ORDER
from kilo.evaluation.summary import (
    EvaluationSummary,
    HoldoutSummary,
    PortfolioSummary,
    RandomBaseline,
    StrategyResult,
    SymbolSummary,
    Trials,
)
from kilo.evaluation.symbol import SymbolEvaluation
from kilo.evaluation.trials import DSR_BENCHMARK, TrackedTrials
from kilo.evaluation.verdict import decide, forecast_pvalues
from kilo.metrics import deflated_sharpe_ratio, expected_max_sharpe, holm_adjusted, sharpe_ratio

#: A strategy's IC statistics: not averaged over seeds, not metrics table columns.
IC_FIELDS = {"ic", "label_ic"}


def deflate(
    results: dict[str, list[SymbolEvaluation]], tracked: TrackedTrials | None = None
) -> dict[str, Trials]:
    """Set ``dsr`` of every traded strategy of every symbol and seed; returns each
    symbol's trials.

    A symbol's trials (:mod:`kilo.evaluation.trials`) are its model strategies that
    traded on this run's outer folds, one Sharpe ratio each (the mean over seeds), and
    the other configurations' ones ``tracked`` found: their count is DSR's N and the
    variance of their per-bar Sharpe ratios its V (Bailey & López de Prado, 2014). The
    DSR is PSR against the expected best of N zero-skill Sharpe ratios.
    """
    tracked = tracked or TrackedTrials()
    out = {}
    for symbol, evals in results.items():
        own = _own_sharpes(evals)
        earlier = tracked.sharpes.get(symbol, [])
        sharpes = own + earlier
        variance = float(np.var(sharpes, ddof=1)) if len(sharpes) > 1 else 0.0
        n = max(len(sharpes), 1)
        for ev in evals:
            for name, r in ev.returns.items():
                returns = r.to_numpy()
                ev.summary.strategies[name].dsr = (
                    deflated_sharpe_ratio(returns, n, variance) if returns.any() else math.nan
                )
        out[symbol] = Trials(
            n=n,
            this_run=len(own),
            earlier=len(earlier),
            evaluations=tracked.evaluations.get(symbol, 0),
            search_trials=tracked.search_trials.get(symbol, 0),
            sharpe_variance=variance,
            source=tracked.source,
            benchmark_sharpe=expected_max_sharpe(n, variance),
            benchmark=DSR_BENCHMARK,
        )
    return out


def _own_sharpes(evals: list[SymbolEvaluation]) -> list[float]:
    """Per model strategy that traded in some seed, its per-bar Sharpe ratio averaged
    over the seeds (as the summary averages it): one trial each."""
    out = []
    for name in MODEL_STRATEGIES:
        runs = [ev.returns[name].to_numpy() for ev in evals if name in ev.returns]
        if not any(r.any() for r in runs):
            continue
        values = [s for s in (sharpe_ratio(r) for r in runs) if math.isfinite(s)]
        if values:
            out.append(float(np.mean(values)))
    return out


def _over_seeds(evals: list[SymbolEvaluation]) -> SymbolSummary:
    """The first seed's summary with strategy numbers averaged over seeds (and their
    standard deviations), the seconds of all of them, and the verdict on the means."""
    first = evals[0].summary
    strategies, spread = {}, {}
    for name, result in first.strategies.items():
        frame = pd.DataFrame(
            [e.summary.strategies[name].model_dump(exclude=IC_FIELDS) for e in evals]
        )
        strategies[name] = StrategyResult.model_validate(
            {**frame.mean().to_dict(), "ic": result.ic, "label_ic": result.label_ic}
        )
        spread[name] = frame.std(ddof=1).to_dict()
    random = first.random
    if random is not None and all(e.summary.random is not None for e in evals):
        draws = pd.DataFrame(
            [e.summary.random.model_dump(exclude=IC_FIELDS) for e in evals if e.summary.random]
        )
        random = RandomBaseline.model_validate({**draws.mean().to_dict(), "draws": random.draws})
    merged = first.model_copy(
        update={
            "random": random,
            "strategies": strategies,
            "strategies_std": spread if len(evals) > 1 else None,
            "seeds": len(evals),
            "seconds": float(sum(e.summary.seconds for e in evals)),
        }
    )
    merged.verdict = decide(merged)
    return merged


def summarise(
    results: dict[str, list[SymbolEvaluation]],
    *,
    ppo_timesteps: int,
    portfolio: PortfolioSummary | None = None,
    failures: dict[str, str] | None = None,
    tracked: TrackedTrials | None = None,
) -> EvaluationSummary:
    """The evaluation summary: :func:`deflate` the Sharpe ratios (with the earlier
    trials ``tracked`` found), then combine seeds. A holdout's ``reads`` count this
    read and the earlier ones ``tracked`` found (None when tracking is off)."""
    tracked = tracked or TrackedTrials()
    trials = deflate(results, tracked)
    symbols = {}
    for symbol, evals in results.items():
        symbols[symbol] = _over_seeds(evals)
        symbols[symbol].trials = trials[symbol]
        holdout = symbols[symbol].holdout
        if holdout is not None and tracked.holdout_reads is not None:
            reads = tracked.holdout_reads.get(symbol, 0) + 1
            symbols[symbol].holdout = holdout.model_copy(update={"reads": reads})
    across_symbols(symbols)
    return EvaluationSummary(
        symbols=symbols,
        portfolio=portfolio,
        ppo_timesteps=ppo_timesteps,
        dsr_trials=max((t.n for t in trials.values()), default=0),
        failures=failures or {},
    )


def across_symbols(symbols: dict[str, SymbolSummary]) -> None:
    """With several symbols, re-take each forecast verdict with Holm's correction over
    every symbol's regressors together (one family: a skill found on one of twenty
    symbols must clear twenty symbols' worth of luck)."""
    pvalues = {
        (symbol, name): p
        for symbol, entry in symbols.items()
        for name, p in forecast_pvalues(entry).items()
    }
    if len({symbol for symbol, _ in pvalues}) < 2:
        return
    adjusted = holm_adjusted(pvalues)
    family = sum(math.isfinite(p) for p in adjusted.values())
    for symbol, entry in symbols.items():
        own = {name: p for (s, name), p in adjusted.items() if s == symbol}
        entry.verdict = decide(entry, own, family)


def metrics_table(
    entry: SymbolSummary | HoldoutSummary, columns: list[str] | None = None
) -> pd.DataFrame:
    """One symbol's strategies (rows) by metrics (columns), ``mean ± std`` over seeds as
    text, ``–`` where a number is undefined; of the folds, or of the holdout."""
    spread = entry.strategies_std if isinstance(entry, SymbolSummary) else None
    rows = {}
    for name in STRATEGY_ORDER:
        result = entry.random if name == "random" else entry.strategies.get(name)
        if result is None:
            continue
        std = (spread or {}).get(name, {})
        values = result.model_dump(exclude=IC_FIELDS)
        rows[name] = {
            k: _fmt(v, std.get(k)) for k, v in values.items() if columns is None or k in columns
        }
    table = pd.DataFrame(rows).T
    return table[[c for c in columns if c in table.columns]] if columns else table


def _fmt(value: float, std: float | None) -> str:
    if value is None or not math.isfinite(value):
        return "–"
    text = f"{value:.4g}"
    return f"{text} ± {std:.2g}" if std is not None and math.isfinite(std) else text

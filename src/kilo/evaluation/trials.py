"""The deflated Sharpe ratio's trials, and the holdout's reads, per symbol.

Bailey & López de Prado (2014) deflate a Sharpe ratio by the best of N lucky ones, N
being every configuration tried before choosing. Kilo's trials of a symbol are the
*outer-fold* Sharpe ratios the MLflow tracking store holds for it: of each
configuration (told apart by :func:`~kilo.runtime.tracking.config_hash`; the seed does
not make a new one) its newest outer evaluation, this run's for this configuration.
That includes a search's best-trial evaluation on the outer folds
(:func:`kilo.search.run.report_study` logs it as an evaluation).

**Each model strategy of a configuration (blend, GRU, LightGBM, PPO) is one trial**:
the reader sees all of them on the same outer folds and may choose among them, as
PPO was dropped from the blend on its outer Sharpe. Seeds of one configuration are not
trials: their Sharpe ratios are averaged into one, as the summary reports them. A
strategy that never traded is no trial. Baselines (buy-and-hold, flat, momentum,
random) are not trials: nobody chose them. Search trials scored the symbol on inner
folds only: they are counted and reported, but enter neither N nor V (the variance of
the trials' Sharpe ratios), which come from outer-fold Sharpe ratios alone.

The holdout (DESIGN.md invariant 11) is read to report, every read counted: an
evaluation that trades a symbol's holdout logs the metric ``{symbol}.holdout_read``
on its run (:data:`HOLDOUT_READ`), and :func:`tracked_trials` counts the runs of any
status that carry it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from kilo.config import Config
from kilo.evaluation.strategy_set import BLEND, MODEL_STRATEGIES
from kilo.runtime.tracking import CONFIG_TAG, Tracker, config_hash

#: The strategies an evaluation chose among (the rest are baselines).
#: The metric (``{symbol}.holdout_read``, value 1) an evaluation run that read the
#: symbol's holdout carries.
HOLDOUT_READ = "holdout_read"
#: What the deflated Sharpe ratio deflates against (:func:`kilo.metrics.expected_max_sharpe`).
DSR_BENCHMARK = "Sharpe 0, deflated to the expected best of N zero-skill trials"
EVALUATE = "evaluate"
SEARCH_TRIAL = "search-trial"


@dataclass(frozen=True)
class TrackedTrials:
    """Per symbol, what the tracking store holds of earlier work on it.

    Attributes
    ----------
    sharpes : symbol -> per-bar outer-fold Sharpe ratio of each traded model strategy of
        each other configuration (its newest evaluation)
    evaluations : symbol -> other configurations with an outer-fold evaluation
    search_trials : symbol -> search trials that scored it on inner folds (not trials
        of N)
    holdout_reads : symbol -> runs other than ``run_id`` that read its holdout; None
        when tracking is off (then earlier reads are unknown)
    source : where they were read
    """

    sharpes: dict[str, list[float]] = field(default_factory=dict)
    evaluations: dict[str, int] = field(default_factory=dict)
    search_trials: dict[str, int] = field(default_factory=dict)
    holdout_reads: dict[str, int] | None = None
    source: str = "tracking off: this run's model strategies only"


def tracked_trials(
    config: Config, tracker: Tracker, symbols: list[str], run_id: str | None = None
) -> TrackedTrials:
    """Read the earlier trials and holdout reads of ``symbols`` from ``tracker``'s store
    (none when tracking is off or the store cannot be read).

    Parameters
    ----------
    run_id
        The run of this evaluation, left out of the holdout reads (the caller adds its
        own read).

    An evaluation run with this run's configuration hash is this configuration, not
    another trial; of several runs of one configuration the newest counts. Sharpe
    ratios are logged annualised and returned per bar.
    """
    if not config.tracking.enabled:
        return TrackedTrials()
    root = math.sqrt(config.data.bars_per_year)
    mine = config_hash(config)
    reads = dict.fromkeys(symbols, 0)
    for run in tracker.find_runs((EVALUATE,), statuses=("FINISHED", "FAILED", "RUNNING")):
        for symbol in symbols:
            if run.info.run_id != run_id and f"{symbol}.{HOLDOUT_READ}" in run.data.metrics:
                reads[symbol] += 1
    sharpes: dict[str, list[float]] = {}
    evaluations: dict[str, int] = {}
    search_trials: dict[str, int] = {}
    seen: set[tuple[str, str]] = set()
    for run in tracker.find_runs((EVALUATE, SEARCH_TRIAL)):
        kind = run.data.tags.get("kilo.kind")
        configuration = run.data.tags.get(CONFIG_TAG, run.info.run_id)
        metrics = run.data.metrics
        for symbol in symbols:
            if kind == SEARCH_TRIAL:
                if math.isfinite(metrics.get(f"{symbol}.{BLEND}.sharpe", math.nan)):
                    search_trials[symbol] = search_trials.get(symbol, 0) + 1
                continue
            if configuration == mine or (configuration, symbol) in seen:
                continue
            traded = [
                metrics[f"{symbol}.{name}.sharpe"] / root
                for name in MODEL_STRATEGIES
                if metrics.get(f"{symbol}.{name}.n_trades", 0.0) > 0
                and math.isfinite(metrics.get(f"{symbol}.{name}.sharpe", math.nan))
            ]
            if traded:
                seen.add((configuration, symbol))
                sharpes.setdefault(symbol, []).extend(traded)
                evaluations[symbol] = evaluations.get(symbol, 0) + 1
    return TrackedTrials(
        sharpes=sharpes,
        evaluations=evaluations,
        search_trials=search_trials,
        holdout_reads=reads,
        source=f"MLflow store {config.tracking.uri}, experiment {config.tracking.experiment}",
    )

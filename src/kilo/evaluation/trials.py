"""The deflated Sharpe ratio's trials: the configurations tried on a symbol.

Bailey & López de Prado (2014) deflate a Sharpe ratio by the best of N lucky ones, N
being every configuration tried before choosing. Kilo counts, per symbol: the model
strategies (blend and each enabled model) of this evaluation, each seed; the model
strategies of every earlier evaluation of another configuration that the MLflow
tracking store holds for the symbol; and every search trial that scored the symbol's
blend on its inner folds. Baselines (buy-and-hold, flat, momentum, random) are not
trials: nobody chose them. Configurations are told apart by
:func:`~kilo.runtime.tracking.config_hash` (the seed does not make a new one).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from kilo.config import MODEL_NAMES, Config, timeframe_seconds
from kilo.metrics import bars_per_year
from kilo.runtime.tracking import CONFIG_TAG, Tracker, config_hash

#: The strategies an evaluation chose among (the rest are baselines).
MODEL_STRATEGIES = ("blend", *MODEL_NAMES)


@dataclass(frozen=True)
class TrackedTrials:
    """Per symbol, the per-bar Sharpe ratios of the trials found in the tracking store.

    ``evaluations`` and ``search_trials`` count the earlier evaluation runs and search
    trials they came from; ``source`` says where they were read.
    """

    sharpes: dict[str, list[float]] = field(default_factory=dict)
    evaluations: dict[str, int] = field(default_factory=dict)
    search_trials: dict[str, int] = field(default_factory=dict)
    source: str = "tracking off: this run's model strategies only"


def tracked_trials(config: Config, tracker: Tracker, symbols: list[str]) -> TrackedTrials:
    """Read the earlier trials of ``symbols`` from ``tracker``'s store (none when
    tracking is off or the store cannot be read).

    An evaluation run with this run's configuration hash is this configuration, not
    another trial; of several runs of one configuration the newest counts. Sharpe
    ratios are logged annualised and returned per bar.
    """
    if not config.tracking.enabled:
        return TrackedTrials()
    runs = tracker.finished_runs(("evaluate", "search-trial"))
    root = math.sqrt(bars_per_year(timeframe_seconds(config.data.timeframe)))
    mine = config_hash(config)
    out = TrackedTrials(
        source=f"MLflow store {config.tracking.uri}, experiment {config.tracking.experiment}"
    )
    seen: set[tuple[str, str, str]] = set()
    for run in runs:
        kind = run.data.tags.get("kilo.kind")
        configuration = run.data.tags.get(CONFIG_TAG, run.info.run_id)
        if kind == "evaluate" and configuration == mine:
            continue
        names = ("blend",) if kind == "search-trial" else MODEL_STRATEGIES
        for symbol in symbols:
            found = False
            for name in names:
                value = run.data.metrics.get(f"{symbol}.{name}.sharpe")
                key = (configuration, symbol, name)
                if value is None or not math.isfinite(value) or key in seen:
                    continue
                seen.add(key)
                out.sharpes.setdefault(symbol, []).append(value / root)
                found = True
            if found:
                counts = out.search_trials if kind == "search-trial" else out.evaluations
                counts[symbol] = counts.get(symbol, 0) + 1
    return out

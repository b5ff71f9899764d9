"""The typed evaluation summary: what ``summary.json`` holds, written and read here only.

:class:`EvaluationSummary` is written with ``model_dump_json`` and read with
``model_validate_json`` (:meth:`EvaluationSummary.read`) by the report, the search,
retraining and the scripts. Undefined numbers (a Sharpe of zero variance, a percentile
of a blend that never traded) are NaN in Python and ``null`` in the file. A file of
another ``summary_format`` is refused with an error that says what to do.

With more than one seed, strategy and random-baseline numbers are means over seeds
and ``strategies_std`` holds the strategies' standard deviations; IC statistics, the
holdout and the controls are those of the first seed.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from kilo.backtest.strategies import StrategyMetrics
from kilo.errors import DataError
from kilo.evaluation.cost_summary import CostCurve
from kilo.evaluation.verdict_summary import Power, Verdict
from kilo.metrics import TradingMetrics
from kilo.utils import JsonFloat, atomic_path, source_commit

#: The layout version of ``summary.json``; bump it with every incompatible change.
SUMMARY_FORMAT = 4
SUMMARY_FILE = "summary.json"


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ICStatistics(_Model):
    """A regressor's predictions on the test rows of every fold against one outcome:
    the held return (``StrategyResult.ic``, what a position opened on the signal and
    held the horizon earns) or the training label (``StrategyResult.label_ic``).

    ``block`` is the bootstrap's and permutations' block length (bars), chosen by the
    Politis-White rule (:func:`kilo.metrics.ic_block_length`) and floored at the label
    horizon; ``ic_se_by_block`` gives the standard error at 24, 168 and 504 bars too,
    to show how much the choice matters.
    """

    ic_spearman: JsonFloat
    ic_pearson: JsonFloat
    directional_accuracy: JsonFloat
    ic_by_fold: list[JsonFloat]
    ic_ci95: tuple[JsonFloat, JsonFloat] = Field(description="moving-block bootstrap, 95 %")
    ic_tstat_hac: JsonFloat = Field(description="Newey-West t-statistic")
    ic_pvalue_perm: JsonFloat = Field(description="two-sided block-permutation p-value")
    ic_null_band99: JsonFloat = Field(description="99 % quantile of |IC| under the null")
    ic_se: JsonFloat = Field(math.nan, description="moving-block bootstrap standard error")
    block: int = Field(24, description="bootstrap block length, bars (Politis-White)")
    ic_se_by_block: dict[int, JsonFloat] = Field(
        default_factory=dict, description="bootstrap standard error at other block lengths"
    )
    pvalue_positive: JsonFloat = Field(
        math.nan, description="one-sided p-value of IC > 0 from ic_se (normal)"
    )


class StrategyResult(StrategyMetrics):
    """A strategy's metrics over the chained test folds, with what the evaluation adds:
    PSR against buy-and-hold's Sharpe, the deflated Sharpe ratio, and for a regressor
    its IC statistics against the held return (``ic``: the money, what every verdict,
    floor and control reads) and against its training label (``label_ic``)."""

    psr_vs_buy_and_hold: JsonFloat = math.nan
    sharpe_se: JsonFloat = Field(
        math.nan, description="standard error of the net Sharpe, annualised (Mertens, 2002)"
    )
    dsr: JsonFloat = math.nan
    ic: ICStatistics | None = None
    label_ic: ICStatistics | None = None


class RandomBaseline(StrategyResult):
    """Mean metrics of random paths made of the blend's own spells.

    ``blend_percentile`` is the share (0-100) of paths whose net Sharpe is below the
    blend's; NaN when the blend never traded (then there is nothing to compare).
    """

    draws: int
    blend_percentile: JsonFloat


class PlaceboModel(_Model):
    """A regressor on the placebo candles: its IC, the 99 % null band, and whether the
    IC is outside it (a leak)."""

    ic_spearman: JsonFloat
    null_band99: JsonFloat
    flagged: bool


class Placebo(_Model):
    models: dict[str, PlaceboModel]
    blend_sharpe: JsonFloat
    blend_gross_sharpe: JsonFloat


class Planted(_Model):
    """The planted edge: its achieved IC, what each regressor recovered, and the verdict
    (detected: the best regressor recovers ``needed_ic`` and the blend beats
    buy-and-hold on the planted candles)."""

    planted_ic: float
    needed_ic: float
    ic: dict[str, JsonFloat]
    blend_sharpe: JsonFloat
    blend_total_log_return: JsonFloat
    buy_and_hold_sharpe: JsonFloat
    detected: bool


class LabelShuffle(_Model):
    """ICs of regressors trained on shuffled labels on one fold (1-based)."""

    fold: int
    ic: dict[str, JsonFloat]


class Causality(_Model):
    """Features recomputed from candles cut at each fold start equal the evaluation's."""

    cuts: int
    identical: bool


class Controls(_Model):
    """The controls' results; ``planted`` and ``label_shuffle_check`` are None when no
    regressor is enabled (they test the regressors)."""

    placebo: Placebo
    planted: Planted | None = None
    lead_lag: dict[str, dict[int, JsonFloat]] = Field(
        description="regressor -> k -> IC of the prediction at t against the held return at t + k"
    )
    label_shuffle_check: LabelShuffle | None = None
    causality: Causality


class FoldWindow(_Model):
    """One walk-forward fold's bars (UTC candle open times)."""

    train_start: datetime
    train_end: datetime
    test_start: datetime
    test_end: datetime


class HoldoutSummary(_Model):
    """The final block no fold, search or default read, traded once by every strategy
    with a model set fit on the rows before it: the verdict to quote."""

    window: FoldWindow
    bars: int
    strategies: dict[str, StrategyResult]
    random: RandomBaseline | None = None
    reads: int | None = Field(
        None,
        description="evaluations that read this holdout in the tracking store, this one "
        "included; None when tracking is off (earlier reads unknown, this one unrecorded)",
    )


class Trials(_Model):
    """The N and V of a symbol's deflated Sharpe ratios (:mod:`kilo.evaluation.trials`).

    N counts the model strategies that traded on the outer folds, each configuration's
    once (its seeds averaged): ``this_run`` of this configuration and ``earlier`` of the
    ``evaluations`` other configurations the tracking store holds (``source``), a
    search's best-trial evaluation among them. ``sharpe_variance`` is V, the variance of
    their per-bar outer-fold Sharpe ratios. ``search_trials`` scored the symbol on inner
    folds only: reported, in neither N nor V. The DSR is the probability that the true
    Sharpe ratio exceeds ``benchmark_sharpe`` (per bar), the expected best of N trials
    of true Sharpe 0 (``benchmark``).
    """

    n: int
    this_run: int
    earlier: int
    evaluations: int
    search_trials: int
    sharpe_variance: JsonFloat
    source: str
    benchmark_sharpe: JsonFloat = math.nan
    benchmark: str = "Sharpe 0, deflated to the expected best of N zero-skill trials"


class SymbolSummary(_Model):
    """One symbol's walk-forward evaluation; ``holdout`` is reported apart and last;
    ``cost_curve`` (None when ``evaluation.cost_curve`` is empty, and in summaries
    written before it) is of the test folds."""

    strategies: dict[str, StrategyResult]
    random: RandomBaseline | None = None
    strategies_std: dict[str, dict[str, JsonFloat]] | None = None
    controls: Controls
    folds: list[FoldWindow]
    bars: int
    seconds: float
    fold_seconds: float = Field(description="seconds of every task, summed over workers")
    task_seconds: dict[str, float] = Field(
        default_factory=dict,
        description="data set (real, holdout, each control) -> seconds of its tasks",
    )
    seeds: int = 1
    holdout: HoldoutSummary | None = None
    power: Power | None = None
    verdict: Verdict | None = None
    trials: Trials | None = None
    cost_curve: CostCurve | None = None

    def regressors(self) -> Iterator[tuple[str, ICStatistics, PlaceboModel]]:
        """Each regressor's name, IC statistics on the real candles and placebo result."""
        for name, placebo in self.controls.placebo.models.items():
            ic = self.strategies[name].ic
            if ic is not None:
                yield name, ic, placebo


class WorstDay(_Model):
    date: str
    log_return: JsonFloat


class PortfolioSummary(_Model):
    """The symbols traded together (``evaluate.py --portfolio``)."""

    strategies: dict[str, TradingMetrics]
    risk_events: dict[str, int]
    worst_day: WorstDay
    cooldown_bars: int
    bars: int
    seconds: float


class PanelIC(_Model):
    """A regressor's Spearman IC with the held return over some test rows (one symbol's,
    or several symbols' together), with the 95 % interval and standard error of the
    moving-block bootstrap over bar times (:func:`kilo.metrics.panel_ic_bootstrap`);
    ``rows``: the finite (prediction, held return) pairs scored."""

    ic_spearman: JsonFloat
    ic_ci95: tuple[JsonFloat, JsonFloat]
    ic_se: JsonFloat
    rows: int


class PooledFit(_Model):
    """One regressor fit one way, over the walk-forward folds' test rows.

    ``symbols``: each evaluated symbol's IC; ``panel``: theirs together, each symbol's
    predictions and labels ranked among its own rows first
    (:func:`kilo.evaluation.pooled_stats.within_symbol_panel`: no credit for a bet on
    which symbol does better over the test span). ``placebo``:
    the panel IC on the joint placebo (every member rebuilt with one block order and
    one set of coins), ``placebo_flagged`` when it is beyond 2.58 standard errors (a
    leak). ``planted``: the panel IC with an edge planted in every member at
    ``PooledComparison.planted_ic``; ``recovery`` = (planted - real panel IC) / planted
    IC; ``floor`` = ``(z_0.975 + z_0.8) * panel se / recovery``, the smallest true IC
    found with 80 % power at 5 % (inf when nothing is recovered); ``symbol_floors``
    the same from each symbol's own IC and recovery.
    """

    symbols: dict[str, PanelIC]
    panel: PanelIC
    placebo: PanelIC
    placebo_flagged: bool
    planted: PanelIC
    recovery: JsonFloat
    floor: JsonFloat
    symbol_floors: dict[str, JsonFloat]


class PooledComparison(_Model):
    """Pooled against per-symbol regressors on the same folds (``training.pool:
    universe``; :mod:`kilo.evaluation.pooled`).

    ``fits`` maps ``pooled`` (one model on every member's training rows) and ``alone``
    (each symbol's own model on its own rows of the same folds, with the same labels)
    to each regressor's :class:`PooledFit`; ``causality`` counts the members' feature
    cuts at fold starts (a failed one stops the evaluation). The holdout is not read.
    """

    members: list[str]
    symbols: list[str]
    demean: str
    planted_ic: float
    folds: list[FoldWindow]
    fits: dict[str, dict[str, PooledFit]]
    causality: Causality
    seconds: float


class Provenance(_Model):
    """What wrote a summary: the source's git commit when the run started and the
    command line (``scripts/results.py`` quotes both beside the tables it writes).

    ``commit`` is None outside a git checkout; ``dirty``: tracked files differed from
    it, so the commit alone does not reproduce the run. ``command`` is None when the
    evaluation was started from Python rather than a script.
    """

    commit: str | None = None
    dirty: bool = False
    command: str | None = None

    @classmethod
    def now(cls, command: str | None = None) -> Provenance:
        """The commit checked out now (:func:`kilo.utils.source_commit`) and ``command``."""
        source = source_commit()
        return cls(
            commit=source[0] if source else None,
            dirty=source[1] if source else False,
            command=command,
        )


class EvaluationSummary(_Model):
    """Everything ``evaluate.py`` measured: per symbol, the portfolio, and the settings
    the numbers depend on.

    Attributes
    ----------
    ppo_timesteps : the PPO budget each fold trained with (``models.ppo.total_timesteps``;
        0 when PPO is not in ``models.enabled``)
    dsr_trials : the largest N of the symbols' deflated Sharpe ratios (each symbol's
        own in its ``trials``; see :func:`kilo.evaluation.results.deflate`)
    failures : symbol -> error, for symbols that could not be evaluated
    pooled : with ``training.pool: universe``, the pooled comparison (then
        ``symbols`` is empty: pooled models are not traded fold by fold yet)
    provenance : the commit and command that wrote it (None in summaries written
        before Kilo recorded them)
    """

    summary_format: int = SUMMARY_FORMAT
    symbols: dict[str, SymbolSummary]
    portfolio: PortfolioSummary | None = None
    ppo_timesteps: int
    dsr_trials: int
    failures: dict[str, str] = Field(default_factory=dict)
    pooled: PooledComparison | None = None
    provenance: Provenance | None = None

    @field_validator("summary_format")
    @classmethod
    def _format(cls, value: int) -> int:
        if value != SUMMARY_FORMAT:
            raise ValueError(
                f"summary format {value}, but this Kilo reads format {SUMMARY_FORMAT}: "
                "re-run scripts/evaluate.py to write a current summary"
            )
        return value

    def write(self, folder: Path) -> Path:
        """Write ``summary.json`` into ``folder`` atomically (strict JSON: NaN is null)."""
        path = Path(folder) / SUMMARY_FILE
        with atomic_path(path) as tmp:
            tmp.write_text(self.model_dump_json(indent=2))
        return path

    @classmethod
    def read(cls, path: Path) -> EvaluationSummary:
        """Read a ``summary.json`` (or the folder holding one).

        Raises
        ------
        DataError
            If the file is missing, not JSON, of another format or otherwise invalid;
            the message names the file.
        """
        path = Path(path)
        if path.is_dir():
            path = path / SUMMARY_FILE
        try:
            return cls.model_validate_json(path.read_bytes())
        except OSError as exc:
            raise DataError(f"{path}: cannot read the evaluation summary ({exc})") from None
        except ValidationError as exc:
            first = exc.errors()[0]
            where = ".".join(str(p) for p in first["loc"])
            raise DataError(
                f"{path}: not a valid evaluation summary: {where}: {first['msg']}"
            ) from None

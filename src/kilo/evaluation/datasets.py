"""One symbol's data sets for the evaluation: the real candles and the controls' rebuilt ones."""

from __future__ import annotations

from dataclasses import dataclass, field

from kilo.config import Config
from kilo.data.alignment import check_alignment
from kilo.data.market import load_market_candles
from kilo.evaluation.controls.candles import placebo_candles, planted_candles, planted_signal
from kilo.features import FeatureEngine, held_log_return
from kilo.metrics import spearman_ic
from kilo.models.kinds import enabled_regressors
from kilo.training.dataset import Dataset, build_dataset, load_context

#: Shortest block (bars) of the bootstrap, the permutations and the placebo's shuffle.
MIN_STATS_BLOCK = 24


def stats_block(config: Config) -> int:
    """Block length (bars) of the bootstrap and permutations: >= the label horizon and
    >= :data:`MIN_STATS_BLOCK`, so overlapping labels stay inside one block."""
    return max(config.target.horizon, MIN_STATS_BLOCK)


#: The registry of data set names a fold task may carry -> the :class:`Datasets` field
#: it reads (the label shuffle and the holdout read the real candles); the power
#: curve's points (:func:`power_name`) are looked up in ``Datasets.power``.
DATASET_FIELDS = {
    "real": "real",
    "holdout": "real",
    "label_shuffle": "real",
    "placebo": "placebo",
    "planted": "planted",
}


def power_name(planted_ic: float) -> str:
    """The data set name of the power curve's point planted at ``planted_ic``."""
    return f"power {planted_ic:g}"


@dataclass(frozen=True)
class Datasets:
    """The real data set and the controls' rebuilt ones, all of one symbol.

    ``planted_ic`` is the IC the planted control reached; ``signal_ic`` the planted
    signal's own IC on the real candles (what the plants replace: the power curve's
    point for the real candles); ``power`` maps each further point of the power curve
    (:func:`power_name`) to its data set and reached IC. All against the held return.
    """

    real: Dataset
    placebo: Dataset
    planted: Dataset
    planted_ic: float
    signal_ic: float
    power: dict[str, tuple[Dataset, float]] = field(default_factory=dict)

    def get(self, name: str) -> Dataset:
        """The data set a fold task names (:data:`DATASET_FIELDS`, or a power point).

        Raises
        ------
        KeyError
            If ``name`` is no data set.
        """
        if name in self.power:
            return self.power[name][0]
        if name not in DATASET_FIELDS:
            raise KeyError(f"no data set {name!r}: known are {[*DATASET_FIELDS, *self.power]}")
        data: Dataset = getattr(self, DATASET_FIELDS[name])
        return data


def build_datasets(config: Config, symbol: str, engine: FeatureEngine) -> Datasets:
    """Load the candles once, rebuild them for the controls, compute every feature frame.

    The placebo rebuilds the symbol and every context symbol with one block order and
    one set of coins (DESIGN.md invariant 8); the planted edges (the control's and the
    power curve's, these only with a regressor enabled) change the symbol's own bars
    in place, so the real context symbols stay aligned with them.

    Raises
    ------
    DataError
        If the candles are missing or malformed, or a file's bars are misaligned in time
        (:func:`~kilo.data.alignment.check_alignment`).
    """
    d, ev = config.data, config.evaluation
    candles = load_market_candles(config, symbol)
    context = load_context(config, engine.context_symbols)
    check_alignment(symbol, candles, context, d)
    placebo, placebo_context = placebo_candles(
        candles, stats_block(config), seed=config.seed, context=context
    )
    planted, achieved = planted_candles(candles, ev.planted_ic, config.target.horizon)
    power = {}
    if enabled_regressors(config):
        for ic in ev.power_ics:
            rebuilt, reached = planted_candles(candles, ic, config.target.horizon)
            power[power_name(ic)] = (
                build_dataset(config, symbol, engine, rebuilt, context),
                reached,
            )
    return Datasets(
        real=build_dataset(config, symbol, engine, candles, context),
        placebo=build_dataset(config, symbol, engine, placebo, placebo_context),
        planted=build_dataset(config, symbol, engine, planted, context),
        planted_ic=achieved,
        signal_ic=spearman_ic(
            planted_signal(candles), held_log_return(candles, config.target.horizon).to_numpy()
        ),
        power=power,
    )

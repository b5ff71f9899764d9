"""Champion/challenger: train a challenger, promote it only if it holds up out of sample."""

from __future__ import annotations

import logging
import math
from pathlib import Path

import pandas as pd

from kilo.backtest.strategies import StrategyRun, backtest_blend, run_metrics
from kilo.config import Config
from kilo.data.download import check_reachable, download_candles, make_exchange
from kilo.errors import FeatureContractError, KiloError, ModelSetError
from kilo.features import FeatureEngine
from kilo.registry import ModelSet, apply_retention, promote_version
from kilo.registry.manifest import SplitRange
from kilo.retrain.decisions import DriftTrigger, RetrainDecision, record_decision
from kilo.training.dataset import Dataset, build_dataset
from kilo.training.split import required_embargo
from kilo.training.trainer import fit_model_set
from kilo.utils import seed_everything

logger = logging.getLogger(__name__)


def refresh_candles(config: Config, symbol: str) -> bool:
    """Download the latest candles; False (logged) when the exchange cannot be reached."""
    try:
        exchange = make_exchange(config.data.exchange)
        check_reachable(exchange)
        download_candles(
            exchange,
            symbol,
            config.data.timeframe,
            config.data.dir,
            config.data.since,
            max_retries=config.data.max_retries,
            base_delay=config.data.retry_base_delay,
            progress=False,
        )
        return True
    except KiloError as exc:
        logger.warning("%s: could not refresh candles (%s); using those on disk", symbol, exc)
        return False


def comparison_window(data: Dataset, champion: ModelSet | None, embargo: int) -> slice:
    """The latest rows neither model trained or early-stopped on.

    The challenger's test split, shortened to start ``embargo`` bars after the end
    of the champion's validation split.
    """
    start = data.split.test.start
    if champion is not None:
        val_end = pd.Timestamp(champion.manifest.split.validation.end)
        start = max(start, int(data.index.searchsorted(val_end, side="right")) + embargo)
    return slice(start, len(data.index))


def net_sharpe(config: Config, run: StrategyRun) -> float:
    """Annualised Sharpe of a run's net per-bar log returns; 0.0 when undefined."""
    sharpe = run_metrics([run], config.data.bars_per_year).sharpe
    return 0.0 if math.isnan(sharpe) else sharpe


def retrain_symbol(
    config: Config,
    symbol: str,
    *,
    refresh: bool | None = None,
    trigger: DriftTrigger | None = None,
) -> RetrainDecision:
    """Train a challenger for ``symbol``, compare it with the champion, maybe promote it.

    The challenger is saved as a new version without touching ``LATEST``. It is
    promoted when there is no usable champion, or when its PPO policy did not collapse
    and its blended net Sharpe on :func:`comparison_window` is at least the
    champion's minus ``retrain.sharpe_margin``. After a promotion, retention deletes
    versions beyond ``retrain.keep_versions``. ``trigger``, the drift that started it
    (``retrain.py --on-drift``), is recorded in the decision and its reason.

    Returns
    -------
    The :class:`~kilo.retrain.decisions.RetrainDecision`.

    Raises
    ------
    DataError
        If the candles are missing or too short.
    """
    r = config.retrain
    refreshed = (r.refresh_data if refresh is None else refresh) and refresh_candles(config, symbol)
    seed_everything(config.seed)
    engine = FeatureEngine.from_config(config, symbol)
    data = build_dataset(config, symbol, engine)
    models_dir = Path(config.models.dir)
    champion, champion_problem = None, None
    try:
        champion = ModelSet.load(symbol, "latest", models_dir, engine=engine)
    except FeatureContractError as exc:
        champion_problem = f"champion unusable with the running features: {exc}"
    except ModelSetError as exc:
        champion_problem = f"no usable champion: {exc}"
    challenger = fit_model_set(config, data, engine, progress=False).model_set
    collapsed = [n for n, report in challenger.manifest.metrics.root.items() if report.collapsed]
    window = comparison_window(data, champion, required_embargo(config, engine))
    n_bars = window.stop - window.start
    selection = (
        SplitRange(start=data.index[window.start], end=data.index[window.stop - 1], rows=n_bars)
        if n_bars > 0
        else None
    )
    if not collapsed and champion is not None and n_bars >= r.min_window_bars:
        challenger.manifest = challenger.manifest.model_copy(update={"selection_window": selection})
    challenger.save(models_dir, promote=False)
    decision: dict[str, object] = {
        "time": pd.Timestamp.now(tz="UTC"),
        "symbol": symbol,
        "champion": champion.version if champion else None,
        "challenger": challenger.version,
        "candles_refreshed": refreshed,
        "trigger": trigger,
    }
    if collapsed:
        promoted, reason = False, f"challenger's {', '.join(collapsed)} collapsed on validation"
    elif champion is None:
        promoted, reason = True, str(champion_problem)
    elif n_bars < r.min_window_bars:
        promoted, reason = (
            False,
            (
                f"only {max(n_bars, 0)} out-of-sample bars that neither model "
                f"trained on (need {r.min_window_bars}); keeping the champion"
            ),
        )
    else:
        ch = net_sharpe(config, backtest_blend(config, challenger, data, window))
        cp = net_sharpe(config, backtest_blend(config, champion, data, window))
        decision.update(challenger_sharpe=ch, champion_sharpe=cp, window=selection)
        promoted = ch >= cp - r.sharpe_margin
        reason = f"net Sharpe {ch:.3f} vs champion {cp:.3f} (margin {r.sharpe_margin}): " + (
            "promoted" if promoted else "challenger worse, champion kept"
        )
    if promoted:
        promote_version(models_dir, symbol, str(challenger.version))
        decision["deleted_versions"] = apply_retention(models_dir, symbol, r.keep_versions)
    if trigger is not None:
        reason = f"drift ({trigger.reason}): {reason}"
    logger.info("%s: %s", symbol, reason)
    return RetrainDecision.model_validate({**decision, "promoted": promoted, "reason": reason})


def retrain_pass(
    config: Config,
    symbols: list[str],
    *,
    refresh: bool | None = None,
    triggers: dict[str, DriftTrigger] | None = None,
) -> list[RetrainDecision]:
    """One retraining pass over ``symbols``; a failing symbol is recorded and skipped.

    ``triggers`` (``retrain.py --on-drift``) maps each symbol to the drift that started
    its challenger. Every decision is appended to ``retrain.log_path`` and to the
    ledger database at ``trading.ledger_path``.
    """
    decisions = []
    for symbol in symbols:
        trigger = (triggers or {}).get(symbol)
        try:
            decision = retrain_symbol(config, symbol, refresh=refresh, trigger=trigger)
        except Exception as exc:  # per-symbol boundary: record it, go on with the others
            logger.exception("%s: retraining failed; the champion stays", symbol)
            decision = RetrainDecision.failed(symbol, exc, trigger)
        record_decision(decision, config.retrain.log_path, config.trading.ledger_path)
        decisions.append(decision)
    return decisions

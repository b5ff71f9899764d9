"""freqtrade strategy that trades Kilo's LATEST model set of every whitelisted pair.

Copy this file into freqtrade's ``user_data/strategies`` or pass ``--strategy-path
integrations/freqtrade``; Kilo must be installed in freqtrade's environment
(``pip install -r requirements-freqtrade.txt``). Kilo's settings come from the
freqtrade config's ``kilo`` key (all optional)::

    "kilo": {"config": "../../config/config.yaml", "models_dir": "../../models",
             "data_dir": "../../../shared/data", "set": ["trading.slippage=0"]}

Relative paths there are relative to the freqtrade config file that holds them, so the
commands work from any working directory; without ``config`` the repository's
``config/config.yaml`` is read. A whitelisted pair needs a trained model set; its
context pairs (reference and universe symbols) come in as informative pairs, and one
without candles takes the training medians, with a warning naming its file.

Timeframe, start-up candles, stop-loss and take-profit come from Kilo's config; the
decisions, stake and exits from :mod:`kilo.trading.freqtrade`, which documents how each
maps onto freqtrade's order of events and where the two differ.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

import pandas as pd
from freqtrade.persistence import Trade
from freqtrade.strategy import IStrategy

from kilo.cli import DEFAULT_CONFIG
from kilo.config import load_config
from kilo.trading.freqtrade import EXIT_REASON, FreqtradeSignals, freqtrade_stops


class KiloStrategy(IStrategy):
    """Enter, size and exit as Kilo's paper trader would, from Kilo's model sets."""

    INTERFACE_VERSION = 3
    can_short = False
    process_only_new_candles = True
    use_exit_signal = True
    exit_profit_only = False
    ignore_roi_if_entry_signal = False
    timeframe = "1h"
    stoploss = -1.0
    minimal_roi = {"0": 100.0}
    startup_candle_count = 0
    # entries and model exits: limit orders at Kilo's slipped price (custom_*_price)
    order_types = {
        "entry": "limit",
        "exit": "limit",
        "stoploss": "market",
        "stoploss_on_exchange": False,
    }

    def __init__(self, config: dict[str, Any]) -> None:
        super().__init__(config)
        kilo = config.get("kilo", {})
        files = [f for f in config.get("config_files", []) if f != "-"]
        base = Path(files[0]).resolve().parent if files else Path.cwd()

        def path(key: str) -> Path | None:
            value = kilo.get(key)
            return None if value is None else base / Path(value).expanduser()

        self.kilo = load_config(
            path("config") or DEFAULT_CONFIG,
            kilo.get("set", []),
            data_dir=path("data_dir"),
            models_dir=path("models_dir"),
        )
        pairs = config.get("exchange", {}).get("pair_whitelist", [])
        self.signals = {pair: FreqtradeSignals.load(self.kilo, pair) for pair in pairs}
        stops = freqtrade_stops(self.kilo.trading)
        self.timeframe = self.kilo.data.timeframe
        self.stoploss = stops.stoploss
        self.minimal_roi = stops.minimal_roi
        self.startup_candle_count = max(
            (s.startup_candles for s in self.signals.values()), default=0
        )

    def informative_pairs(self) -> list[tuple[str, str]]:
        context = {c for s in self.signals.values() for c in s.context_symbols}
        return [(c, self.timeframe) for c in sorted(context - set(self.signals))]

    def populate_indicators(self, dataframe: pd.DataFrame, metadata: dict) -> pd.DataFrame:
        signals = self.signals[metadata["pair"]]
        context = {
            c: self.dp.get_pair_dataframe(pair=c, timeframe=self.timeframe)
            for c in signals.context_symbols
        }
        return signals.analyze(dataframe, context)

    def populate_entry_trend(self, dataframe: pd.DataFrame, metadata: dict) -> pd.DataFrame:
        dataframe["enter_long"] = dataframe["kilo_enter"]
        return dataframe

    def populate_exit_trend(self, dataframe: pd.DataFrame, metadata: dict) -> pd.DataFrame:
        dataframe["exit_long"] = 0
        return dataframe

    def _last_candle(self, pair: str) -> pd.Series | None:
        frame, _ = self.dp.get_analyzed_dataframe(pair, self.timeframe)
        return None if frame.empty else frame.iloc[-1]

    def custom_stake_amount(
        self,
        pair: str,
        current_time: datetime,
        current_rate: float,
        proposed_stake: float,
        min_stake: float | None,
        max_stake: float,
        leverage: float,
        entry_tag: str | None,
        side: str,
        **kwargs: Any,
    ) -> float:
        candle = self._last_candle(pair)
        if candle is None:
            return 0.0
        equity = self.wallets.get_total_stake_amount()
        return min(self.signals[pair].stake(float(candle["kilo_fraction"]), equity), max_stake)

    def custom_entry_price(
        self,
        pair: str,
        trade: Trade | None,
        current_time: datetime,
        proposed_rate: float,
        entry_tag: str | None,
        side: str,
        **kwargs: Any,
    ) -> float:
        return self.signals[pair].fill_price(proposed_rate, "buy")

    def custom_exit_price(
        self,
        pair: str,
        trade: Trade,
        current_time: datetime,
        proposed_rate: float,
        current_profit: float,
        exit_tag: str | None,
        **kwargs: Any,
    ) -> float:
        if exit_tag != EXIT_REASON:
            return proposed_rate
        return self.signals[pair].fill_price(proposed_rate, "sell")

    def custom_exit(
        self,
        pair: str,
        trade: Trade,
        current_time: datetime,
        current_rate: float,
        current_profit: float,
        **kwargs: Any,
    ) -> str | None:
        candle = self._last_candle(pair)
        if candle is None:
            return None
        return self.signals[pair].exit_reason(
            pd.Timestamp(candle["date"]), trade.open_rate, pd.Timestamp(trade.open_date_utc)
        )

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

Timeframe, start-up candles, venue, shorts, stop-loss and take-profit come from Kilo's
config; the decisions, stake and exits from :mod:`kilo.trading.freqtrade`, which
documents how each maps onto freqtrade's order of events and where the two differ. On
``trading.market: futures`` freqtrade's config must say ``"trading_mode": "futures"``
and ``"margin_mode": "isolated"``; the strategy then shorts where Kilo's
``trading.allow_short`` does, at leverage ``trading.leverage`` (1).
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

import pandas as pd
from freqtrade.persistence import Trade
from freqtrade.strategy import IStrategy, timeframe_to_prev_date

from kilo.cli import DEFAULT_CONFIG
from kilo.config import load_config
from kilo.trading.freqtrade import EXIT_REASON, FreqtradeSignals
from kilo.trading.freqtrade_venue import (
    check_venue,
    freqtrade_pair,
    freqtrade_stoploss,
    kilo_symbol,
    take_profit_level,
)


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
    minimal_roi = {"0": 100.0}  # never: Kilo's take-profit is custom_roi
    use_custom_roi = True
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
        trading = self.kilo.trading
        check_venue(trading, config.get("trading_mode", "spot"), config.get("fee"))
        self.can_short = trading.allow_short
        pairs = config.get("exchange", {}).get("pair_whitelist", [])
        self.signals = {p: FreqtradeSignals.load(self.kilo, kilo_symbol(p)) for p in pairs}
        self.timeframe = self.kilo.data.timeframe
        self.stoploss = freqtrade_stoploss(trading)
        self.startup_candle_count = max(
            (s.startup_candles for s in self.signals.values()), default=0
        )

    def _context_pair(self, symbol: str) -> tuple[str, str, str]:
        """Where a feature's context symbol comes from, as Kilo's replay reads it: a
        traded pair's own candles, else the spot candles."""
        traded = freqtrade_pair(symbol, self.kilo.trading.market)
        if traded in self.signals:
            return traded, self.timeframe, self.config.get("candle_type_def", "spot")
        return symbol, self.timeframe, "spot"

    def informative_pairs(self) -> list[tuple[str, str, str]]:
        context = {c for s in self.signals.values() for c in s.context_symbols}
        pairs = [self._context_pair(c) for c in sorted(context)]
        return [p for p in pairs if p[0] not in self.signals]

    def populate_indicators(self, dataframe: pd.DataFrame, metadata: dict) -> pd.DataFrame:
        signals = self.signals[metadata["pair"]]
        context = {}
        for symbol in signals.context_symbols:
            pair, timeframe, candle_type = self._context_pair(symbol)
            context[symbol] = self.dp.get_pair_dataframe(pair, timeframe, candle_type)
        return signals.analyze(dataframe, context)

    def populate_entry_trend(self, dataframe: pd.DataFrame, metadata: dict) -> pd.DataFrame:
        dataframe["enter_long"] = dataframe["kilo_enter"]
        dataframe["enter_short"] = dataframe["kilo_enter_short"]
        return dataframe

    def populate_exit_trend(self, dataframe: pd.DataFrame, metadata: dict) -> pd.DataFrame:
        dataframe["exit_long"] = 0
        dataframe["exit_short"] = 0
        return dataframe

    def leverage(
        self,
        pair: str,
        current_time: datetime,
        current_rate: float,
        proposed_leverage: float,
        max_leverage: float,
        entry_tag: str | None,
        side: str,
        **kwargs: Any,
    ) -> float:
        return float(self.kilo.trading.leverage)

    def _last_candle(self, pair: str) -> pd.Series | None:
        frame, _ = self.dp.get_analyzed_dataframe(pair, self.timeframe)
        return None if frame.empty else frame.iloc[-1]

    def confirm_trade_entry(
        self,
        pair: str,
        order_type: str,
        amount: float,
        rate: float,
        time_in_force: str,
        current_time: datetime,
        entry_tag: str | None,
        side: str,
        **kwargs: Any,
    ) -> bool:
        """No entry on the candle a trade of the pair closed in: Kilo enters only when
        flat at the close before, so a position closed on one candle is followed, of
        either side, on a later one at the earliest."""
        candle = timeframe_to_prev_date(self.timeframe, current_time)
        closed = Trade.get_trades_proxy(pair=pair, is_open=False)
        return not any(t.close_date_utc >= candle for t in closed)

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
        return self.signals[pair].fill_price(proposed_rate, "sell" if side == "short" else "buy")

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
        return self.signals[pair].fill_price(proposed_rate, "buy" if trade.is_short else "sell")

    def custom_roi(
        self,
        pair: str,
        trade: Trade,
        current_time: datetime,
        trade_duration: int,
        entry_tag: str | None,
        side: str,
        **kwargs: Any,
    ) -> float | None:
        level = take_profit_level(self.kilo.trading, trade.open_rate, trade.trade_direction)
        return None if level is None else trade.calc_profit_ratio(level)

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
            pd.Timestamp(candle["date"]),
            trade.open_rate,
            pd.Timestamp(trade.open_date_utc),
            trade.trade_direction,
        )

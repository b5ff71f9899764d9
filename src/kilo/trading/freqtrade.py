"""A symbol's model set as freqtrade signals: the adapter behind ``integrations/freqtrade``.

freqtrade (GPL-3) is never imported here: its strategy file hands this module plain
pandas frames and numbers, and this module answers with Kilo's own inference and
decision rule, so the two cannot disagree on what a bar means.

The mapping, bar for bar, to :func:`~kilo.trading.execution.execute_bar`:

- **Entries.** Flat at the close of candle t, Kilo predicts with the flat portfolio
  state and enters at t+1's open: a long, or on futures with ``trading.allow_short`` a
  short. freqtrade's ``enter_long`` / ``enter_short`` on candle t fills at t+1's open
  too, and only when no trade is open, so :meth:`FreqtradeSignals.analyze` computes
  every candle's flat-state decision at once.
- **Exits.** In a trade at candle t's close, Kilo predicts with the position it holds
  (PPO sees it) and exits at t+1's open. freqtrade calls ``custom_exit`` on candle t+1
  with the analysed frame up to t and fills a custom exit at t+1's open:
  :meth:`FreqtradeSignals.exit_reason` answers it from the trade's side, entry price
  and time.
- **Stake.** :func:`~kilo.trading.execution.entry_fraction` of equity
  (``max_position_fraction`` x the rule's size x the volatility scale), as the broker
  buys or sells; on futures at ``trading.leverage`` 1, the stake is the notional.
- **Stops.** ``trading.stop_loss`` is freqtrade's ``stoploss`` (a short's above its
  entry at leverage 1, as Kilo's); ``trading.take_profit`` is ``custom_roi``: the
  profit ratio freqtrade reaches exactly at Kilo's level, fees and funding included
  (:func:`~kilo.trading.freqtrade_venue.take_profit_level`). Kilo's trailing stop (on
  closes) and partial take-profits have no exact freqtrade counterpart and are refused
  (:func:`~kilo.trading.freqtrade_venue.freqtrade_stoploss`).
- **Slippage.** freqtrade's backtest has none; entries and model exits are limit
  orders at Kilo's slipped price (:meth:`FreqtradeSignals.fill_price`), so the entry
  price, and with it the stop and take-profit levels and PPO's unrealised return, are
  Kilo's.
- **Venue.** freqtrade's ``trading_mode`` must be Kilo's ``trading.market``
  (:func:`~kilo.trading.freqtrade_venue.check_venue`). freqtrade charges one ``fee`` on
  every fill; Kilo charges the taker fee (``trading.fee``) on market orders and the
  maker fee on take-profits: the two agree when freqtrade's fee is ``trading.fee`` and
  ``trading.maker_fee`` equals it.
- **Funding.** Both charge rate x quantity x price at each funding time a position
  is held into, freqtrade at the mark candle's open, Kilo at the traded candle's open.
  freqtrade also charges the event at the entry's own time (a fill at 08:00 pays the
  08:00 event, as Binance charges a position opened within 15 s of it); Kilo's fills
  at a candle's open come after that candle's funding.

Known, bounded differences: a stop fills at its level in freqtrade, at the level less
slippage in Kilo (and at the open when the bar opened beyond it); a slipped entry
beyond the candle's range fills at the candle's high (a long) or low (a short) in
freqtrade; the entry-time funding event above; a candle freqtrade inserted for an
outage is marked ``filled`` (never decided on) but freqtrade may still fill an order
decided on the bar before it; Kilo's portfolio risk rules (``risk``) are not applied —
freqtrade's own protections take their place; on a perpetual, Kilo liquidates a position
at its own isolated-margin price (:meth:`~kilo.trading.broker.PaperBroker.liquidation_price`,
funding paid included), freqtrade at the liquidation price it computes (not compared:
the parity test's windows reach neither).
"""

from __future__ import annotations

import logging
import math

import numpy as np
import pandas as pd

from kilo.blend import blend
from kilo.config import Config
from kilo.data import FILLED, timeframe_delta
from kilo.features.target import trailing_volatility
from kilo.inference import FLAT, PortfolioState, predict_rows, score_outputs
from kilo.metrics.costs import Side, fill_price
from kilo.models.kinds import signals
from kilo.trading.accounts import SIGN, PositionSide
from kilo.trading.execution import entry_fraction
from kilo.trading.freqtrade_venue import candles_from_freqtrade
from kilo.trading.symbol_model import SymbolModel

logger = logging.getLogger(__name__)

#: Columns :meth:`FreqtradeSignals.analyze` adds to freqtrade's frame.
SIGNAL_COLUMNS = ["kilo_score", "kilo_enter", "kilo_enter_short", "kilo_fraction"]
#: The ``exit_reason`` freqtrade records for an exit Kilo's rule decided.
EXIT_REASON = "kilo_exit"


class FreqtradeSignals:
    """One symbol's LATEST model set answering a freqtrade strategy's questions.

    :meth:`analyze` is ``populate_indicators``; :meth:`exit_reason` is ``custom_exit``;
    :meth:`stake` is ``custom_stake_amount``. It keeps the preprocessed features of
    the last analysed frame for :meth:`exit_reason`.
    """

    def __init__(self, config: Config, model: SymbolModel) -> None:
        self.config = config
        self.model = model
        self._X: np.ndarray = np.empty((0, 0), dtype=np.float32)
        self._rows = pd.Series(dtype=np.int64)
        self._close = pd.Series(dtype=np.float64)
        self._filled = pd.Series(dtype=bool)
        self._answers: dict[tuple[pd.Timestamp, float, pd.Timestamp, str], str | None] = {}
        self._warned: frozenset[str] = frozenset()

    @classmethod
    def load(cls, config: Config, symbol: str) -> FreqtradeSignals:
        """Load ``symbol``'s LATEST model set (checksums and feature contract verified).

        Raises
        ------
        ModelSetError, FeatureContractError
            As :meth:`SymbolModel.load`.
        """
        return cls(config, SymbolModel.load(config, symbol))

    @property
    def startup_candles(self) -> int:
        """Candles before the first decided one that the features and sizing need
        (freqtrade's ``startup_candle_count``)."""
        return self.model.history_rows

    @property
    def context_symbols(self) -> list[str]:
        """Symbols the features read besides the traded one (freqtrade's informative
        pairs)."""
        return list(self.model.engine.context_symbols)

    def analyze(self, frame: pd.DataFrame, context: dict[str, pd.DataFrame]) -> pd.DataFrame:
        """The flat-state blend of every candle of ``frame``, as new columns.

        Parameters
        ----------
        frame
            freqtrade's candles (see :func:`candles_from_freqtrade`), oldest first.
        context
            Symbol -> freqtrade candle frame of each of :attr:`context_symbols`. A
            symbol that is absent or has no candles (freqtrade found no file for it) is
            read as Kilo's trader reads a missing one: its features are NaN and take the
            training medians, with a warning that names the files to download.

        Returns
        -------
        ``frame`` with :data:`SIGNAL_COLUMNS`: ``kilo_score`` the blend score in [-1, 1]
        (NaN in the warm-up), ``kilo_enter`` 1 where the rule goes long from flat and
        ``kilo_enter_short`` 1 where it goes short (never on a filled candle),
        ``kilo_fraction`` the share of equity an entry there stakes.

        Raises
        ------
        DataError
            If the candles are invalid.
        """
        timeframe = self.config.data.timeframe
        candles = candles_from_freqtrade(frame, timeframe, self.model.symbol)
        others = {}
        for symbol in self.context_symbols:
            given = context.get(symbol)
            others[symbol] = (
                candles.iloc[:0]
                if given is None or given.empty
                else candles_from_freqtrade(given, timeframe, symbol)
            )
        self._warn_missing([s for s, c in others.items() if c.empty])
        scores = self._flat_scores(candles, others)
        volatility = trailing_volatility(candles, self.model.volatility_window, annualise=True)
        enter = {d: np.zeros(len(candles), dtype=np.int64) for d in ("enter", "enter_short")}
        fraction = np.zeros(len(candles))
        for i in np.flatnonzero(scores.notna().to_numpy() & ~candles[FILLED].to_numpy()):
            score = float(scores.iloc[i])
            decision = self.model.rule.decide(score, 0, 0)
            if decision in enter:
                enter[decision][i] = 1
                fraction[i] = entry_fraction(
                    self.config.trading, self.model.rule, score, float(volatility.iloc[i])
                )
        self._close = candles["close"]
        self._filled = candles[FILLED]
        self._answers = {}
        dates = pd.DatetimeIndex(pd.to_datetime(frame["date"], utc=True))
        columns = {
            "kilo_score": scores,
            "kilo_enter": pd.Series(enter["enter"], index=candles.index),
            "kilo_enter_short": pd.Series(enter["enter_short"], index=candles.index),
            "kilo_fraction": pd.Series(fraction, index=candles.index),
        }
        return frame.assign(
            **{k: v.reindex(dates, fill_value=0).to_numpy() for k, v in columns.items()}
        )

    def _warn_missing(self, missing: list[str]) -> None:
        """One warning per set of missing context symbols (freqtrade analyses every
        candle live), naming their files and how to download them."""
        if frozenset(missing) == self._warned:
            return
        self._warned = frozenset(missing)
        if not missing:
            return
        timeframe = self.config.data.timeframe
        files = ", ".join(f"{s.replace('/', '_')}-{timeframe}.feather" for s in missing)
        logger.warning(
            "%s: no candles of %s in freqtrade's data (%s); their features take the "
            "training medians, as in Kilo's trader. The model set was trained with them: "
            "download them with freqtrade download-data --pairs %s --timeframes %s "
            "(or scripts/download_data.py --symbol ...) for the signals it was tested on",
            self.model.symbol,
            ", ".join(missing),
            files,
            " ".join(missing),
            timeframe,
        )

    def _flat_scores(self, candles: pd.DataFrame, others: dict[str, pd.DataFrame]) -> pd.Series:
        """Blend score per candle with the flat portfolio state, NaN where the features
        or the models' context rows are still warming up (all of them for a frame too
        short, as freqtrade's recursive-analysis hands in); keeps the preprocessed rows
        for :meth:`exit_reason`."""
        model = self.model
        scores = pd.Series(np.nan, index=candles.index)
        self._X = np.empty((0, 0), dtype=np.float32)
        self._rows = pd.Series(dtype=np.int64)
        if len(candles) <= model.engine.max_lookback + model.context_rows:
            return scores
        features = model.engine.transform(candles, others)
        X = model.model_set.preprocessor.transform(features)
        first = model.context_rows
        out = predict_rows(model.model_set, X, len(X) - first, FLAT)
        scores.loc[features.index[first:]] = blend(
            signals(model.calibration, out, False), model.weights
        )[0]
        self._X = X
        self._rows = pd.Series(np.arange(len(features)), index=features.index)
        return scores

    def exit_reason(
        self,
        candle_time: pd.Timestamp,
        entry_price: float,
        entry_time: pd.Timestamp,
        side: PositionSide = "long",
    ) -> str | None:
        """:data:`EXIT_REASON` when the rule exits the trade at ``candle_time``'s close.

        Parameters
        ----------
        candle_time
            Open time (UTC) of the last closed candle of the analysed frame.
        entry_price, entry_time
            The trade's fill price (quote currency) and fill time (the open of the
            candle after the entry signal).
        side
            The trade's side: ``long``, or ``short`` (freqtrade's ``trade.is_short``).

        Returns
        -------
        None when the position was not yet held over a whole candle, the candle was
        not analysed or is filled, or the rule holds. Answers are kept per candle and
        trade until the next :meth:`analyze` (freqtrade asks every few seconds live).
        """
        key = (candle_time, entry_price, entry_time, side)
        if key not in self._answers:
            self._answers[key] = self._exit_reason(candle_time, entry_price, entry_time, side)
        return self._answers[key]

    def _exit_reason(
        self,
        candle_time: pd.Timestamp,
        entry_price: float,
        entry_time: pd.Timestamp,
        side: PositionSide,
    ) -> str | None:
        model = self.model
        bars_held = (
            int((candle_time - entry_time) / timeframe_delta(self.config.data.timeframe)) + 1
        )
        row = self._rows.get(candle_time)
        if bars_held < 1 or row is None or row < model.context_rows or self._filled[candle_time]:
            return None
        unrealised = math.log(self._close[candle_time] / entry_price)
        state = PortfolioState(SIGN[side], unrealised, bars_held)
        out = predict_rows(model.model_set, self._X[: int(row) + 1], 1, state)
        prediction = score_outputs(out, model.calibration, model.weights, state)
        decided = model.rule.decide(prediction.score, int(SIGN[side]), bars_held)
        return EXIT_REASON if decided == "exit" else None

    def fill_price(self, reference: float, side: Side) -> float:
        """Where Kilo's broker fills a market order at ``reference`` (quote currency):
        ``trading.slippage`` against the order. freqtrade's backtest has no slippage;
        the strategy places its entries and model exits as limit orders at this price,
        which fill at it within the candle (freqtrade caps a buy at the candle's high
        and a sale at its low). A long enters with a buy and exits with a sale, a
        short the other way round."""
        return fill_price(reference, self.config.trading.slippage, side)

    def stake(self, fraction: float, equity: float) -> float:
        """Quote currency to stake: ``fraction`` of ``equity``, 0 below
        ``trading.min_notional`` (the broker skips such orders)."""
        amount = fraction * equity
        return amount if amount >= self.config.trading.min_notional else 0.0

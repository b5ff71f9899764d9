"""The ``trading`` section: venue, costs, sizing and stops (``config/config.yaml``)."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

from pydantic import Field, field_validator, model_validator

from kilo.config.sections import _Section
from kilo.config.venue import VENUE_FEES, FeeSchedule, FundingConfig, Market, OrderType, venue_fees


class PartialTakeProfit(_Section):
    at: float = Field(gt=0, description="gain over the entry price, 0.05 = +5 % [fraction]")
    sell: float = Field(
        gt=0, le=1, description="share of the open position to sell there [fraction]"
    )


class TradingConfig(_Section):
    """Venue, costs, sizing and stops of the paper trader and every simulation.

    ``fee`` and ``maker_fee`` default to the ``fees`` schedule of ``market`` (see
    :mod:`kilo.config.venue`); a ``fee`` given alone is charged on every fill.
    ``allow_short`` defaults to the venue's: shorts on futures, long only on spot.
    """

    market: Market = Field(
        "spot", description="spot, or futures: USDT-M perpetuals (funding, the futures fees)"
    )
    fees: dict[Market, FeeSchedule] = Field(
        default_factory=lambda: dict(VENUE_FEES),
        description="maker and taker fee of each market (default: Binance's base tier)",
    )
    order_type: OrderType = Field(
        "market",
        description="entries and signal exits: market (taker fee and slippage) or limit "
        "(maker fee, no slippage, assumed filled at the next open); stops are market "
        "orders and take-profit levels limit orders whatever this says",
    )
    fee: float = Field(
        ge=0, lt=1, description="a market order's fee (the taker fee) [fraction of notional]"
    )
    maker_fee: float = Field(
        ge=0, lt=1, description="a limit order's fee (the maker fee) [fraction of notional]"
    )
    slippage: float = Field(
        0.0005, ge=0, lt=1, description="per market fill, against the order [fraction of price]"
    )
    funding: FundingConfig = Field(
        default_factory=FundingConfig, description="futures: funding where no rate is on file"
    )
    allow_short: bool = Field(
        description="open shorts where the rules ask for them (futures only; unset: true "
        "on futures, false on spot)"
    )
    leverage: float = Field(
        1.0,
        ge=1,
        description="notional per unit of margin; only 1 is modelled: a position is "
        "liquidated when funding and losses bring equity down to trading.maintenance_margin "
        "of its notional [-]",
    )
    maintenance_margin: float = Field(
        0.004,
        ge=0,
        lt=1,
        description="futures: a position is liquidated, inside the bar like a stop, where "
        "its isolated margin (the entry notional, less funding paid, plus its gain) falls "
        "to this share of its notional (Binance USDT-M BTCUSDT's first tier: 0.40 %) "
        "[fraction of notional]",
    )
    initial_cash: float = Field(
        10_000.0, gt=0, description="paper account's starting equity [quote currency]"
    )
    max_position_fraction: float = Field(
        0.2, gt=0, le=1, description="largest position of one symbol [fraction of equity]"
    )
    max_total_exposure: float = Field(
        1.0, gt=0, le=1, description="largest exposure of all symbols [fraction of equity]"
    )
    min_notional: float = Field(
        10.0, ge=0, description="smaller orders are skipped [quote currency]"
    )
    stop_loss: float | None = Field(
        0.05,
        gt=0,
        lt=1,
        description="exit this far below a long's entry price (above a short's); None "
        "disables; not target.stop_loss (label barrier) [fraction of price]",
    )
    take_profit: float | None = Field(
        0.10,
        gt=0,
        description="exit this far above a long's entry price (below a short's); None "
        "disables [fraction of price]",
    )
    target_volatility: float | None = Field(
        0.5,
        gt=0,
        description="edge rule: volatility a full-size position aims at; positions are "
        "sized by target / trailing volatility (capped at 1); None: no volatility "
        "targeting [annualised, fraction]",
    )
    volatility_window: int = Field(
        72,
        ge=2,
        description="trailing volatility that sizing reads; not target.volatility_window "
        "(labels) [bars]",
    )
    trailing_stop: float | None = Field(
        None,
        gt=0,
        lt=1,
        description="exit this far below the highest close since a long's entry (above "
        "the lowest since a short's); None disables [fraction of price]",
    )
    partial_take_profit: list[PartialTakeProfit] | None = Field(
        None,
        description="sell part of a position at gains, e.g. [{at: 0.05, sell: 0.5}]; "
        "levels in increasing order; None disables",
    )

    @model_validator(mode="before")
    @classmethod
    def _venue_fees(cls, data: Any) -> Any:
        return venue_fees(data)

    @model_validator(mode="after")
    def _venue_sides(self) -> TradingConfig:
        if self.allow_short and self.market != "futures":
            raise ValueError("allow_short: spot is long only; set trading.market: futures to short")
        if self.leverage != 1:
            raise ValueError(
                f"leverage {self.leverage}: only 1 is modelled (a position's notional at "
                "most equity x max_position_fraction, liquidated only when funding and "
                "losses eat the margin); set trading.leverage: 1"
            )
        return self

    @field_validator("partial_take_profit")
    @classmethod
    def _levels(cls, value: list[PartialTakeProfit] | None) -> list[PartialTakeProfit] | None:
        if value and [p.at for p in value] != sorted({p.at for p in value}):
            raise ValueError("levels must have increasing, distinct `at` gains")
        return value

    drift_action: Literal["none", "reduce", "flat"] = Field(
        "none",
        description="while a symbol's models have drifted (drift.*): none trades on, reduce "
        "scales entries by drift_reduce, flat refuses entries (exits and stops go on)",
    )
    drift_reduce: float = Field(
        0.5, gt=0, lt=1, description="drift_action: reduce: share of the entry size kept [fraction]"
    )
    ledger_path: Path = Field(
        Path("state/paper.sqlite"),
        description="SQLite ledger of the "
        "paper trader; retraining decisions and the dashboard use it too",
    )

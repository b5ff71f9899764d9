"""The portfolio risk rules, each on a small path whose answer is known, then a replay."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from kilo.blend import ThresholdRule
from kilo.config import Config, RiskConfig
from kilo.inference import PortfolioState, Prediction
from kilo.trading.accounts import Portfolio, Position
from kilo.trading.ledger import Ledger
from kilo.trading.risk import PORTFOLIO, RiskManager, correlated_cluster
from kilo.trading.sources import MarketSnapshot, ReplaySource
from kilo.trading.trader import PaperTrader

DAY = pd.Timestamp("2025-03-01", tz="UTC")
OFF = dict(daily_loss_limit=None, max_drawdown=None, max_correlated_exposure=None)


def test_a_crash_trips_the_daily_limit_until_the_next_utc_day() -> None:
    risk = RiskManager(RiskConfig(**{**OFF, "daily_loss_limit": 0.02}))
    risk.after_mark(DAY, 10_000.0, {})
    risk.after_mark(DAY + pd.Timedelta("5h"), 9_700.0, {})  # -3 %: the crash bar
    [event] = risk.end_iteration()
    assert (event.rule, event.symbol) == ("daily_loss", PORTFOLIO)
    assert risk.entry_fraction("A", 0.2, Portfolio(9_700.0), {}) == 0.0
    risk.after_mark(DAY + pd.Timedelta("23h"), 9_900.0, {})  # recovering does not lift it
    assert risk.entry_fraction("A", 0.2, Portfolio(9_900.0), {}) == 0.0
    assert [e.rule for e in risk.end_iteration()] == ["daily_loss", "daily_loss"]
    risk.after_mark(DAY + pd.Timedelta("24h"), 9_900.0, {})  # a new UTC day
    assert risk.entry_fraction("A", 0.2, Portfolio(9_900.0), {}) == 0.2


def test_a_slow_bleed_trips_the_breaker_then_a_cooldown() -> None:
    risk = RiskManager(RiskConfig(**{**OFF, "max_drawdown": 0.05, "drawdown_cooldown_bars": 3}))
    equity = [10_000.0, 10_200.0, 10_000.0, 9_850.0, 9_700.0]  # peak 10,200; -5 % is 9,690
    for i, value in enumerate(equity):
        risk.after_mark(DAY + pd.Timedelta(hours=i), value, {})
        assert risk.forced_exit("A") is None
        risk.end_iteration()
    risk.after_mark(DAY + pd.Timedelta(hours=5), 9_650.0, {})
    assert risk.forced_exit("A") == "drawdown" and risk.forced_exit("B") == "drawdown"
    assert [e.rule for e in risk.end_iteration()] == ["drawdown"] * 3
    assert risk.forced_exit("A") is None  # positions are closed at one fill only
    blocked = []
    for i in range(6, 11):
        risk.after_mark(DAY + pd.Timedelta(hours=i), 9_000.0, {})
        blocked.append(risk.entry_fraction("A", 0.2, Portfolio(9_000.0), {}) == 0.0)
        risk.end_iteration()
    assert blocked == [True, True, True, False, False]  # the 3 bars after, then trading on
    assert risk.state.peak == 9_000.0  # reset to the equity at resumption


def test_perfectly_correlated_symbols_share_one_cap() -> None:
    rng = np.random.default_rng(0)
    a = 100 * np.exp(np.cumsum(rng.normal(0, 0.01, 100)))
    closes = {"A": a, "B": a * 3.0, "C": 100 * np.exp(np.cumsum(rng.normal(0, 0.01, 100)))}
    assert correlated_cluster("A", closes, 72, 0.7) == {"A", "B"}
    assert correlated_cluster("C", closes, 72, 0.7) == {"C"}
    risk = RiskManager(
        RiskConfig(**{**OFF, "max_correlated_exposure": 0.3, "correlation_window": 72})
    )
    risk.after_mark(DAY, 10_000.0, closes)
    portfolio = Portfolio(8_000.0, {"A": Position("A", 20.0, 100.0, DAY, 0.0)})  # 20 % in A
    marks = {"A": 100.0, "B": 300.0, "C": 100.0}
    assert risk.entry_fraction("B", 0.2, portfolio, marks) == pytest.approx(0.1)  # shrunk
    assert risk.entry_fraction("C", 0.2, portfolio, marks) == 0.2  # its own cluster
    [event] = risk.end_iteration()
    assert event.rule == "correlation" and "shrunk" in event.detail
    short = Position("A", 20.0, 100.0, DAY, 0.0, side="short")  # gross: a short is no hedge
    hedged = Portfolio(12_000.0, {"A": short})
    assert hedged.equity(marks) == pytest.approx(10_000.0)
    assert risk.entry_fraction("B", 0.2, hedged, marks) == pytest.approx(0.1)


class AlwaysLong:
    """A scorer that always wants to be long."""

    rule = ThresholdRule(0.0, 0.0)
    version = "long"

    def predict(self, snapshot: MarketSnapshot, state: PortfolioState) -> Prediction:
        return Prediction(score=1.0, confidence=1.0)


def synthetic(close: np.ndarray) -> pd.DataFrame:
    index = pd.date_range(DAY, periods=len(close), freq="1h", tz="UTC", name="date")
    return pd.DataFrame(
        {
            "open": close,
            "high": close * 1.001,
            "low": close * 0.999,
            "close": close,
            "volume": 1.0,
            "filled": False,
        },
        index=index,
    )


def test_the_trader_blocks_entries_after_a_crash_and_records_it(tmp_path) -> None:
    close = np.r_[np.full(10, 100.0), np.full(30, 90.0), np.full(30, 95.0)]  # a -10 % bar
    config = Config().with_overrides(
        {
            **{f"risk.{k}": v for k, v in OFF.items()},
            "risk.daily_loss_limit": 0.01,
            "trading.stop_loss": 0.5,
            "trading.take_profit": None,
            "tracking.enabled": False,
            "trading.max_position_fraction": 0.5,
        }
    )
    candles = {"A": synthetic(close), "B": synthetic(close * 2)}
    scorers = {"A": AlwaysLong(), "B": AlwaysLong()}
    source = ReplaySource(candles, {"A": 1, "B": 1}, candles["A"].index[0])
    ledger = Ledger(tmp_path / "risk.sqlite")
    PaperTrader(config, scorers, source, ledger).run(69)
    events = ledger.query("SELECT * FROM risk_events")
    assert (events["rule"] == "daily_loss").any()
    first = pd.Timestamp(events["bar_time"].iloc[0])
    buys = ledger.query("SELECT time FROM fills WHERE side = 'buy'")["time"].map(pd.Timestamp)
    assert not ((buys > first) & (buys < first.normalize() + pd.Timedelta("1D"))).any()


@pytest.mark.slow
@pytest.mark.parametrize(
    "rules",
    [
        {"risk.daily_loss_limit": 0.002},
        {"risk.max_drawdown": 0.01, "risk.drawdown_cooldown_bars": 24},
    ],
)
def test_a_replay_on_real_candles_obeys_the_rules(tiny_models: Config, tmp_path, rules) -> None:
    from kilo.trading.session import SessionOptions, run_session

    config = tiny_models.with_overrides({**{f"risk.{k}": v for k, v in OFF.items()}, **rules})
    ledger = run_session(
        config,
        SessionOptions(150, ("BTC/USDT", "ETH/USDT", "SOL/USDT"), state=tmp_path / "r.sqlite"),
    )
    rule = "daily_loss" if "risk.daily_loss_limit" in rules else "drawdown"
    trips = ledger.query(
        f"SELECT i.id, i.bar_time FROM risk_events e JOIN iterations i "
        f"ON i.id = e.iteration_id WHERE e.rule = '{rule}' AND e.symbol = '*'"
    )
    assert len(trips) > 0
    buys = ledger.query("SELECT iteration_id, time FROM fills WHERE side = 'buy'")
    for iteration, bar_time in trips.itertuples(index=False):
        if rule == "daily_loss":
            end = pd.Timestamp(bar_time).normalize() + pd.Timedelta("1D")
            later = buys[buys["iteration_id"] > iteration]
            assert not (later["time"].map(pd.Timestamp) <= end).any()
        else:
            assert not buys["iteration_id"].between(iteration, iteration + 24).any()
            open_after = ledger.query(
                "SELECT COUNT(*) AS n FROM positions WHERE iteration_id = ?", (int(iteration),)
            )["n"].iloc[0]
            assert open_after == 0  # every position closed within the iteration

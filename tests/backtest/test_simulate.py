"""The evaluation's simulator against the paper trader, and its fold accounting."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from kilo.backtest.simulate import CandleArrays, evaluation_trading, simulate
from kilo.backtest.strategies import LONG_FLAT, rule_predictor, side_rule
from kilo.blend import ThresholdRule
from kilo.config import Config
from kilo.inference import PortfolioState, Prediction
from kilo.trading.ledger import Ledger
from kilo.trading.sources import MarketSnapshot, ReplaySource
from kilo.trading.trader import PaperTrader

START, N = 1000, 400


class ScoreTable:
    """A trader scorer reading a target side (+1/-1) from a table of bar times."""

    version = "table"

    def __init__(self, scores: pd.Series, rule: ThresholdRule = LONG_FLAT) -> None:
        self.scores, self.rule = scores, rule

    def predict(self, snapshot: MarketSnapshot, state: PortfolioState) -> Prediction:
        return Prediction(score=float(self.scores[snapshot.bar_time]), confidence=1.0)


def random_scores(candles: pd.DataFrame, seed: int = 3) -> np.ndarray:
    """A path that switches about every 20 bars."""
    rng = np.random.default_rng(seed)
    return np.where(np.cumsum(rng.random(len(candles)) < 0.05) % 2 == 1, 1.0, -1.0)


@pytest.mark.parametrize("market", ["spot", "futures"])
def test_simulator_matches_the_paper_trader_bar_for_bar(
    config: Config, btc_candles, market: str
) -> None:
    config = config.with_overrides(
        {"trading.stop_loss": 0.01, "trading.take_profit": 0.015, "trading.market": market}
    )
    if market == "futures":  # funding every 8 h, large enough to move equity
        hours = pd.DatetimeIndex(btc_candles.index).hour
        btc_candles = btc_candles.assign(funding_rate=np.where(hours % 8 == 0, 0.0005, 0.0))
    trading = evaluation_trading(config.trading, 1.0)
    scores, rule = random_scores(btc_candles), side_rule(trading.allow_short)  # futures: -1 short
    arrays = CandleArrays.from_frame(btc_candles)
    run = simulate(
        trading, "BTC/USDT", arrays, range(START, START + N), rule_predictor(scores), rule
    )
    trader_config = config.with_overrides(  # the simulator has no portfolio risk rules:
        {  # 2018-02's crash trips the daily loss limit, which would block the trader's entries
            "trading.max_position_fraction": 1.0,
            "trading.max_total_exposure": 1.0,
            "risk.max_correlated_exposure": None,
            "risk.daily_loss_limit": None,
            "risk.max_drawdown": None,
        }
    )
    source = ReplaySource({"BTC/USDT": btc_candles}, {"BTC/USDT": 1}, btc_candles.index[START])
    scorer = ScoreTable(pd.Series(scores, index=btc_candles.index), rule)
    records = PaperTrader(trader_config, {"BTC/USDT": scorer}, source, Ledger(":memory:")).run(N)
    replayed = np.array([r.equity for r in records])
    assert len(run.equity) == N == len(replayed)
    assert {"stop_loss", "take_profit", "signal"} <= set(run.fills["reason"])
    np.testing.assert_allclose(run.equity.to_numpy()[:-1], replayed[:-1], rtol=1e-12)
    assert run.equity.index.equals(btc_candles.index[START : START + N])  # no bar missing
    # on futures the longs pay the positive rate and the shorts receive it
    paid = run.funding if run.funding is not None else pd.Series([0.0])
    assert ((paid > 0).any() and (paid < 0).any()) == (market == "futures")
    assert set(run.fills["position_side"]) == (
        {"long", "short"} if market == "futures" else {"long"}
    )
    sides = [r.portfolio.positions["BTC/USDT"].side for r in records if r.portfolio.positions]
    assert ("short" in sides) == (market == "futures")


def test_fold_end_sells_with_costs_and_gross_has_none(config: Config, btc_candles) -> None:
    t = config.trading
    trading = evaluation_trading(t, 1.0, stops=False)
    arrays = CandleArrays.from_frame(btc_candles)
    run = simulate(
        trading,
        "BTC/USDT",
        arrays,
        range(START, START + N),
        rule_predictor(np.ones(len(btc_candles))),
        LONG_FLAT,
    )
    assert list(run.fills["side"]) == ["buy", "sell"] and run.fills["reason"].iloc[-1] == "fold_end"
    assert not run.exposure.iloc[-1] and run.exposure.iloc[:-1].all()
    o = btc_candles["open"].to_numpy()
    market = np.log(o[START + N] / o[START + 1])  # enter at the next open, exit at the last
    units = run.fills["quantity"].iloc[0]  # gross holds the same units, bought without costs
    gross = t.initial_cash + units * (o[START + N] - o[START + 1])
    assert run.gross_log_returns.sum() == pytest.approx(np.log(gross / t.initial_cash), abs=1e-12)
    costs = np.log((1 - t.fee) * (1 - t.slippage) / (1 + t.fee) / (1 + t.slippage))
    assert run.log_returns.sum() == pytest.approx(market + costs, rel=1e-9)


def test_turnover_counts_each_fold_against_its_own_equity(config: Config, btc_candles) -> None:
    from kilo.backtest.strategies import run_metrics

    trading = evaluation_trading(config.trading, 1.0, stops=False)
    arrays = CandleArrays.from_frame(btc_candles)
    scores = random_scores(btc_candles, seed=5)
    runs = [
        simulate(trading, "BTC/USDT", arrays, range(a, a + 300), rule_predictor(scores), LONG_FLAT)
        for a in (1000, 1300)
    ]
    turns = [r.fills["notional"].sum() / r.equity.mean() for r in runs]
    metrics = run_metrics(runs, periods_per_year=8760)
    assert metrics.turnover == pytest.approx(sum(turns) * 8760 / 600)


def test_rows_need_a_next_candle(config: Config, btc_candles) -> None:
    arrays = CandleArrays.from_frame(btc_candles)
    with pytest.raises(ValueError, match="next candle"):
        simulate(
            config.trading,
            "BTC/USDT",
            arrays,
            range(len(btc_candles) - 5, len(btc_candles)),
            rule_predictor(np.ones(len(btc_candles))),
            LONG_FLAT,
        )


def test_gross_minus_net_equity_is_the_costs_paid_with_partial_sizes_and_exits(
    config: Config, btc_candles
) -> None:
    config = config.with_overrides(
        {
            "trading.stop_loss": 0.01,
            "trading.take_profit": 0.03,
            "trading.partial_take_profit": [{"at": 0.01, "sell": 0.5}],
        }
    )
    trading = evaluation_trading(config.trading, 0.3)  # a 30 % position, not all of equity
    run = simulate(
        trading,
        "BTC/USDT",
        CandleArrays.from_frame(btc_candles),
        range(START, START + N),
        rule_predictor(random_scores(btc_candles)),
        LONG_FLAT,
    )
    fills = run.fills
    costs = (
        fills["fee"].sum()
        + (fills["quantity"] * (fills["price"] - fills["reference_price"]).abs()).sum()
    )
    assert len(fills) > 10 and {"stop_loss", "partial_take_profit"} <= set(fills["reason"])
    gap = run.gross_equity.iloc[-1] - run.equity.iloc[-1]
    assert gap == pytest.approx(costs, rel=1e-9)


def test_a_run_carried_on_from_its_book_is_one_run_over_both_folds(
    config: Config, btc_candles
) -> None:
    """Chained folds: a position open at the boundary stays open (no fold_end round
    trip), stops and bars held carry on, and net and gross returns, equity and fills are
    those of one run over both folds' bars."""
    config = config.with_overrides({"trading.stop_loss": 0.01, "trading.take_profit": 0.015})
    trading = evaluation_trading(config.trading, 0.5)
    arrays = CandleArrays.from_frame(btc_candles)
    scores = random_scores(btc_candles, seed=11)
    split = START + 150
    assert scores[split - 1] > 0  # the first fold ends long: the boundary is inside a trade

    def run(rows: range, **kwargs):
        return simulate(
            trading, "BTC/USDT", arrays, rows, rule_predictor(scores), LONG_FLAT, **kwargs
        )

    whole = run(range(START, START + N))
    first = run(range(START, split), close=False)
    second = run(range(split, START + N), book=first.book)
    assert first.exposure.iloc[-1] and "BTC/USDT" in first.book.net.positions
    assert "fold_end" not in set(first.fills["reason"])
    fills = pd.concat([first.fills, second.fills], ignore_index=True)
    pd.testing.assert_frame_equal(fills, whole.fills)
    for part in ("log_returns", "gross_log_returns"):
        chained = pd.concat([getattr(first, part), getattr(second, part)])
        np.testing.assert_allclose(chained.to_numpy(), getattr(whole, part).to_numpy(), rtol=1e-12)
    np.testing.assert_allclose(second.equity.to_numpy(), whole.equity.to_numpy()[150:], rtol=1e-12)
    assert first.book.net.positions["BTC/USDT"].bars_held > 0


def test_a_perpetual_position_pays_funding_on_every_bar_it_is_held(config: Config) -> None:
    """Flat prices: the net return is the round trip's fills and the funding, exactly;
    gross (the same trades cost-free) is 0; funding is paid on an untradable bar too."""
    from kilo.backtest.strategies import run_metrics
    from kilo.metrics import round_trip_log_cost

    n = 50
    index = pd.date_range("2024-01-01", periods=n, freq="h", tz="UTC")
    candles = pd.DataFrame(
        {c: 100.0 for c in ("open", "high", "low", "close")} | {"volume": 1.0}, index=index
    )
    rate = np.where(index.hour % 8 == 0, 0.0001, 0.0)
    rate[index.get_loc(pd.Timestamp("2024-01-01 16:00", tz="UTC"))] = -0.0002  # shorts pay
    candles["funding_rate"] = rate
    trading = evaluation_trading(
        config.with_overrides(["trading.market=futures"]).trading, 1.0, stops=False
    )
    tradable = np.ones(n, dtype=bool)
    tradable[30] = False  # an outage's bar: no decision, but the position still pays
    rows = range(0, n - 1)
    run = simulate(
        trading,
        "X/USDT",
        CandleArrays.from_frame(candles),
        rows,
        rule_predictor(np.ones(n)),
        LONG_FLAT,
        tradable,
    )
    held = [t for t in index[2:] if t.hour % 8 == 0]  # entered at the open of bar 1
    assert int((run.funding != 0).sum()) == len(held) == 6
    metrics = run_metrics([run], 8760)
    assert metrics.gross_total_log_return == pytest.approx(0.0, abs=1e-12)
    # the sale's fee is on the position, a little more than the equity funding drew down
    assert metrics.fees_paid == pytest.approx(round_trip_log_cost(trading), rel=1e-3)
    assert metrics.fees_paid > round_trip_log_cost(trading)
    assert metrics.funding_received == pytest.approx(np.log1p(0.0002), rel=1e-3)
    assert metrics.funding_paid == pytest.approx(5 * 0.0001, rel=1e-3)
    net = -(metrics.fees_paid + metrics.funding_paid - metrics.funding_received)
    assert run.log_returns.sum() == pytest.approx(net, rel=1e-12)
    spot = simulate(
        evaluation_trading(config.trading, 1.0, stops=False),
        "X/USDT",
        CandleArrays.from_frame(candles),
        rows,
        rule_predictor(np.ones(n)),
        LONG_FLAT,
    )
    assert spot.funding is None and run_metrics([spot], 8760).funding_paid == 0.0


def test_fees_paid_is_the_round_trip_whatever_the_price_did(config: Config, btc_candles) -> None:
    """Each fill's cost over the equity then: a rise after the entry does not shrink it
    (gross minus net would, the fee being paid in quote before the rise)."""
    from kilo.backtest.strategies import run_metrics
    from kilo.metrics import round_trip_log_cost

    trading = evaluation_trading(config.trading, 1.0, stops=False)
    run = simulate(
        trading,
        "BTC/USDT",
        CandleArrays.from_frame(btc_candles),
        range(START, START + N),
        rule_predictor(np.ones(len(btc_candles))),
        LONG_FLAT,
    )
    metrics = run_metrics([run], 8760)
    assert metrics.fees_paid == pytest.approx(round_trip_log_cost(trading), rel=1e-9)

from __future__ import annotations

import numpy as np
import pytest

from kilo.metrics import regression_metrics


def test_regression_metrics_by_hand() -> None:
    t = np.array([0.01, -0.02, 0.03, np.nan, 0.0])
    p = np.array([0.02, -0.01, -0.005, 0.5, 0.01])
    m = regression_metrics(t, p)
    err = np.array([0.01, 0.01, -0.035, 0.01])
    assert m.n == 4
    assert m.rmse == pytest.approx(np.sqrt(np.mean(err**2)))
    assert m.mae == pytest.approx(0.01625)
    assert m.directional_accuracy == pytest.approx(2 / 3)  # the zero target is excluded
    assert m.ic_spearman == pytest.approx(0.4)  # ranks (3,1,4,2) vs (4,1,2,3)
    assert m.ic_pearson == pytest.approx(np.corrcoef(t[[0, 1, 2, 4]], p[[0, 1, 2, 4]])[0, 1])


def test_constant_prediction_has_zero_ic() -> None:
    m = regression_metrics(np.array([0.1, -0.1, 0.2]), np.zeros(3))
    assert m.ic_pearson == 0.0 and m.ic_spearman == 0.0 and m.pred_std == 0.0


def test_errors() -> None:
    with pytest.raises(ValueError, match="shapes"):
        regression_metrics(np.zeros(3), np.zeros(4))
    with pytest.raises(ValueError, match="finite"):
        regression_metrics(np.full(2, np.nan), np.zeros(2))


def test_trading_metrics_on_a_toy_equity_curve() -> None:
    from kilo.metrics import trading_metrics

    equity = np.array([100.0, 110.0, 99.0, 99.0, 108.9])  # +10 %, -10 %, 0, +10 %
    r = np.diff(np.log(equity))
    m = trading_metrics(
        r,
        np.array([1, 1, 0, 1], bool),
        np.array([5.0, -2.0, 1.0]),
        equity_turns=4.0,
        periods_per_year=4,
    )
    up, down = np.log(1.1), np.log(0.9)
    assert m.total_log_return == pytest.approx(np.log(1.089))
    mean = (2 * up + down) / 4
    std = np.std([up, down, 0.0, up], ddof=1)
    assert m.annual_return == pytest.approx(mean * 4)
    assert m.annual_volatility == pytest.approx(std * 2)
    assert m.sharpe == pytest.approx(mean / std * 2)
    assert m.sortino == pytest.approx(mean / np.sqrt(down**2 / 4) * 2)
    assert m.max_drawdown == pytest.approx(0.1)  # 110 -> 99
    assert m.calmar == pytest.approx(mean * 4 / 0.1)
    assert m.hit_rate == pytest.approx(2 / 3) and m.n_trades == 3
    assert m.turnover == pytest.approx(4.0) and m.exposure == pytest.approx(0.75)


def test_sharpe_edge_cases_are_decided_once() -> None:
    from kilo.metrics import sharpe_ratio

    r = np.array([0.01, -0.02, 0.03, 0.0])
    assert sharpe_ratio(r) == pytest.approx(r.mean() / r.std(ddof=1))
    assert sharpe_ratio(r, 8760) == pytest.approx(r.mean() / r.std(ddof=1) * np.sqrt(8760))
    assert sharpe_ratio(np.zeros(50), 8760) == 0.0  # a flat book: no risk, no return
    assert np.isnan(sharpe_ratio(np.full(50, 0.01)))  # zero variance, non-zero returns
    assert np.isnan(sharpe_ratio(np.array([0.01]))) and np.isnan(sharpe_ratio(np.empty(0)))


def test_trading_metrics_round_trip_through_json_with_undefined_values() -> None:
    from kilo.metrics import TradingMetrics, trading_metrics

    m = trading_metrics(np.zeros(10), np.zeros(10, bool), np.empty(0), 0.0, 8760)
    assert m.sharpe == 0.0 and np.isnan(m.hit_rate) and np.isnan(m.psr)
    text = m.model_dump_json()
    assert '"hit_rate":null' in text and "NaN" not in text
    back = TradingMetrics.model_validate_json(text)
    assert np.isnan(back.hit_rate) and back.model_dump_json() == text


def test_fill_costs_are_the_brokers() -> None:
    from kilo.metrics import fill_cost_fraction, fill_log_cost, fill_price

    fee, slip = 0.001, 0.0005
    assert fill_price(100.0, slip, "buy") == pytest.approx(100.05)
    assert fill_price(100.0, slip, "sell") == pytest.approx(99.95)
    # cash 1 buys 1 / (1 + fee) of notional at 1 + slip the price: worth this at the open
    assert np.exp(-fill_log_cost(fee, slip, "buy")) == pytest.approx(1 / (1.001 * 1.0005))
    assert np.exp(-fill_log_cost(fee, slip, "sell")) == pytest.approx(0.999 * 0.9995)
    assert fill_cost_fraction(fee, slip, "sell") == pytest.approx(1 - 0.999 * 0.9995)
    assert fill_log_cost(0.0, 0.0, "buy") == 0.0
    with pytest.raises(ValueError, match="fractions"):
        fill_log_cost(1.5, 0.0, "buy")


def test_probabilistic_sharpe_ratio() -> None:
    from scipy import stats

    from kilo.metrics import probabilistic_sharpe_ratio

    rng = np.random.default_rng(0)
    r = rng.normal(0.001, 0.01, 2000)
    sr = r.mean() / r.std(ddof=1)
    g3, g4 = stats.skew(r), stats.kurtosis(r, fisher=False)
    expected = stats.norm.cdf(sr * np.sqrt(1999) / np.sqrt(1 - g3 * sr + (g4 - 1) / 4 * sr**2))
    assert probabilistic_sharpe_ratio(r) == pytest.approx(expected)
    assert probabilistic_sharpe_ratio(-r) < 0.5 < probabilistic_sharpe_ratio(r)
    assert np.isnan(probabilistic_sharpe_ratio(np.zeros(10)))


def test_the_order_type_decides_the_fee_and_funding_has_a_side() -> None:
    from kilo.config import TradingConfig
    from kilo.metrics import funding_payment, order_costs, round_trip_log_cost

    futures = TradingConfig(market="futures", slippage=0.0005)
    assert order_costs(futures, "market") == (0.0005, 0.0005)  # taker fee and slippage
    assert order_costs(futures, "limit") == (0.0002, 0.0)  # maker fee, at its price
    market = np.log((1.0005 * 1.0005) / (0.9995 * 0.9995))
    assert round_trip_log_cost(futures) == pytest.approx(market, rel=1e-12)
    limit = TradingConfig(market="futures", order_type="limit")
    assert round_trip_log_cost(limit) == pytest.approx(np.log(1.0002 / 0.9998), rel=1e-12)
    spot = TradingConfig()
    assert round_trip_log_cost(spot) == pytest.approx(np.log(1.001 * 1.0005 / 0.999 / 0.9995))
    assert funding_payment(0.0001, 10_000.0, 1.0) == pytest.approx(1.0)  # a long pays
    assert funding_payment(0.0001, 10_000.0, -1.0) == pytest.approx(-1.0)  # a short receives
    assert funding_payment(-0.0002, 10_000.0, 1.0) == pytest.approx(-2.0)  # negative rate

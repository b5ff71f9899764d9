"""IC statistics and the deflated Sharpe ratio on data whose answer is known."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from kilo.metrics import (
    block_permutation_ics,
    deflated_sharpe_ratio,
    expected_max_sharpe,
    ic_bootstrap,
    ic_bootstrap_ci,
    ic_hac_tstat,
    ic_permutation_pvalue,
    panel_ic_bootstrap,
    probabilistic_sharpe_ratio,
    sharpe_difference_bootstrap,
    sharpe_ratio,
    sharpe_standard_error,
    spearman_ic,
)
from kilo.metrics.significance import newey_west_variance


def correlated(n: int, rho: float, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    x = rng.normal(size=n)
    return x, rho * x + np.sqrt(1 - rho**2) * rng.normal(size=n)


def test_spearman_ic_matches_scipy_and_skips_nan() -> None:
    x, y = correlated(500, 0.3)
    y[7] = np.nan
    ok = np.isfinite(y)
    assert spearman_ic(x, y) == pytest.approx(stats.spearmanr(x[ok], y[ok])[0])
    assert spearman_ic(np.ones(10), np.arange(10.0)) == 0.0
    with pytest.raises(ValueError, match="3 finite"):
        spearman_ic(np.array([1.0, np.nan]), np.array([1.0, 2.0]))


def test_bootstrap_interval_covers_the_truth_and_separates_signal_from_none() -> None:
    x, y = correlated(4000, 0.1)
    low, high = ic_bootstrap_ci(x, y, block=24, seed=1)
    assert 0.0 < low < spearman_ic(x, y) < high and high - low < 0.1
    x0, y0 = correlated(4000, 0.0, seed=2)
    low0, high0 = ic_bootstrap_ci(x0, y0, block=24, seed=1)
    assert low0 < 0.0 < high0
    assert ic_bootstrap_ci(x, y, 24, seed=1) == (low, high)  # seeded


def test_newey_west_by_hand() -> None:
    x = np.array([1.0, -1.0, 1.0, -1.0])
    # gamma0 = 1, gamma1 = -3/4; Bartlett weight 1/2 at L=1
    assert newey_west_variance(x, 0) == pytest.approx(1.0)
    assert newey_west_variance(x, 1) == pytest.approx(1.0 + 2 * 0.5 * (-0.75))


def test_hac_tstat_is_the_classical_one_for_iid_and_smaller_for_overlapping_labels() -> None:
    x, y = correlated(5000, 0.05, seed=3)
    naive = spearman_ic(x, y) * np.sqrt(len(x))
    assert ic_hac_tstat(x, y, lags=5) == pytest.approx(naive, rel=0.15)
    # no true relation, but predictions and labels are both 24-bar overlapping sums:
    # the naive t is far too wide, the HAC one keeps a standard deviation near 1
    rng = np.random.default_rng(4)
    naive, hac = [], []
    for _ in range(200):
        a, b = (np.convolve(rng.normal(size=1023), np.ones(24), "valid") for _ in range(2))
        naive.append(spearman_ic(a, b) * np.sqrt(len(a)))
        hac.append(ic_hac_tstat(a, b, lags=24))
    assert np.std(naive) > 3.0 and 0.7 < np.std(hac) < 1.5


def test_permutation_pvalue() -> None:
    x, y = correlated(3000, 0.1, seed=5)
    null = block_permutation_ics(x, y, block=24, n_perm=200, seed=0)
    assert len(null) == 200 and abs(null.mean()) < 0.01
    assert ic_permutation_pvalue(spearman_ic(x, y), null) == pytest.approx(1 / 201)
    x0, y0 = correlated(3000, 0.0, seed=6)
    null0 = block_permutation_ics(x0, y0, block=24, n_perm=200, seed=0)
    assert ic_permutation_pvalue(spearman_ic(x0, y0), null0) > 0.05


def test_deflated_sharpe_ratio() -> None:
    assert expected_max_sharpe(1, 0.01) == 0.0
    values = [expected_max_sharpe(n, 0.01) for n in (2, 10, 100, 1000)]
    assert values == sorted(values) and values[0] > 0
    # eq. 2 by hand: sqrt(1/2) * (0.42278 * 2.32635 + 0.57722 * 2.68020), N = 100
    assert expected_max_sharpe(100, 0.5) == pytest.approx(1.7894, abs=1e-3)
    r = np.random.default_rng(7).normal(0.02, 1.0, 2000)
    psr = probabilistic_sharpe_ratio(r)
    assert deflated_sharpe_ratio(r, 1, 0.001) == pytest.approx(psr)
    assert 0.0 <= deflated_sharpe_ratio(r, 50, 0.001) < psr


def test_the_panel_bootstrap_keeps_a_bars_rows_together() -> None:
    rng = np.random.default_rng(0)
    n = 3000
    pred = rng.normal(size=n)
    label = 0.1 * pred + rng.normal(size=n)
    one = panel_ic_bootstrap(pred, label, np.arange(n), 24, n_boot=300, seed=3)
    np.testing.assert_allclose(one, ic_bootstrap(pred, label, 24, n_boot=300, seed=3), atol=1e-12)
    times = np.tile(np.arange(n), 3)
    copies = panel_ic_bootstrap(np.tile(pred, 3), np.tile(label, 3), times, 24, n_boot=300, seed=3)
    assert copies.std() == pytest.approx(one.std(), rel=0.02)  # three copies: no new information
    other = rng.normal(size=3 * n)
    fresh = panel_ic_bootstrap(other, 0.1 * other + rng.normal(size=3 * n), times, 24, n_boot=300)
    assert fresh.std() < 0.75 * one.std()  # three independent symbols: about 1/sqrt(3)


def test_the_paired_sharpe_difference_is_zero_for_one_strategy_and_tracks_an_edge() -> None:
    rng = np.random.default_rng(0)
    market = rng.normal(0.0, 0.01, 5000)
    same = sharpe_difference_bootstrap(market, market, 24, n_boot=200)
    assert same.shape == (200,) and np.all(same == 0.0)
    better = market + 0.002  # the market plus a steady edge: a higher Sharpe on every resample
    diff = sharpe_difference_bootstrap(better, market, 24, n_boot=200)
    assert np.all(diff > 0)
    full = sharpe_ratio(better) - sharpe_ratio(market)
    assert abs(diff.mean() - full) < 3 * diff.std()
    # paired: a noisy copy's difference is far tighter than either Sharpe's own error
    noisy = market + rng.normal(0.0, 0.001, 5000)
    paired = sharpe_difference_bootstrap(noisy, market, 24, n_boot=200).std()
    assert paired < 0.2 * sharpe_standard_error(market)
    flat = np.zeros(5000)
    assert np.all(sharpe_difference_bootstrap(flat, flat, 24, n_boot=50) == 0.0)


def test_the_paired_sharpe_difference_needs_matching_bars() -> None:
    with pytest.raises(ValueError, match="one shape"):
        sharpe_difference_bootstrap(np.zeros(10), np.zeros(9), 2)
    with pytest.raises(ValueError, match="3 bars"):
        sharpe_difference_bootstrap(np.zeros(2), np.zeros(2), 2)

from __future__ import annotations

import numpy as np
import pytest

from kilo.evaluation.metrics import regression_metrics


def test_regression_metrics_by_hand() -> None:
    t = np.array([0.01, -0.02, 0.03, np.nan, 0.0])
    p = np.array([0.02, -0.01, -0.005, 0.5, 0.01])
    m = regression_metrics(t, p)
    err = np.array([0.01, 0.01, -0.035, 0.01])
    assert m["n"] == 4
    assert m["rmse"] == pytest.approx(np.sqrt(np.mean(err**2)))
    assert m["mae"] == pytest.approx(0.01625)
    assert m["directional_accuracy"] == pytest.approx(2 / 3)  # the zero target is excluded
    assert m["ic_spearman"] == pytest.approx(0.4)  # ranks (3,1,4,2) vs (4,1,2,3)
    assert m["ic_pearson"] == pytest.approx(np.corrcoef(t[[0, 1, 2, 4]], p[[0, 1, 2, 4]])[0, 1])


def test_constant_prediction_has_zero_ic() -> None:
    m = regression_metrics(np.array([0.1, -0.1, 0.2]), np.zeros(3))
    assert m["ic_pearson"] == 0.0 and m["ic_spearman"] == 0.0 and m["pred_std"] == 0.0


def test_errors() -> None:
    with pytest.raises(ValueError, match="shapes"):
        regression_metrics(np.zeros(3), np.zeros(4))
    with pytest.raises(ValueError, match="finite"):
        regression_metrics(np.full(2, np.nan), np.zeros(2))

"""The observation spec: input rows, portfolio state, and its file."""

from __future__ import annotations

import numpy as np
import pytest

from kilo.errors import ModelSetError
from kilo.rl.observation import SPEC_FILE, ObservationSpec, build_observations


def spec(kind: str = "forecasts") -> ObservationSpec:
    forecasts = np.array([[0.1, -2.0], [0.3, 2.0], [-0.1, 0.0]])
    return ObservationSpec.fit(
        kind, ("gru", "lightgbm"), forecasts, np.array([0.02, -0.02, np.nan]), 0.003
    )


def test_fit_scales_each_forecast_by_its_spread_and_returns_by_theirs() -> None:
    s = spec()
    assert s.forecasts == ("gru", "lightgbm")
    np.testing.assert_allclose(s.forecast_scale, [np.std([0.1, 0.3, -0.1]), np.std([-2, 2, 0])])
    assert s.return_scale == pytest.approx(0.02)
    inputs = s.inputs(None, np.array([[0.2, 1.0]]))
    np.testing.assert_allclose(
        inputs, [[0.2 / s.forecast_scale[0], 1.0 / s.forecast_scale[1]]], rtol=1e-6
    )
    assert inputs.dtype == np.float32


def test_both_puts_the_features_first_and_a_missing_part_is_refused() -> None:
    s = spec("both")
    out = s.inputs(np.ones((2, 3)), np.zeros((2, 2)))
    assert out.shape == (2, 5) and out[:, :3].tolist() == [[1, 1, 1]] * 2
    with pytest.raises(ValueError, match="feature rows"):
        s.inputs(None, np.zeros((2, 2)))
    with pytest.raises(ValueError, match="forecasts of"):
        s.inputs(np.ones((2, 3)), np.zeros((2, 1)))


def test_the_state_adds_the_round_trip_cost_in_return_units_with_forecasts() -> None:
    assert ObservationSpec().state(1.0, 0.05, 10, 100) == [1.0, 0.05, 0.1]
    assert ObservationSpec().state(0.0, 0.05, 10, 100) == [0.0, 0.0, 0.0]
    s = spec()
    assert s.n_state == 4
    np.testing.assert_allclose(s.state(-1.0, 0.04, 300, 100), [-1.0, -2.0, 1.0, 0.15])
    windows = np.arange(12, dtype=np.float32).reshape(2, 3, 2)
    obs = build_observations(windows, s, -1.0, 0.04, 300, 100)
    assert obs.shape == (2, 10)
    np.testing.assert_allclose(obs[1], [*range(6, 12), -1.0, -2.0, 1.0, 0.15], rtol=1e-6)


def test_the_spec_round_trips_and_a_damaged_file_is_a_model_set_error(tmp_path) -> None:
    assert ObservationSpec.load(tmp_path, "features") == ObservationSpec()  # no file: old
    assert ObservationSpec().save(tmp_path) == [SPEC_FILE]
    s = spec()
    assert s.save(tmp_path) == [SPEC_FILE]
    assert ObservationSpec.load(tmp_path, "forecasts") == s
    with pytest.raises(ModelSetError, match="observation forecasts, the config says both"):
        ObservationSpec.load(tmp_path, "both")
    (tmp_path / SPEC_FILE).write_text("{}")
    with pytest.raises(ModelSetError, match="cannot read"):
        ObservationSpec.load(tmp_path, "forecasts")
    (tmp_path / SPEC_FILE).unlink()
    with pytest.raises(ModelSetError, match="cannot read"):
        ObservationSpec.load(tmp_path, "forecasts")

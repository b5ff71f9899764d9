"""The blend's calibration describes the models that are served (DESIGN.md invariant 8)."""

from __future__ import annotations

import numpy as np
import pytest

from kilo.config import Config
from kilo.features import FeatureEngine
from kilo.inference import context_rows, predict_rows
from kilo.training.dataset import build_dataset
from kilo.training.trainer import fit_model_set


@pytest.mark.parametrize(("refit", "ppo_weight"), [(False, 0.0), (False, 1.0), (True, 0.0)])
def test_calibration_statistics_are_the_served_models_validation_outputs(
    tiny_config: Config, refit: bool, ppo_weight: float
) -> None:
    """Without a refit the served regressors are the calibrated ones: their outputs on
    the validation bars (which they never fit) have exactly the calibration's mean and
    standard deviation. A refit on train + validation serves other models, whose
    validation outputs (now in sample) no longer match: the reason ``training.refit``
    is off by default."""
    config = tiny_config.with_overrides({"training.refit": refit, "blend.weights.ppo": ppo_weight})
    engine = FeatureEngine.from_config(config, "BTC/USDT")
    data = build_dataset(config, "BTC/USDT", engine)
    result = fit_model_set(config, data, engine, progress=False)
    model_set = result.model_set
    X = model_set.preprocessor.transform(data.features)
    val = data.split.val
    out = predict_rows(model_set, X[: val.stop], val.stop - val.start, with_policies=False)
    # the calibration reads every validation bar, or with PPO in the blend the bars its
    # validation path stepped over (all but the last)
    path = result.validation.outputs["ppo"]
    n = len(path.actions) if ppo_weight > 0 else val.stop - val.start
    stats = model_set.manifest.calibration.prediction_stats
    matches = []
    for name, served in (("gru", out.get("gru")), ("lightgbm", out.get("lightgbm"))):
        assert served is not None
        got = (float(np.mean(served[:n])), float(np.std(served[:n])))
        want = (stats[name].mean, stats[name].std)
        matches.append(got == pytest.approx(want, rel=1e-5, abs=1e-9))
    assert context_rows(model_set) < val.start
    assert all(matches) if not refit else not all(matches)

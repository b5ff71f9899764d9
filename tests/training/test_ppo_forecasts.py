"""PPO observing the regressors' forecasts: cross-fitted in training, served as trained,
refused when a set lacks a kind it observes, and old feature-observing sets unchanged."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from kilo.config import Config
from kilo.errors import ConfigError, ModelSetError
from kilo.features import FeatureEngine
from kilo.inference import PortfolioState
from kilo.models.crossfit import blocks, fit_mask
from kilo.models.forecasts import forecast_matrix
from kilo.models.kind import Fitted, KindReport
from kilo.models.kinds import upstream
from kilo.models.kinds.ppo import inputs as policy_inputs
from kilo.models.lightgbm import LightGBMRegressor
from kilo.registry import ModelSet
from kilo.rl import build_observations
from kilo.rl.observation import SPEC_FILE
from kilo.trading.session import SessionOptions, run_session
from kilo.training.dataset import build_dataset
from kilo.training.trainer import train_symbol

POLICY = "ppo"
#: The regressors the shipped config enables, which a forecast policy observes.
FORECASTERS = ("gru", "lightgbm", "linear")
#: Largest difference allowed between an observation served and the env's (float32):
#: the GRU scores a few bars in smaller passes than many (SERVE_BATCH), which CPU
#: kernels may round differently in the last bits.
PARITY_ATOL = 1e-6


@pytest.fixture(scope="module")
def forecasts_config(tiny_config: Config, tmp_path_factory) -> Config:
    """``tiny_config`` with PPO observing the forecasts, a set trained in its own dir."""
    cfg = tiny_config.with_overrides(
        {
            "models.ppo.observation": "forecasts",
            "models.dir": str(tmp_path_factory.mktemp("forecast_models")),
            "blend.weights": {"gru": 1.0, "lightgbm": 1.0, "ppo": 1.0},
        }
    )
    report = train_symbol(cfg, "BTC/USDT", progress=False)
    assert report.error is None
    return cfg


@pytest.mark.slow
def test_a_forecast_set_saves_its_spec_and_trades(forecasts_config: Config, tmp_path) -> None:
    loaded = ModelSet.load("BTC/USDT", config=forecasts_config)
    spec = loaded.model(POLICY).spec_
    assert spec.kind == "forecasts" and spec.forecasts == FORECASTERS
    assert all(s > 0 for s in spec.forecast_scale) and spec.round_trip_cost > 0
    assert SPEC_FILE in loaded.manifest.files
    ledger = run_session(
        forecasts_config, SessionOptions(30, ("BTC/USDT",), state=tmp_path / "paper.sqlite")
    )
    preds = ledger.query("SELECT * FROM predictions")
    assert len(preds) == 30 and preds["ppo_p_long"].notna().all()


@pytest.mark.slow
def test_serving_observes_what_the_env_trained_on(forecasts_config: Config) -> None:
    """Train/serve parity: over the test rows, the observation the trader builds (served
    regressors on a trailing window, :func:`~kilo.inference.ppo_inputs`) equals the
    one the env builds from training's forecast rows, bit for bit (float32; the GRU's
    outputs do not depend on the batch they are computed in), step by step along a path
    with entries, holds and exits."""
    cfg = forecasts_config
    loaded = ModelSet.load("BTC/USDT", config=cfg)
    agent = loaded.model(POLICY)
    engine = FeatureEngine.from_config(cfg, "BTC/USDT")
    data = build_dataset(cfg, "BTC/USDT", engine)
    X = loaded.preprocessor.transform(data.features)
    served = {n: Fitted(loaded.model(n), None, KindReport()) for n in agent.spec_.forecasts}
    forecasts = forecast_matrix(cfg, data, X, upstream(served))
    w, test = agent.params.window, data.split.test
    rows = slice(test.start - w + 1, test.start + 40)
    env = agent.make_env(
        agent.spec_.inputs(None, forecasts[rows]),
        data.bar_returns[rows],
        data.bar_funding[rows],
    )
    obs, _ = env.reset(options={"start": w - 1, "length": 39})
    actions = [1, 0, 0, 0, 2, 0, 1, 0, 0, 2] * 4
    for k, action in enumerate(actions[:39]):
        row = test.start + k
        position = float(obs[env.observation_dim - agent.spec_.n_state])
        entry = env._entry  # the env's own record of the entry bar
        state = PortfolioState(
            position,
            float(np.sum(data.bar_returns[rows][entry : w - 1 + k])),
            env._held,
        )
        window = policy_inputs(agent, X[: row + 1], w)[None]
        served_obs = build_observations(
            window,
            agent.spec_,
            state.position,
            state.unrealised,
            state.bars_held,
            agent.params.episode_length,
        )[0]
        np.testing.assert_allclose(served_obs, obs, rtol=0, atol=PARITY_ATOL)
        obs, *_ = env.step(action)


def test_the_refit_never_sees_a_blocks_labels(tiny_config: Config, monkeypatch) -> None:
    """Every cross-fitted LightGBM is fit with the labels of its block and the embargo
    around it blanked (NaN rows are skipped), the other training labels kept."""
    engine = FeatureEngine.from_config(tiny_config, "BTC/USDT")
    data = build_dataset(tiny_config, "BTC/USDT", engine)
    X = np.zeros((len(data.target), 3), dtype=np.float32)
    served = LightGBMRegressor(tiny_config.models.lightgbm)
    served.best_iteration_ = 5
    labels = []

    def record(self, X, y, **kw):
        labels.append(y.copy())
        return self

    monkeypatch.setattr(LightGBMRegressor, "fit", record)
    monkeypatch.setattr(LightGBMRegressor, "predict", lambda self, X: np.zeros(len(X)))
    up = upstream({"lightgbm": Fitted(served, None, KindReport())})
    forecast_matrix(tiny_config, data, X, up)
    n = data.split.train.stop - data.split.train.start
    h = tiny_config.target.horizon
    train_labels = data.target[data.split.train].astype(np.float32)
    assert len(labels) == tiny_config.models.ppo.crossfit_folds
    for block, seen in zip(blocks(n, len(labels)), labels, strict=True):
        hidden = ~fit_mask(n, block, h)
        assert np.isnan(seen[hidden]).all()
        np.testing.assert_array_equal(seen[~hidden], train_labels[~hidden])


@pytest.mark.slow
def test_a_set_whose_ppo_lacks_a_kind_it_observes_is_refused(
    forecasts_config: Config, tmp_path
) -> None:
    source = Path(forecasts_config.models.dir) / "BTC_USDT"
    shutil.copytree(source, tmp_path / "BTC_USDT")
    [folder] = [p for p in (tmp_path / "BTC_USDT").iterdir() if p.is_dir()]
    manifest = json.loads((folder / "manifest.json").read_text())
    manifest["models"] = [name for name in manifest["models"] if name != "lightgbm"]
    (folder / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(ModelSetError, match=r"observes the forecasts of \['lightgbm'\]"):
        ModelSet.load("BTC/USDT", models_dir=tmp_path, config=forecasts_config)


@pytest.mark.slow
def test_ppo_alone_retrains_on_the_forecasts_of_the_regressors_it_reuses(
    forecasts_config: Config, tmp_path
) -> None:
    shutil.copytree(Path(forecasts_config.models.dir) / "BTC_USDT", tmp_path / "BTC_USDT")
    before = ModelSet.load("BTC/USDT", models_dir=tmp_path, config=forecasts_config)
    report = train_symbol(
        forecasts_config, "BTC/USDT", model="ppo", models_dir=tmp_path, progress=False
    )
    after = ModelSet.load("BTC/USDT", models_dir=tmp_path, config=forecasts_config)
    assert report.version != before.version and after.manifest.trained_models == ["ppo"]
    assert after.model(POLICY).spec_.forecasts == FORECASTERS
    assert after.manifest.files["gru.pt"] == before.manifest.files["gru.pt"]


@pytest.mark.slow
def test_retraining_a_regressor_beside_a_forecast_ppo_is_refused(
    forecasts_config: Config, tmp_path
) -> None:
    shutil.copytree(Path(forecasts_config.models.dir) / "BTC_USDT", tmp_path / "BTC_USDT")
    with pytest.raises(ConfigError, match="cannot be reused beside regressors"):
        train_symbol(
            forecasts_config, "BTC/USDT", model="lightgbm", models_dir=tmp_path, progress=False
        )


def test_forecasts_need_a_regressor_and_no_pool(tiny_config: Config) -> None:
    with pytest.raises(ConfigError, match="needs a regressor"):
        tiny_config.with_overrides(
            {"models.enabled": ["ppo"], "models.ppo.observation": "forecasts"}
        )
    with pytest.raises(ConfigError, match="cross-fitted per symbol"):
        tiny_config.with_overrides(
            {
                "models.ppo.observation": "both",
                "training.pool": "universe",
                "training.refit": False,
            }
        )


@pytest.mark.slow
def test_a_set_saved_before_forecasts_loads_and_trades_as_before(
    tiny_config: Config, tmp_path
) -> None:
    """A manifest without the new PPO keys (and no spec file) is a feature-observing
    policy: it loads, scores and trades with the observation it was trained on."""
    old = tiny_config.with_overrides(
        {"models.ppo.observation": "features", "models.dir": str(tmp_path / "models")}
    )
    train_symbol(old, "BTC/USDT", progress=False)
    folder = Path(old.models.dir) / "BTC_USDT"
    [version] = [p for p in folder.iterdir() if p.is_dir()]
    manifest = json.loads((version / "manifest.json").read_text())
    ppo = manifest["config"]["models"]["ppo"]
    for key in ("observation", "crossfit_folds", "reward", "sharpe_eta"):
        del ppo[key]
    del manifest["files"][SPEC_FILE]  # written since forecasts exist
    (version / "manifest.json").write_text(json.dumps(manifest))
    (version / SPEC_FILE).unlink()
    loaded = ModelSet.load("BTC/USDT", config=old)
    assert loaded.model(POLICY).spec_.kind == "features"
    cfg = old.with_overrides({"blend.weights.ppo": 1.0})
    ledger = run_session(cfg, SessionOptions(20, ("BTC/USDT",), state=tmp_path / "p.sqlite"))
    assert ledger.query("SELECT * FROM predictions")["ppo_p_long"].notna().all()
    from kilo.backtest.strategies import backtest_blend

    data = build_dataset(cfg, "BTC/USDT", FeatureEngine.from_config(cfg, "BTC/USDT"))
    run = backtest_blend(cfg, loaded, data, data.split.test)
    assert len(run.equity) > 100 and np.isfinite(run.equity).all()


@pytest.mark.slow
def test_a_forecast_ppo_trades_a_walk_forward_fold(forecasts_config: Config) -> None:
    """The fold runner fits the set (cross-fitting inside the fold's training rows) and
    the policy and the blend with PPO trade its test rows on the served forecasts."""
    from kilo.evaluation.datasets import build_datasets
    from kilo.evaluation.fold_task import FoldTask, run_fold
    from kilo.evaluation.splits import evaluation_splits
    from kilo.training.split import required_embargo

    cfg = forecasts_config.with_overrides(
        {"evaluation.folds": 1, "evaluation.initial_train_fraction": 0.7}
    )
    engine = FeatureEngine.from_config(cfg, "BTC/USDT")
    data = build_datasets(cfg, "BTC/USDT", engine).real
    [fold], _ = evaluation_splits(len(data.features), cfg.evaluation, required_embargo(cfg, engine))
    result = run_fold(cfg, engine, data, fold, FoldTask("real", 0, "all", (POLICY, "blend")))
    policy = result.runs[POLICY]
    assert len(policy.log_returns) > 100 and len(policy.fills) > 0
    assert result.runs["blend"].side.notna().all()


def test_the_embargo_covers_a_window_of_gru_forecasts(tiny_config: Config) -> None:
    """Forecasts look back PPO's window of GRU windows: 4 + 16 - 1 rows, not 16 (every
    kind counts, enabled or not, so the split stays put)."""
    from kilo.training.split import required_embargo

    engine = FeatureEngine.from_config(tiny_config, "BTC/USDT")
    observing = tiny_config.with_overrides({"models.ppo.observation": "features"})
    features = required_embargo(observing, engine)
    forecasts = tiny_config.with_overrides({"models.ppo.observation": "forecasts"})
    assert required_embargo(forecasts, engine) == features + 3
    lightgbm = forecasts.with_overrides({"models.enabled": ["lightgbm", "ppo"]})
    assert required_embargo(lightgbm, engine) == features + 3  # not moved by models.enabled

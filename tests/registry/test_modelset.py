from __future__ import annotations

import json
import shutil

import pytest

from kilo.config import Config
from kilo.errors import FeatureContractError, ModelSetError
from kilo.features import FeatureEngine
from kilo.registry import ModelSet

pytestmark = pytest.mark.slow

ARTIFACTS = [
    "gru.pt",
    "gru.json",
    "lightgbm.txt",
    "ppo.zip",
    "linear.joblib",
    "preprocessor.joblib",
    "manifest.json",
]


@pytest.fixture()
def copy_of_models(tiny_report, tiny_config: Config, tmp_path):
    """A private copy of the tiny models dir that a test may damage."""
    target = tmp_path / "models"
    shutil.copytree(tiny_config.models.dir, target)
    return target, target / "BTC_USDT" / tiny_report.version


@pytest.mark.parametrize("name", ARTIFACTS)
def test_one_corrupted_byte_is_caught(copy_of_models, tiny_config: Config, name: str) -> None:
    models_dir, folder = copy_of_models
    path = folder / name
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF
    path.write_bytes(bytes(data))
    expected = "corrupt|does not match" if name == "manifest.json" else f"{name} does not match"
    with pytest.raises(ModelSetError, match=expected) as damaged:
        ModelSet.load("BTC/USDT", models_dir=models_dir, config=tiny_config)
    if name != "manifest.json":  # the message says how to recover
        assert "scripts/trainer.py --symbol BTC/USDT" in str(damaged.value)
        assert "LATEST" in str(damaged.value) or "no other version" in str(damaged.value)


def test_the_drift_reference_is_stored_small_and_checksummed(
    copy_of_models, tiny_config: Config
) -> None:
    models_dir, folder = copy_of_models
    manifest = json.loads((folder / "manifest.json").read_text())
    drift = manifest["drift"]
    assert len(drift["features"]) == len(manifest["feature_names"]) and drift["bins"] == 10
    assert set(drift["outputs"]) == {"gru", "lightgbm", "ppo", "linear", "score"}
    assert drift["window"] == 168 and drift["null_quantile"] == 0.95
    nulls = [b["null_psi"] for b in drift["features"].values()]
    assert None not in nulls and sorted(nulls)[len(nulls) // 2] > 0.25  # persistent features
    assert {"ic", "low", "high"} <= set(drift["validation_ic"]["score"])
    assert len(json.dumps(drift, indent=2)) < 100_000
    drift["features"][manifest["feature_names"][0]]["shares"][0] += 0.01  # a changed share
    (folder / "manifest.json").write_text(json.dumps(manifest, indent=2))
    with pytest.raises(ModelSetError, match="drift reference does not match its sha256"):
        ModelSet.load("BTC/USDT", models_dir=models_dir, config=tiny_config)


def test_missing_artifact(copy_of_models, tiny_config: Config) -> None:
    models_dir, folder = copy_of_models
    (folder / "ppo.zip").unlink()
    with pytest.raises(ModelSetError, match="ppo.zip is missing"):
        ModelSet.load("BTC/USDT", models_dir=models_dir, config=tiny_config)


def test_feature_contract_mismatch_names_features(tiny_report, tiny_config: Config) -> None:
    fewer = tiny_config.with_overrides({"features.ema_periods": [20, 100]})
    with pytest.raises(
        FeatureContractError,
        match=r"missing \['ema_dist_50', 'ema_dist_200'\]"
        r".*unexpected \['ema_dist_100'\]",
    ):
        ModelSet.load(
            "BTC/USDT",
            models_dir=tiny_config.models.dir,
            engine=FeatureEngine.from_config(fewer, "BTC/USDT"),
        )
    same_names = tiny_config.with_overrides({"features.bollinger_std": 2.5})
    with pytest.raises(FeatureContractError, match=r"different settings \['bollinger_std'\]"):
        ModelSet.load(
            "BTC/USDT",
            models_dir=tiny_config.models.dir,
            engine=FeatureEngine.from_config(same_names, "BTC/USDT"),
        )


def test_no_model_set_and_unknown_version(tiny_config: Config, tmp_path) -> None:
    with pytest.raises(ModelSetError, match="scripts/trainer.py --symbol ETH/USDT"):
        ModelSet.load("ETH/USDT", models_dir=tmp_path, config=tiny_config)
    with pytest.raises(ModelSetError, match="no version"):
        ModelSet.load("BTC/USDT", "20990101T000000Z-x", tiny_config.models.dir, config=tiny_config)


def test_failed_save_leaves_no_version_and_latest_unchanged(
    copy_of_models, tiny_config, monkeypatch
):
    models_dir, folder = copy_of_models
    model_set = ModelSet.load("BTC/USDT", models_dir=models_dir, config=tiny_config)
    latest = (folder.parent / "LATEST").read_text()

    def broken_save(path):
        raise OSError("disk full")

    monkeypatch.setattr(model_set.model("ppo"), "save", broken_save)
    with pytest.raises(OSError, match="disk full"):
        model_set.save(models_dir)
    assert sorted(p.name for p in folder.parent.iterdir()) == sorted(["LATEST", folder.name])
    assert (folder.parent / "LATEST").read_text() == latest


def test_a_manifest_with_an_unknown_key_is_refused(copy_of_models, tiny_config: Config) -> None:
    import json

    models_dir, folder = copy_of_models
    path = folder / "manifest.json"
    manifest = json.loads(path.read_text())
    manifest["favourite_colour"] = "blue"
    manifest["metrics"]["gru"]["validation"]["rmse"] = "low"
    path.write_text(json.dumps(manifest))
    with pytest.raises(
        ModelSetError,
        match=r"(?=.*favourite_colour: unknown key)"
        r"(?=.*metrics: .*gru.validation.rmse: Input should be a valid number)",
    ):
        ModelSet.load("BTC/USDT", models_dir=models_dir, config=tiny_config)


def test_package_drift_is_one_warning_naming_each_package(tiny_report, tiny_config, caplog):
    from kilo.registry.manifest import read_manifest, warn_on_version_drift

    manifest = read_manifest(tiny_report.folder)
    installed = {**manifest.packages, "torch": "9.9.9", "lightgbm": "0.1", "pandas": "0.0"}
    with caplog.at_level("WARNING"):
        drift = warn_on_version_drift(manifest, installed)
    assert drift == [
        f"torch trained {manifest.packages['torch']}, installed 9.9.9",
        f"lightgbm trained {manifest.packages['lightgbm']}, installed 0.1",
    ]
    assert len(caplog.records) == 1 and "torch" in caplog.text and "lightgbm" in caplog.text
    assert warn_on_version_drift(manifest, manifest.packages) == []

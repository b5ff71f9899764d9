from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from kilo.config import Config, load_config, parse_override
from kilo.errors import ConfigError

REPO = Path(__file__).resolve().parents[2]


def test_shipped_config_matches_defaults() -> None:
    shipped = load_config(REPO / "config" / "config.yaml", environ={})
    assert shipped == Config()
    assert shipped.data.exchange == "binance" and shipped.data.timeframe == "1h"
    assert shipped.symbols == ["BTC/USDT", "ETH/USDT", "SOL/USDT", "ADA/USDT", "XRP/USDT"]


def test_every_bad_key_is_listed_in_one_error(tmp_path: Path) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(
        yaml.safe_dump(
            {
                "trading": {"fee": -0.1},
                "split": {"val_fraction": 0.6, "test_fraction": 0.5},
                "models": {"gru": {"sequence_length": 1, "hidden_size": "big"}},
                "unknown_section": {"x": 1},
            }
        )
    )
    with pytest.raises(ConfigError) as info:
        load_config(path, ["features.rsi_period=0"], environ={})
    message = str(info.value)
    for dotted in [
        "trading.fee",
        "split",
        "val_fraction + test_fraction",
        "models.gru.sequence_length",
        "models.gru.hidden_size",
        "unknown_section",
        "features.rsi_period",
    ]:
        assert dotted in message
    assert message.startswith("6 invalid config key(s)")


def test_precedence_set_over_flag_over_env_over_file(tmp_path: Path) -> None:
    path = tmp_path / "c.yaml"
    path.write_text("data: {dir: from_file}\nmodels: {dir: m_file}\nseed: 1\n")
    env = {"KILO_DATA_DIR": "from_env", "KILO_MODELS_DIR": "m_env"}
    assert load_config(path, environ={}).data.dir == Path("from_file")
    assert load_config(path, environ=env).data.dir == Path("from_env")
    cfg = load_config(path, environ=env, data_dir="from_flag")
    assert cfg.data.dir == Path("from_flag") and cfg.models.dir == Path("m_env")
    cfg = load_config(path, ["data.dir=from_set", "seed=7"], environ=env, data_dir="from_flag")
    assert cfg.data.dir == Path("from_set") and cfg.seed == 7


def test_override_values_are_yaml() -> None:
    assert parse_override("models.gru.epochs=2") == ("models.gru.epochs", 2)
    assert parse_override("symbols=[BTC/USDT]") == ("symbols", ["BTC/USDT"])
    assert parse_override("blend.enter_threshold=null") == ("blend.enter_threshold", None)
    cfg = load_config(
        None,
        ["trading.market=futures", "models.ppo.allow_short=false", "symbols=[ETH/USDT]"],
        environ={},
    )
    assert cfg.models.ppo.allow_short is False and cfg.symbols == ["ETH/USDT"]


@pytest.mark.parametrize("text", ["noequals", "=3", "a..b=1"])
def test_malformed_override(text: str) -> None:
    with pytest.raises(ConfigError, match="dotted.key=value"):
        parse_override(text)


def test_missing_and_non_mapping_files(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="does not exist"):
        load_config(tmp_path / "nope.yaml")
    (tmp_path / "list.yaml").write_text("- 1\n- 2\n")
    with pytest.raises(ConfigError, match="mapping"):
        load_config(tmp_path / "list.yaml")


def test_symbols_as_users_type_them() -> None:
    cfg = load_config(None, ["symbols=[BTCUSDT, eth/usdt, SOL_EUR]"], environ={})
    assert cfg.symbols == ["BTC/USDT", "ETH/USDT", "SOL/EUR"]
    with pytest.raises(ConfigError, match="symbols.*BTC/USDT.*BTCUSDT"):
        load_config(None, ["symbols=[BTCXYZ]"], environ={})


def test_with_overrides_returns_a_validated_copy() -> None:
    base = Config()
    copy = base.with_overrides(["trading.fee=0.002", "models.gru.epochs=3"])
    assert copy.trading.fee == 0.002 and copy.models.gru.epochs == 3
    assert base.trading.fee == 0.001, "the original is untouched"
    assert base.with_overrides({"models.dir": Path("/tmp/m")}).models.dir == Path("/tmp/m")
    with pytest.raises(ConfigError, match="trading.fee"):
        base.with_overrides(["trading.fee=5"])
    with pytest.raises(ConfigError, match="trading.nope"):
        base.with_overrides({"trading.nope": 1})


def test_timeframe_is_validated() -> None:
    with pytest.raises(ConfigError, match="data.timeframe.*not valid"):
        load_config(None, ["data.timeframe=fortnight"], environ={})


def test_an_unknown_key_gets_the_closest_known_one(config) -> None:
    from kilo.errors import ConfigError

    with pytest.raises(ConfigError, match=r"trading\.fe: .*did you mean trading\.fee\?"):
        config.with_overrides(["trading.fe=0.1"])
    with pytest.raises(ConfigError, match=r"did you mean blend\.cost_multiple\?"):
        config.with_overrides(["blend.cost_multiplee=2"])  # a key of a union member too
    with pytest.raises(ConfigError) as far:
        config.with_overrides(["zzz.qqq=1"])
    assert "did you mean" not in str(far.value)

from __future__ import annotations

import pandas as pd
import pytest

from kilo.config import Config
from kilo.registry import latest_version, promote_version
from kilo.trading.session import SessionOptions, run_session
from kilo.training.trainer import train_symbol

pytestmark = pytest.mark.slow


@pytest.fixture()
def two_versions(private_btc_models: Config):
    """A private models dir with two BTC versions; LATEST names the first."""
    cfg = private_btc_models
    first = latest_version(cfg.models.dir, "BTC/USDT")
    second = train_symbol(cfg.with_overrides({"seed": 5}), "BTC/USDT", progress=False).version
    promote_version(cfg.models.dir, "BTC/USDT", first)
    return cfg, first, second


def versions_by_iteration(ledger) -> pd.DataFrame:
    return ledger.query("SELECT iteration_id, model_version FROM predictions ORDER BY iteration_id")


def test_promotion_during_a_replay_swaps_between_iterations(two_versions, tmp_path) -> None:
    cfg, first, second = two_versions
    seen: list[pd.Timestamp] = []

    def promote_after_four(record) -> None:
        seen.append(record.bar_time)
        if len(seen) == 4:
            promote_version(cfg.models.dir, "BTC/USDT", second)

    ledger = run_session(
        cfg,
        SessionOptions(10, ("BTC/USDT",), state=tmp_path / "p.sqlite"),
        on_iteration=promote_after_four,
    )
    versions = versions_by_iteration(ledger)
    assert versions["model_version"].tolist() == [first] * 4 + [second] * 6
    assert versions.groupby("iteration_id")["model_version"].nunique().eq(1).all()


def test_a_broken_new_version_keeps_the_old_one_trading(two_versions, tmp_path, caplog) -> None:
    cfg, first, second = two_versions
    (cfg.models.dir / "BTC_USDT" / second / "lightgbm.txt").write_text("tampered")

    def promote_after_two(record) -> None:
        if record.bar_time == first_bar[0] + pd.Timedelta("1h"):
            promote_version(cfg.models.dir, "BTC/USDT", second)

    first_bar: list[pd.Timestamp] = []
    ledger = run_session(
        cfg,
        SessionOptions(1, ("BTC/USDT",), state=tmp_path / "p.sqlite"),
        on_iteration=lambda r: first_bar.append(r.bar_time),
    )
    ledger.close()
    ledger = run_session(
        cfg,
        SessionOptions(6, ("BTC/USDT",), state=tmp_path / "p.sqlite"),
        on_iteration=promote_after_two,
    )
    assert set(versions_by_iteration(ledger)["model_version"]) == {first}
    failures = [r for r in caplog.records if "could not load new version" in r.getMessage()]
    assert len(failures) == 1 and second in failures[0].getMessage()

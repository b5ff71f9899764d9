from __future__ import annotations

import pandas as pd

from kilo.retrain import run_every


def test_schedule_is_drift_free() -> None:
    now = [0.0]
    starts: list[float] = []

    def task() -> None:
        starts.append(now[0])
        now[0] += 30.0 if len(starts) != 2 else 250.0  # the second pass overruns two slots

    def sleep(seconds: float) -> None:
        now[0] += seconds

    run_every(task, pd.Timedelta("100s"), passes=4, clock=lambda: now[0], sleep=sleep)
    assert starts == [0.0, 100.0, 400.0, 500.0]

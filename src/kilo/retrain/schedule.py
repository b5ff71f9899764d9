"""A drift-free in-process schedule for retraining passes."""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from typing import Any

import pandas as pd


def run_every(
    task: Callable[[], Any],
    every: pd.Timedelta,
    *,
    passes: int | None = None,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
) -> int:
    """Run ``task`` at ``start, start + every, start + 2 * every, ...`` without drift.

    Each wait is computed from the schedule, not from when the last pass ended, so a
    slow pass does not push later ones back; a pass that overran its slot is followed
    by the next due one at once, skipping slots already missed. Stops after ``passes``
    passes (None: never).

    Returns the number of passes run.
    """
    period = every.total_seconds()
    start = clock()
    done = 0
    slot = 0
    while passes is None or done < passes:
        wait = start + slot * period - clock()
        if wait > 0:
            sleep(wait)
        task()
        done += 1
        slot = max(slot + 1, math.floor((clock() - start) / period) + 1)
    return done

"""Benchmarks behind ``scripts/bench.py``: each prints one JSON line per figure.

Importing the package registers every benchmark (:mod:`kilo.bench.models`,
:mod:`kilo.bench.pipeline`, :mod:`kilo.bench.trading`) in :data:`BENCHES`.
"""

from kilo.bench import models, pipeline, trading
from kilo.bench.core import BENCHES, record, register, run_bench, time_runs

__all__ = [
    "BENCHES",
    "models",
    "pipeline",
    "record",
    "register",
    "run_bench",
    "time_runs",
    "trading",
]

"""Kilo: a per-symbol machine-learning research pipeline for crypto trading.

Importing Kilo sets ``GOMP_SPINCOUNT=2000`` unless the environment sets it: OpenMP
threads (torch's, LightGBM's; GNU OpenMP on Linux) spin a long time while they wait,
and collapse when the cores are shared, as they are while an evaluation or a search
runs beside a training. One GRU epoch on eight years of BTC, 2 threads, on 2 cores
(``bench.py gru-contention``): quiet 8.2 s with the default, 8.3 s with this spin
count, 13.3 s with ``OMP_WAIT_POLICY=PASSIVE``; beside two busy processes 100 s with
the default, 19.2 s with this spin count, 12.5 s passive. It must be set before torch
loads its OpenMP runtime, so it is set here, first.
"""

import os

os.environ.setdefault("GOMP_SPINCOUNT", "2000")

__version__ = "0.1.0"

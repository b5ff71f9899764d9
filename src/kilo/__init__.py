"""Kilo: a per-symbol machine-learning research pipeline for crypto trading.

Importing Kilo sets ``OMP_WAIT_POLICY=PASSIVE`` unless the environment sets it: OpenMP
threads (torch's, LightGBM's) that spin while they wait collapse when the cores are
shared, as they are while an evaluation or a search runs beside a training (one GRU
epoch on eight years of BTC beside a busy evaluation: 34.7 s with the default policy,
12.5 s passive; ``bench.py gru-contention``). It must be set before torch loads its
OpenMP runtime, so it is set here, first.
"""

import os

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

__version__ = "0.1.0"

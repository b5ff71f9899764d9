"""One way to limit a worker's CPU threads (torch's intra-op pool)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def limit_threads(n: int) -> Iterator[None]:
    """Limit torch's intra-op threads to ``n`` inside the block, then restore them.

    Parallel workers each take their share of the cores (:func:`threads_per_job`), and
    PPO's small MlpPolicy runs with 1 (stable-baselines3's advice for CPU). LightGBM
    takes its thread count as a parameter; torch is imported only when this is entered.

    Raises
    ------
    ValueError
        If ``n`` is below 1.
    """
    if n < 1:
        raise ValueError(f"thread count must be at least 1 (got {n})")
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(n)
    try:
        yield
    finally:
        torch.set_num_threads(before)

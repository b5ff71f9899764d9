"""The one dispatcher and the one thread limit."""

from __future__ import annotations

import os

import pytest

from kilo.runtime import RunOptions, dispatch, limit_threads


def slow_square(x: int, pause: float) -> tuple[int, int]:
    import time

    time.sleep(pause)
    return x * x, os.getpid()


def test_results_come_back_in_submission_order_from_every_local_way() -> None:
    calls = [(x, 0.3 if x == 0 else 0.0) for x in range(6)]  # the first finishes last
    here = dispatch(slow_square, calls)
    assert [r for r, _ in here] == [0, 1, 4, 9, 16, 25] and {p for _, p in here} == {os.getpid()}
    there = dispatch(slow_square, calls, options=RunOptions(jobs=2))
    assert [r for r, _ in there] == [r for r, _ in here]
    assert os.getpid() not in {p for _, p in there}  # ran in worker processes


def test_limit_threads_restores_torch_and_refuses_zero() -> None:
    import torch

    before = torch.get_num_threads()
    with limit_threads(1):
        assert torch.get_num_threads() == 1
    assert torch.get_num_threads() == before
    with pytest.raises(ValueError, match="at least 1"), limit_threads(0):
        pass


def test_the_bar_counts_each_kind_of_call_apart(capsys) -> None:
    kinds = ["folds", "controls", "controls", "folds", "controls"]
    shown = RunOptions(progress=True)
    out = dispatch(pow, [(k, 2) for k in range(5)], options=shown, desc="x", kinds=kinds)
    assert out == [0, 1, 4, 9, 16]
    err = capsys.readouterr().err
    assert "folds 2/2, controls 3/3" in err

"""The root conftest's set-up for pytest-xdist: each worker's torch intra-op threads are its share
of the cores (a worker with every core, beside another, oversubscribes them: measured slower
than the serial run)."""

import os

import pytest
import torch


def test_torch_threads_are_the_workers_share_of_the_cores():
    count = os.environ.get("PYTEST_XDIST_WORKER_COUNT")
    if count is None:
        pytest.skip("runs under pytest-xdist (the README's `pytest -n auto`)")
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    assert torch.get_num_threads() == max(1, (cores or 1) // int(count)), (
        f"{count} xdist workers on {cores} cores: torch uses {torch.get_num_threads()} threads")

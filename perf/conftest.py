"""Helpers shared by the benchmarks of perf/."""

import statistics

import pytest

from ssmspec import harness


def _speed_and_memory(ns: dict, setup: str, other: str = "materialised"):
    """(speed-up of `ns["ours"]` over `ns[other]`, peak KiB of ours, peak KiB of the other): the
    times interleaved (two rounds, so a load change hits both alike), the median of each; the
    peaks each in a fresh process running `setup` then the call."""
    t_ours, t_other = [], []
    for _ in range(2):
        t_other += harness.time_call(ns[other], "cpu", repeats=1, min_time=0)
        t_ours += harness.time_call(ns["ours"], "cpu", repeats=2, min_time=0)
    speed = statistics.median(t_other) / statistics.median(t_ours)
    return speed, harness.peak_kib(setup, "ours()"), harness.peak_kib(setup, f"{other}()")


@pytest.fixture
def speed_and_memory():
    """`_speed_and_memory` as a fixture (perf/ has no package to import it from)."""
    return _speed_and_memory

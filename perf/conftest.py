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


def _gate_speed_and_memory(benchmark, ns: dict, setup: str, what: str, time_floor: float,
                           memory_floor: float, rounds: int = 1) -> None:
    """Measure `ns["ours"]` against `ns["materialised"]` (`_speed_and_memory`), record the
    ratios in the benchmark JSON, time ours with pytest-benchmark, print, and gate both ratios."""
    speed, mem_ours, mem_other = _speed_and_memory(ns, setup)
    memory = mem_other / max(mem_ours, 1)
    benchmark.extra_info.update(speedup=speed, memory_ratio=memory, peak_kib_ours=mem_ours,
                                peak_kib_materialised=mem_other)
    benchmark.pedantic(ns["ours"], rounds=rounds, iterations=1)
    print(f"\n{what}: {speed:.2f}x the materialised version's speed, peak "
          f"{mem_ours / 1024:.0f} MiB vs {mem_other / 1024:.0f} MiB ({memory:.1f}x less)")
    assert speed >= time_floor, f"{what}: {speed:.2f}x the speed (floor {time_floor}x)"
    assert memory >= memory_floor, f"{what}: only {memory:.1f}x less memory (floor {memory_floor}x)"


@pytest.fixture
def gate_speed_and_memory():
    """`_gate_speed_and_memory` as a fixture (perf/ has no package to import it from)."""
    return _gate_speed_and_memory

"""ssmspec.executor: task order, errors as outcomes, a dead worker and a time-out retried once."""

import os
import sys
import time
from pathlib import Path

import pytest

# the spawned workers import this module by name to find its task functions: the repository
# root goes last on the path (the installed ssmspec still comes first)
sys.path.append(str(Path(__file__).resolve().parents[1]))

from ssmspec.executor import DIED, Plan, Task, default_workers


def square(x):
    return x * x


def fail(x):
    raise ValueError(f"x: bad {x}")


def die_or_square(x):
    if x == 3:
        os._exit(1)  # the worker process vanishes mid-task
    return x * x


def sleep_then(x):
    time.sleep(x)
    return x


def pid(_):
    return os.getpid()


@pytest.mark.parametrize("workers", [1, 2])
def test_values_in_task_order(workers):
    out = Plan(workers).map(square, [Task(str(i), (i,)) for i in range(6)])
    assert [o.value for o in out] == [i * i for i in range(6)]
    assert all(o.ok and o.node and o.attempts == 1 for o in out)


@pytest.mark.parametrize("workers", [1, 2])
def test_exception_is_an_error_outcome_not_retried(workers):
    (o,) = Plan(workers).map(fail, [Task("a", (7,))])
    assert o.error == "ValueError: x: bad 7" and o.attempts == 1 and o.value is None


def test_workers_are_other_processes():
    out = Plan(2).map(pid, [Task(str(i), (i,)) for i in range(4)])
    assert os.getpid() not in {o.value for o in out}


def test_dead_worker_retried_once_then_error_others_unharmed():
    out = Plan(2).map(die_or_square, [Task(str(i), (i,)) for i in range(6)])
    assert out[3].error == DIED and out[3].attempts == 2
    assert [o.value for i, o in enumerate(out) if i != 3] == [0, 1, 4, 16, 25]


def test_timeout_kills_retries_then_error():
    out = Plan(2, timeout_s=1.0).map(sleep_then, [Task("slow", (30,)), Task("fast", (0,))])
    assert out[0].error == "timed out after 1s" and out[0].attempts == 2
    assert out[1].value == 0


def test_progress_counts_every_task():
    seen = []
    Plan(2).map(square, [Task(str(i), (i,)) for i in range(5)], progress=seen.append)
    assert sorted(seen) == [str(i) for i in range(5)]


def test_bad_plan_and_env(monkeypatch):
    with pytest.raises(ValueError, match="workers"):
        Plan(0)
    with pytest.raises(ValueError, match="executor"):
        Plan(2, executor="threads")
    monkeypatch.setenv("SSMSPEC_WORKERS", "3")
    assert default_workers() == 3
    monkeypatch.setenv("SSMSPEC_WORKERS", "zero")
    with pytest.raises(ValueError, match="SSMSPEC_WORKERS"):
        default_workers()


def start_then_sleep(x):
    t = time.monotonic()  # CLOCK_MONOTONIC: one clock for every process of the machine
    time.sleep(0.5)  # long against scheduling jitter: the next pair starts ~0.5 s later
    return t, x


def test_costliest_first_order_values_in_task_order():
    from ssmspec.executor import costliest_first

    tasks = [Task("a", (0,), cost=1.0), Task("b", (1,), cost=5.0), Task("c", (2,)),
             Task("d", (3,), cost=5.0)]
    assert costliest_first(tasks) == [1, 3, 0, 2]  # ties keep task order
    out = Plan(2).map(start_then_sleep, tasks)
    assert [o.value[1] for o in out] == [0, 1, 2, 3]  # outcomes in task order
    started = sorted(range(4), key=lambda i: out[i].value[0])
    assert set(started[:2]) == {1, 3}, "the two costliest did not go first"
    assert all(o.seconds >= 0 and o.ok for o in out)


def slow_square(x):
    time.sleep(0.2)
    return x * x


def test_started_plan_keeps_its_workers_across_maps():
    with Plan(2).start() as plan:
        first = {o.value for o in plan.map(pid, [Task(str(i), (i,)) for i in range(4)])}
        second = {o.value for o in plan.map(pid, [Task(str(i), (i,)) for i in range(4)])}
        assert plan.map(slow_square, [Task("x", (3,))])[0].value == 9
    assert first == second and len(first) <= 2 and os.getpid() not in first
    assert plan._pool is None  # closed on leaving the block


def test_outcome_seconds_measures_the_call():
    (o,) = Plan(1).map(sleep_then, [Task("s", (0.2,))])
    assert 0.15 <= o.seconds < 5


def test_started_plan_survives_a_dead_worker():
    plan = Plan(2).start(warm=pid)
    try:
        out = plan.map(die_or_square, [Task(str(i), (i,)) for i in range(6)])
        assert out[3].error == DIED and out[1].value == 1
        assert [o.value for o in plan.map(square, [Task("a", (5,))])] == [25]
    finally:
        plan.close()

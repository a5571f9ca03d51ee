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

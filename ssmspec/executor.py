"""Running independent targets wide: in this process, in worker processes on this machine, or
as tasks on a Ray cluster.

A `Task` is a label, the arguments of one call of a module-level function (picklable: never a
closure, which cannot cross a process) and the device it needs. `Plan.map(fn, tasks)` runs
`fn(*task.fn_args)` for every task and returns one `Outcome` per task, in task order:

- `serial` (or `workers=1`): one after another in this process; what ssmspec always did.
- `local`: `workers` processes on this machine, started with `spawn` (torch is not fork-safe),
  each with one torch thread, so `workers` processes use `workers` cores. A worker that dies (a
  segfault, the OOM killer) or a task that outlives `timeout_s` (its worker is killed) is tried
  once more on a fresh worker, then becomes an error outcome: a target is never lost silently.
- `ray`: one Ray task per target on the cluster at `address` (default: the one `ray start`
  made on this machine, else a local one); a CUDA target asks for one GPU (`num_gpus=1`), so a
  cluster of GPU and CPU nodes places it on a GPU node. Ray retries a task whose worker died
  once (`max_retries`); a timed-out task is cancelled and resubmitted once.

Tasks start costliest first (`Task.cost`, an estimate in seconds, e.g. a time recorded by an
earlier run): with two workers a long task started last would leave one worker idle for its whole
length at the end. Outcomes still come back in task order.

`Plan.start(warm)` spawns the local workers ahead of the first `map` (and keeps them for every
later one until `close()`): their interpreter and imports, seconds each, then overlap the caller's
own start-up (loading the registry), and `warm`, a module-level function each worker runs once
before it takes tasks (`registry.load`), is paid once per worker, not inside the first task.

An exception inside `fn` is a result, not a crash of the run: it becomes the outcome's `error`
(`ExceptionClass: message`) and is not retried (the same inputs raise again). Each outcome
names the host that ran it (`node`) and how many attempts it took.
"""

from __future__ import annotations

import multiprocessing
import os
import pickle
import socket
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from multiprocessing.connection import wait as _wait_ready
from typing import Any

EXECUTORS = ("serial", "local", "ray")
DIED = "worker died"


@dataclass(frozen=True)
class Task:
    """One independent unit: `fn(*fn_args)` for the `fn` given to `Plan.map`. `device` is the
    one it computes on ("cpu", "cuda", "cuda:1"): a CUDA task asks a Ray cluster for a GPU."""

    label: str
    fn_args: tuple = ()
    device: str = "cpu"
    cost: float = 0.0  # estimated seconds: the costliest start first (ties: in task order)


@dataclass
class Outcome:
    """What one task gave: `value`, or `error` (`ExceptionClass: message`, `timed out after Ns`
    or `worker died`); `node`, the host that ran it ('' if none finished it); `attempts`;
    `seconds`, the wall time of its last attempt's call where it ran (0 if none finished)."""

    label: str
    value: Any = None
    error: str | None = None
    node: str = ""
    attempts: int = 1
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return self.error is None


def cores() -> int:
    """The cores this process may run on (its CPU affinity where the OS tells it, a container's
    share rather than the host's count), at least 1."""
    if hasattr(os, "sched_getaffinity"):
        return max(1, len(os.sched_getaffinity(0)))
    return os.cpu_count() or 1


def default_workers() -> int:
    """SSMSPEC_WORKERS if set, else the number of cores (`cores`)."""
    env = os.environ.get("SSMSPEC_WORKERS")
    if env:
        try:
            n = int(env)
        except ValueError:
            raise ValueError(f"SSMSPEC_WORKERS: expected a positive integer, got {env!r}") from None
        if n < 1:
            raise ValueError(f"SSMSPEC_WORKERS: expected a positive integer, got {env!r}")
        return n
    return cores()


def _call(fn: Callable, args: tuple) -> tuple[str, Any, str, float]:
    """("ok", value, host, seconds) or ("error", "Class: message", host, seconds): what a worker
    sends back."""
    host = socket.gethostname()
    t0 = time.perf_counter()
    try:
        return "ok", fn(*args), host, time.perf_counter() - t0
    except Exception as exc:  # noqa: BLE001 - an exception in a task is its outcome
        return "error", f"{type(exc).__name__}: {exc}", host, time.perf_counter() - t0


def costliest_first(tasks: Sequence[Task]) -> list[int]:
    """The indices of `tasks` by decreasing `cost`, ties in task order (the dispatch order)."""
    return sorted(range(len(tasks)), key=lambda i: -tasks[i].cost)


@dataclass
class Plan:
    """How to run a list of tasks: `workers` at a time with `executor` (see the module
    docstring); `address` HOST:PORT of a Ray cluster; `retries` after a dead worker or a time-out;
    `timeout_s` per attempt (None: none; not enforced by `serial`)."""

    workers: int = 1
    executor: str = "local"
    address: str | None = None
    retries: int = 1
    timeout_s: float | None = None
    _pool: Any = field(default=None, init=False, repr=False, compare=False)

    def __post_init__(self):
        if self.executor not in EXECUTORS:
            raise ValueError(f"executor: expected one of {EXECUTORS}, got {self.executor!r}")
        if not isinstance(self.workers, int) or self.workers < 1:
            raise ValueError(f"workers: expected an integer >= 1, got {self.workers!r}")
        if self.retries < 0:
            raise ValueError(f"retries: expected >= 0, got {self.retries!r}")
        if self.timeout_s is not None and self.timeout_s <= 0:
            raise ValueError(f"timeout_s: expected a positive number of seconds, got "
                             f"{self.timeout_s!r}")

    @property
    def kind(self) -> str:
        """The executor that actually runs: `serial` for one local worker."""
        if self.executor == "ray":
            return "ray"
        return "serial" if self.executor == "serial" or self.workers == 1 else "local"

    def start(self, warm: Callable[[], Any] | None = None) -> Plan:
        """Spawn the local workers now, without waiting for them, and keep them for every `map`
        until `close()` (a no-op for `serial` and `ray`). `warm`: a module-level function each
        worker runs once before its first task (an exception there is ignored: the task that
        needs what it failed to load raises the same, as its outcome). Returns the plan."""
        if self.kind == "local" and self._pool is None:
            self._pool = _LocalPool(self, warm)
        return self

    def close(self) -> None:
        """Stop the workers `start` spawned (idempotent)."""
        if self._pool is not None:
            self._pool.close()
            self._pool = None

    def __enter__(self) -> Plan:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.close()

    def map(self, fn: Callable, tasks: Sequence[Task],
            progress: Callable[[str], None] | None = None) -> list[Outcome]:
        """`fn(*t.fn_args)` for each task `t`, one Outcome each in task order; `progress(label)`
        after each task finishes (in the order they finish). Workers and Ray take the tasks
        costliest first; `serial` runs them in task order."""
        tasks = list(tasks)
        step = progress or (lambda label: None)
        if not tasks:
            return []
        if self.kind == "serial":
            out = []
            for t in tasks:
                out.append(_outcome(t, *_call(fn, t.fn_args), 1))
                step(t.label)
            return out
        if self.kind == "local":
            if self._pool is not None:
                return self._pool.map(fn, tasks, step)
            pool = _LocalPool(self, n=min(self.workers, len(tasks)))
            try:
                return pool.map(fn, tasks, step)
            finally:
                pool.close()
        return _ray_map(self, fn, tasks, step)


def _outcome(t: Task, status: str, value, host: str, seconds: float, attempts: int) -> Outcome:
    if status == "ok":
        return Outcome(t.label, value=value, node=host, attempts=attempts, seconds=seconds)
    return Outcome(t.label, error=value, node=host, attempts=attempts, seconds=seconds)


# ---- local: a pool of spawned worker processes, one task each at a time -----------------------

def _worker_main(conn, warm=None) -> None:
    """A worker: one torch thread (the pool is the parallelism), `warm()` if given, then tasks
    until told to stop."""
    try:
        import torch

        torch.set_num_threads(1)
    except ImportError:
        pass
    if warm is not None:
        try:
            warm()
        except Exception:  # noqa: BLE001, S110 - a task needing it raises the same, as its outcome
            pass
    conn.send("ready")  # a task's time-out counts from here, not from the interpreter's start
    while True:
        msg = conn.recv_bytes()
        try:
            msg = pickle.loads(msg)
        except Exception as exc:  # noqa: BLE001 - a task this process cannot load is its error
            conn.send(("error", f"{type(exc).__name__} loading the task: {exc}",
                       socket.gethostname(), 0.0))
            continue
        if msg is None:
            return
        reply = _call(*msg)
        try:
            conn.send(reply)
        except Exception as exc:  # noqa: BLE001 - a value that does not pickle is the task's error
            conn.send(("error", f"{type(exc).__name__} sending the result back: {exc}",
                       reply[2], reply[3]))


@dataclass
class _Slot:
    process: Any
    conn: Any
    task: int | None = None
    started: float = 0.0
    ready: bool = False  # its "ready" received


class _LocalPool:
    """`workers` spawned processes, each fed one task at a time through its own pipe, so the
    parent knows which task a dead or timed-out worker held (and retries just that one). The
    processes start here, side by side, and are awaited only when `map` first needs them."""

    def __init__(self, plan: Plan, warm: Callable[[], Any] | None = None,
                 n: int | None = None):
        self.plan, self.warm = plan, warm
        self.ctx = multiprocessing.get_context("spawn")
        self.slots = [self._start(wait=False) for _ in range(n or plan.workers)]

    def _start(self, wait: bool = True) -> _Slot:
        parent, child = self.ctx.Pipe()
        p = self.ctx.Process(target=_worker_main, args=(child, self.warm), daemon=True)
        p.start()
        child.close()
        slot = _Slot(p, parent)
        if wait:
            self._await(slot)
        return slot

    @staticmethod
    def _await(slot: _Slot) -> None:
        """Wait for the worker's "ready" (a worker that died starting is left to `map`)."""
        if not slot.ready:
            try:
                slot.conn.recv()
            except (EOFError, OSError):
                return
            slot.ready = True

    @staticmethod
    def _kill(slot: _Slot) -> None:
        slot.process.kill()
        slot.process.join()
        slot.conn.close()

    def close(self) -> None:
        for s in self.slots:
            try:
                s.conn.send(None)
            except OSError:
                pass
        for s in self.slots:
            s.process.join(timeout=5)
            if s.process.is_alive():
                self._kill(s)
        self.slots = []

    def map(self, fn, tasks: list[Task], step) -> list[Outcome]:
        plan, slots = self.plan, self.slots
        results: list[Outcome | None] = [None] * len(tasks)
        attempts = [0] * len(tasks)
        queue = costliest_first(tasks)

        def finish(i: int, outcome: Outcome) -> None:
            results[i] = outcome
            step(tasks[i].label)

        def failed(i: int, why: str) -> None:  # a lost attempt: once more, then an error
            if attempts[i] <= plan.retries:
                queue.insert(0, i)
            else:
                finish(i, Outcome(tasks[i].label, error=why, attempts=attempts[i]))

        try:
            while queue or any(s.task is not None for s in slots):
                for k, s in enumerate(slots):
                    if s.task is None and queue:
                        self._await(s)
                        if not s.ready or not s.process.is_alive():  # died: nothing lost
                            self._kill(s)
                            slots[k] = s = self._start()
                        i = queue.pop(0)
                        attempts[i] += 1
                        s.conn.send((fn, tasks[i].fn_args))
                        s.task, s.started = i, time.monotonic()
                busy = [s for s in slots if s.task is not None]
                wait_s = None
                if plan.timeout_s is not None:
                    wait_s = max(0.0, min(s.started for s in busy) + plan.timeout_s
                                 - time.monotonic())
                ready = set(_wait_ready([s.conn for s in busy]
                                        + [s.process.sentinel for s in busy], wait_s))
                for k, s in enumerate(slots):
                    if s.task is None:
                        continue
                    i, why = s.task, None
                    if s.conn in ready:
                        try:
                            reply = s.conn.recv()
                        except (EOFError, OSError):  # the pipe closed: the worker is gone
                            why = DIED
                        else:
                            s.task = None
                            finish(i, _outcome(tasks[i], *reply, attempts[i]))
                            continue
                    if s.process.sentinel in ready:
                        why = DIED
                    elif why is None and plan.timeout_s is not None \
                            and time.monotonic() - s.started >= plan.timeout_s:
                        why = f"timed out after {plan.timeout_s:g}s"
                    if why is not None:
                        self._kill(s)
                        slots[k] = self._start()
                        failed(i, why)
        except BaseException:
            # interrupted mid-map (Ctrl-C): a busy worker's pipe holds a stale reply; stop all
            self.close()
            raise
        return results  # type: ignore[return-value]


# ---- ray: one remote task per target ----------------------------------------------------------

def _ray():
    try:
        import ray
    except ImportError:
        raise RuntimeError("--executor ray needs Ray: pip install 'ssmspec[ray]'") from None
    return ray


def _ray_map(plan: Plan, fn, tasks: list[Task], step) -> list[Outcome]:
    """Tasks in a window of `plan.workers` in flight (so a task's time-out counts from when a
    slot was free for it, roughly when it starts), each result back as it finishes."""
    ray = _ray()
    if not ray.is_initialized():
        ray.init(address=plan.address or os.environ.get("RAY_ADDRESS") or None,
                 ignore_reinit_error=True, log_to_driver=False, configure_logging=False)
    remote = ray.remote(_call)
    results: list[Outcome | None] = [None] * len(tasks)
    attempts = [0] * len(tasks)
    queue = costliest_first(tasks)
    flying: dict = {}  # ObjectRef -> (task index, submitted at)

    def submit(i: int) -> None:
        attempts[i] += 1
        opts = {"max_retries": plan.retries, "retry_exceptions": False, "num_cpus": 1}
        if tasks[i].device.startswith("cuda"):
            opts["num_gpus"] = 1
        flying[remote.options(**opts).remote(fn, tasks[i].fn_args)] = (i, time.monotonic())

    def finish(i: int, outcome: Outcome) -> None:
        results[i] = outcome
        step(tasks[i].label)

    while queue or flying:
        while queue and len(flying) < plan.workers:
            submit(queue.pop(0))
        wait_s = None
        if plan.timeout_s is not None:
            wait_s = max(0.0, min(t for _, t in flying.values()) + plan.timeout_s
                         - time.monotonic())
        done, _ = ray.wait(list(flying), num_returns=1, timeout=wait_s)
        for ref in done:
            i, _ = flying.pop(ref)
            try:
                finish(i, _outcome(tasks[i], *ray.get(ref), attempts[i]))
            except Exception as exc:  # noqa: BLE001 - a worker died past Ray's own retries
                finish(i, Outcome(tasks[i].label, error=f"{DIED}: {type(exc).__name__}",
                                  attempts=attempts[i] + plan.retries))
        now = time.monotonic()
        for ref, (i, t0) in list(flying.items()):
            if plan.timeout_s is not None and now - t0 >= plan.timeout_s:
                del flying[ref]
                ray.cancel(ref, force=True)
                if attempts[i] <= plan.retries:
                    queue.insert(0, i)
                else:
                    finish(i, Outcome(tasks[i].label, error=f"timed out after "
                                      f"{plan.timeout_s:g}s", attempts=attempts[i]))
    return results  # type: ignore[return-value]

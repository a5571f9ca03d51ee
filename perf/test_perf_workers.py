"""Running wide, measured in one run (docs: README "Running wide").

- `report --workers 2` against `--workers 1` on the benchmark-free part of the report
  (`--no-timing`: the precision targets and the sharpness section), each a fresh `ssmspec`
  process (worker start-up included, as a user pays it): gated at SPEEDUP_FLOOR = 1.6× on a
  2-core machine. Against noise from other jobs: one warm-up of each (it also records the task
  costs the ordering uses), then ROUNDS alternating pairs, the best time of each side. The load
  average is printed with the figures. The entries must be equal apart from `node`.
- `pytest -n 2` against `pytest -n 0` on a fixed subset of the tests (XDIST_TESTS), the same way
  (alternating, best of ROUNDS): gated at XDIST_FLOOR = 1.4×. Each xdist worker collects the
  subset and loads the registry, and the controller starts first: about 13.6 s of wall time
  before the first test against 9 s serially, measured here. The full default run (minutes)
  pays that once; the subset is about 2 minutes serially so that it weighs as little here (a
  30 s subset measured 1.06–1.5×, mostly start-up).
- The machine's own ceiling, measured in the same rounds: a CPU-bound pure-Python loop alone and
  two copies at once (`ceiling` = 2 × alone / both). Two virtual CPUs are not always two
  independent cores (on the shared 2-vCPU machines here two such loops ran 1.49–2.22× the
  throughput of one, from run to run), and no scheduler can beat that. So each floor is the
  lesser of its figure and a share of the ceiling (REPORT_EFFICIENCY, XDIST_EFFICIENCY): on two
  independent cores (ceiling ≥ 1.88) the report must still make 1.6×, and a pool that ran its
  tasks one at a time (about 1.0×) fails on any machine.
- The Ray executor's overhead per target against the serial path, one worker and one torch
  thread each, the cluster already up (its start-up is a one-off, not a per-target cost), best
  of ROUNDS alternating: gated at RAY_OVERHEAD_CEILING = 10 % of the serial time per target.
  Skipped without the `ray` extra.

The primitives are ones whose precision targets take long enough (tenths of a second each at
`EXAMPLES` inputs) that the measurement is of the work, not of process start-up.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from ssmspec import report
from ssmspec.executor import Plan

SPEEDUP_FLOOR = 1.6
XDIST_FLOOR = 1.4
REPORT_EFFICIENCY = 0.85
XDIST_EFFICIENCY = 0.75
RAY_OVERHEAD_CEILING = 0.10
PRIMITIVES = ("linear_scan", "diag_kernel", "causal_conv", "discretize_diag")
EXAMPLES = 20
ROUNDS = 2
ROOT = Path(__file__).resolve().parents[1]
# a fixed subset of the suite: tests of several kinds (property tests of five primitives, the
# references), durations from milliseconds to ~10 s; about 2 minutes serially on 2 cores
XDIST_TESTS = ("properties/test_conformance.py", "properties/test_laws.py",
               "tests/test_reference_convolution.py", "tests/test_reference_scans.py",
               "tests/test_reference_kernels.py")
XDIST_K = "linear_scan or causal_conv or ema_kernel or diag_kernel or discretize_diag or " \
          "test_reference"


def _load() -> str:
    return "load average " + " ".join(f"{x:.2f}" for x in os.getloadavg())


def _timed(cmd: list[str], env: dict, cwd=None) -> float:
    t0 = time.perf_counter()
    res = subprocess.run(cmd, env={**os.environ, **env}, cwd=cwd, capture_output=True,
                         text=True)
    elapsed = time.perf_counter() - t0
    assert res.returncode == 0, f"{' '.join(cmd)} failed:\n{res.stdout[-3000:]}{res.stderr[-3000:]}"
    return elapsed


# about 3 s of one core: long enough that process start-up is noise
_LOOP = "s = 0\nfor i in range(20_000_000):\n    s += i * i % 7"
_ALONE = [sys.executable, "-c", _LOOP]
_BOTH = ["bash", "-c", f"{sys.executable} -c '{_LOOP}' & {sys.executable} -c '{_LOOP}'; wait"]


def _best_of(runs: dict, warm) -> dict:
    """`runs[warm]` once as a warm-up (file caches, the compiled extension, the recorded task
    costs), then ROUNDS rounds of every command in turn, each round also timing the CPU-bound
    loop alone and two copies at once: the best time of each (another job's burst slows a run;
    nothing makes one faster than the machine allows), and `ceiling` = 2 × alone / both."""
    _timed(*runs[warm], ROOT)
    runs = {**runs, "alone": (_ALONE, {}), "both": (_BOTH, {})}
    best = {k: float("inf") for k in runs}
    for _ in range(ROUNDS):
        for k, (cmd, env) in runs.items():
            best[k] = min(best[k], _timed(cmd, env, ROOT))
    best["ceiling"] = 2 * best["alone"] / best["both"]
    return best


def _floor(figure: float, efficiency: float, ceiling: float) -> float:
    """The gate: `figure`, or `efficiency` of what this machine gives two busy processes, if
    that is less (see the module docstring)."""
    return min(figure, efficiency * ceiling)


def _gate_speedup(benchmark, best: dict, slow: tuple, fast: tuple, what: str, figure: float,
                  efficiency: float) -> None:
    """Record, print and gate `best[slow key] / best[fast key]` (`slow`, `fast`: a key of `best`
    and its label) against `_floor(figure, efficiency, ceiling)`."""
    (ks, slow_label), (kf, fast_label) = slow, fast
    speedup, ceiling = best[ks] / best[kf], best["ceiling"]
    floor = _floor(figure, efficiency, ceiling)
    benchmark.extra_info.update(slow_s=best[ks], fast_s=best[kf], speedup=speedup,
                                ceiling=ceiling, floor=floor, load=os.getloadavg()[0])
    benchmark.pedantic(lambda: None, rounds=1)
    print(f"\n{what} (best of {ROUNDS}): {slow_label} {best[ks]:.1f} s, {fast_label} "
          f"{best[kf]:.1f} s: {speedup:.2f}× (machine ceiling {ceiling:.2f}×, floor "
          f"{floor:.2f}×; {_load()})")
    assert speedup >= floor, (
        f"{what}: {fast_label} only {speedup:.2f}× faster than {slow_label} (floor {floor:.2f}×:"
        f" {figure}× or {efficiency:.0%} of the machine's {ceiling:.2f}×; {_load()})")


def _report_cmd(workers: int, out: Path) -> tuple[list[str], dict]:
    return ([sys.executable, "-m", "ssmspec.cli", "report", "--no-timing", "--no-progress",
             "--examples", str(EXAMPLES), "--workers", str(workers), "--out", str(out),
             "--primitive", *PRIMITIVES], {"SSMSPEC_WORKERS": str(workers)})


def _comparable(entries: list[dict]) -> list[dict]:
    return [{k: v for k, v in e.items() if k not in ("node", "time")} for e in entries]


def _sharp(entries: list[dict]) -> list[dict]:
    """A sharpness entry without its per-input seconds (a time, not a result)."""
    return [{**e, "inputs": [{k: v for k, v in i.items() if k != "seconds"}
                             for i in e["inputs"]]} for e in entries]


def test_report_two_workers_speedup(tmp_path, benchmark):
    best = _best_of({w: _report_cmd(w, tmp_path / f"w{w}") for w in (1, 2)}, warm=2)
    want, got = (json.loads((tmp_path / f"w{w}" / "report.json").read_text()) for w in (1, 2))
    assert _comparable(got["entries"]) == _comparable(want["entries"]), \
        "--workers 2 changed the entries"
    assert _sharp(got["realistic"]) == _sharp(want["realistic"])
    n = len(want["entries"]) + len(want["realistic"])
    _gate_speedup(benchmark, best, (1, "--workers 1"), (2, "--workers 2"),
                  f"report --no-timing, {n} entries", SPEEDUP_FLOOR, REPORT_EFFICIENCY)


def test_pytest_xdist_speedup(benchmark):
    pytest.importorskip("xdist", reason="pytest-xdist not installed")
    base = [sys.executable, "-m", "pytest", *XDIST_TESTS, "-k", XDIST_K, "-q",
            "-p", "no:randomly", "-p", "no:cacheprovider"]
    env = {"SSMSPEC_PROFILE": "ci", "SSMSPEC_WORKERS": "1"}
    best = _best_of({"serial": ([*base, "-n", "0"], env), "n2": ([*base, "-n", "2"], env)},
                    warm="n2")
    _gate_speedup(benchmark, best, ("serial", "-n 0"), ("n2", "-n 2"), "pytest subset",
                  XDIST_FLOOR, XDIST_EFFICIENCY)


def test_ray_overhead_per_target(benchmark):
    ray = pytest.importorskip("ray", reason="ray not installed (pip install 'ssmspec[ray]')")
    import torch

    ray.init(num_cpus=1, ignore_reinit_error=True, log_to_driver=False,
             include_dashboard=False)
    threads = torch.get_num_threads()
    # one torch thread on both sides, as a Ray task with num_cpus=1 has (OMP_NUM_THREADS=1)
    torch.set_num_threads(1)
    try:
        kwargs = dict(primitives=list(PRIMITIVES[:2]), examples=EXAMPLES, timing=False,
                      progress=False, realistic=None)
        report.build(plan=Plan(1, "ray"), **kwargs)  # warm: a Ray worker up, its imports done
        best, out = {"serial": float("inf"), "ray": float("inf")}, {}
        for _ in range(ROUNDS):
            for k, plan in (("serial", Plan(1)), ("ray", Plan(1, "ray"))):
                t0 = time.perf_counter()
                out[k] = report.build(plan=plan, **kwargs)
                best[k] = min(best[k], time.perf_counter() - t0)
    finally:
        torch.set_num_threads(threads)
        ray.shutdown()
    n = len(out["serial"]["entries"])
    assert _comparable(out["ray"]["entries"]) == _comparable(out["serial"]["entries"])
    serial, wide = best["serial"], best["ray"]
    overhead = (wide - serial) / serial
    benchmark.extra_info.update(serial_s=serial, ray_s=wide, targets=n, overhead=overhead)
    benchmark.pedantic(lambda: None, rounds=1)
    print(f"\n{n} targets (best of {ROUNDS}): serial {serial:.1f} s, Ray {wide:.1f} s: overhead "
          f"{100 * overhead:+.1f} % ({1e3 * (wide - serial) / n:+.0f} ms per target; {_load()})")
    assert overhead <= RAY_OVERHEAD_CEILING, (
        f"Ray costs {100 * overhead:.1f} % over the serial path per target "
        f"(ceiling {100 * RAY_OVERHEAD_CEILING:.0f} %)")

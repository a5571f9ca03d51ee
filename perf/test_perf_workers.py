"""Running wide, measured in one run (docs: README "Running wide").

- `report --workers 2` against `--workers 1` on the benchmark-free part of the report
  (`--no-timing --no-realistic`), each a fresh `ssmspec` process (worker start-up included, as a
  user pays it): gated at SPEEDUP_FLOOR = 1.6× on a 2-core machine with nothing else running.
  The entries must be equal apart from `node`.
- The Ray executor's overhead per target against the serial path, one worker each, the cluster
  already up (its start-up is a one-off, not a per-target cost): gated at RAY_OVERHEAD_CEILING =
  10 % of the serial time per target. Skipped without the `ray` extra.

The primitives are ones whose precision targets take long enough (tenths of a second each at
`EXAMPLES` inputs) that the measurement is of the work, not of process start-up.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time

import pytest

from ssmspec import report
from ssmspec.executor import Plan

SPEEDUP_FLOOR = 1.6
RAY_OVERHEAD_CEILING = 0.10
PRIMITIVES = ("linear_scan", "diag_kernel", "causal_conv", "discretize_diag")
EXAMPLES = 40


def _report(workers: int, tmp_path) -> tuple[float, list[dict]]:
    out = tmp_path / f"w{workers}"
    cmd = [sys.executable, "-m", "ssmspec.cli", "report", "--no-timing", "--no-realistic",
           "--no-progress", "--examples", str(EXAMPLES), "--workers", str(workers),
           "--out", str(out), "--primitive", *PRIMITIVES]
    env = {**os.environ, "SSMSPEC_WORKERS": str(workers)}
    t0 = time.perf_counter()
    subprocess.run(cmd, check=True, env=env, capture_output=True)
    elapsed = time.perf_counter() - t0
    entries = json.loads((out / "report.json").read_text())["entries"]
    return elapsed, entries


def _comparable(entries: list[dict]) -> list[dict]:
    return [{k: v for k, v in e.items() if k not in ("node", "time")} for e in entries]


def test_report_two_workers_speedup(tmp_path, benchmark):
    serial, want = _report(1, tmp_path)
    wide, got = _report(2, tmp_path)
    assert _comparable(got) == _comparable(want), "--workers 2 changed the entries"
    speedup = serial / wide
    benchmark.extra_info.update(serial_s=serial, workers2_s=wide, speedup=speedup,
                                entries=len(want))
    benchmark.pedantic(lambda: None, rounds=1)
    print(f"\nreport --no-timing on {len(want)} entries: --workers 1 {serial:.1f} s, "
          f"--workers 2 {wide:.1f} s: {speedup:.2f}×")
    assert speedup >= SPEEDUP_FLOOR, (
        f"--workers 2 only {speedup:.2f}× faster than --workers 1 (floor {SPEEDUP_FLOOR}×; "
        f"needs 2 idle cores)")


def test_ray_overhead_per_target(benchmark):
    ray = pytest.importorskip("ray", reason="ray not installed (pip install 'ssmspec[ray]')")
    ray.init(num_cpus=1, ignore_reinit_error=True, log_to_driver=False,
             include_dashboard=False)
    try:
        kwargs = dict(primitives=list(PRIMITIVES[:2]), examples=EXAMPLES, timing=False,
                      progress=False, realistic=None)
        report.build(plan=Plan(1, "ray"), **kwargs)  # warm: a Ray worker up, its imports done
        t0 = time.perf_counter()
        serial = report.build(plan=Plan(1), **kwargs)
        t1 = time.perf_counter()
        wide = report.build(plan=Plan(1, "ray"), **kwargs)
        t2 = time.perf_counter()
    finally:
        ray.shutdown()
    n = len(serial["entries"])
    assert _comparable(wide["entries"]) == _comparable(serial["entries"])
    overhead = ((t2 - t1) - (t1 - t0)) / (t1 - t0)
    benchmark.extra_info.update(serial_s=t1 - t0, ray_s=t2 - t1, targets=n, overhead=overhead)
    benchmark.pedantic(lambda: None, rounds=1)
    print(f"\n{n} targets: serial {t1 - t0:.1f} s, Ray {t2 - t1:.1f} s: overhead "
          f"{100 * overhead:+.1f} % ({1e3 * ((t2 - t1) - (t1 - t0)) / n:+.0f} ms per target)")
    assert overhead <= RAY_OVERHEAD_CEILING, (
        f"Ray costs {100 * overhead:.1f} % over the serial path per target "
        f"(ceiling {100 * RAY_OVERHEAD_CEILING:.0f} %)")

"""The precision/speed report: every target measured on the spec's own inputs, written as
`report.json` (schema `ssmspec.report/1`, see `ssmspec/schema/report-v1.json`) and `report.md`.

For each (primitive, implementation, method, dtype, device):
- precision: `examples` inputs drawn (derandomized, so two runs see the same inputs) from the
  spec's strategy; the maximum err/bound and ulps over them, and the worst input;
- speed: the spec's benchmark-size input, `repeats` timings (each the mean of enough calls to
  last ≥ 20 ms), so a later comparison can tell a slowdown from noise.

The precision part of every target is one task of an `ssmspec.executor.Plan`: in this process,
in worker processes on this machine (`--workers N`) or on a Ray cluster (`--executor ray`); the
entries are the same whichever (the inputs are derandomized), apart from `node`, the host that
ran each. The sharpness section's (primitive, method) pairs at shipping sizes are tasks of the
same run (their `seconds` per input are how long the check took, beside the other workers: not
benchmarks). The timings then run here, one after another, after the workers are done: a timed
call never shares the machine with a busy worker. A target whose worker died or timed out twice is
an entry with `error` set (and `passed` false), never dropped.

The tasks start costliest first: each one's cost is the time it took in the last run on this
machine (recorded in `~/.cache/ssmspec/report-costs.json`, or under $XDG_CACHE_HOME), so the two
longest are not left for the end; a task never timed yet is estimated as the longest recorded one
(a sharpness pair, at shipping sizes, as the longest of all).
"""

from __future__ import annotations

import dataclasses
import datetime as _dt
import json
import math
import os
import platform
import statistics
import sys
from pathlib import Path

import numpy as np
import torch

from ssmspec import __version__, harness, registry, sharpness
from ssmspec.executor import Plan, Task

SCHEMA = "ssmspec.report/1"
SCHEMA_FILE = Path(__file__).with_name("schema") / "report-v1.json"


def _finite(x: float) -> float | None:
    return float(x) if math.isfinite(x) else None


def _device_name(device: str) -> str:
    if device.startswith("cuda") and torch.cuda.is_available():
        return torch.cuda.get_device_name(torch.device(device))
    return platform.processor() or platform.machine()


class Progress:
    """A one-line progress bar on a terminal's stderr; silent elsewhere."""

    def __init__(self, total: int, enabled: bool | None = None, stream=sys.stderr):
        self.total, self.done, self.stream = total, 0, stream
        self.enabled = stream.isatty() if enabled is None else enabled

    def step(self, label: str) -> None:
        self.done += 1
        if not self.enabled:
            return
        width = 30
        filled = int(width * self.done / max(self.total, 1))
        bar = "#" * filled + "." * (width - filled)
        self.stream.write(f"\r[{bar}] {self.done}/{self.total} {label:<55.55s}")
        if self.done == self.total:
            self.stream.write("\n")
        self.stream.flush()


def measure_target(t: registry.Target, examples: int, repeats: int, timing: bool = True) -> dict:
    """One report entry (see the schema) for target `t`."""
    entry = measure_precision(t, examples)
    if timing:
        add_timing(entry, t, repeats)
    return entry


def measure_precision(t: registry.Target, examples: int) -> dict:
    """The entry of target `t` without its time: err/bound, ulps and the worst of `examples`
    derandomized inputs."""
    cases = harness.sample(t.spec.strategy(t.dtype, t.method), examples)
    worst_m, worst_c, max_ulps, tiers = None, None, 0.0, set()
    for case in cases:
        tiers.add(t.spec.reference_tier(case))
        m = harness.evaluate(t.spec, t.impl.fn, case, t.method, t.device)
        max_ulps = max(max_ulps, m.max_ulps)
        if worst_m is None or m.max_ratio > worst_m.max_ratio:
            worst_m, worst_c = m, case
    entry = {
        "primitive": t.spec.name,
        "implementation": t.impl.name,
        "method": t.method,
        "dtype": t.dtype,
        "device": t.device,
        "reference": sorted(tiers),
        "examples": len(cases),
        "max_err_over_bound": _finite(worst_m.max_ratio),
        "max_ulps": _finite(max_ulps),
        "passed": bool(worst_m.passed),
        "raised": worst_m.raised,
        "worst": None,
        "time": None,
    }
    w = worst_m.worst
    if w is not None:
        entry["worst"] = {
            "output": w.name,
            "index": list(w.index),
            "err": _finite(w.err),
            "bound": _finite(w.bound),
            "reference_value": repr(w.value),
            "input": worst_c.summary(),
        }
    elif worst_m.raised:
        entry["worst"] = {"output": None, "index": [], "err": None, "bound": None,
                          "reference_value": None, "input": worst_c.summary()}
    return entry


def add_timing(entry: dict, t: registry.Target, repeats: int) -> None:
    """`repeats` timings of target `t` on the spec's benchmark input into `entry["time"]`; a
    crash there fails the entry (a finding, not a crashed report)."""
    bench = t.spec.bench_for(t.dtype, t.method)
    try:
        times = harness.time_call(lambda: t.spec.call(t.impl.fn, bench, t.method, t.device),
                                  t.device, repeats=repeats)
    except Exception as exc:  # noqa: BLE001 - a crash on the benchmark input is a finding
        entry["passed"] = False
        entry["raised"] = (entry["raised"]
                           or f"on the benchmark input: {type(exc).__name__}: {exc}")
        return
    entry["time"] = {
        "shape": t.spec.bench_shape,
        "repeats_s": times,
        "median_s": statistics.median(times),
        "min_s": min(times),
    }


def _report_task(kind: str, *args) -> dict:
    """One task of a report, run where the plan puts it (a worker rebuilds what it needs from the
    registry: targets hold functions, which do not cross processes):
    ("precision", target id, device, examples): measure_precision of that target;
    ("sharpness", primitive, method, device, examples): its sharpness entry."""
    if kind == "precision":
        target_id, device, examples = args
        (t,) = [t for t in registry.targets(devs=[device]) if t.id == target_id]
        return measure_precision(t, examples)
    primitive, method, device, examples = args
    impl = registry.implementation(primitive, "torch")
    return sharpness.measure(registry.spec(primitive), impl, method, device, examples)


def _costs_file() -> Path:
    base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return base / "ssmspec" / "report-costs.json"


def recorded_costs() -> dict[str, float]:
    """Task label -> seconds it took in the last report on this machine ({} if none)."""
    try:
        data = json.loads(_costs_file().read_text())
    except (OSError, ValueError):
        return {}
    return {k: float(v) for k, v in data.items() if isinstance(v, int | float)}


def _record_costs(outcomes) -> None:
    """Add the outcomes' times to the recorded costs (best effort: a read-only home is fine)."""
    costs = recorded_costs()
    costs.update({o.label: round(o.seconds, 3) for o in outcomes if o.ok and o.seconds > 0})
    try:
        _costs_file().parent.mkdir(parents=True, exist_ok=True)
        _costs_file().write_text(json.dumps(costs, indent=0, sort_keys=True))
    except OSError:
        pass


def _with_costs(tasks: list[Task]) -> list[Task]:
    """`tasks` with their recorded costs; one never timed costs the longest recorded (a
    sharpness one: twice that), so the unknown start early rather than end the run alone."""
    known = recorded_costs()
    top = max(known.values(), default=1.0)
    return [dataclasses.replace(t, cost=known.get(t.label, top * (2 if t.fn_args[0] ==
                                                                   "sharpness" else 1)))
            for t in tasks]


def _error_entry(t: registry.Target, examples: int, error: str) -> dict:
    """The entry of a target whose task was lost (its worker died, it timed out) or crashed."""
    return {"primitive": t.spec.name, "implementation": t.impl.name, "method": t.method,
            "dtype": t.dtype, "device": t.device, "reference": [], "examples": examples,
            "max_err_over_bound": None, "max_ulps": None, "passed": False, "raised": None,
            "worst": None, "time": None, "error": error}


def _sharpness_error_entry(spec, method: str, device: str, error: str) -> dict:
    """The sharpness entry of a (primitive, method) whose task was lost or crashed."""
    return {"primitive": spec.name, "implementation": "torch", "method": method,
            "dtype": sharpness.sharpness_format(spec, method), "device": device,
            "sharpness": math.inf, "goal": sharpness.GOAL, "sharp": False, "passed": False,
            "explained": sharpness.explained(spec.name, method), "error": error,
            "inputs": [{"input": "benchmark", "shape": "", "err_over_bound": math.inf,
                        "passed": False, "raised": error, "seconds": 0.0}]}


def _entries(targets, sharp, device: str, examples: int, repeats: int, timing: bool,
             realistic: int, plan: Plan, bar) -> tuple[list[dict], list[dict]]:
    """The precision part of every target and the sharpness entry of every (spec, impl, method)
    of `sharp` through `plan`, in one run (costliest first); then (with `timing`) each timing
    here, one after another once the workers are done, so no timed call shares the machine."""
    tasks = [Task(f"{t.spec.name} {t.method} {t.dtype} {t.impl.name}",
                  ("precision", t.id, t.device, examples), t.device) for t in targets]
    tasks += [Task(f"{spec.name} {method} (realistic)",
                   ("sharpness", spec.name, method, device, realistic), device)
              for spec, _, method in sharp]
    outcomes = plan.map(_report_task, _with_costs(tasks), bar.step)
    _record_costs(outcomes)
    out = []
    for t, o in zip(targets, outcomes):
        entry = o.value if o.ok else _error_entry(t, examples, o.error)
        entry["node"] = o.node
        out.append(entry)
    sharp_entries = [o.value if o.ok else _sharpness_error_entry(spec, method, device, o.error)
                     for (spec, _, method), o in zip(sharp, outcomes[len(targets):])]
    if timing:
        for t, entry in zip(targets, out):
            if "error" not in entry:
                add_timing(entry, t, repeats)
    return out, sharp_entries


def build(primitives=None, impls=None, methods=None, dtypes=None, device: str = "cpu",
          examples: int = 20, repeats: int = 7, timing: bool = True,
          progress: bool | None = None, jobs: int = 1, realistic: int | None = 1,
          plan: Plan | None = None) -> dict:
    """Measure every selected target on `device`; the report as a JSON-ready dict. `plan`: how
    the precision part runs (`ssmspec.executor`; default: `jobs` local worker processes; see the
    module docstring). `realistic`:
    realistic-regime inputs per (primitive, method) of the sharpness section (None: no section).
    """
    targets = registry.targets(primitives, impls, methods, dtypes, [device])
    sharp = []
    if realistic is not None and (not impls or "torch" in impls):
        sharp = sharpness.targets(primitives, methods)
    plan = plan or Plan(jobs)
    bar = Progress(len(targets) + len(sharp), progress)
    entries, realistic_entries = _entries(targets, sharp, device, examples, repeats,
                                          timing, realistic or 0, plan, bar)
    if not sharp:
        realistic_entries = None
    out = {
        "schema": SCHEMA,
        "created": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
        "environment": {
            "ssmspec": __version__,
            "torch": torch.__version__,
            "numpy": np.__version__,
            "python": platform.python_version(),
            "platform": platform.platform(),
            "device": device,
            "device_name": _device_name(device),
            "threads": torch.get_num_threads(),
            "profile": os.environ.get("SSMSPEC_PROFILE", "ci"),
        },
        "settings": {"examples": examples, "repeats": repeats, "timing": timing,
                     "workers": plan.workers, "executor": plan.kind},
        "entries": entries,
        "summary": {
            "entries": len(entries),
            "passed": sum(e["passed"] for e in entries),
            "failed": sum(not e["passed"] for e in entries),
        },
    }
    if realistic_entries is not None:
        out["realistic"] = realistic_entries
        out["settings"]["realistic_examples"] = realistic
        out["summary"]["below_goal"] = sum(not e["sharp"] for e in realistic_entries)
        out["summary"]["failed_realistic"] = sum(not e["passed"] for e in realistic_entries)
    return out


def _fmt(x, spec=".3g") -> str:
    return "—" if x is None else format(x, spec)


def _time(t: dict | None) -> str:
    if not t:
        return "—"
    s = t["median_s"]
    return f"{s * 1e6:.1f} µs" if s < 1e-3 else f"{s * 1e3:.2f} ms"


def to_markdown(report: dict) -> str:
    env = report["environment"]
    s = report["summary"]
    lines = [
        "# ssmspec report",
        "",
        f"{report['created']} · ssmspec {env['ssmspec']} · torch {env['torch']} · "
        f"{env['device']} ({env['device_name']}) · {report['settings']['examples']} inputs per "
        f"entry · profile {env['profile']}",
        "",
        f"**{s['passed']} of {s['entries']} entries within their bounds**"
        + (f", **{s['failed']} failing**" if s["failed"] else "") + ".",
        "",
        "err/bound ≤ 1 passes (the spec's a-priori bound c·u·g·M); ulps are in the output's "
        "format; time is the median over repeats on the spec's benchmark input.",
    ]
    by_prim: dict[str, list] = {}
    for e in report["entries"]:
        by_prim.setdefault(e["primitive"], []).append(e)
    for prim, rows in by_prim.items():
        lines += ["", f"## {prim}", "",
                  "| method | dtype | impl | max err/bound | max ulps | pass | time | bench |",
                  "|---|---|---|---:|---:|:-:|---:|---|"]
        for e in rows:
            ok = "✓" if e["passed"] else ("✗ error" if e.get("error") else
                                          "✗ raised" if e["raised"] else "✗")
            lines.append(
                f"| {e['method']} | {e['dtype']} | {e['implementation']} | "
                f"{_fmt(e['max_err_over_bound'])} | {_fmt(e['max_ulps'])} | {ok} | "
                f"{_time(e['time'])} | {(e['time'] or {}).get('shape', '')} |"
            )
        bad = [e for e in rows if not e["passed"]]
        for e in bad:
            lines += ["", f"- worst input of {e['method']}/{e['dtype']}/{e['implementation']}: "
                          f"`{json.dumps(e['worst'])}`" + (f" raised `{e['raised']}`"
                                                          if e["raised"] else "")
                          + (f" error `{e['error']}` on {e['node'] or '?'}"
                             if e.get("error") else "")]
    if report.get("realistic"):
        lines += sharpness.to_markdown(report["realistic"])
    if report.get("sweeps"):
        lines += _sweeps_markdown(report["sweeps"])
    if report.get("selftest"):
        lines += ["", "## Self-test: mutation score", "",
                  "| primitive | caught / mutants | score |", "|---|---:|---:|"]
        for prim, sc in report["selftest"]["scores"].items():
            lines.append(f"| {prim} | {sc['caught']} / {sc['total']} | {sc['score']:.0%} |")
        missed = [m for m in report["selftest"]["mutants"] if not m["caught"]]
        for m in missed:
            lines.append(f"- missed: {m['primitive']}/{m['name']} ({m['why']})")
    return "\n".join(lines) + "\n"


def _sweeps_markdown(rows: list[dict]) -> list[str]:
    """Per primitive: the plot, and err/bound and |error|/M at the axis' ends with the growth."""
    lines = ["", "## Precision (and time) along L or Δ", ""]
    groups: dict[tuple, list] = {}
    for r in rows:
        groups.setdefault((r["primitive"], r["axis"]), []).append(r)
    for (prim, axis), rs in groups.items():
        png = f"{prim}-{'L' if axis == 'L' else 'dt'}.png"
        lines += [f"### {prim} against {axis}", "", f"![{prim}]({png})", "",
                  f"| method | dtype | {axis} range | err/bound (first → last) | "
                  "|error|/M (first → last) | time (first → last) |",
                  "|---|---|---|---:|---:|---:|"]
        keys = sorted({(r["method"], r["dtype"]) for r in rs})
        for method, fmt in keys:
            sel = sorted((r for r in rs if r["method"] == method and r["dtype"] == fmt),
                         key=lambda r: r["x"])
            a, b = sel[0], sel[-1]
            t = (f"{a['time_s'] * 1e3:.3g} → {b['time_s'] * 1e3:.3g} ms"
                 if a.get("time_s") and b.get("time_s") else "—")
            lines.append(f"| {method} | {fmt} | {a['x']:.3g} … {b['x']:.3g} | "
                         f"{_fmt(a['max_err_over_bound'])} → {_fmt(b['max_err_over_bound'])} | "
                         f"{_fmt(a['max_err_over_M'])} → {_fmt(b['max_err_over_M'])} | {t} |")
        lines.append("")
    return lines


def write(report: dict, out_dir: str | os.PathLike) -> tuple[Path, Path]:
    """Write report.json and report.md into `out_dir` (created if missing)."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    j, m = out / "report.json", out / "report.md"
    j.write_text(json.dumps(_json_safe(report), indent=1, allow_nan=False) + "\n")
    m.write_text(to_markdown(report))
    return j, m


def _json_safe(x):
    """inf/NaN (a sweep point where an implementation raised or overflowed) as null."""
    if isinstance(x, float) and not math.isfinite(x):
        return None
    if isinstance(x, dict):
        return {k: _json_safe(v) for k, v in x.items()}
    if isinstance(x, list | tuple):
        return [_json_safe(v) for v in x]
    return x


def load(path: str | os.PathLike) -> dict:
    """Read a report.json, checking its schema name."""
    data = json.loads(Path(path).read_text())
    if data.get("schema") != SCHEMA:
        raise ValueError(f"report: expected schema {SCHEMA!r}, got {data.get('schema')!r}")
    return data

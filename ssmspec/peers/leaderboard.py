"""`ssmspec peers`: every registered peer importable here, checked and timed in one run.

For each peer function (`ssmspec.peers.known()`) that can run on the device: `ssmspec.check`
inside its declared scope (the search on every (method, format) it covers, and the laws; no
bad-input checks: a peer's argument validation is not its numerics), then a timing of the peer
and of ssmspec's built-in (`torch`) on the primitive's benchmark input (`Spec.bench_for`, fp32,
less the features the peer lacks), measured in the same run on one thread in alternating blocks, the
ratio that of the fastest blocks, with the range of the per-pair ratios and the load average
beside it. Writes `peers.json` (schema `ssmspec/schema/peers-v1.json`) and `peers.md`: one row
per (peer function, primitive, method, format).
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import torch

from ssmspec import __version__, check, harness, registry, scope
from ssmspec.executor import Plan, Task
from ssmspec.peers import PINS, TIMING, availability, known, load
from ssmspec.peers.records import Peer
from ssmspec.spec import Case

SCHEMA = "ssmspec.peers/1"
SCHEMA_FILE = Path(__file__).parents[1] / "schema" / "peers-v1.json"
BENCH_FORMAT = "fp32"


def _block(thunk, n: int, device: str) -> float:
    """Seconds per call of `thunk` over a loop of `n` calls."""
    t0 = time.perf_counter()
    for _ in range(n):
        thunk()
    harness._sync(device)
    return (time.perf_counter() - t0) / n


def paired_times(peer, builtin, device: str, repeats: int = 5, min_time: float = 0.05) -> dict:
    """Seconds per call of `peer` and `builtin` (thunks), measured in alternating blocks (peer,
    built-in, peer, …; each block a loop of at least `min_time`), so that a change of the
    machine's load falls on both alike. `peer_s`/`builtin_s` are the fastest block of each (on
    a shared machine other jobs only ever add time: the fastest block is the least disturbed),
    `ratio` = peer_s / builtin_s, and `ratio_lo`/`ratio_hi` the range of the `repeats`
    per-pair ratios (how much the load moved them)."""
    inner = []
    for f in (peer, builtin):
        f()  # warm-up: allocation, first launch
        inner.append(max(1, int(min_time / max(_block(f, 1, device), 1e-7))))
    ps, bs = [], []
    for _ in range(repeats):
        ps.append(_block(peer, inner[0], device))
        bs.append(_block(builtin, inner[1], device))
    ratios = sorted(p / b for p, b in zip(ps, bs))
    return {"peer_s": min(ps), "builtin_s": min(bs), "ratio": min(ps) / min(bs),
            "ratio_lo": ratios[0], "ratio_hi": ratios[-1], "pairs": repeats}


def scoped_bench(spec, peer: Peer, method: str) -> tuple[Case, list[str]]:
    """The benchmark input (fp32) without the optional features `peer` declares it lacks (the
    array dropped, the flag off), and their names: peer and built-in are both timed on it, so
    that neither does work the other skips. A feature that is neither (a layout) stays, and the
    guarded call then says the input is outside the scope."""
    case = spec.bench_for(BENCH_FORMAT, method)
    arrays, params, dropped = dict(case.arrays), dict(case.params), []
    for name in peer.without:
        if name in arrays:
            del arrays[name]
            dropped.append(name)
        elif params.get(name) is True:
            params[name] = False
            dropped.append(name)
    return Case(arrays, case.dtype, params), dropped


def time_against_builtin(peer: Peer, impl, method: str, device: str, repeats: int = 5) -> dict:
    """The peer's and the built-in's seconds per call on the benchmark input (`scoped_bench`),
    by `paired_times` on one torch thread (ratio > 1: the peer is slower), with the machine's
    load average before and after; an `error` if the peer raised on it."""
    spec = registry.spec(peer.primitive)
    case, dropped = scoped_bench(spec, peer, method)
    out = {"input": spec.bench_shape + (f"; without {', '.join(dropped)}" if dropped else ""),
           "dtype": BENCH_FORMAT, "method": method, "threads": 1}
    fn, builtin = scope.guarded(spec, impl), registry.implementation(peer.primitive, "torch").fn
    load_before = os.getloadavg()[0]
    token, threads = TIMING.set(True), torch.get_num_threads()
    # one thread each: on a shared machine a multi-threaded call waits for its slowest thread,
    # which scatters the times far more than the load itself (measured: ranges of 0.3–3.4×)
    torch.set_num_threads(1)
    try:
        out.update(paired_times(lambda: spec.call(fn, case, method, device),
                                lambda: spec.call(builtin, case, method, device),
                                device, repeats))
    except Exception as exc:  # noqa: BLE001 - a peer raising on the benchmark input is reported
        out["error"] = harness.describe_exception(exc)
    finally:
        TIMING.reset(token)
        torch.set_num_threads(threads)
    out["load"] = [round(load_before, 2), round(os.getloadavg()[0], 2)]
    return out


def _rows(peer: Peer, res: check.CheckResult, timing: dict | None) -> list[dict]:
    laws = [{"name": o.name, "error": o.error} for o in res.outcomes
            if o.kind == "law" and not o.passed]
    return [{
        "library": peer.library, "function": peer.function, "primitive": peer.primitive,
        "method": s.method, "dtype": s.dtype, "verdict": "pass" if s.passed else "fail",
        "examples": s.examples, "counts": dict(s.counts),
        "worst_finite_err_over_bound": s.worst_finite,
        "failures": [{"class": c.key, "count": c.count, "diagnosis": c.diagnosis,
                      "input": c.witness.summary()} for c in s.classes.values()],
        "laws_failed": laws,
        "time": timing if timing and timing["method"] == s.method else None,
    } for s in res.searches]


def check_peer(peer: Peer, device: str, examples: int) -> list[dict]:
    """The rows of one peer function's check (no timing): one task of the run, which imports the
    peer in whichever process runs it."""
    load(peer.library)
    res = check.check(peer.primitive, peer.implementation(), device=device, examples=examples,
                      bad_inputs=False)
    return _rows(peer, res, None)


def build(device: str = "cpu", examples: int = 10, libraries=None, progress=None,
          repeats: int = 5, timing: bool = True, plan: Plan | None = None) -> dict:
    """The leaderboard as data (see the module docstring). The checks run through `plan` (one
    task per peer function; default: one after another here); the timings then run one at a
    time in this process, never beside a busy worker."""
    chosen, skipped = [], []
    for peer in known():
        if libraries and peer.library not in libraries:
            continue
        why = availability(peer, device)
        if why is None:
            chosen.append(peer)
            continue
        skipped.append({"library": peer.library, "function": peer.function,
                        "primitive": peer.primitive, "reason": why})
        if progress:
            progress(f"{peer.function} (skipped)")
    tasks = [Task(p.function, (p, device, examples), device) for p in chosen]
    rows = []
    for peer, o in zip(chosen, (plan or Plan(1)).map(check_peer, tasks, progress)):
        if not o.ok:
            skipped.append({"library": peer.library, "function": peer.function,
                            "primitive": peer.primitive, "reason": f"check lost: {o.error}"})
            continue
        if timing:
            load(peer.library)
            t = time_against_builtin(peer, peer.implementation(), peer.methods[0], device,
                                     repeats)
            for r in o.value:
                r["time"] = t if r["method"] == t["method"] else None
        rows += o.value
    return {"schema": SCHEMA, "ssmspec": __version__, "device": device, "examples": examples,
            "pins": {k: v[0] for k, v in PINS.items()}, "rows": rows, "skipped": skipped}


def _cell(row: dict) -> str:
    t = row["time"]
    if not t:
        return ""
    if "error" in t:
        return f"raised: {t['error'][:60]}"
    spread = (f" ({t['ratio_lo']:.2g}–{t['ratio_hi']:.2g})" if "ratio_lo" in t else "")
    return f"{t['ratio']:.3g}×{spread}"


def _kinds(row: dict) -> str:
    return ", ".join(sorted({f["class"].split(":")[0] for f in row["failures"]}))


def laws_failed(rows: list[dict]) -> list[str]:
    """The laws a peer function fails (`name (format)`), sorted, from its rows."""
    return sorted({x["name"] for r in rows for x in r["laws_failed"]})


def findings(board: dict) -> str:
    """One line per (peer function, primitive): the formats that pass and fail, the worst finite
    err/bound, the laws it fails, the time against the built-in, and the command that
    reproduces it (README's Findings table)."""
    out = ["| peer function | primitive | passes | fails (failure kinds; worst finite "
           "err/bound) | laws failed | time vs built-in | reproduce |",
           "|---|---|---|---|---|---|---|"]
    seen: dict[tuple, list[dict]] = {}
    for r in board["rows"]:
        seen.setdefault((r["function"], r["primitive"]), []).append(r)
    for (fn, prim), rows in seen.items():
        ok = [r["dtype"] for r in rows if r["verdict"] == "pass"]
        bad = [f"{r['dtype']} ({_kinds(r)}; {r['worst_finite_err_over_bound']:.2g})"
               for r in rows if r["verdict"] == "fail"]
        out.append(f"| `{fn}` | {prim} | {', '.join(ok) or '—'} | {', '.join(bad) or '—'} | "
                   f"{', '.join(laws_failed(rows)) or '—'} | {_cell(rows[0])} | "
                   f"`ssmspec check {prim} {fn}` |")
    return "\n".join(out) + "\n"


MARKERS = ("<!-- peers-findings -->", "<!-- /peers-findings -->")


def with_findings(text: str, board: dict) -> str:
    """`text` (README.md) with the table between its `MARKERS` replaced by `findings(board)`;
    ValueError naming the markers if `text` lacks them."""
    start, end = MARKERS
    head, sep1, rest = text.partition(start)
    _, sep2, tail = rest.partition(end)
    if not (sep1 and sep2):
        raise ValueError(f"text: expected the markers {start} and {end}, not found")
    return f"{head}{start}\n{findings(board)}{end}{tail}"


def findings_in(text: str) -> str:
    """The table between `MARKERS` in `text` (README.md), as `findings` writes it."""
    start, end = MARKERS
    if start not in text or end not in text:
        raise ValueError(f"text: expected the markers {start} and {end}, not found")
    return text.split(start, 1)[1].split(end, 1)[0].lstrip("\n")


def to_markdown(board: dict) -> str:
    """peers.md: the findings per function, the rows, then the peers not checked here."""
    out = [f"# ssmspec peers ({board['device']}, {board['examples']} inputs per target)", "",
           findings(board), "",
           "| peer function | primitive | method | format | verdict | worst finite err/bound "
           "| failure classes (diagnosis) | time vs built-in (fp32 benchmark) |",
           "|---|---|---|---|---|---|---|---|"]
    for r in board["rows"]:
        fails = "; ".join(f"{f['class'][:80]} ×{f['count']}"
                          + (f" ({f['diagnosis'][:80]})" if f["diagnosis"] else "")
                          for f in r["failures"])
        laws = "; ".join(f"law {x['name']}" for x in r["laws_failed"])
        out.append(f"| `{r['function']}` | {r['primitive']} | {r['method']} | {r['dtype']} | "
                   f"{r['verdict'].upper()} | {r['worst_finite_err_over_bound']:.3g} | "
                   f"{'; '.join(x for x in (fails, laws) if x)} | {_cell(r)} |")
    if board["skipped"]:
        out += ["", "Not checked here:", ""]
        out += [f"- `{s['function']}` ({s['primitive']}): {s['reason']}" for s in board["skipped"]]
    return "\n".join(out) + "\n"


def read(path: str | os.PathLike) -> dict:
    """A peers.json written by `write`; ValueError naming the file if its schema is not ours."""
    try:
        board = json.loads(Path(path).read_text())
    except json.JSONDecodeError as exc:
        raise ValueError(f"{path}: expected a peers.json, got text that is not JSON "
                         f"({exc})") from exc
    if not isinstance(board, dict) or board.get("schema") != SCHEMA:
        got = board.get("schema") if isinstance(board, dict) else type(board).__name__
        raise ValueError(f"{path}: expected a peers.json of schema {SCHEMA}, got {got!r}")
    return board


def write(board: dict, out_dir: str | os.PathLike) -> tuple[Path, Path]:
    d = Path(out_dir)
    d.mkdir(parents=True, exist_ok=True)
    j, m = d / "peers.json", d / "peers.md"
    j.write_text(json.dumps(board, indent=2, default=str))
    m.write_text(to_markdown(board))
    return j, m

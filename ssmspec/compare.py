"""`ssmspec compare BASE.json HEAD.json`: what got worse between two reports.

Entries are matched by (primitive, implementation, method, dtype, device).

Precision. A regression is called when HEAD's max err/bound exceeds BASE's by more than the
factor R (`--max-precision-regression`, default 2) and HEAD's is at least 0.01 (below that both are
far inside the bound and the ratio is rounding noise), or when an entry that passed now fails.
Both runs draw the same derandomized inputs, so err/bound moves only when the code does.

Speed. Each report records `repeats` timings per entry. A slowdown is called only when the
median ratio HEAD/BASE exceeds S (`--max-slowdown`, default 1.25) AND the runs' timings are
separated: HEAD's fastest repeat is slower than BASE's slowest times S' = 1 + (S − 1)/2. Two runs
of the same code on a noisy machine overlap, so they are never flagged; a real slowdown shifts
every repeat.
"""

from __future__ import annotations

import json
import statistics
from dataclasses import dataclass
from pathlib import Path

PRECISION_FLOOR = 0.01


@dataclass
class Row:
    key: tuple
    base_ratio: float | None
    head_ratio: float | None
    base_pass: bool | None
    head_pass: bool | None
    base_time: float | None
    head_time: float | None
    precision_regression: bool = False
    slowdown: bool = False
    note: str = ""

    @property
    def time_ratio(self) -> float | None:
        if self.base_time and self.head_time:
            return self.head_time / self.base_time
        return None


def _load(path) -> dict:
    data = json.loads(Path(path).read_text())
    if not str(data.get("schema", "")).startswith("ssmspec.report/"):
        raise ValueError(f"{path}: not an ssmspec report (schema {data.get('schema')!r})")
    return data


def _key(e: dict) -> tuple:
    return (e["primitive"], e["implementation"], e["method"], e["dtype"], e["device"])


def _ratio(e: dict) -> float:
    r = e.get("max_err_over_bound")
    return float("inf") if r is None else float(r)


def _slow(base: dict | None, head: dict | None, S: float) -> tuple[bool, str]:
    if not base or not head:
        return False, ""
    b, h = base.get("repeats_s") or [], head.get("repeats_s") or []
    if not b or not h:
        return False, ""
    ratio = statistics.median(h) / statistics.median(b)
    separated = min(h) > max(b) * (1 + (S - 1) / 2)
    if ratio > S and separated:
        return True, f"{ratio:.2f}× slower, outside the repeats' spread"
    if ratio > S:
        return False, f"{ratio:.2f}× slower by the median, within the repeats' spread (noise)"
    return False, ""


def compare(base_path, head_path, max_precision_regression: float = 2.0,
            max_slowdown: float = 1.25) -> list[Row]:
    """The matched rows, each marked with the regressions it shows."""
    if max_precision_regression < 1 or max_slowdown < 1:
        raise ValueError("thresholds: expected --max-precision-regression and --max-slowdown "
                         ">= 1")
    base = {_key(e): e for e in _load(base_path)["entries"]}
    head = {_key(e): e for e in _load(head_path)["entries"]}
    rows = []
    for key in sorted(set(base) | set(head), key=str):
        b, h = base.get(key), head.get(key)
        row = Row(key,
                  _ratio(b) if b else None, _ratio(h) if h else None,
                  b["passed"] if b else None, h["passed"] if h else None,
                  (b.get("time") or {}).get("median_s") if b else None,
                  (h.get("time") or {}).get("median_s") if h else None)
        if b is None:
            row.note = "new in HEAD"
        elif h is None:
            row.note = "missing in HEAD"
        else:
            if b["passed"] and not h["passed"]:
                row.precision_regression, row.note = True, "now fails its bound"
            elif (row.head_ratio >= PRECISION_FLOOR
                  and row.head_ratio > max_precision_regression * row.base_ratio):
                row.precision_regression = True
                row.note = f"err/bound {row.head_ratio / max(row.base_ratio, 1e-300):.3g}× worse"
            row.slowdown, note = _slow(b.get("time"), h.get("time"), max_slowdown)
            row.note = "; ".join(x for x in (row.note, note) if x)
        rows.append(row)
    return rows


def _fmt(x: float | None, spec: str = ".3g") -> str:
    return "—" if x is None else format(x, spec)


def to_markdown(rows: list[Row], base_path, head_path) -> str:
    lines = [f"# ssmspec compare: {base_path} → {head_path}", ""]
    by_prim: dict[str, list[Row]] = {}
    for r in rows:
        by_prim.setdefault(r.key[0], []).append(r)
    for prim, rs in by_prim.items():
        lines += [f"## {prim}", "",
                  "| impl | method | dtype | device | err/bound base | err/bound head | "
                  "time base | time head | head/base | flag |",
                  "|---|---|---|---|---:|---:|---:|---:|---:|---|"]
        for r in rs:
            flags = []
            if r.precision_regression:
                flags.append("**precision regression**")
            if r.slowdown:
                flags.append("**slowdown**")
            flag = " ".join(flags) + (f" {r.note}" if r.note else "")
            tb = None if r.base_time is None else r.base_time * 1e3
            th = None if r.head_time is None else r.head_time * 1e3
            _, impl, method, dtype, device = r.key
            lines.append(f"| {impl} | {method} | {dtype} | {device} | {_fmt(r.base_ratio)} | "
                         f"{_fmt(r.head_ratio)} | {_fmt(tb, '.3f')} ms | {_fmt(th, '.3f')} ms | "
                         f"{_fmt(r.time_ratio, '.2f')} | {flag.strip()} |")
        lines.append("")
    n_p = sum(r.precision_regression for r in rows)
    n_s = sum(r.slowdown for r in rows)
    lines.append(f"**{n_p} precision regression(s), {n_s} slowdown(s)** over {len(rows)} "
                 "entries.")
    return "\n".join(lines)

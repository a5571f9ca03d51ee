"""What the nightly profile costs, per primitive: `python -m ssmspec.nightly_cost` (`tox -e
nightly-cost`).

It runs the property tests (`properties/`) serially under a hypothesis profile (default `ci`,
30 examples per property) with pytest's `--durations=0`, attributes each test's time to its
primitive (the test's parameter id starts with the primitive's name), and prints a table:
primitive, seconds measured, seconds estimated under `nightly`, share of the estimated total.

The estimate scales the tests whose work grows with the profile's examples per property
(`SCALED`: the conformance search and the laws) by nightly/measured examples
(`profiles.EXAMPLES[...]["property"]`, 500/30 from `ci`), and keeps the others as measured (a
mutant's witness, a bad input, a dtype check: the same work under any profile; the mutant search
draws a fixed 500). It is an estimate: hypothesis under `nightly` is random, not derandomized,
and stops a property early only on a failure. One process, one core: seconds are CPU-seconds.

    python -m ssmspec.nightly_cost [--profile ci|dev|smoke] [--primitive NAME ...]
                                   [--durations FILE]   # parse a saved pytest output instead
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from ssmspec import profiles

# test functions whose work is proportional to the profile's examples per property
SCALED = ("test_within_bound", "test_law")
OTHER = "(no primitive)"

_LINE = re.compile(r"^\s*(?P<s>\d+(?:\.\d+)?)s\s+(?P<phase>setup|call|teardown)\s+(?P<id>\S.*)$")


@dataclass(frozen=True)
class Duration:
    """One row of pytest's `--durations` report: `seconds` of `phase` of test `nodeid`."""

    nodeid: str
    phase: str
    seconds: float


@dataclass(frozen=True)
class Cost:
    """One primitive's row: `measured` seconds under the profile run, `nightly` estimated
    seconds, `share` of the estimated total (0..1), `tests` counted."""

    primitive: str
    measured: float
    nightly: float
    share: float
    tests: int


def parse_durations(text: str) -> list[Duration]:
    """The rows of pytest's `--durations` section in `text` (any other line is ignored)."""
    out = []
    for line in text.splitlines():
        m = _LINE.match(line)
        if m:
            out.append(Duration(m["id"].strip(), m["phase"], float(m["s"])))
    return out


def primitive_of(nodeid: str, names) -> str:
    """The primitive a property test belongs to: the longest of `names` that its parameter id
    (inside [...]) equals or starts with followed by '-' (OTHER if none: a test not per
    primitive)."""
    param = nodeid[nodeid.find("[") + 1:-1] if nodeid.endswith("]") and "[" in nodeid else ""
    hits = [n for n in names if param == n or param.startswith(n + "-")]
    return max(hits, key=len) if hits else OTHER


def _function(nodeid: str) -> str:
    return nodeid.split("::")[-1].split("[")[0]


def aggregate(rows: list[Duration], names, factor: float) -> list[Cost]:
    """Per primitive: measured seconds, the nightly estimate (the `call` of SCALED tests times
    `factor`, everything else as measured) and its share; costliest first."""
    if factor <= 0:
        raise ValueError(f"factor: expected a positive number, got {factor!r}")
    measured: dict[str, float] = {}
    nightly: dict[str, float] = {}
    tests: dict[str, set] = {}
    for r in rows:
        p = primitive_of(r.nodeid, names)
        scale = factor if r.phase == "call" and _function(r.nodeid) in SCALED else 1.0
        measured[p] = measured.get(p, 0.0) + r.seconds
        nightly[p] = nightly.get(p, 0.0) + r.seconds * scale
        tests.setdefault(p, set()).add(r.nodeid)
    total = sum(nightly.values()) or 1.0
    return sorted((Cost(p, measured[p], nightly[p], nightly[p] / total, len(tests[p]))
                   for p in measured), key=lambda c: -c.nightly)


def to_markdown(costs: list[Cost], profile: str, factor: float) -> str:
    """The table, with the totals and how the estimate was made."""
    lines = [f"| primitive | tests | measured ({profile}) s | nightly (est.) CPU-s | share |",
             "|---|---:|---:|---:|---:|"]
    for c in costs:
        lines.append(f"| {c.primitive} | {c.tests} | {c.measured:.1f} | {c.nightly:.0f} | "
                     f"{c.share:.1%} |")
    m, n = sum(c.measured for c in costs), sum(c.nightly for c in costs)
    lines += [f"| **total** | {sum(c.tests for c in costs)} | {m:.1f} | {n:.0f} "
              f"({n / 60:.1f} CPU-min) | 100% |", "",
              f"nightly estimate: {', '.join(SCALED)} × {factor:g} (nightly/{profile} examples "
              "per property), the other tests as measured"]
    return "\n".join(lines)


def run_properties(profile: str, primitives=None, timeout_s: float | None = None) -> str:
    """pytest's output for `properties/` under `profile`, serially, with every test's duration
    (`-k` keeps the tests whose id names one of `primitives`; None: all)."""
    root = Path(__file__).resolve().parents[1]
    cmd = [sys.executable, "-m", "pytest", str(root / "properties"), "-q", "-n", "0",
           "-p", "no:randomly", "-p", "no:cacheprovider", "--durations=0",
           "--durations-min=0"]
    if primitives:
        cmd += ["-k", " or ".join(primitives)]
    env = {**os.environ, "SSMSPEC_PROFILE": profile, "SSMSPEC_WORKERS": "1"}
    res = subprocess.run(cmd, cwd=root, env=env, capture_output=True, text=True,
                         timeout=timeout_s)
    return res.stdout


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="python -m ssmspec.nightly_cost", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--profile", default="ci", choices=[k for k in profiles.PROFILES
                                                       if k != "nightly"],
                   help="the profile measured (its examples are scaled to nightly's)")
    p.add_argument("--primitive", nargs="+", metavar="NAME", help="only these (default: all)")
    p.add_argument("--durations", metavar="FILE",
                   help="a saved pytest --durations=0 output to parse instead of running")
    a = p.parse_args(argv)
    from ssmspec import registry

    names = [s.name for s in registry.specs()]
    unknown = sorted(set(a.primitive or ()) - set(names))
    if unknown:
        p.error(f"--primitive: expected names from `ssmspec list`, got {unknown}")
    text = Path(a.durations).read_text() if a.durations else run_properties(a.profile,
                                                                            a.primitive)
    rows = parse_durations(text)
    if not rows:
        print("nightly_cost: no --durations rows in pytest's output:\n" + text[-2000:],
              file=sys.stderr)
        return 1
    if a.primitive:
        rows = [r for r in rows if primitive_of(r.nodeid, names) in a.primitive]
    factor = profiles.EXAMPLES["nightly"]["property"] / profiles.EXAMPLES[a.profile]["property"]
    print(to_markdown(aggregate(rows, names, factor), a.profile, factor))
    return 0


if __name__ == "__main__":
    sys.exit(main())

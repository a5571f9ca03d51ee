"""A random-seed campaign against false alarms: every built-in implementation available here,
for every primitive, checked as

    ssmspec check PRIMITIVE IMPL --profile dev --seed S --no-bad-input

for several seeds S (through `ssmspec.check.check`, in-process). A built-in is right by
construction of the suite, so any search beyond its bound or any failing law is a false alarm of
a bound (or a real bug): the campaign prints each one with the command that reproduces it (that
one method and format, the same seed and example count) and exits 1.

    python -m ssmspec.campaign [--seeds N] [--seed S ...] [--examples K] [--primitive NAME ...]
                               [--device cpu]

`--seeds N` draws N fresh random seeds (default 3); `--seed` names them instead (a rerun). The
default example count is the dev profile's (30 per method and format). `tox -e seeds` runs it.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass

from ssmspec import check, registry
from ssmspec.spec import Implementation

DEV_EXAMPLES = 30  # what `ssmspec check --profile dev` draws per (method, dtype)


@dataclass
class Alarm:
    """One failure of a built-in under one seed, and the command that reproduces it."""

    primitive: str
    implementation: str
    seed: int
    what: str  # "search laplace fp64: err/bound 2", or "law name: message"
    command: str


def builtins(primitives=None) -> list[Implementation]:
    """The built-in implementations (source starting with `builtin`) that can run here."""
    names = primitives or [s.name for s in registry.specs()]
    return [i for p in names for i in registry.implementations(p)
            if i.source.startswith("builtin") and i.available]


def reproduce(primitive: str, impl: str, seed: int, examples: int, device: str,
              method: str | None = None, fmt: str | None = None) -> str:
    """The `ssmspec check` command line that replays one search (or, without method, the
    whole check with its laws) under `seed`."""
    parts = ["ssmspec check", primitive, impl]
    parts += ["--method", method] if method else []
    parts += ["--dtype", fmt] if fmt else []
    parts += ["--device", device, "--profile", "dev", "--seed", str(seed), "--examples",
              str(examples), "--no-bad-input"]
    return " ".join(parts)


def alarms_of(res: check.CheckResult, examples: int) -> list[Alarm]:
    """The failures in one check's result, each with its reproduce command."""
    out = []
    for s in res.searches:
        if not s.ok:
            what = (f"search {s.method} {s.dtype}: err/bound {s.ratio:.3g}"
                    + (f" ({s.raised} inputs raised)" if s.raised else ""))
            out.append(Alarm(res.primitive, res.implementation, res.seed, what,
                             reproduce(res.primitive, res.implementation, res.seed, examples,
                                       res.device, s.method, s.dtype)))
    for o in res.outcomes:
        if not o.passed:
            first = (o.error or "").strip().splitlines()[:1]
            out.append(Alarm(res.primitive, res.implementation, res.seed,
                             f"{o.kind} {o.name}: {first[0] if first else ''}",
                             reproduce(res.primitive, res.implementation, res.seed, examples,
                                       res.device)))
    return out


def run(seeds: list[int], examples: int = DEV_EXAMPLES, primitives=None, device: str = "cpu",
        log: Callable[[str], None] = print, impls: list[Implementation] | None = None
        ) -> list[Alarm]:
    """Check every available built-in (or `impls`) under every seed; the false alarms found."""
    found: list[Alarm] = []
    for impl in builtins(primitives) if impls is None else impls:
        if device not in impl.devices:
            continue
        for s in seeds:
            t0 = time.perf_counter()
            res = check.check(impl.primitive, impl, device=device, examples=examples, seed_=s,
                              laws=True, bad_inputs=False)
            new = alarms_of(res, examples)
            found += new
            verdict = "ok" if not new else f"{len(new)} FALSE ALARM(S)"
            log(f"{impl.primitive} {impl.name} seed {s}: {verdict} "
                f"({time.perf_counter() - t0:.0f} s)")
    return found


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="python -m ssmspec.campaign", description=__doc__.split(
        "\n\n")[0])
    p.add_argument("--seeds", type=int, default=3, metavar="N", help="random seeds to draw")
    p.add_argument("--seed", type=int, nargs="+", default=None, metavar="S",
                   help="run these seeds instead of drawing them")
    p.add_argument("--examples", type=int, default=DEV_EXAMPLES, metavar="K",
                   help="inputs per (method, dtype) and seed")
    p.add_argument("--primitive", nargs="+", default=None, metavar="NAME")
    p.add_argument("--device", default="cpu")
    a = p.parse_args(argv)
    if a.seeds < 1 or a.examples < 1:
        raise SystemExit("campaign: error: --seeds and --examples must be >= 1")
    known = [s.name for s in registry.specs()]
    for name in a.primitive or []:
        if name not in known:
            raise SystemExit(f"campaign: error: primitive: expected one of {known}, got {name!r}")
    seeds = a.seed or [check.new_seed() for _ in range(a.seeds)]
    print(f"seeds {seeds}, {a.examples} examples per (method, dtype)", flush=True)
    found = run(seeds, a.examples, a.primitive, a.device,
                log=lambda line: print(line, flush=True))
    for al in found:
        print(f"FALSE ALARM {al.primitive} {al.implementation} seed {al.seed}: {al.what}\n"
              f"  reproduce: {al.command}")
    print(f"{len(found)} false alarm(s)" if found else "no false alarm")
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())

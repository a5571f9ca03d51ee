"""`ssmspec check`: one implementation (built-in or outside) against one primitive's spec.

For each (method, dtype): a hypothesis search over the spec's strategy that climbs toward the
inputs closest to failing (`hypothesis.target` on err/bound) and keeps the worst input seen; then
the primitive's laws and bad inputs on the same implementation. The worst input is printed (the
output entry, err, bound, reference value, and the input's shapes and leading values), saved as
`.npz` + `.json` when asked, and the command to reproduce the search (its seed) is printed.
"""

from __future__ import annotations

import json
import random
import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from hypothesis import HealthCheck, Phase, given, seed, settings, target
from hypothesis import strategies as st
from hypothesis.errors import HypothesisException

from ssmspec import harness, registry, strategies
from ssmspec.errors import Measurement
from ssmspec.spec import Case, Implementation, LawContext

_SEARCH_PHASES = [Phase.explicit, Phase.generate, Phase.target]


@dataclass
class Search:
    """The outcome of the conformance search on one (method, dtype)."""

    method: str
    dtype: str
    examples: int = 0
    worst: Measurement | None = None
    worst_case: Case | None = None
    xfail: str | None = None
    raised: int = 0  # inputs on which the implementation raised
    first_raise: Measurement | None = None
    first_raise_case: Case | None = None

    @property
    def ratio(self) -> float:
        """The worst err/bound over the inputs it did not raise on (inf if it raised on all)."""
        if self.worst is None:
            return float("inf") if self.raised else 0.0
        return self.worst.max_ratio

    @property
    def passed(self) -> bool:
        return self.raised == 0 and (self.worst is None or self.worst.passed)

    @property
    def ok(self) -> bool:
        """Passed, or failed where the xfail data expected it."""
        return self.passed != bool(self.xfail)


@dataclass
class Outcome:
    """A named check (law or bad input) and its failure message, if any."""

    kind: str
    name: str
    error: str | None = None

    @property
    def passed(self) -> bool:
        return self.error is None


@dataclass
class CheckResult:
    primitive: str
    implementation: str
    device: str
    seed: int | None
    searches: list[Search] = field(default_factory=list)
    outcomes: list[Outcome] = field(default_factory=list)
    shapes: strategies.ShapeScope | None = None  # the sizes fixed and the regime, if any

    @property
    def passed(self) -> bool:
        return all(s.ok for s in self.searches) and all(o.passed for o in self.outcomes)


def search(spec, impl: Implementation, method: str, fmt: str, device: str, examples: int,
           seed_: int | None, shapes: strategies.ShapeScope | None = None) -> Search:
    """Draw `examples` inputs (their shapes under `shapes`: sizes fixed by name, the realistic
    regime), steering toward the largest err/bound; keep the worst."""
    out = Search(method, fmt, xfail=impl.expected_failure(method, fmt))

    def run(data):
        case = data.draw(strategies.cases(spec, fmt, method, shapes), label="case")
        m = harness.evaluate(spec, impl.fn, case, method, device)
        out.examples += 1
        if m.raised:
            out.raised += 1
            if out.first_raise is None:
                out.first_raise, out.first_raise_case = m, case
            return  # keep searching the inputs it accepts: one crash hides nothing else
        target(min(m.max_ratio, 1e6), label="err/bound")
        if out.worst is None or m.max_ratio > out.worst.max_ratio:
            out.worst, out.worst_case = m, case

    test = given(st.data())(run)
    test = settings(max_examples=examples, derandomize=seed_ is None, database=None,
                    deadline=None, phases=_SEARCH_PHASES,
                    suppress_health_check=list(HealthCheck))(test)
    if seed_ is not None:
        test = seed(seed_)(test)
    test()
    return out


def _law_outcomes(spec, impl: Implementation, fmt_of, device: str, examples: int,
                  seed_: int | None) -> list[Outcome]:
    out = []
    for law in registry.laws(spec.name):
        fmt = fmt_of(law)
        if fmt is None:
            continue

        def make(law=law, fmt=fmt):
            def run_law(data):
                law.check(LawContext(impl=impl, dtype=fmt, device=device, draw=data.draw,
                                     impl_of=lambda p: registry.same_family(p, impl.name)))
            return run_law

        test = settings(max_examples=max(1, examples // 3), derandomize=seed_ is None,
                        database=None, deadline=None, suppress_health_check=list(HealthCheck),
                        phases=[Phase.generate, Phase.shrink])(given(st.data())(make()))
        if seed_ is not None:
            test = seed(seed_)(test)
        try:
            test()
            out.append(Outcome("law", f"{law.name} ({fmt})"))
        except (AssertionError, HypothesisException, Exception) as exc:  # noqa: BLE001
            msg = str(exc).strip().splitlines()
            out.append(Outcome("law", f"{law.name} ({fmt})", f"{type(exc).__name__}: "
                               + (msg[0] if msg else "")))
    return out


def _bad_outcomes(spec, impl: Implementation) -> list[Outcome]:
    out = []
    for bad in registry.bad_inputs(spec.name):
        try:
            bad.call(impl.fn)
        except bad.error as exc:
            if re.search(rf"\b{re.escape(bad.argument)}\b", str(exc)):
                out.append(Outcome("bad input", bad.name))
            else:
                out.append(Outcome("bad input", bad.name,
                                   f"message does not name {bad.argument!r}: {exc}"))
            continue
        except Exception as exc:  # noqa: BLE001 - the wrong exception type is the finding
            out.append(Outcome("bad input", bad.name, f"expected {bad.error.__name__}, got "
                               f"{type(exc).__name__}: {exc}"))
            continue
        out.append(Outcome("bad input", bad.name, f"expected {bad.error.__name__}, no error"))
    return out


def check(primitive: str, impl: Implementation, methods=None, dtypes=None, device: str = "cpu",
          examples: int = 100, seed_: int | None = None, laws: bool = True,
          bad_inputs: bool = True, progress=None,
          shapes: strategies.ShapeScope | None = None) -> CheckResult:
    """Search, laws and bad inputs of `impl` against `primitive`'s spec. `shapes` fixes sizes
    or draws them from the realistic regime in the search (the laws keep their own shapes)."""
    spec = registry.spec(primitive)
    res = CheckResult(primitive, impl.name, device, seed_, shapes=shapes)
    meths = [m for m in (impl.methods or spec.methods) if not methods or m in methods]
    for m in meths:
        for d in spec.dtypes_of(m):
            if (impl.dtypes and d not in impl.dtypes) or (dtypes and d not in dtypes):
                continue
            res.searches.append(search(spec, impl, m, d, device, examples, seed_, shapes))
            if progress:
                progress(f"{primitive} {m} {d}")
    checked = {s.dtype for s in res.searches}

    def fmt_of(law):
        ok = [d for d in law.dtypes if d in checked]
        return ok[0] if ok else None

    if laws:
        res.outcomes += _law_outcomes(spec, impl, fmt_of, device, examples, seed_)
    if bad_inputs:
        res.outcomes += _bad_outcomes(spec, impl)
    return res


def save_worst(res: CheckResult, out_dir: str | Path) -> list[Path]:
    """Each failing search's worst input as `<primitive>-<method>-<dtype>.npz` (+ `.json`)."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = []
    for s in res.searches:
        if s.worst is None or s.worst.passed:
            continue
        stem = out_dir / f"{res.primitive}-{s.method}-{s.dtype}"
        np.savez(stem.with_suffix(".npz"), **{k: np.asarray(v)
                                              for k, v in s.worst_case.arrays.items()})
        stem.with_suffix(".json").write_text(json.dumps({
            "primitive": res.primitive, "implementation": res.implementation,
            "method": s.method, "dtype": s.dtype, "params": dict(s.worst_case.params),
            "err_over_bound": s.ratio, "measurement": s.worst.describe()}, indent=2,
            default=str))
        paths.append(stem.with_suffix(".npz"))
    return paths


def to_text(res: CheckResult, argv_hint: str) -> str:
    """The human-readable verdict: a table per (method, dtype), the worst inputs, laws, bad
    inputs, and how to reproduce."""
    lines = [f"# ssmspec check: {res.implementation} as `{res.primitive}` on {res.device}", ""]
    if res.shapes is not None:
        lines += [f"shapes: {describe_shapes(res.shapes)}", ""]
    lines += ["| method | dtype | examples | max err/bound | max ulps | verdict |",
              "|---|---|---:|---:|---:|---|"]
    for s in res.searches:
        ulps = s.worst.max_ulps if s.worst else 0.0
        verdict = "pass" if s.passed else "FAIL"
        if s.raised:
            verdict += f" (raised on {s.raised})"
        if s.xfail:
            verdict = f"xfail ({s.xfail})" if not s.passed else "XPASS (expected to fail)"
        lines.append(f"| {s.method} | {s.dtype} | {s.examples} | {s.ratio:.3g} | {ulps:.3g} "
                     f"| {verdict} |")
    for s in res.searches:
        if s.first_raise is not None:
            lines += ["", f"## raised: {s.method}, {s.dtype} (on {s.raised} of {s.examples} "
                          "inputs; the first)", "", s.first_raise.describe(), "", "input:"]
            lines += [f"  {k}: {v}" for k, v in s.first_raise_case.summary().items()]
        if s.worst is None or s.worst.passed:
            continue
        lines += ["", f"## worst input found: {s.method}, {s.dtype} "
                      f"(err/bound {s.ratio:.3g})", "", s.worst.describe(), "", "input:"]
        lines += [f"  {k}: {v}" for k, v in s.worst_case.summary().items()]
    if res.outcomes:
        lines += ["", "| check | name | verdict |", "|---|---|---|"]
        for o in res.outcomes:
            lines.append(f"| {o.kind} | {o.name} | {'pass' if o.passed else 'FAIL: ' + o.error} |")
    n_fail = sum(not s.ok for s in res.searches) + sum(not o.passed for o in res.outcomes)
    lines += ["", f"**{'PASS' if res.passed else f'FAIL ({n_fail} failing)'}**", ""]
    rep = f"{argv_hint} --seed {res.seed}" if res.seed is not None else argv_hint
    lines.append(f"reproduce: `{rep}`" + ("" if res.seed is not None else
                                          " (derandomized: the same inputs every run)"))
    return "\n".join(lines)


def describe_shapes(shapes: strategies.ShapeScope) -> str:
    """`L=4096, N=64 fixed; the others from the realistic regime` and the like."""
    fixed = ", ".join(f"{k}={v}" for k, v in shapes.fixed.items())
    rest = ("the other sizes from the realistic regime" if shapes.regime == "realistic"
            else "the other sizes as the spec draws them")
    return f"{fixed} fixed; {rest}" if fixed else rest.replace("the other", "sizes")


def new_seed() -> int:
    return random.SystemRandom().randrange(2**31)

"""Diagnosis of a failing outside kernel: which registered mutant does its failure resemble?

For each failure class of a check (over bound, non-finite), every registered mutant of the
primitive whose method is inside the kernel's declared scope is replayed: the mutant's witness
input is run through the mutant and through the kernel, and their failure signatures compared.
A signature is (kind, output, where): the kind (`over bound` or `non-finite`), the output the
worst ratio (or the first non-finite entry) is in, and its index. A mutant matches when the
kernel fails its witness with the same kind in the same output; an equal index makes it a
closer match. The kernel's own failing witness is also run through each mutant of the same
method and compared the same way (a NaN at Λ = 0 that the mutant also produces). The diagnosis
names the closest mutant, what it does wrong (`Mutant.why`) and its fix (`Mutant.fix`); where
none matches it says so.
"""

from __future__ import annotations

from dataclasses import dataclass

from ssmspec import harness, registry, scope
from ssmspec.errors import Measurement
from ssmspec.spec import Implementation, Mutant


@dataclass(frozen=True)
class Signature:
    """How one call failed: kind, the output and the index where it shows."""

    kind: str
    output: str | None
    index: tuple | None

    def where(self) -> str:
        return f"{self.output}{list(self.index) if self.index is not None else ''}"


def signature(m: Measurement) -> Signature:
    """The failure signature of a measurement (kind 'passed' if it passed)."""
    if m.nonfinite:
        o = next(o for o in m.outputs.values() if o.nonfinite)
        return Signature("non-finite", o.name, o.nonfinite_index)
    if m.failed_to_run or m.passed:
        return Signature(m.kind, None, None)
    o = m.worst
    return Signature("over bound", o.name, o.index)


def _replay(spec, fn, mutant: Mutant, fmt: str, device: str) -> tuple[Signature, Signature]:
    case = mutant.witness(fmt)
    mine = signature(harness.evaluate(spec, mutant.fn, case, mutant.method, "cpu"))
    theirs = signature(harness.evaluate(spec, fn, case, mutant.method, device))
    return mine, theirs


def diagnose(spec, impl: Implementation, kind: str, fmt: str, device: str = "cpu",
             memo: dict | None = None, witness=None, method: str | None = None,
             seen: Signature | None = None) -> str:
    """One line: the registered mutant that fails the way `impl` fails (a failure of `kind` in
    format `fmt`), and that mutant's fix; or that none does.

    Two comparisons, each on one input: the mutant's own witness through the kernel (does it
    fail the kernel as it fails the mutant?), and, when given, the kernel's failing `witness`
    (of `method`, failing with signature `seen`) through the mutant (does the mutant fail it the
    same way?). Same kind and output scores 1 per comparison, the same index 2."""
    fn = scope.guarded(spec, impl)
    memo = {} if memo is None else memo
    best, tried = None, 0
    for mut in registry.mutants(spec.name):
        if impl.methods and mut.method not in impl.methods:
            continue
        f = fmt if fmt in mut.dtypes else mut.dtypes[0]
        key = (mut.name, f)
        if key not in memo:
            try:
                memo[key] = _replay(spec, fn, mut, f, device)
            except scope.OutOfScope:  # its witness uses a feature the kernel lacks
                memo[key] = None
        tried += 1
        score = 0
        if memo[key] is not None:
            mine, theirs = memo[key]
            if mine.kind == theirs.kind == kind and mine.output == theirs.output:
                score += 2 if mine.index == theirs.index else 1
        if witness is not None and seen is not None and mut.method == method:
            got = signature(harness.evaluate(spec, mut.fn, witness, method, "cpu"))
            if got.kind == seen.kind == kind and got.output == seen.output:
                score += 2 if got.index == seen.index else 1
        if score and (best is None or score > best[0]):
            best = (score, mut)
    if best is None:
        return (f"resembles none of the {tried} registered mutants of {spec.name} (their "
                "witnesses through the kernel, the kernel's witness through them)")
    mut = best[1]
    return (f"resembles mutant `{mut.name}` ({mut.method}: {mut.why}); "
            f"fix: {mut.fix or 'see the mutant'}")


def diagnose_result(spec, impl: Implementation, res, device: str = "cpu") -> None:
    """Set `diagnosis` on every over-bound and non-finite failure class of a CheckResult."""
    memo: dict = {}
    for s in res.searches:
        for c in s.classes.values():
            if c.kind in ("over bound", "non-finite"):
                c.diagnosis = diagnose(spec, impl, c.kind, s.dtype, device, memo, c.witness,
                                       s.method, signature(c.measurement))

"""`ssmspec selftest`: the suite's power, measured as a mutation score per primitive.

Each registered mutant (a known-bad variant a primitive declares) is put in place of the
implementation and the primitive's properties are run on it:
- `witness`: conformance on the mutant's named witness input (err/bound > 1 catches it);
- `search`: conformance on inputs hypothesis draws from the spec's own strategy (where the mutant
  says the strategy can find it), stopping at the first input over the bound;
- `laws`: every law of the primitive, in the mutant's formats (`ssmspec.laws.run_law`).
A mutant is caught if any of them fails on it: an input over the bound, or a law's own verdict
(an AssertionError). A law that crashes for another reason (a shape mismatch, a TypeError) is
recorded as crashed, not as catching the mutant. Every mutant must be caught: the score is
caught/total per primitive, and the command exits 1 below 100 %.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ssmspec import harness, registry
from ssmspec.executor import Plan, Task
from ssmspec.laws import find_over_bound, run_law
from ssmspec.spec import Implementation, Mutant


@dataclass
class MutantResult:
    primitive: str
    name: str
    why: str
    caught_by: list[str] = field(default_factory=list)
    missed_by: list[str] = field(default_factory=list)
    crashed: list[str] = field(default_factory=list)  # laws that raised, not by their verdict

    @property
    def caught(self) -> bool:
        return bool(self.caught_by)


def _as_impl(m: Mutant) -> Implementation:
    return Implementation(m.primitive, f"mutant-{m.name}", m.fn, methods=(m.method,),
                          dtypes=m.dtypes, devices=("cpu",), source="mutant")


def run_mutant(m: Mutant, examples: int = 200, law_examples: int = 10) -> MutantResult:
    spec = registry.spec(m.primitive)
    impl = _as_impl(m)
    res = MutantResult(m.primitive, m.name, m.why)
    fmt = m.dtypes[0]

    def note(check: str, caught: bool) -> None:
        (res.caught_by if caught else res.missed_by).append(check)

    w = harness.evaluate(spec, m.fn, m.witness(fmt), m.method, "cpu")
    note(f"witness ({fmt}: err/bound {w.max_ratio:.3g})", w.max_ratio > 1)
    if m.search:
        found = find_over_bound(spec, m.fn, m.method, fmt, examples)
        note(f"search ({fmt})" if found is not None else f"search ({fmt}, {examples} inputs)",
             found is not None)
    for law in registry.laws(m.primitive):
        fmts = [d for d in m.dtypes if d in law.dtypes]
        if fmts:
            v = run_law(law, impl, fmts[0], examples=law_examples, scoped=False)
            name = f"law {law.name} ({fmts[0]})"
            if v.crashed:
                res.crashed.append(f"{name}: {v.reason}")
            note(name, v.failed)
    return res


def _mutant_task(primitive: str, index: int, examples: int, law_examples: int) -> MutantResult:
    """run_mutant of the `index`-th mutant of `primitive` (a worker finds it in the registry; a
    name is not a key: one bug may be declared twice, once per format with other settings)."""
    return run_mutant(registry.mutants(primitive)[index], examples, law_examples)


def run(primitives=None, examples: int = 200, law_examples: int = 10,
        progress=None, plan: Plan | None = None) -> list[MutantResult]:
    """Every selected mutant through `plan` (default: in this process); a mutant whose task was
    lost (its worker died, it timed out) counts as missed, with the reason."""
    muts = [m for m in registry.mutants() if not primitives or m.primitive in primitives]
    index = {id(m): k for p in {m.primitive for m in muts}
             for k, m in enumerate(registry.mutants(p))}
    tasks = [Task(f"{m.primitive} {m.name}", (m.primitive, index[id(m)], examples, law_examples))
             for m in muts]
    out = []
    for m, o in zip(muts, (plan or Plan(1)).map(_mutant_task, tasks, progress)):
        out.append(o.value if o.ok else MutantResult(m.primitive, m.name, m.why,
                                                     missed_by=[f"error: {o.error}"]))
    return out


def scores(results: list[MutantResult]) -> dict[str, dict]:
    """primitive -> {caught, total, score}."""
    out: dict[str, dict] = {}
    for r in results:
        s = out.setdefault(r.primitive, {"caught": 0, "total": 0})
        s["total"] += 1
        s["caught"] += r.caught
    for s in out.values():
        s["score"] = s["caught"] / s["total"]
    return out


def to_json(results: list[MutantResult]) -> dict:
    return {"scores": scores(results),
            "mutants": [{"primitive": r.primitive, "name": r.name, "why": r.why,
                         "caught": r.caught, "caught_by": r.caught_by,
                         "missed_by": r.missed_by, "crashed": r.crashed} for r in results]}


def to_markdown(results: list[MutantResult]) -> str:
    lines = ["## Self-test: mutation score", "",
             "| primitive | caught / mutants | score |", "|---|---:|---:|"]
    for prim, s in scores(results).items():
        lines.append(f"| {prim} | {s['caught']} / {s['total']} | {s['score']:.0%} |")
    lines += ["", "| primitive | mutant | caught | by |", "|---|---|:-:|---|"]
    for r in results:
        lost = [x for x in r.missed_by if x.startswith("error: ")]
        lines.append(f"| {r.primitive} | {r.name} | {'✓' if r.caught else '✗'} | "
                     f"{', '.join(r.caught_by or lost) or '—'} |")
    return "\n".join(lines)

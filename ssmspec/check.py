"""`ssmspec check`: one implementation (built-in or outside) against one primitive's spec.

For each (method, dtype) in the implementation's declared scope (`ssmspec.scope`): a
hypothesis search over the spec's strategy that climbs toward the inputs closest to failing
(`hypothesis.target` on err/bound). The verdict is a distribution, not a single maximum: how many
inputs passed, were finite but over the bound, non-finite, raised, or returned an output of the
wrong shape, dtype or device; the worst finite err/bound; and each failure class (over bound,
non-finite, each distinct exception, each wrong output) with its own witness, shrunk by
hypothesis to a small input. Then the primitive's laws (inside the declared scope) and, on
request, its bad inputs. A failing class is diagnosed against the primitive's registered mutants
(`ssmspec.diagnose`). Rendering is separate (`to_text`, `to_json`).
"""

from __future__ import annotations

import hashlib
import pickle
import random
import re
import time
from dataclasses import dataclass, field

import numpy as np
from hypothesis import HealthCheck, Phase, Verbosity, given, reject, seed, settings, target
from hypothesis import strategies as st

from ssmspec import harness, registry, scope, strategies
from ssmspec.errors import Measurement
from ssmspec.executor import Plan, Task
from ssmspec.laws import run_law
from ssmspec.spec import Case, Implementation

_SEARCH_PHASES = [Phase.explicit, Phase.generate, Phase.target]
KINDS = ("passed", "over bound", "non-finite", "raised", "wrong output")
FAILURE_KINDS = KINDS[1:]
SHRINK_EVALUATIONS = 60  # new inputs evaluated while shrinking one failure class, at most
SHRINK_SECONDS = 20.0  # and for at most this long


@dataclass
class FailureClass:
    """Inputs that failed the same way: one kind, and for a raise or a wrong output one message
    (numbers masked). `witness` is the smallest such input found (shrunk if `shrunk`)."""

    kind: str
    key: str
    count: int
    witness: Case
    measurement: Measurement
    shrunk: bool = False
    diagnosis: str | None = None


@dataclass
class Search:
    """The outcome of the conformance search on one (method, dtype)."""

    method: str
    dtype: str
    examples: int = 0
    counts: dict = field(default_factory=lambda: dict.fromkeys(KINDS, 0))
    out_of_scope: int = 0  # drawn inputs the guard rejected (a strategy without the helper)
    worst: Measurement | None = None  # the worst finite measurement
    worst_case: Case | None = None
    classes: dict[str, FailureClass] = field(default_factory=dict)
    xfail: str | None = None

    @property
    def raised(self) -> int:
        return self.counts["raised"]

    @property
    def ratio(self) -> float:
        """The worst err/bound over all inputs (inf if any was non-finite, raised or wrong)."""
        if any(self.counts[k] for k in ("non-finite", "raised", "wrong output")):
            return float("inf")
        return self.worst_finite

    @property
    def worst_finite(self) -> float:
        """The worst err/bound over the inputs with a finite error."""
        return self.worst.max_ratio if self.worst is not None else 0.0

    @property
    def passed(self) -> bool:
        return not self.classes

    @property
    def ok(self) -> bool:
        """Passed, or failed where the xfail data expected it."""
        return self.passed != bool(self.xfail)

    def add(self, case: Case, m: Measurement) -> str:
        """Count `m` (on `case`) and return its failure-class key ('' if it passed)."""
        self.examples += 1
        self.counts[m.kind] += 1
        if not m.failed_to_run and not m.nonfinite and (
                self.worst is None or m.max_ratio > self.worst.max_ratio):
            self.worst, self.worst_case = m, case
        key = class_key(m)
        if key:
            c = self.classes.get(key)
            if c is None:
                self.classes[key] = FailureClass(m.kind, key, 1, case, m)
            else:
                c.count += 1
        return key


def class_key(m: Measurement) -> str:
    """The failure class of `m`: '' (passed), its kind, or kind + message with numbers masked
    (one class per distinct exception or wrong output)."""
    if m.kind == "passed":
        return ""
    msg = m.failed_to_run
    return m.kind + (": " + re.sub(r"\d+(\.\d+)?", "#", msg) if msg else "")


@dataclass
class Outcome:
    """A named check (law or bad input): its failure message, or why it is out of scope."""

    kind: str
    name: str
    error: str | None = None
    out_of_scope: str | None = None
    crashed: bool = False  # a law that raised something other than its own verdict

    @property
    def passed(self) -> bool:
        return self.error is None


@dataclass
class CheckResult:
    primitive: str
    implementation: str
    device: str
    seed: int | None
    scope: str = ""
    searches: list[Search] = field(default_factory=list)
    outcomes: list[Outcome] = field(default_factory=list)
    shapes: strategies.ShapeScope | None = None  # the sizes fixed and the regime, if any

    @property
    def passed(self) -> bool:
        return all(s.ok for s in self.searches) and all(o.passed for o in self.outcomes)


def _fingerprint(case: Case) -> tuple:
    """A case's identity for the shrink memo: a digest of each array, not its bytes (a realistic
    input is 10⁷ entries; the memo holds every input of a search)."""
    return (case.dtype, repr(sorted(case.params.items())),
            tuple((k, a.shape, hashlib.blake2b(np.ascontiguousarray(a).view(np.uint8),
                                               digest_size=16).digest())
                  for k, a in sorted(case.arrays.items())))


def _settings(examples: int, seed_: int | None, phases) -> settings:
    return settings(max_examples=examples, derandomize=seed_ is None, database=None,
                    deadline=None, phases=phases, verbosity=Verbosity.quiet,
                    suppress_health_check=list(HealthCheck))


class _Found(Exception):
    """Raised inside the shrink run on an input of the class being shrunk."""


def search(spec, impl: Implementation, method: str, fmt: str, device: str, examples: int,
           seed_: int | None, shrink: bool = True,
           shapes: strategies.ShapeScope | None = None) -> Search:
    """Draw `examples` inputs inside `impl`'s scope (their shapes under `shapes`: sizes fixed by
    name, the realistic regime), steering toward the largest err/bound; count each kind, keep the
    worst finite input, and shrink one witness per failure class.

    The shrink re-runs the same search (same seed; every input evaluated before comes from a
    memo) until the class's first input, then lets hypothesis shrink it, evaluating at most
    SHRINK_EVALUATIONS new inputs within SHRINK_SECONDS (after that, unseen inputs count as
    passing, so the smallest failing input found so far is kept)."""
    out = Search(method, fmt, xfail=impl.expected_failure(method, fmt))
    fn = scope.guarded(spec, impl)
    memo: dict[tuple, tuple[str, float, Measurement]] = {}
    state = {"want": None, "budget": 0, "deadline": 0.0, "last": None}

    def evaluate(case: Case):
        key = _fingerprint(case)
        if key not in memo:
            if state["want"] is not None:
                if state["budget"] <= 0 or time.monotonic() > state["deadline"]:
                    return "", 0.0, None  # shrink budget spent: unseen inputs do not count
                state["budget"] -= 1
            m = harness.evaluate(spec, fn, case, method, device)
            memo[key] = (class_key(m), m.max_ratio, m)
        return memo[key]

    def run(data):
        with scope.declared(impl.without):
            case = data.draw(strategies.cases(spec, fmt, method, shapes), label="case")
        try:
            key, ratio, m = evaluate(case)
        except scope.OutOfScope:
            if state["want"] is None:
                out.out_of_scope += 1
            reject()
        if ratio < float("inf"):
            target(min(ratio, 1e6), label="err/bound")
        if state["want"] is None:
            out.add(case, m)
        elif key == state["want"]:
            state["last"] = (case, m)
            raise _Found(key)

    def test(phases):
        t = _settings(examples, seed_, phases)(given(st.data())(run))
        return seed(seed_)(t) if seed_ is not None else t

    test(_SEARCH_PHASES)()
    if shrink:
        for key, c in out.classes.items():
            state.update(want=key, budget=SHRINK_EVALUATIONS, last=None,
                         deadline=time.monotonic() + SHRINK_SECONDS)
            try:
                test([*_SEARCH_PHASES, Phase.shrink])()
            except _Found:
                if state["last"] is not None:
                    c.witness, c.measurement = state["last"]
                    c.shrunk = True
            except Exception:  # noqa: BLE001 - a shrink that cannot replay keeps the first input
                pass
    return out


def _law_outcomes(spec, impl: Implementation, fmt_of, device: str, examples: int,
                  seed_: int | None) -> list[Outcome]:
    """Each law inside the declared scope (`ssmspec.laws.run_law`, shrunk): a law that crashed
    (raised something other than its own verdict) fails too, marked `crashed`."""
    out = []
    for law in registry.laws(spec.name):
        fmt = fmt_of(law)
        if fmt is None:
            continue
        v = run_law(law, impl, fmt, device, examples=max(1, examples // 3), seed_=seed_,
                    shrink=True)
        name = f"{law.name} ({fmt})"
        if v.out_of_scope:
            out.append(Outcome("law", name, out_of_scope=v.reason))
        else:
            error = f"crashed: {v.reason}" if v.crashed else (v.reason or None)
            out.append(Outcome("law", name, error, crashed=v.crashed))
    return out


def _bad_outcomes(spec, impl: Implementation) -> list[Outcome]:
    out = []
    fn = scope.guarded(spec, impl)
    for bad in registry.bad_inputs(spec.name):
        try:
            bad.call(fn)
        except scope.OutOfScope as exc:
            out.append(Outcome("bad input", bad.name, out_of_scope=str(exc).split(": ", 1)[-1]))
            continue
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


def _search_task(primitive: str, impl: Implementation, method: str, fmt: str, device: str,
                 examples: int, seed_: int | None, shrink: bool,
                 shapes: strategies.ShapeScope | None) -> Search:
    return search(registry.spec(primitive), impl, method, fmt, device, examples, seed_, shrink,
                  shapes)


def _picklable(x) -> bool:
    try:
        pickle.dumps(x)
    except Exception:  # noqa: BLE001 - whatever stops pickling keeps the work in this process
        return False
    return True


def check(primitive: str, impl: Implementation, methods=None, dtypes=None, device: str = "cpu",
          examples: int = 30, seed_: int | None = None, laws: bool = True,
          bad_inputs: bool = False, progress=None, shrink: bool = True,
          diagnose: bool = True, shapes: strategies.ShapeScope | None = None,
          plan: Plan | None = None) -> CheckResult:
    """Search, laws and (if asked) bad inputs of `impl` against `primitive`'s spec, inside the
    scope `impl` declares (`impl.methods`, `impl.without`). `shapes` fixes sizes or draws them
    from the realistic regime in the search (the laws keep their own shapes). `plan` runs the
    (method, dtype) searches wide (`ssmspec.executor`; default: one after another here); each
    search's inputs depend on its seed only, so the verdict is the same either way."""
    spec = registry.spec(primitive)
    scope.validate(spec, impl.without)
    res = CheckResult(primitive, impl.name, device, seed_, scope.describe(spec, impl),
                      shapes=shapes)
    meths = [m for m in (impl.methods or spec.methods) if not methods or m in methods]
    units = [(m, d) for m in meths for d in spec.dtypes_of(m)
             if not (impl.dtypes and d not in impl.dtypes) and not (dtypes and d not in dtypes)]
    if plan is not None and plan.kind != "serial" and not _picklable(impl):
        plan = None  # a closure (an adapter's wrapper) cannot reach a worker: searched here
    tasks = [Task(f"{primitive} {m} {d}",
                  (primitive, impl, m, d, device, examples, seed_, shrink, shapes), device)
             for m, d in units]
    for (m, d), o in zip(units, (plan or Plan(1)).map(_search_task, tasks, progress)):
        if not o.ok:  # the harness itself broke, or the worker died twice: never silent
            raise RuntimeError(f"check {primitive} {m} {d}: {o.error}")
        res.searches.append(o.value)
    if diagnose and impl.source != "builtin":
        from ssmspec import diagnose as diag

        diag.diagnose_result(spec, impl, res, device)
    checked = {s.dtype for s in res.searches}

    def fmt_of(law):
        ok = [d for d in law.dtypes if d in checked]
        return ok[0] if ok else None

    if laws:
        res.outcomes += _law_outcomes(spec, impl, fmt_of, device, examples, seed_)
    if bad_inputs:
        res.outcomes += _bad_outcomes(spec, impl)
    return res


def describe_shapes(shapes: strategies.ShapeScope) -> str:
    """`L=4096, N=64 fixed; the others from the realistic regime` and the like."""
    fixed = ", ".join(f"{k}={v}" for k, v in shapes.fixed.items())
    rest = ("the other sizes from the realistic regime" if shapes.regime == "realistic"
            else "the other sizes as the spec draws them")
    return f"{fixed} fixed; {rest}" if fixed else rest.replace("the other sizes", "sizes")


def new_seed() -> int:
    return random.SystemRandom().randrange(2**31)

"""Running laws and searching for mutants: the one runner the properties (properties/), `ssmspec
check` and `ssmspec selftest` share.

- `assert_within(got, want, tol, what)`: the check a law makes, |got − want| ≤ tol elementwise,
  raising `LawFailed` (an AssertionError) with the worst err/tol and where it is.
- `run_law(law, impl, fmt, ...)`: a law under hypothesis, as a `LawVerdict`: `passed`, `failed`
  (the law's own verdict: an AssertionError, `LawFailed` included), `crashed` (any other
  exception: a shape mismatch, a TypeError in the law itself) or `out of scope` (the
  implementation declared without what the law needs, `ssmspec.scope`). Only `failed` catches a
  mutant: a law that crashes for another reason says nothing about the bound.
- `check_once(law, ctx)`: the same verdict for one scripted check (a test that hands the law
  its draws).
- `find_over_bound(spec, fn, method, fmt, ...)`: an input from the spec's own strategy on which
  `fn` exceeds the bound (err/bound > 1), or None.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from hypothesis import HealthCheck, Phase, Verbosity, find, given, seed, settings
from hypothesis import strategies as st
from hypothesis.errors import NoSuchExample

from ssmspec import harness, registry
from ssmspec.errors import abs_error, ratio
from ssmspec.scope import OutOfScope
from ssmspec.spec import Case, Implementation, Law, LawContext, Spec

PASSED, FAILED, CRASHED, OUT_OF_SCOPE = "passed", "failed", "crashed", "out of scope"


class LawFailed(AssertionError):
    """A law's own verdict: the implementation broke the law (not a crash of the law)."""


def assert_within(got, want, tol, what: str) -> None:
    """Raise `LawFailed` unless |got − want| ≤ tol everywhere (arrays broadcast together; tol
    elementwise or a scalar). The message names `what`, the worst err/tol and its index. An
    empty comparison passes."""
    got, want = np.broadcast_arrays(np.asarray(got), np.asarray(want))
    r = ratio(abs_error(got, want), tol)
    if r.size == 0:
        return
    if not np.all(r <= 1):
        at = np.unravel_index(int(np.argmax(r)), r.shape)
        raise LawFailed(f"{what}: err/tol {float(r.max()):.3g} at {tuple(int(i) for i in at)}")


@dataclass(frozen=True)
class LawVerdict:
    """The outcome of one law on one implementation: `status` is one of PASSED, FAILED,
    CRASHED, OUT_OF_SCOPE; `reason` the message (empty when passed); `exc` the exception."""

    status: str
    reason: str = ""
    exc: BaseException | None = None

    @property
    def passed(self) -> bool:
        return self.status == PASSED

    @property
    def failed(self) -> bool:
        """The law's own verdict against the implementation: what catches a mutant."""
        return self.status == FAILED

    @property
    def crashed(self) -> bool:
        return self.status == CRASHED

    @property
    def out_of_scope(self) -> bool:
        return self.status == OUT_OF_SCOPE

    def raise_for_status(self) -> None:
        """Re-raise the exception of a failed or crashed law (for a pytest property)."""
        if self.exc is not None and self.status in (FAILED, CRASHED):
            raise self.exc


def _members(exc: BaseException) -> list[BaseException]:
    """`exc`, or the leaves of an exception group (hypothesis reports distinct failures so)."""
    inner = getattr(exc, "exceptions", None)
    if isinstance(inner, tuple):
        return [leaf for e in inner for leaf in _members(e)]
    return [exc]


def verdict_of(exc: BaseException | None) -> LawVerdict:
    """The verdict a law's exception (None: it returned) stands for; see the module docstring."""
    if exc is None:
        return LawVerdict(PASSED)
    members = _members(exc)
    reason = harness.describe_exception(exc)
    if any(isinstance(e, AssertionError) for e in members):
        return LawVerdict(FAILED, reason, exc)
    if all(isinstance(e, OutOfScope) for e in members):
        return LawVerdict(OUT_OF_SCOPE, str(members[0]).split(": ", 1)[-1], exc)
    return LawVerdict(CRASHED, reason, exc)


def check_once(law: Law, ctx: LawContext) -> LawVerdict:
    """`law` checked once on a context built by the caller (scripted draws, no hypothesis): its
    verdict, as `run_law` classifies it."""
    try:
        law.check(ctx)
    except Exception as exc:  # noqa: BLE001 - classified: failed, crashed or out of scope
        return verdict_of(exc)
    return LawVerdict(PASSED)


def law_settings(examples: int | None = None, seed_: int | None = None, shrink: bool = False,
                 verbose: bool = False) -> settings:
    """Hypothesis settings of a law run. `examples=None`: the active profile's settings as they
    are (`ssmspec.profiles`: the pytest properties). Else `examples` inputs, no database, no
    deadline, no health checks, derandomised unless `seed_` is given, shrinking only if asked
    (a mutant needs the verdict, not the smallest input)."""
    if examples is None:
        return settings(settings.default, deadline=None)
    phases = [Phase.explicit, Phase.generate] + ([Phase.shrink] if shrink else [])
    return settings(max_examples=max(1, int(examples)), derandomize=seed_ is None,
                    database=None, deadline=None, phases=phases,
                    suppress_health_check=list(HealthCheck),
                    verbosity=Verbosity.normal if verbose else Verbosity.quiet)


def run_law(law: Law, impl: Implementation, fmt: str, device: str = "cpu",
            examples: int | None = None, seed_: int | None = None, scoped: bool = True,
            shrink: bool = False, verbose: bool = False) -> LawVerdict:
    """Run `law` on `impl` in format `fmt` on `device` over `examples` hypothesis draws (see
    `law_settings`) and return its verdict. `scoped=False` lifts the implementation's declared
    scope (a mutant is called outside its one method too)."""

    def check(data):
        law.check(LawContext(impl=impl, dtype=fmt, device=device, draw=data.draw, scoped=scoped,
                             impl_of=lambda p: registry.same_family(p, impl.name)))

    test = law_settings(examples, seed_, shrink, verbose)(given(st.data())(check))
    if seed_ is not None:
        test = seed(seed_)(test)
    try:
        test()
    except Exception as exc:  # noqa: BLE001 - classified: failed, crashed or out of scope
        return verdict_of(exc)
    return LawVerdict(PASSED)


def find_over_bound(spec: Spec, fn: Callable, method: str, fmt: str, examples: int = 200,
                    device: str = "cpu") -> Case | None:
    """The first input from `spec.strategy(fmt, method)` on which `fn` exceeds the bound
    (err/bound > 1, a raise or a non-finite output included), within `examples` derandomised
    draws and without shrinking (existence is the claim); None if there is none."""
    try:
        return find(spec.strategy(fmt, method),
                    lambda c: harness.evaluate(spec, fn, c, method, device).max_ratio > 1,
                    settings=settings(max_examples=examples, derandomize=True, database=None,
                                      deadline=None, phases=[Phase.generate],
                                      suppress_health_check=list(HealthCheck)))
    except NoSuchExample:
        return None

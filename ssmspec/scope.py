"""Declared scope: which optional features and methods an implementation covers.

A primitive's spec names its optional features (`Spec.features`: a name such as
`initial_state`, `reverse`, `conj_half=False` or `Q!=P`, each with a description and a test
`used(arguments) -> bool` on the canonical call's bound arguments). An implementation declares
what it lacks (`Implementation.without`) and which methods it implements
(`Implementation.methods`). Two things keep every run inside that scope:

- strategies draw an optional feature through `ssmspec.strategies.feature`, which consults the
  scope made active by `declared(...)` and draws the feature's absent value when it is lacked;
- `guarded(spec, impl)` wraps the implementation so that a call using a lacked feature or an
  undeclared method of the spec raises `OutOfScope` before the implementation sees it: a law
  that needs such a call is reported out of scope, not failed, and a conformance input that
  uses it is not counted.

A raise of the implementation itself inside the declared scope stays a failure.
"""

from __future__ import annotations

import functools
import inspect
import unittest
from collections.abc import Callable, Iterable
from contextlib import contextmanager
from contextvars import ContextVar

_WITHOUT: ContextVar[frozenset] = ContextVar("ssmspec_without", default=frozenset())


class OutOfScope(unittest.SkipTest):
    """A call or input outside the implementation's declared scope (not a failure).

    A SkipTest: hypothesis re-raises it at once (no shrinking of something that is not a
    failure) and pytest reports it as a skip."""


@contextmanager
def declared(without: Iterable[str]):
    """Make `without` (feature names) the active scope of the strategies drawn inside."""
    token = _WITHOUT.set(frozenset(without or ()))
    try:
        yield
    finally:
        _WITHOUT.reset(token)


def lacks(feature: str) -> bool:
    """Whether the active scope declares `feature` absent."""
    return feature in _WITHOUT.get()


def validate(spec, without: Iterable[str]) -> tuple[str, ...]:
    """`without` as a tuple; ValueError naming `without` if a name is not a feature of `spec`."""
    without = tuple(without or ())
    unknown = sorted(set(without) - set(spec.features))
    if unknown:
        raise ValueError(f"without: {spec.name} has no optional feature {unknown}; its "
                         f"features: {sorted(spec.features) or 'none'}")
    return without


def describe(spec, impl) -> str:
    """The scope `impl` is checked in, in one line: methods and the features it lacks."""
    meths = [m for m in spec.methods if not impl.methods or m in impl.methods]
    lacked = [f for f in spec.features if f in impl.without]
    return (f"methods {', '.join(meths)}; features: "
            + (f"all but {', '.join(lacked)}" if lacked else
               "all" if spec.features else "none optional"))


@functools.cache
def _canonical(primitive: str) -> inspect.Signature | None:
    from ssmspec import registry

    try:
        return inspect.signature(registry.implementation(primitive, "torch").fn)
    except (KeyError, ValueError, TypeError):
        return None


def violation(spec, impl, args: tuple, kwargs: dict) -> str | None:
    """Why the call `fn(*args, **kwargs)` is outside `impl`'s scope, or None if inside (or if
    the arguments do not bind to the canonical signature: the implementation judges those)."""
    if not impl.without and not impl.methods:
        return None
    sig = _canonical(spec.name)
    if sig is None:
        return None
    try:
        bound = sig.bind(*args, **kwargs)
    except TypeError:
        return None
    bound.apply_defaults()
    a = bound.arguments
    method = spec.method_of(a.get(spec.method_arg))
    if (impl.methods and isinstance(method, str) and method in spec.methods
            and method not in impl.methods):
        return f"method {method!r} (declared: {', '.join(impl.methods)})"
    for name in impl.without:
        try:
            used = bool(spec.features[name].used(a))
        except Exception:  # noqa: BLE001 - malformed (bad-input) arguments use no feature
            used = False
        if used:
            return f"feature {name!r} (declared without it)"
    return None


def guarded(spec, impl) -> Callable:
    """`impl.fn`, raising OutOfScope on a call outside `impl`'s declared scope."""
    fn = impl.fn
    if fn is None or (not impl.without and not impl.methods):
        return fn

    @functools.wraps(fn)
    def call(*args, **kwargs):
        why = violation(spec, impl, args, kwargs)
        if why:
            raise OutOfScope(f"{impl.name}: {why}")
        return fn(*args, **kwargs)

    return call

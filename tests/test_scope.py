"""Declared scope: optional features (`Spec.features`, `--without`), declared methods, and the
guard that keeps strategies, laws and bad inputs inside them."""

import inspect

import pytest

from ssmspec import check, harness, registry, scope
from ssmspec.spec import Implementation

# the first and the last method of each primitive with several
MULTI_METHOD = [(s.name, m) for s in registry.specs() if len(s.methods) > 1
                for m in (s.methods[0], s.methods[-1])]


def _recording(primitive: str, method: str):
    """The built-in implementation declared with one method, recording every method it is
    called with (bound against its own signature)."""
    spec = registry.spec(primitive)
    fn = registry.implementation(primitive, "torch").fn
    sig = inspect.signature(fn)
    seen: set = set()

    def rec(*args, **kwargs):
        try:
            bound = sig.bind(*args, **kwargs)
            bound.apply_defaults()
            seen.add(spec.method_of(bound.arguments[spec.method_arg]))
        except TypeError:
            pass
        return fn(*args, **kwargs)

    return Implementation(primitive, "recorder", rec, methods=(method,),
                          source="plugin tests"), seen


@pytest.mark.parametrize("primitive, method", MULTI_METHOD)
def test_every_law_calls_only_the_declared_method(primitive, method):
    """Each law of the primitive, run on an implementation declared with one method only:
    the implementation is never called with another method, and each law either holds or is
    reported out of scope (naming the method it needs), never failed."""
    spec = registry.spec(primitive)
    impl, seen = _recording(primitive, method)
    outcomes = check._law_outcomes(spec, impl, lambda law: law.dtypes[0], "cpu", 3, None)
    assert len(outcomes) == len(registry.laws(primitive))
    for o in outcomes:
        assert o.passed, f"{o.name}: {o.error}"
        assert o.out_of_scope is None or "method" in o.out_of_scope, o
    assert seen <= {method}, f"called with {seen - {method}} though declared {method} only"


def test_strategies_draw_an_optional_feature_only_when_in_scope():
    spec = registry.spec("selective_scan")
    free = harness.sample(spec.strategy("fp32", "zoh"), 25)
    assert any("initial_state" in c.arrays for c in free)
    with scope.declared(["initial_state", "layout=invariant"]):
        kept = harness.sample(spec.strategy("fp32", "zoh"), 25)
    assert not any("initial_state" in c.arrays for c in kept)
    assert not any(c.arrays["B"].ndim == 2 for c in kept)
    assert any(c.arrays["B"].ndim == 2 for c in free)


def test_the_guard_rejects_lacked_features_and_undeclared_methods_only():
    spec = registry.spec("linear_scan")
    torch_scan = registry.implementation("linear_scan", "torch").fn
    impl = Implementation("linear_scan", "no-h0", torch_scan, methods=("sequential",),
                          without=("h0",))
    fn = scope.guarded(spec, impl)
    import torch

    a, b = torch.full((2, 5), 0.5), torch.ones(2, 5)
    assert fn(a, b, method="sequential").shape == (2, 5)
    with pytest.raises(scope.OutOfScope, match="h0"):
        fn(a, b, torch.zeros(2), method="sequential")
    with pytest.raises(scope.OutOfScope, match="associative"):
        fn(a, b, method="associative")
    with pytest.raises(ValueError, match="method"):  # unknown: the implementation's to judge
        fn(a, b, method="nope")


def test_unknown_feature_names_are_errors_naming_without():
    with pytest.raises(ValueError, match="without.*initial_stat"):
        scope.validate(registry.spec("selective_scan"), ["initial_stat"])
    assert "initial_state" in registry.spec("selective_scan").features
    assert {"conj_half=False", "Q!=P"} <= set(registry.spec("dplr_kernel").features)

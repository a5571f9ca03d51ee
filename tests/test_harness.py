import numpy as np
import pytest
import torch
from hypothesis import strategies as st

from ssmspec import harness, registry
from ssmspec.spec import Implementation


def test_sample_is_deterministic():
    s = registry.spec("discretize_diag").strategy("fp32", "zoh")
    a, b = harness.sample(s, 5), harness.sample(s, 5)
    assert len(a) == 5
    for x, y in zip(a, b):
        for k in x.arrays:
            assert np.array_equal(x.arrays[k], y.arrays[k])


def test_sample_size():
    assert harness.sample(st.integers(), 3) == harness.sample(st.integers(), 3)


def test_exception_on_valid_input_is_an_infinite_failure():
    spec = registry.spec("discretize_diag")
    case = harness.sample(spec.strategy("fp64", "zoh"), 1)[0]

    def broken(Lambda, B, dt, method="zoh"):
        raise RuntimeError("kernel launch failed")

    m = harness.evaluate(spec, broken, case, "zoh", "cpu")
    assert not m.passed and m.max_ratio == np.inf and "kernel launch failed" in m.raised


def test_wrong_number_of_outputs_is_reported():
    spec = registry.spec("discretize_diag")
    case = harness.sample(spec.strategy("fp64", "zoh"), 1)[0]
    m = harness.evaluate(spec, lambda Lambda, B, dt, method: (Lambda,), case, "zoh", "cpu")
    assert "expected 2 outputs" in m.raised


def test_time_call_returns_repeats():
    t = harness.time_call(lambda: torch.ones(10).sum(), "cpu", repeats=3, min_time=1e-3)
    assert len(t) == 3 and all(x > 0 for x in t)


def test_outside_implementation_joins_every_target(monkeypatch):
    """An implementation registered from outside runs in the same generic targets."""
    from ssmspec.impl.discretization import discretize_diag

    impl = Implementation("discretize_diag", "outside-test", discretize_diag, methods=("zoh",),
                          dtypes=("fp32",), source="plugin")
    monkeypatch.setitem(registry._IMPLS["discretize_diag"], "outside-test", impl)
    ts = [t for t in registry.targets() if t.impl.name == "outside-test"]
    assert [(t.method, t.dtype) for t in ts] == [("zoh", "fp32")] * len(registry.devices())
    case = harness.sample(ts[0].spec.strategy("fp32", "zoh"), 1)[0]
    assert harness.evaluate(ts[0].spec, impl.fn, case, "zoh", "cpu").passed


def test_registry_lookups_name_the_argument():
    with pytest.raises(ValueError, match="primitive"):
        registry.spec("nope")
    with pytest.raises(ValueError, match="implementation"):
        registry.implementation("discretize_diag", "nope")


def test_every_spec_is_complete():
    for s in registry.specs():
        assert s.methods and s.dtypes and s.outputs
        assert set(s.bound.c) >= set(s.methods), f"{s.name}: a bound constant per method"
        assert {"mp", "np"} <= set(s.references), f"{s.name}: both reference tiers"
        assert registry.implementations(s.name), f"{s.name}: no implementation"
        assert registry.bad_inputs(s.name), f"{s.name}: no bad-input rows"

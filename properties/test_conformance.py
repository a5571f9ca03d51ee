"""Every implementation against its reference, within its spec's a-priori bound."""

from __future__ import annotations

import pytest
from hypothesis import given, reject, target
from hypothesis import strategies as st

from ssmspec import harness, registry, scope, strategies
from ssmspec.dtypes import dtype

TARGETS = registry.targets()
SHAPES = strategies.session_shapes()  # sizes fixed / the realistic regime (SSMSPEC_SIZES, _REGIME)


def _params(targets, strict: bool):
    """One param per target; an implementation's expected failures (xfail data) are xfails,
    strict for conformance (an unexpected pass is reported too)."""
    return [pytest.param(t, id=t.id, marks=[pytest.mark.xfail(reason=t.xfail, strict=strict)]
                         if t.xfail else []) for t in targets]


@pytest.mark.parametrize("t", _params(TARGETS, strict=True))
@given(data=st.data())
def test_within_bound(t: registry.Target, data):
    with scope.declared(t.impl.without):  # draw only inside the implementation's scope
        case = data.draw(strategies.cases(t.spec, t.dtype, t.method, SHAPES), label="case")
    try:
        m = harness.evaluate(t.spec, scope.guarded(t.spec, t.impl), case, t.method, t.device)
    except scope.OutOfScope:
        reject()
    target(min(m.max_ratio, 1e6), label="err/bound")  # climb toward the inputs that come closest
    assert m.passed, f"{t.id}\n{m.describe()}\ninput: {case.summary()}"


# not strict: an implementation that fails its bound may still keep the dtype and device
@pytest.mark.parametrize("t", _params(TARGETS, strict=False))
def test_output_dtype_and_device(t: registry.Target):
    """No silent promotion: every output has the input's dtype, on the input's device."""
    with scope.declared(t.impl.without):
        case = harness.sample(t.spec.strategy(t.dtype, t.method), 1)[0]
    outs = harness.run(t.spec, t.impl.fn, case, t.method, t.device)
    for name, out in outs.items():
        assert out.dtype == dtype(t.dtype).torch, f"{name}: dtype {out.dtype}, input {t.dtype}"
        assert out.device.type == t.device, f"{name}: on {out.device}, input on {t.device}"

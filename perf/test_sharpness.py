"""The sharpness gate at realistic sizes (`tox -e realistic`; slow: minutes per primitive on 2
cores): for every primitive and method, the built-in torch implementation in fp32 (complex64
where complex) on its benchmark input and on realistic-regime inputs must stay within its bound
and reach err/bound ≥ `ssmspec.sharpness.GOAL`, unless `ssmspec.sharpness.EXPLAINED` says why
it cannot (and then the explanation must still be needed)."""

from __future__ import annotations

import os

import pytest

from ssmspec import registry, sharpness

EXAMPLES = int(os.environ.get("SSMSPEC_REALISTIC_EXAMPLES", "2"))
TARGETS = [(s.name, m) for s, _, m in sharpness.targets()]


@pytest.mark.parametrize("primitive, method", TARGETS, ids=[f"{p}-{m}" for p, m in TARGETS])
def test_sharp_and_within_bound_at_realistic_sizes(primitive, method):
    spec = registry.spec(primitive)
    e = sharpness.measure(spec, registry.implementation(primitive, "torch"), method,
                          examples=EXAMPLES)
    rows = "\n".join(f"  {i['input']} {i['shape']}: err/bound {i['err_over_bound']:.3g} "
                     f"({i['seconds']:.1f} s){' raised ' + i['raised'] if i['raised'] else ''}"
                     for i in e["inputs"])
    assert e["passed"], f"over the bound at realistic sizes:\n{rows}"
    why = sharpness.explained(primitive, method)
    if why:
        assert not e["sharp"], (f"explained as loose ({why}) but err/bound {e['sharpness']:.3g} "
                                f"≥ {sharpness.GOAL}: drop the explanation\n{rows}")
    else:
        assert e["sharp"], (f"sharpness {e['sharpness']:.3g} < {sharpness.GOAL}: the bound is "
                            f"more than 100× what the built-in needs\n{rows}")

"""Certification of every spec's float64 tier: on inputs small enough for the mpmath tier, drawn
from the spec's own strategy in each wide format it covers (fp64, c128), the float64 (or long
double) reference is within the spec's own bound at u = 2^-53 of mpmath (`harness.certify`,
err/bound ≤ 1): the float64 tier is what measures every implementation beyond mpmath's sizes,
and this is how it earns that trust (docs/error-model.md#reference-tiers).

One parametrised property over the registry: a new spec is certified without a new test."""

from __future__ import annotations

import numpy as np
import pytest

from ssmspec import harness, registry

WIDE = ("fp64", "c128")
DRAWS = 12  # strategy inputs drawn per (spec, method, format) ...
CERTIFIED = 3  # ... of which the smallest this many within the mpmath tier are certified


def _size(case) -> tuple:
    """Entries of the arrays, then the integer params (sizes such as N, L): mpmath's cost."""
    ints = [v for v in case.params.values() if isinstance(v, int) and not isinstance(v, bool)]
    return sum(int(np.size(a)) for a in case.arrays.values()), sum(ints)


def _targets():
    out = []
    for spec in registry.specs():
        for method in spec.methods:
            for fmt in WIDE:
                if fmt in spec.dtypes_of(method):
                    out.append(pytest.param(spec.name, method, fmt,
                                            id=f"{spec.name}-{method}-{fmt}"))
    return out


@pytest.mark.parametrize("primitive, method, fmt", _targets())
def test_float64_tier_within_the_fp64_bound_of_mpmath(primitive, method, fmt):
    spec = registry.spec(primitive)
    small = sorted((c for c in harness.sample(spec.strategy(fmt, method), DRAWS)
                    if spec.reference_tier(c) == "mp"), key=_size)[:CERTIFIED]
    assert small, f"{primitive}: none of {DRAWS} strategy inputs is small enough for mpmath"
    for case in small:
        m = harness.certify(spec, case, method, fmt)
        assert m.passed, f"{primitive} {method} {fmt}: float64 tier off\n{m.describe()}"


def test_every_spec_is_certified():
    """Each spec has a wide format for some method (else its float64 tier is never certified)."""
    certified = {p.values[0] for p in _targets()}
    assert certified == {s.name for s in registry.specs()}

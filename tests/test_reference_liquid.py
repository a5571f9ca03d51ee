"""The Liquid-S4 references: long double against mpmath (the literal sums) within the fp64/c128
bound, for the kernels and the output, both methods."""

import numpy as np
import pytest

from ssmspec import harness, registry


@pytest.mark.parametrize("name", ["liquid_kernel", "liquid_conv"])
@pytest.mark.parametrize("method", ["pb", "kb"])
@pytest.mark.parametrize("fmt", ["c128", "fp64"])
def test_long_double_reference_within_fp64_bound_of_mpmath(name, method, fmt):
    spec = registry.spec(name)
    cases = [c for c in harness.sample(spec.strategy(fmt, method), 30)
             if spec.reference_tier(c) == "mp"][:6]
    assert len(cases) >= 4
    for case in cases:
        m = harness.certify(spec, case, method, fmt)
        assert m.passed, f"long-double reference off its bound: {m.describe()}"
        assert np.isfinite(m.max_ratio)

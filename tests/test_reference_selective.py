"""The selective-scan references: float64 (and SSD's extended-precision recurrence) against
mpmath within the fp64/c128 bound, on strategy cases small enough for the mpmath tier."""

import numpy as np
import pytest

from ssmspec import harness, registry
from ssmspec.errors import abs_error, ratio


@pytest.mark.parametrize("prim, method, fmt", [
    ("selective_scan", "zoh_approx", "fp64"), ("selective_scan", "zoh", "c128"),
    ("selective_scan", "bilinear", "fp64"), ("selective_scan", "zoh_approx", "c128"),
    ("ssd_scan", "chunked", "fp64")])
def test_float64_reference_within_fp64_bound_of_mpmath(prim, method, fmt):
    spec = registry.spec(prim)
    cases = [c for c in harness.sample(spec.strategy(fmt, method), 20)
             if spec.reference_tier(c) == "mp"][:8]
    assert len(cases) >= 4
    for case in cases:
        mp_out, np_out = spec.reference(case, method, "mp"), spec.reference(case, method, "np")
        bound = spec.bound(case, method, fmt)
        for k in spec.outputs:
            r = ratio(abs_error(np_out[k], mp_out[k]), bound[k])
            assert np.all(r <= 1), f"{k}: float64 reference off by {r.max():.3g}× its bound"

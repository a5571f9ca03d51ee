"""DSS reference: float64 (long double) against mpmath within the fp64 bound, and the mpmath
DSS-exp equal to the mpmath zoh diagonal kernel with B = 1, C = W (the paper's Proposition 1)."""

import numpy as np
import pytest

from ssmspec import harness, registry
from ssmspec.errors import abs_error, ratio
from ssmspec.reference.mp import dss as dmp
from ssmspec.reference.mp import kernels as kmp


@pytest.mark.parametrize("method", ["exp", "softmax"])
def test_float64_reference_within_fp64_bound_of_mpmath(method):
    spec = registry.spec("dss_kernel")
    for case in harness.sample(spec.strategy("c128", method), 12):
        mp_out = spec.reference(case, method, "mp")["K"]
        np_out = spec.reference(case, method, "np")["K"]
        r = ratio(abs_error(np_out, mp_out), spec.bound(case, method, "c128")["K"])
        assert np.all(r <= 1), f"float64 reference off by {r.max():.3g}× its bound"


def test_mpmath_dss_exp_is_mpmath_zoh():
    lam = np.array([[-0.5 + 3j, -2.0 + 0.1j]])
    W = np.array([[1.0 - 0.5j, 0.25 + 2j]])
    log_dt = np.array([np.log(0.3)])
    k_dss = np.array(dmp.dss_kernel(lam, W, log_dt, 7, "exp"), dtype=float)
    k_zoh = np.array(kmp.diag_kernel(lam, np.ones_like(lam), W, log_dt, 7, "zoh", False),
                     dtype=float)
    assert np.max(np.abs(k_dss - k_zoh)) < 1e-15

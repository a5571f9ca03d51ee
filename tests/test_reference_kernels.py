"""The kernel references (float64 against mpmath: tests/test_certification.py): the bound's growth
term shown honest (an S4-style exp(l·ΔΛ) kernel passes it) and needed (it fails without it)."""

import math

import numpy as np
import torch

from ssmspec import harness, registry
from ssmspec.errors import abs_error, higham_bound, ratio
from ssmspec.reference.mp import kernels as rmp
from ssmspec.reference.np import kernels as rnp
from ssmspec.specs.kernels import direct_kernel


def test_ema_mpmath_equals_diag_mpmath_with_the_s4d_real_mapping():
    d, a = np.array([[[0.3], [-1.0]]]), np.array([[[1.5], [0.2]]])
    b, g = np.array([[[1.0], [-0.5]]]), np.array([[2.0, 0.25]])
    ema = rmp.ema_kernel(d, a, b, g, 6)
    p, logq = rnp.ema_log_q(d[..., 0], a[..., 0])
    diag = rmp.diag_kernel(logq, p * b[..., 0], g * math.sqrt(0.5), np.zeros(1), 6,
                           "zoh_approx", False)
    assert np.max(np.abs(abs_error(rnp.ema_kernel(d, a, b, g, 6), ema))) < 1e-15
    assert np.max(abs_error(np.array(diag, dtype=float), ema)) < 1e-14  # Λ, B rounded to fp64


def test_s4_style_fp32_kernel_is_within_the_bound_and_needs_its_growth_term():
    """exp(l·ΔΛ) in c64 at L = 4096 with |ΔΛ| up to ~40: the l·|ΔΛ| term admits its phase error,
    a bound without it does not."""
    spec = registry.spec("diag_kernel")
    case = spec.bench_case("c64")
    a = case.arrays
    case = type(case)({k: x[:4, :16] if x.ndim == 2 else x[:4] for k, x in a.items()}, "c64",
                      {"L": 4096, "conj_half": True})
    got = harness.to_numpy(spec.call(direct_kernel, case, "zoh", "cpu")).real
    ref = spec.reference(case, "zoh", "np")["K"]
    err = abs_error(got, ref)
    assert np.max(ratio(err, spec.bound(case, "zoh")["K"])) <= 1
    M, G = rnp.diag_kernel_with_bound(a["Lambda"][:4, :16], a["B"][:4, :16], a["C"][:4, :16],
                                      a["log_dt"][:4], 4096, "zoh", True)[1:]
    assert np.max(ratio(err, higham_bound(4.0, "c64", 17.0 + 0 * G, M))) > 1
    built_in = harness.to_numpy(spec.call(registry.implementation("diag_kernel", "torch").fn,
                                          case, "zoh", "cpu")).real
    assert np.max(abs_error(built_in, ref)) < np.max(err)


def test_ema_kernel_no_nan_when_q_is_zero():
    t = torch.tensor([[[800.0]]], dtype=torch.float64)
    k = registry.implementation("ema_kernel", "torch").fn(t, t, t * 0 + 1, t[..., 0] * 0 + 1, 3)
    assert k.tolist() == [[1.0, 0.0, 0.0]]

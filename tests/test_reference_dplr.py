"""The DPLR references: the float64 dense Krylov kernel and step certified against mpmath within
the fp64 bound; the §5 generating-function algebra (C̃, Woodbury, the ω = −1 limit) checked
against the Krylov kernel; the bound's terms shown needed."""

import math

import numpy as np
import pytest
import torch

from ssmspec import harness, registry
from ssmspec.errors import abs_error, norm_error, ratio
from ssmspec.reference.np import dplr as rnp
from ssmspec.specs.dplr import SYSTEM
from ssmspec.specs.dplr_laws import _generic, _slow_witness


@pytest.mark.parametrize("prim", ["dplr_kernel", "dplr_step"])
def test_float64_reference_within_fp64_bound_of_mpmath(prim):
    spec = registry.spec(prim)
    checked = 0
    for case in harness.sample(spec.strategy("c128", "bilinear"), 12):
        if spec.reference_tier(case) != "mp":
            continue
        m = harness.certify(spec, case, "bilinear", "c128")
        assert m.passed, f"float64 reference vs mpmath: {m.describe()}"
        checked += 1
    assert checked >= 6


@pytest.mark.parametrize("conj_half", [True, False])
@pytest.mark.parametrize("L", [1, 2, 7, 8, 16, 33])
def test_woodbury_route_equals_krylov(conj_half, L):
    rng = np.random.default_rng(L)
    H, N, R = 2, 3, 2
    lam = -rng.uniform(0.05, 2, (H, N)) + 1j * rng.uniform(-20, 20, (H, N))
    P = rng.normal(size=(R, H, N)) + 1j * rng.normal(size=(R, H, N))
    B, C = (rng.normal(size=(H, N)) + 1j * rng.normal(size=(H, N)) for _ in range(2))
    args = (lam, P, 0.6 * P, B, C, np.log([0.05, 0.7]), L, conj_half)
    K = rnp.dplr_kernel(*args)
    assert np.max(np.abs(rnp.kernel_via_woodbury(*args) - K)) < 1e-13 * max(1, np.abs(K).max())


def test_rounded_roots_pass_and_the_omega_term_predicts_their_effect():
    """Roots of unity correctly rounded to complex64 (no drift), the rest exact, on a slowly
    decaying LegS kernel at L = 4096: within the bound, and the first-order ω term m_ω·|δω|
    predicts the measured row error to within a factor 2 (it is what m_ω models)."""
    spec = registry.spec("dplr_kernel")
    case = _slow_witness("c64", 4096)
    L = 4096
    om = torch.polar(torch.ones(L, dtype=torch.float64),
                     -2 * math.pi * torch.arange(L, dtype=torch.float64) / L)
    om32 = om.to(torch.complex64).to(torch.complex128)
    args = [torch.tensor(case.arrays[k]) for k in SYSTEM]
    exact = _generic(*args, L, True, omega=om).numpy()
    rounded = _generic(*args, L, True, omega=om32).numpy()
    ref = spec.reference(case, "bilinear", "np")["K"]
    assert np.all(ratio(norm_error(abs_error(rounded, ref), "row"),
                        spec.bound(case, "bilinear")["K"]) <= 1)
    _, _, m_w = rnp.kernel_bound_terms(*(case.arrays[k] for k in SYSTEM), L, True)
    predicted = np.sqrt(np.sum((m_w * np.abs((om32 - om).numpy())) ** 2, -1) / L)
    measured = np.sqrt(np.sum((rounded - exact) ** 2, -1))
    assert np.all(measured <= 2 * predicted) and np.all(predicted <= 2 * measured)

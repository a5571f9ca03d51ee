"""The DPLR references (the float64 dense Krylov kernel and step against mpmath:
tests/test_certification.py): the generating-function algebra (C̃, Woodbury, the ω = −1 limit)
checked against the Krylov kernel; the bound's terms shown needed."""

import math

import numpy as np
import pytest
import torch

from ssmspec import harness, registry
from ssmspec.errors import abs_error, norm_error, ratio
from ssmspec.reference.np import dplr as rnp
from ssmspec.specs.dplr import SYSTEM, generic_kernel, slow_witness


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
    case = slow_witness("c64", 4096)
    L = 4096
    om = torch.polar(torch.ones(L, dtype=torch.float64),
                     -2 * math.pi * torch.arange(L, dtype=torch.float64) / L)
    om32 = om.to(torch.complex64).to(torch.complex128)
    args = [torch.tensor(case.arrays[k]) for k in SYSTEM]
    exact = generic_kernel(*args, L, True, omega=om).numpy()
    rounded = generic_kernel(*args, L, True, omega=om32).numpy()
    ref = spec.reference(case, "bilinear", "np")["K"]
    assert np.all(ratio(norm_error(abs_error(rounded, ref), "row"),
                        spec.bound(case, "bilinear")["K"]) <= 1)
    m_w = rnp.kernel_bound_terms(*(case.arrays[k] for k in SYSTEM), L, True, False).m_w
    predicted = np.sqrt(np.sum((m_w * np.abs((om32 - om).numpy())) ** 2, -1) / L)
    measured = np.sqrt(np.sum((rounded - exact) ** 2, -1))
    assert np.all(measured <= 2 * predicted) and np.all(predicted <= 2 * measured)


@pytest.mark.parametrize("L", [1, 2, 5, 33])
def test_krylov_doubling_equals_step_by_step(L):
    rng = np.random.default_rng(L)
    n = 4
    A = rng.normal(size=(2, n, n)) + 1j * rng.normal(size=(2, n, n))
    A /= 1.1 * np.linalg.norm(A, 2, axis=(-2, -1))[:, None, None]  # a contraction
    b = rng.normal(size=(2, n)) + 1j * rng.normal(size=(2, n))
    V = rnp.krylov(A, b, L)
    v = b.copy()
    for l in range(L):
        assert np.max(np.abs(V[:, l] - v)) <= 1e-14 * (1 + l)
        v = np.einsum("hij,hj->hi", A, v)


@pytest.fixture(scope="module")
def realistic():
    """Every 16th channel of the benchmark system (N = 64 LegS, L = 4096), complex64: the
    reference, the built-in's output and both bounds."""
    from ssmspec.specs import dplr as sd
    spec = registry.spec("dplr_kernel")
    case = sd.bench_kernel("c64", 16)
    ref = spec.reference(case, "bilinear")["K"]
    got = harness.to_numpy(harness.run(spec, registry.implementation("dplr_kernel", "torch").fn,
                                       case, "bilinear", "cpu")["K"])
    return ref, got, spec.bound(case, "bilinear")["K"], sd.worst_case_bound(case)


def test_gated_bound_is_sharp_at_realistic_size(realistic):
    """The gated bound holds for the built-in with room (≥ 1e-4 of it used, < 1) and is below
    6e-4·max|K| on every row: a kernel off by 6e-4 of max|K| in any entry is rejected."""
    ref, got, gated, _ = realistic
    r = np.sqrt(np.sum((got - ref) ** 2, -1)) / gated
    assert 1e-4 <= r.max() < 0.05
    assert np.all(gated < 6e-4 * np.abs(ref).max())


def test_worst_case_bound_holds_and_is_what_the_gated_one_sharpens(realistic):
    """The worst-case bound (not gated) is far looser at realistic size: ≥ 1e3× the gated one
    on every row, and larger than ‖K‖₂ itself on some (it would accept any error there)."""
    ref, got, gated, worst = realistic
    assert np.all(np.sqrt(np.sum((got - ref) ** 2, -1)) <= worst)
    assert np.all(worst >= 1e3 * gated)
    assert np.any(worst > np.sqrt(np.sum(ref**2, -1)))

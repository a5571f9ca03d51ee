"""The HiPPO references against independent oracles (the float64 tier against mpmath:
tests/test_certification.py)."""

import mpmath as mp
import numpy as np
import pytest
import torch

from ssmspec.dtypes import dtype
from ssmspec.errors import abs_error, to_float
from ssmspec.impl import hippo as impl
from ssmspec.reference.mp import hippo as rmp
from ssmspec.reference.np import hippo as rnp


@pytest.mark.parametrize("measure", rnp.MEASURES)
@pytest.mark.parametrize("N", [1, 2, 3, 4, 8, 16, 64])
@pytest.mark.parametrize("ref", [rnp, rmp], ids=["np", "mp"])
def test_each_reference_takes_exactly_the_sizes_its_form_allows(ref, measure, N):
    """(A, B) exists for every N except FouT at odd N (its states pair cos and sin); the NPLR
    conjugate-half form needs even N. Each is an (N, N) and (N,) pair, or a ValueError naming N."""
    if measure == "fout" and N % 2:
        with pytest.raises(ValueError, match=r"\bN\b"):
            ref.hippo(measure, N)
    else:
        A, B = ref.hippo(measure, N)
        assert np.shape(A) == (N, N) and np.shape(B) == (N,)
    if N % 2:
        with pytest.raises(ValueError, match=r"\bN\b"):
            ref.nplr(measure, N)
    elif N <= (64 if ref is rnp else 8):  # mpmath's eigensolver is slow beyond
        lam, Pt, Bt, V = ref.nplr(measure, N)
        assert np.shape(lam) == (N // 2,) and np.shape(V) == (N, N // 2)


@pytest.mark.parametrize("measure", rnp.MEASURES)
def test_mpmath_nplr_reconstructs_a_to_working_precision(measure):
    """V_full Λ_full V_full* − PᵀP = A and V_full unitary, to 1e-40 (N = 8)."""
    N = 8
    lam, Pt, Bt, V = rmp.nplr(measure, N)
    A, B = rmp.hippo(measure, N)
    P = rmp.rank_correction(measure, N)
    with mp.workdps(rmp.DPS):
        Vf = mp.matrix([[V[i, j] for j in range(N // 2)] + [mp.conj(V[i, j])
                        for j in range(N // 2)] for i in range(N)])
        L = mp.diag(list(lam) + [mp.conj(x) for x in lam])
        rec = Vf * L * Vf.H
        gram = Vf.H * Vf
        for i in range(N):
            assert abs(sum(Vf[i, j] * (list(Bt) + [mp.conj(x) for x in Bt])[j]
                           for j in range(N)) - B[i]) < 1e-40
            for j in range(N):
                ppt = sum(P[a, i] * P[a, j] for a in range(P.shape[0]))
                assert abs(rec[i, j] - ppt - A[i, j]) < 1e-40, (i, j)
                assert abs(gram[i, j] - (1 if i == j else 0)) < 1e-40
    assert all(x.imag >= 0 for x in lam)
    assert all(x.real == rnp.shift(measure) for x in lam)


def test_legs_projection_law_holds_for_the_mpmath_matrices():
    """The oracle of docs/hippo.md#hippo: (dI − A)c = B is solved by the quadrature moments
    (N = 8)."""
    N = 8
    A, B = rmp.hippo("legs", N)
    c = rmp.legs_moments_quad(N)
    with mp.workdps(30):
        for d in range(N):
            for n in range(N):
                r = d * c[n, d] - sum(A[n, k] * c[k, d] for k in range(N)) - B[n]
                assert abs(r) < 1e-25, (n, d)


PAIRS = [(0, 0), (1, 5), (3, 3), (7, 20), (12, 40), (30, 31), (5, 63), (40, 63), (63, 63)]


@pytest.mark.parametrize("n, d", PAIRS)
def test_legs_closed_form_moments_equal_mp_quad(n, d):
    """The closed form the projection law uses at N = 64, against mp.quad with mp.legendre.
    Absolute accuracy is what matters (the law's bound is absolute): the moments at n ≈ d are
    ~1e-38 while the integrand is of order one."""
    closed = rmp.legs_moments_closed(64)[n, d]
    with mp.workdps(30):
        quad = mp.quad(lambda s: s**d * mp.sqrt(2 * n + 1) * mp.legendre(n, 2 * s - 1), [0, 1])
    assert abs(closed - quad) < 1e-24


@pytest.mark.parametrize("n, d", [(0, 0), (1, 3), (2, 2), (4, 10), (11, 31), (20, 62), (63, 63)])
def test_legt_closed_form_moments_equal_mp_quad(n, d):
    closed = rmp.legt_moments_closed(64)[n, d]
    with mp.workdps(30):
        quad = mp.quad(lambda x: x**d * mp.sqrt(2 * n + 1) * mp.legendre(n, x), [-1, 0, 1]) / 2
    assert abs(closed - quad) < 1e-24


def test_small_n_moments_quad_equals_closed_form():
    for N in (1, 2, 3, 8):
        for f, g in ((rmp.legs_moments_quad, rmp.legs_moments_closed),
                     (rmp.legt_moments_quad, rmp.legt_moments_closed)):
            q, c = f(N), g(N)
            assert max(abs(q[i] - c[i]) for i in np.ndindex(q.shape)) < 1e-25


@pytest.mark.parametrize("a", [0.0, 0.5, 1.0, 3.0])
def test_lagt_laplace_closed_form_equals_mp_quad(a):
    """γ_n(a) = ∫₀^∞ e^{−ax} L_n(x) e^{−x/2} dx, by quadrature with mp.laguerre."""
    gamma = rmp.lagt_laplace(6, a)
    with mp.workdps(30):
        for n in range(6):
            quad = mp.quad(lambda x, n=n: mp.exp(-(a + 0.5) * x) * mp.laguerre(n, 0, x),
                           [0, 10, mp.inf])
            assert abs(quad - gamma[n]) < 1e-20, n


def _fout_basis(n, x):
    k = n // 2
    if n == 0:
        return mp.mpf(1)
    return mp.sqrt(2) * (mp.cos(mp.pi * k * x) if n % 2 == 0 else mp.sin(mp.pi * k * x))


def _window(f, n, t):
    """½∫₀² f(t − x)·g_n(x) dx by quadrature (split at the basis' half period)."""
    return mp.quad(lambda x: f(t - x) * _fout_basis(n, x), [0, 1, 2]) / 2


def test_fout_coefficients_equal_mp_quad():
    """c = ½∫₀² f(t − x) g(x) dx and its t-derivative, by quadrature (N = 6, t = 0.3)."""
    N, t = 6, 0.3
    C, D, f = rmp.fout_coefficients(N, t)
    with mp.workdps(30):
        t = mp.mpf(t)
        funcs = [(lambda s: s, lambda s: mp.mpf(1))]
        for m in range(1, N // 2):
            w = mp.pi * m
            funcs.append((lambda s, w=w: mp.cos(w * s), lambda s, w=w: -w * mp.sin(w * s)))
            funcs.append((lambda s, w=w: mp.sin(w * s), lambda s, w=w: w * mp.cos(w * s)))
        for j, (fn, dfn) in enumerate(funcs):
            assert abs(fn(t) - f[j]) < 1e-25
            for n in range(N):
                assert abs(_window(fn, n, t) - C[n, j]) < 1e-25, (n, j)
                assert abs(_window(dfn, n, t) - D[n, j]) < 1e-25, (n, j)


def test_fout_law_does_not_hold_for_s_squared():
    """Why the FouT law is stated for f = s and trigonometric f only: for f = s² the window's
    Fourier series at the jump is not the mean of the jump, so c' ≠ Ac + Bf (N = 8)."""
    N, t = 8, 0.0
    A, B = rnp.hippo("fout", N)
    with mp.workdps(30):
        c = np.array([float(_window(lambda s: s**2, n, t)) for n in range(N)])
        dc = np.array([float(_window(lambda s: 2 * s, n, t)) for n in range(N)])
    assert np.max(np.abs(A @ c + B * t**2 - dc)) > 1e-3


def test_s4_keeps_the_other_half_which_gives_the_same_full_system():
    """S4's nplr keeps Im Λ < 0 (sort ascending, first half); conjugating Λ, P̃, B̃, V gives that
    half, and the full-form reconstruction is the same."""
    lam, Pt, Bt, V = rnp.nplr("legs", 16)
    a = rnp.invariants(lam, Pt, Bt, V)
    b = rnp.invariants(lam.conj(), Pt.conj(), Bt.conj(), V.conj())
    for k in ("A", "B", "P", "VV"):
        assert np.allclose(a[k], b[k], atol=1e-12)
    assert np.all(b["Lambda"].imag <= 0)


def test_legt_is_half_the_theta_one_matrix_of_older_s4():
    """The LegT convention: older S4 (and the HiPPO paper up to the basis sign (−1)^n) used the
    window θ = 1, A and B twice as large; ssmspec follows the current S4 (θ = 2)."""
    N = 6
    A, B = rnp.hippo("legt", N)
    q = np.arange(N)
    R = np.sqrt(2 * q + 1)
    j, i = np.meshgrid(q, q)
    A1 = -R[:, None] * np.where(i < j, (-1.0) ** (i - j), 1) * R[None, :]
    assert np.allclose(2 * A, A1, rtol=4e-16, atol=0) and np.allclose(2 * B, R, rtol=4e-16, atol=0)


def test_draws_are_torch_cpu_generator_draws_in_the_documented_order():
    g = torch.Generator("cpu").manual_seed(11)
    u = torch.rand(3, generator=g, dtype=torch.float64)
    zc = torch.randn(3, 4, 2, generator=g, dtype=torch.float64)
    zl = torch.randn(3, 4, 2, generator=g, dtype=torch.float64)
    d = rnp.draws("random", 8, 3, 11)
    assert np.array_equal(d["u"], u.numpy()) and np.array_equal(d["zc"], zc.numpy())
    assert np.array_equal(d["zl"], zl.numpy())


def test_diag_init_closed_forms():
    out = rmp.diag_init("s4d-inv", 8, 1, 1e-3, 1e-1, 0)
    with mp.workdps(rmp.DPS):
        for n in range(4):
            want = mp.mpc(-0.5, 8 / mp.pi * (mp.mpf(8) / (2 * n + 1) - 1))
            assert abs(out["Lambda"][0, n] - want) < 1e-45
    lin = to_float(rmp.diag_init("s4d-lin", 8, 1, 1e-3, 1e-1, 0)["Lambda"])[0]
    assert np.allclose(lin, -0.5 + 1j * np.pi * np.arange(4), rtol=0, atol=1e-15)
    legs = to_float(rmp.diag_init("s4d-legs", 8, 2, 1e-3, 1e-1, 0)["Lambda"])
    assert np.array_equal(legs[0], to_float(rmp.nplr("legs", 8)[0]))
    dt = np.exp(to_float(rmp.diag_init("random", 8, 64, 1e-3, 1e-1, 5)["log_dt"]))
    assert np.all((dt >= 1e-3) & (dt <= 1e-1))


@pytest.mark.parametrize("measure", rnp.MEASURES)
@pytest.mark.parametrize("fmt", ["fp64", "fp32"])
def test_builtin_rank_correction_equals_the_reference(measure, fmt):
    """`rank_correction` has no spec of its own (nplr's P output checks the one nplr uses): the
    built-in public function against the mpmath P, within one rounding."""
    for N in (2, 3, 16, 64):
        if measure == "fout" and N % 2:
            continue
        got = impl.rank_correction(measure, N, dtype=dtype(fmt).torch)
        assert got.dtype == dtype(fmt).torch
        want = rmp.rank_correction(measure, N)
        err = abs_error(got.double().numpy(), want)
        assert np.all(err <= 2 * dtype(fmt).u * np.abs(to_float(want))), (measure, N)

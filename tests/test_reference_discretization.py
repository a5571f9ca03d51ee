"""The discretisation references against independent oracles (the float64 tier against mpmath:
tests/test_certification.py)."""

import mpmath as mp
import numpy as np
import pytest

from ssmspec.errors import to_float
from ssmspec.reference.mp import discretization as rmp
from ssmspec.reference.np import discretization as rnp

METHODS = ("zoh", "zoh_approx", "bilinear", "euler", "backward_euler")


def test_zoh_bbar_is_the_integral_of_the_impulse_response():
    """B̄ = ∫₀^Δ e^{λs} ds · b by quadrature: no expm1, no φ₁ formula."""
    for lam, dt in [(-1e-9, 1e-6), (-2.5, 0.3), (complex(-0.5, 40.0), 0.1), (0.0, 2.0),
                    (complex(0.0, 2 * np.pi), 1.0)]:
        _, bbar = rmp.discretize_diag(np.array([lam]), np.array([1.0 + 0 * lam]), dt, "zoh")
        with mp.workdps(40):
            lm = mp.mpmathify(lam)
            want = mp.quad(lambda s, lm=lm: mp.exp(lm * s), [0, dt / 2, dt])
            assert abs(bbar[0] - want) <= mp.mpf(10) ** -35 * max(1, abs(want)), (lam, dt)


def test_dense_zoh_on_a_rotation_generator_has_its_closed_form():
    w, dt = 3.0, 0.7
    A = np.array([[0.0, -w], [w, 0.0]])
    B = np.array([[1.0], [2.0]])
    abar, bbar = rmp.discretize_dense(A, B, dt, "zoh")
    mp.mp.dps = rmp.DPS
    c, s = mp.cos(w * mp.mpf(dt)), mp.sin(w * mp.mpf(dt))
    want_a = [[c, -s], [s, c]]
    integral = [[s / w, (c - 1) / w], [(1 - c) / w, s / w]]
    want_b = [integral[0][0] * 1 + integral[0][1] * 2, integral[1][0] * 1 + integral[1][1] * 2]
    for i in range(2):
        assert abs(bbar[i, 0] - want_b[i]) < 1e-40
        for j in range(2):
            assert abs(abar[i, j] - want_a[i][j]) < 1e-40


def test_dense_zoh_on_singular_nilpotent_a():
    """A = [[0, 1], [0, 0]]: e^{ΔA} = I + ΔA and B̄ = ΔB + Δ²/2·AB exactly (A⁻¹ does not exist)."""
    A = np.array([[0.0, 1.0], [0.0, 0.0]])
    B = np.array([[0.5], [1.0]])
    dt = 0.25
    abar, bbar = rmp.discretize_dense(A, B, dt, "zoh")
    assert to_float(abar).tolist() == [[1.0, 0.25], [0.0, 1.0]]
    assert to_float(bbar)[:, 0].tolist() == [0.25 * 0.5 + 0.03125 * 1.0, 0.25]


@pytest.mark.parametrize("method", METHODS)
def test_dense_mpmath_on_diagonal_a_equals_diagonal_mpmath(method):
    lam = np.array([-0.3, -2.0, 0.0])
    b = np.array([1.0, -1.0, 0.5])
    da, db = rmp.discretize_diag(lam, b, 0.4, method)
    ma, mb = rmp.discretize_dense(np.diag(lam), b[:, None], 0.4, method)
    for i in range(3):
        assert abs(ma[i, i] - da[i]) < 1e-45 and abs(mb[i, 0] - db[i]) < 1e-45


def test_mpmath_reference_is_stable_under_more_digits():
    lam = np.array([-1e-12, -3.0, complex(-0.5, 1e4)])
    b = np.ones(3, dtype=complex)
    lo = rmp.discretize_diag(lam, b, 1e-6, "zoh")
    with mp.workdps(rmp.DPS + 30):
        orig = rmp.DPS
        try:
            rmp.DPS = orig + 30
            hi = rmp.discretize_diag(lam, b, 1e-6, "zoh")
        finally:
            rmp.DPS = orig
    for x, y in zip(lo, hi):
        for a, c in zip(x, y):
            assert abs(a - c) <= mp.mpf(10) ** -(orig - 5) * abs(c)


def test_scipy_linalg_expm_is_less_accurate_than_the_float64_reference():
    """Why the float64 tier takes scipy.sparse.linalg.expm: on this normal 3×3 (eigenvalues ±8i,
    −8) scipy 1.17.1's scipy.linalg.expm errs by ~7e-15 and scipy.sparse.linalg.expm by ~9e-16
    (measured); on a matrix the dense strategy drew, 9.7e-14 against 4.7e-16, 12× the fp64 bound.
    The fact about scipy is recorded, not asserted: the assertion is on the reference in use."""
    rng = np.random.default_rng(3)
    Q, _ = np.linalg.qr(rng.normal(size=(3, 3)))
    X = Q @ np.array([[0.0, 8.0, 0.0], [-8.0, 0.0, 0.0], [0.0, 0.0, -8.0]]) @ Q.T
    with mp.workdps(60):
        exact = np.array(mp.expm(mp.matrix(X.tolist())).tolist(), dtype=float)
    err_ref = np.linalg.norm(rnp.expm(X) - exact)
    assert err_ref < 4 * 2.0**-53 * 3 * (1 + np.linalg.norm(X, 2))


def test_forward_euler_is_not_stable_for_large_steps():
    """Why the stability law leaves Euler out: |1 + Δλ| = 2 for λ = −1, Δ = 3."""
    abar, _ = rnp.discretize_diag(np.array([-1.0]), np.array([1.0]), 3.0, "euler")
    assert abs(abar[0]) == 2.0

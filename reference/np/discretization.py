"""Discretisation in float64/complex128 (docs/discretization.md), and the
magnitudes of its error bounds.

Same table as `ssmspec.reference.mp.discretization`; φ₁(z) = expm1(z)/z, dense zoh by Van Loan's
block exponential, the rational methods by `numpy.linalg.solve`.

The exponential is `scipy.sparse.linalg.expm` (Al-Mohy & Higham 2009, in Python), not
`scipy.linalg.expm`: checked against mpmath, scipy 1.17.1's `scipy.linalg.expm` is off by up to
~12× the fp64 bound on small normal matrices of norm ~10 (error ~1e-13 where 5e-16 is reachable;
tests/test_reference_discretization.py keeps the measurement).
"""

from __future__ import annotations

import numpy as np
import scipy.linalg
import scipy.sparse.linalg

from ssmspec.reference.mp.discretization import expand_dt


def phi1(z: np.ndarray) -> np.ndarray:
    """φ₁(z) = expm1(z)/z, φ₁(0) = 1 (numpy's expm1 is accurate for complex z too)."""
    z = np.asarray(z)
    safe = np.where(z == 0, 1, z)
    return np.where(z == 0, 1, np.expm1(safe) / safe)


def discretize_diag(Lambda, B, dt, method: str = "zoh"):
    """(Ā, B̄) elementwise for diagonal A = diag(Λ); shapes (*batch, N)."""
    lam, b = np.asarray(Lambda), np.asarray(B)
    dt = expand_dt(dt, lam.shape)
    z = dt * lam
    if method == "zoh":
        return np.exp(z), dt * phi1(z) * b
    if method == "zoh_approx":
        return np.exp(z), dt * b
    if method == "bilinear":
        d = 1 - z / 2
        return (1 + z / 2) / d, dt * b / d
    if method == "euler":
        return 1 + z, dt * b
    if method == "backward_euler":
        d = 1 - z
        return 1 / d, dt * b / d
    raise ValueError(f"method: unknown discretisation {method!r}")


def expm(X: np.ndarray) -> np.ndarray:
    """exp(X) for X (*batch, n, n), one matrix at a time through scipy.sparse.linalg.expm."""
    X = np.asarray(X)
    out = np.empty_like(X)
    for i in np.ndindex(X.shape[:-2]):
        out[i] = scipy.sparse.linalg.expm(X[i])
    return out


def discretize_dense(A, B, dt, method: str = "zoh"):
    """(Ā, B̄) for dense A (*batch, N, N), B (*batch, N, K), Δ scalar or (*batch,)."""
    A, B = np.asarray(A), np.asarray(B)
    n, k = A.shape[-1], B.shape[-1]
    d = np.broadcast_to(np.asarray(dt, dtype=np.float64), A.shape[:-2])[..., None, None]
    eye = np.broadcast_to(np.eye(n), A.shape)
    if method == "zoh":
        X = np.zeros(A.shape[:-2] + (n + k, n + k), dtype=np.result_type(A, B))
        X[..., :n, :n] = d * A
        X[..., :n, n:] = d * B
        E = expm(X)
        return E[..., :n, :n], E[..., :n, n:]
    if method == "zoh_approx":
        return expm(d * A), d * B
    if method == "euler":
        return eye + d * A, d * B
    if method == "bilinear":
        M = eye - d / 2 * A
        return np.linalg.solve(M, eye + d / 2 * A), np.linalg.solve(M, d * B)
    if method == "backward_euler":
        M = eye - d * A
        return np.linalg.solve(M, eye.astype(M.dtype)), np.linalg.solve(M, d * B)
    raise ValueError(f"method: unknown discretisation {method!r}")


# Magnitudes M for the bounds (docs/error-model.md): each is the quantity an error analysis of the
# method's algorithm multiplies by u, computed on absolute values.


def magnitude_diag(Lambda, B, dt, method: str):
    """M for (Ā, B̄) of the diagonal form, elementwise.

    zoh: |Ā| = e^{Re z}; for B̄ = Δ·φ₁(z)·b, φ₁(z) = ∫₀¹ e^{sz} ds gives |φ₁(z)| ≤ φ₁(Re z), so
    M = |Δb|·φ₁(Re z), which stays positive where φ₁(z) vanishes (z = 2πik) and dominates e^{Re z}.
    Rational methods: numerators on absolute values over the denominator's modulus (for Re z ≤ 0,
    |1 − z/2| ≥ 1 and |1 − z| ≥ 1, so these are their sensitivities to rounding up to a constant).
    """
    lam, b = np.asarray(Lambda), np.asarray(B)
    dt = expand_dt(dt, lam.shape)
    z = dt * lam
    az, adb = np.abs(z), np.abs(dt * b)
    if method in ("zoh", "zoh_approx"):
        ma = np.exp(np.real(z))
        mb = adb * np.real(phi1(np.real(z))) if method == "zoh" else adb
        return ma, mb
    if method == "bilinear":
        d = np.abs(1 - z / 2)
        return (1 + az / 2) / d, adb / d
    if method == "euler":
        return 1 + az, adb
    if method == "backward_euler":
        d = np.abs(1 - z)
        return 1 / d, adb / d
    raise ValueError(f"method: unknown discretisation {method!r}")


def _spec_norm(x):
    return np.linalg.norm(x, ord=2, axis=(-2, -1))


def _fro(x):
    return np.linalg.norm(x, axis=(-2, -1))


def magnitude_dense(A, B, dt, method: str):
    """M for (Ā, B̄) of the dense form, one per matrix (the bound is in the Frobenius norm).

    Exponentials (zoh, zoh_approx): a perturbation E of ΔA moves e^{ΔA} by
    ∫₀¹ e^{sΔA} E e^{(1−s)ΔA} ds, so with S = max_{s∈[0,1]} ‖e^{sΔA}‖₂ (≥ 1) and rounding of size
    u(1 + ‖ΔA‖₂): M_Ā = (1 + ‖ΔA‖₂)·S² for expm(ΔA). Van Loan's block X = Δ[[A, B], [0, 0]] is
    scaled and squared by ‖X‖, which brings ‖ΔB‖ into Ā's error too: for zoh M_Ā = (1 + ‖X‖₂)·S²
    and M_B̄ = ‖ΔB‖₂·(1 + ‖X‖₂)·S².
    Solves (bilinear, backward Euler) with M = I − cΔA and right side R: the componentwise
    forward error of Gaussian elimination, ‖ |M⁻¹| (|M||X| + |R|) ‖_F.
    Euler: ‖I + |ΔA|‖_F and ‖ΔB‖_F.
    """
    A, B = np.asarray(A), np.asarray(B)
    n = A.shape[-1]
    d = np.broadcast_to(np.asarray(dt, dtype=np.float64), A.shape[:-2])[..., None, None]
    eye = np.broadcast_to(np.eye(n), A.shape)
    dA, dB = d * A, d * B
    if method in ("zoh", "zoh_approx"):
        s_max = np.max(
            [_spec_norm(scipy.linalg.expm(s * dA)) for s in np.linspace(0, 1, 9)], axis=0
        )
        # Van Loan's block X = [[ΔA, ΔB], [0, 0]] is scaled by its own norm, so the squarings
        # (each doubling the relative error carried) number log2 ‖X‖, not log2 ‖ΔA‖.
        n_x = _spec_norm(np.concatenate([dA, dB], axis=-1)) if method == "zoh" else _spec_norm(dA)
        grow = (1 + n_x) * s_max**2
        mb = _spec_norm(dB) * grow if method == "zoh" else _fro(np.abs(dB))
        return grow, mb
    if method == "euler":
        return _fro(eye + np.abs(dA)), _fro(np.abs(dB))
    if method in ("bilinear", "backward_euler"):
        h = 0.5 if method == "bilinear" else 1.0
        M = eye - h * dA
        Minv = np.abs(np.linalg.inv(M))
        abar, bbar = discretize_dense(A, B, dt, method)
        ra = eye + h * np.abs(dA) if method == "bilinear" else eye
        ma = _fro(Minv @ (np.abs(M) @ np.abs(abar) + ra))
        mb = _fro(Minv @ (np.abs(M) @ np.abs(bbar) + np.abs(dB)))
        return ma, mb
    raise ValueError(f"method: unknown discretisation {method!r}")

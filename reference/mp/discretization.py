"""Discretisation of x' = A x + B u with step Δ, in mpmath (docs/discretization.md).

| method         | Ā                           | B̄                              |
|----------------|-----------------------------|--------------------------------|
| zoh            | exp(ΔA)                     | Δ·φ₁(ΔA)·B,  φ₁(z) = (eᶻ − 1)/z |
| zoh_approx     | exp(ΔA)                     | Δ·B                            |
| bilinear       | (I − Δ/2·A)⁻¹ (I + Δ/2·A)   | (I − Δ/2·A)⁻¹ Δ·B              |
| euler          | I + ΔA                      | Δ·B                            |
| backward_euler | (I − ΔA)⁻¹                  | (I − ΔA)⁻¹ Δ·B                 |

Diagonal form: λ, b elementwise (`discretize_diag`). Dense form: the zoh row by Van Loan's block
exponential, `expm(Δ·[[A, B], [0, 0]]) = [[Ā, B̄], [0, I]]`, valid for singular A
(`discretize_dense`).
"""

from __future__ import annotations

import mpmath as mp
import numpy as np

from ssmspec.reference.mp import DPS


def _num(x):
    """A float64/complex128 value as an exact mpmath number."""
    return mp.mpc(complex(x)) if isinstance(x, complex | np.complexfloating) else mp.mpf(float(x))


def phi1(z):
    """φ₁(z) = (eᶻ − 1)/z with φ₁(0) = 1; expm1 keeps it exact for small |z|."""
    return mp.mpf(1) if z == 0 else mp.expm1(z) / z


def zoh(lam, b, dt):
    z = dt * lam
    return mp.exp(z), dt * phi1(z) * b


def zoh_approx(lam, b, dt):
    return mp.exp(dt * lam), dt * b


def bilinear(lam, b, dt):
    d = 1 - dt * lam / 2
    return (1 + dt * lam / 2) / d, dt * b / d


def euler(lam, b, dt):
    return 1 + dt * lam, dt * b


def backward_euler(lam, b, dt):
    d = 1 - dt * lam
    return 1 / d, dt * b / d


DIAGONAL = {
    "zoh": zoh,
    "zoh_approx": zoh_approx,
    "bilinear": bilinear,
    "euler": euler,
    "backward_euler": backward_euler,
}


def expand_dt(dt: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    """Δ given as a scalar, per channel (`shape[:-1]`) or per state (`shape`), at full shape."""
    dt = np.asarray(dt)
    if dt.ndim == len(shape) - 1:
        dt = dt[..., None]
    return np.broadcast_to(dt, shape)


def discretize_diag(Lambda: np.ndarray, B: np.ndarray, dt, method: str = "zoh"):
    """(Ā, B̄) for diagonal A = diag(Λ), elementwise. Shapes (*batch, N); object arrays out."""
    f = DIAGONAL[method]
    Lambda, B = np.asarray(Lambda), np.asarray(B)
    dts = expand_dt(dt, Lambda.shape)
    abar = np.empty(Lambda.shape, dtype=object)
    bbar = np.empty(Lambda.shape, dtype=object)
    with mp.workdps(DPS):
        for i in np.ndindex(Lambda.shape):
            a, b = f(_num(Lambda[i]), _num(B[i]), _num(dts[i]))
            abar[i], bbar[i] = +a, +b
    return abar, bbar


def _dense_one(A, B, dt, method):
    n, k = A.rows, B.cols
    eye = mp.eye(n)
    if method == "zoh":
        X = mp.zeros(n + k, n + k)
        for i in range(n):
            for j in range(n):
                X[i, j] = dt * A[i, j]
            for j in range(k):
                X[i, n + j] = dt * B[i, j]
        E = mp.expm(X)
        return E[0:n, 0:n], E[0:n, n : n + k]
    if method == "zoh_approx":
        return mp.expm(dt * A), dt * B
    if method == "euler":
        return eye + dt * A, dt * B
    if method == "bilinear":
        Minv = mp.inverse(eye - dt / 2 * A)
        return Minv * (eye + dt / 2 * A), Minv * (dt * B)
    if method == "backward_euler":
        Minv = mp.inverse(eye - dt * A)
        return Minv, Minv * (dt * B)
    raise ValueError(f"method: unknown discretisation {method!r}")


def _to_mp_matrix(a: np.ndarray):
    return mp.matrix([[_num(v) for v in row] for row in a])


def _to_object(m) -> np.ndarray:
    return np.array([[+m[i, j] for j in range(m.cols)] for i in range(m.rows)], dtype=object)


def discretize_dense(A: np.ndarray, B: np.ndarray, dt, method: str = "zoh"):
    """(Ā, B̄) for dense A (*batch, N, N), B (*batch, N, K), Δ scalar or (*batch,)."""
    A, B = np.asarray(A), np.asarray(B)
    batch = A.shape[:-2]
    dts = np.broadcast_to(np.asarray(dt), batch)
    abar = np.empty(A.shape, dtype=object)
    bbar = np.empty(B.shape, dtype=object)
    with mp.workdps(DPS):
        for i in np.ndindex(batch):
            a, b = _dense_one(_to_mp_matrix(A[i]), _to_mp_matrix(B[i]), _num(dts[i]), method)
            abar[i], bbar[i] = _to_object(a), _to_object(b)
    return abar, bbar

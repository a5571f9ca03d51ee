"""DSS kernels in long double (arXiv 2203.14343 §3.2–3.3), rounded to float64 once, and the
magnitude M and growth G of their error bound. Definitions as
`ssmspec.reference.mp.dss`; the per-state coefficient without cancellation, as the formula
rewritten exactly:

    exp:      a_n = W·(z/Λ)·φ₁(z),        term_n(l) = a_n·e^{l z}    (z/Λ = Δ for one step)
    softmax:  a_n = (W/Λ)·φ₁(ζ)/(L·φ₁(Lζ)), term_n(l) = a_n·e^{e_l ζ}

with ζ = z, e_l = l where Re z ≤ 0, and ζ = −z, e_l = L − 1 − l where Re z > 0 (the softmax's
max subtraction: every power has modulus ≤ 1). On absolute values, per K[h, l]:

    M = Σ_n |term_n(l)|,   G·M = Σ_n (N + 1 + g0_n + e_l·|ζ_n|)·|term_n(l)|

N + 1: the sum over N states and the product; e_l·|ζ|: a power formed as exp(e·ζ) from a ζ with
relative error ~u; g0: the condition of the coefficient under a relative
perturbation of z: exp g0 = max(|z|, κ(z)) (φ₁(z) moves by ≤ |z|·u where e^z − 1 is not small,
as diag_kernel's zoh, and by κ(z)·u near z = 2πik ≠ 0, where e^z − 1 nearly vanishes), + 2
with separate steps (the division z/Λ); softmax
g0 = 1 + κ(ζ) + κ(Lζ), κ(x) = |x·φ₁'(x)/φ₁(x)| = |e^x/φ₁(x) − 1|: the normaliser
Σ_r e^{rz} = L·φ₁(Lz)/φ₁(z) is ill-conditioned where it nearly vanishes (Lz near 2πik), and the
bound says so instead of failing there.
"""

from __future__ import annotations

import numpy as np

from ssmspec.reference.np.precision import CLD, LD

CHUNK = 256


def _phi1(x):
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(x == 0, 1, np.expm1(x) / np.where(x == 0, 1, x))


def _kappa(x):
    """|x φ₁'(x)/φ₁(x)| = |e^x/φ₁(x) − 1| (0 at x = 0)."""
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        k = np.abs(np.exp(x) / _phi1(x) - 1)
    return np.where(x == 0, 0.0, k).astype(np.float64)


def dss_z(Lambda, log_dt, log_dt_im=None):
    """(z, z/Λ), long double: z = Δ·Λ, or Δ_re·Re Λ + i·Δ_im·Im Λ with `log_dt_im` (DSS's
    code's sep_dt_re_im); z/Λ = Δ, else the quotient (Δ_re at Λ = 0)."""
    dt = np.exp(np.asarray(log_dt, dtype=LD()))[:, None]
    lam = np.asarray(Lambda).astype(CLD())
    if log_dt_im is None:
        return dt * lam, dt
    dt_im = np.exp(np.asarray(log_dt_im, dtype=LD()))[:, None]
    z = dt * lam.real + 1j * (dt_im * lam.imag)
    zero = lam == 0
    return z, np.where(zero, dt, z / np.where(zero, 1, lam))


def _states(Lambda, W, log_dt, L, method, log_dt_im=None):
    """(a, ζ, flip, g0) per state, long double."""
    lam, w = np.asarray(Lambda).astype(CLD()), np.asarray(W).astype(CLD())
    z, z_over_lam = dss_z(Lambda, log_dt, log_dt_im)
    if method == "exp":
        # the rounding of z moves φ₁(z) by κ(z)·u relative: |z| for a decaying z, far more near
        # z = 2πik ≠ 0 where e^z − 1 nearly vanishes (reachable with separate steps: Re z tiny,
        # Im z large); separate steps: z/Λ is one more complex division (2 roundings)
        g0 = np.maximum(np.abs(z).astype(np.float64), _kappa(z))
        g0 = g0 + (0.0 if log_dt_im is None else 2.0)
        return w * z_over_lam * _phi1(z), z, np.zeros(z.shape, bool), g0
    flip = np.real(z) > 0
    zeta = np.where(flip, -z, z)
    with np.errstate(divide="ignore", invalid="ignore"):
        a = w / lam * _phi1(zeta) / (L * _phi1(L * zeta))
    return a, zeta, flip, 1.0 + _kappa(zeta) + _kappa(L * zeta)


def dss_kernel_with_bound(Lambda, W, log_dt, L, method="exp", log_dt_im=None):
    """(K, M, G), each (H, L), float64; `log_dt_im` as `dss_z`."""
    a, zeta, flip, g0 = _states(Lambda, W, log_dt, L, method, log_dt_im)
    H, N = a.shape
    K, M, G = (np.empty((H, L)) for _ in range(3))
    az = np.abs(zeta).astype(np.float64)
    for s in range(0, L, CHUNK):
        l = np.arange(s, min(L, s + CHUNK))
        e = np.where(flip[..., None], L - 1 - l, l)  # (H, N, k)
        with np.errstate(invalid="ignore", over="ignore"):
            terms = a[..., None] * np.where(e == 0, 1, np.exp(e.astype(LD()) * zeta[..., None]))
        K[:, s:s + len(l)] = np.real(terms.sum(axis=1))
        t = np.abs(terms).astype(np.float64)
        m = t.sum(axis=1)
        gm = ((N + 1 + g0[..., None] + e * az[..., None]) * t).sum(axis=1)
        M[:, s:s + len(l)] = m
        with np.errstate(invalid="ignore", divide="ignore"):
            G[:, s:s + len(l)] = np.where(m > 0, gm / np.where(m > 0, m, 1), N + 1)
    return K, M, G


def dss_kernel(Lambda, W, log_dt, L, method="exp", log_dt_im=None):
    """K (H, L), float64."""
    return dss_kernel_with_bound(Lambda, W, log_dt, L, method, log_dt_im)[0]

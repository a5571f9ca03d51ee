"""S5's MIMO diagonal state-space scan in extended precision NumPy (docs/s5.md): the
recurrence step by step, and the magnitude and growth of its error bound (docs/error-model.md). Same
definitions as `ssmspec.reference.mp.s5`:

    Δ = exp(log_step),  x_t = Λ̄ ⊙ x_{t−1} + B̄ u_t,  y_t = f·Re(C x_t) + D ⊙ u_t  (f = 2: conj_sym)

The values are computed in long double / complex long double (x86's 80-bit format, u = 2^-64,
where numpy has it): a float64 recurrence errs by ~t·u, the same order as a float64
implementation's own error, so it could not certify one at long L.

s5_scan_with_bound runs, per batch b and state p, with b̄_t = B̄ u_t and mb_t = Σ_h |B̄|_p,h·|u_t,h|
(|B̄| taken as Δ·φmag·|B|, see below):

    m_t = |Λ̄|·m_{t−1} + mb_t                                (the recurrence on absolute values)
    E_t = |Λ̄|·E_{t−1} + α·m_{t−1} + (β + H + 2)·mb_t + 2·(|Λ̄|·m_{t−1} + mb_t)

a running-error bound in units of u (Higham §3.3): E carries the roundings made so far; α is the
error of the computed Λ̄ as a multiple of u·m_{t−1}, β the error of B̄ relative to its magnitude,
H + 2 the roundings of the H-term product B̄u_t, 2 those of the step's multiply-add. With ρ = 2
(the relative error of Δ = exp(log_step)) and z = ΔΛ (relative error (1 + ρ)u):
- zoh: α = |Λ̄|·(2 + |z|(1 + ρ)) (a relative u|z| in e^z: the phase error), β = ρ + 4 +
  (1 + |z|)(1 + ρ) (φ₁ = expm1(z)/z and the products Δ·φ₁·B);
- bilinear: α = 2(1 + ρ) + 3|Λ̄| (absolute: |dΛ̄/dz|·|z| ≤ 2 for Re z ≤ 0, Λ̄ can vanish),
  β = ρ + 5 + (1 + ρ).
φmag = |φ₁(z)| for |z| ≤ 1 and max(|φ₁(z)|, (1 + |e^z|)/|z|) beyond: φ₁ vanishes at z = 2πik
(e^z = 1) while its rounding error stays ~u(1 + |e^z|)(1 + ρ)/|z|·|z|, so the magnitude the bound
is relative to must not vanish with it (|φ₁| ≤ φmag everywhere, and φmag ≤ 2|φ₁| away from those
zeros). The outputs:

    M_y = f·Σ_p |C_h,p|·m_t,p + |D_h·u_t,h|,     G_y·M_y = f·Σ_p |C_h,p|·E_t,p + (2P + 4)·M_y

(the product Re(C x) as two real P-term sums, the factor f and D·u), and for the last state
M_h = m_{L−1}, G_h·M_h = E_{L−1}. G = 2P + 4 (outputs) / 1 (state) where M = 0.
"""

from __future__ import annotations

import numpy as np

from ssmspec.reference.np.precision import CLD, LD

RHO = 2.0


def _ext(a, cplx=False):
    a = np.asarray(a)
    return a.astype(CLD() if (cplx or np.iscomplexobj(a)) else LD())


def discretize(Lambda, B, log_step, method="zoh"):
    """(Λ̄ (P,), B̄/B = Δ·φ₁(z) or Δ/(1 − z/2) (P,), z = ΔΛ (P,), Δ (P,)) in extended precision."""
    dt = np.exp(_ext(log_step))
    z = dt * _ext(Lambda, True)
    if method == "zoh":
        safe = np.where(z == 0, 1, z)
        phi = np.where(z == 0, 1, np.expm1(safe) / safe)
        abar, scale = np.exp(z), dt * phi
    else:
        den = 1 - z / 2
        abar, scale = (1 + z / 2) / den, dt / den
    return abar, scale, z, dt


def _bound_terms(Lambda, B, log_step, method):
    """(|Λ̄|, α, β, |B̄| as Δ·φmag·|B|), float64; see the module docstring."""
    abar, scale, z, dt = discretize(Lambda, B, log_step, method)
    aa, az = np.abs(abar).astype(np.float64), np.abs(z).astype(np.float64)
    dt = dt.astype(np.float64)
    if method == "zoh":
        alpha = aa * (2 + az * (1 + RHO))
        beta = RHO + 4 + (1 + az) * (1 + RHO)
        phi = np.abs(scale / dt).astype(np.float64)
        ez = np.abs(np.exp(z)).astype(np.float64)
        far = np.maximum(phi, (1 + ez) / np.where(az > 1, az, 1.0))
        bmag = dt * np.where(az <= 1, phi, far)
    else:
        alpha = 2 * (1 + RHO) + 3 * aa
        beta = np.full(aa.shape, RHO + 5 + (1 + RHO))
        bmag = np.abs(scale).astype(np.float64)
    return aa, alpha, beta, bmag[:, None] * np.abs(np.asarray(B))


def s5_scan_with_bound(u, Lambda, B, C, D, log_step, method="zoh", conj_sym=True, h0=None):
    """(y, x_last, M_y, G_y, M_h, G_h): y (batch, L, H) float64, x_last (batch, P) complex128,
    the bound's magnitudes and growths (float64) of each."""
    u = np.asarray(u, dtype=np.float64)
    batch, L, H = u.shape
    P = np.asarray(Lambda).shape[0]
    f = 2.0 if conj_sym else 1.0
    abar, scale, _, _ = discretize(Lambda, B, log_step, method)
    Bbar = scale[:, None] * _ext(B, True)
    aa, alpha, beta, absB = _bound_terms(Lambda, B, log_step, method)
    Cx, absC = _ext(C, True), np.abs(np.asarray(C))
    Dv = np.zeros(H) if D is None else np.asarray(D, dtype=np.float64)
    ux = _ext(u)
    x = np.zeros((batch, P), dtype=CLD())
    if h0 is not None:
        x = x + _ext(h0, True)
    m = np.abs(np.asarray(h0)) if h0 is not None else np.zeros((batch, P))
    E = np.zeros((batch, P))
    y, My, GMy = (np.empty((batch, L, H)) for _ in range(3))
    for t in range(L):
        x = abar * x + np.sum(Bbar[None] * ux[:, t, None, :], axis=-1)
        mb = np.abs(u[:, t]) @ absB.T
        E = aa * E + alpha * m + (beta + H + 2) * mb + 2 * (aa * m + mb)
        m = aa * m + mb
        du = Dv * ux[:, t]
        y[:, t] = (f * np.real(np.sum(Cx[None] * x[:, None, :], axis=-1)) + du).astype(np.float64)
        cm = f * (m @ absC.T) + np.abs(du).astype(np.float64)
        My[:, t] = cm
        GMy[:, t] = f * (E @ absC.T) + (2 * P + 4) * cm
    with np.errstate(divide="ignore", invalid="ignore"):
        Gy = np.where(My > 0, GMy / np.where(My > 0, My, 1), 2 * P + 4)
        Gh = np.where(m > 0, E / np.where(m > 0, m, 1), 1.0)
    return y, x.astype(np.complex128), My, Gy, m, Gh


def s5_scan(u, Lambda, B, C, D, log_step, method="zoh", conj_sym=True, h0=None):
    """(y (batch, L, H) float64, last state (batch, P) complex128)."""
    out = s5_scan_with_bound(u, Lambda, B, C, D, log_step, method, conj_sym, h0)
    return out[0], out[1]


def zoh_bilinear_difference(u, Lambda, B, C, log_step, h0=None, conj_sym=True):
    """(bound on |y_zoh − y_bil| (b, L, H), bound on |x_zoh − x_bil| (b, P)) for steps with
    |ΔΛ| ≤ 1e-2 (docs/s5.md#s5_scan): per step z = Δ|Λ|, r = z/(4(1 − z/2)),
    |Λ̄_zoh − Λ̄_bil| ≤ z²·r, |B̄_zoh − B̄_bil| ≤ Δ·z·r·|B|; the states' difference
    d_t = |Λ̄_zoh|·d_{t−1} + |δΛ̄|·m_{t−1} + |δB̄|·|u_t| (m: bilinear's magnitude), read by f·|C|.
    Δ is taken 1e-6 larger (relative) than exp(log_step): its rounding, generously."""
    lam = np.abs(Lambda)
    z = np.exp(log_step) * lam * (1 + 1e-6)
    r = z / (4 * (1 - z / 2))
    dA, dB = z**2 * r, (np.exp(log_step) * (1 + 1e-6) * z * r)[:, None] * np.abs(B)
    az, _, _, _ = discretize(Lambda, B, log_step, "zoh")
    ab, sb, _, _ = discretize(Lambda, B, log_step, "bilinear")
    az, ab = np.abs(az).astype(float), np.abs(ab).astype(float)
    mB = np.abs(sb).astype(float)[:, None] * np.abs(B)
    f = 2.0 if conj_sym else 1.0
    m = np.abs(h0) if h0 is not None else np.zeros((u.shape[0], lam.shape[0]))
    d, ydiff = np.zeros_like(m), np.empty(u.shape)
    for t in range(u.shape[1]):
        au = np.abs(u[:, t])
        d = az * d + dA * m + au @ dB.T
        m = ab * m + au @ mB.T
        ydiff[:, t] = f * (d @ np.abs(C).T)
    return ydiff, d

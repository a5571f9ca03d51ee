"""Selective scans in float64/complex128 (docs/selective.md): the recurrences step by step, and
the magnitudes and growths of their error bounds (docs/error-model.md). Same definitions as
`ssmspec.reference.mp.selective`.

selective_scan_with_bound runs, per step t and state n (b̄_t = B̄_t·u_t):

    m_t = |Ā_t|·m_{t−1} + |b̄_t|                           (the recurrence on absolute values)
    E_t = |Ā_t|·E_{t−1} + α_t·m_{t−1} + β_t·|b̄_t| + 2·(|Ā_t|·m_{t−1} + |b̄_t|)

a running-error bound in units of u (Higham §3.3): E carries the rounding errors made so far, α_t
the error of the computed Ā_t as a multiple of u·m_{t−1} and β_t the relative error of b̄_t, both
from the rounding of Δ (ρ: 3, plus |x|σ(x)/softplus(x) after a softplus, the conditioning of
softplus at x = Δ + bias) and of z = Δ·A:
- exp methods: α = |Ā|·(1 + |z|(1 + ρ)) (a relative u|z| in eᶻ, the phase error for complex A);
- bilinear: α = 2(1 + ρ) + 3|Ā| (absolute: |dĀ/dz|·|z| ≤ 2 for Re z ≤ 0, Ā can vanish);
- β = ρ + 3 (zoh_approx, bilinear: + 1 + ρ for 1 − z/2), zoh: ρ + 3 + (1 + |z|)(1 + ρ) (φ₁).
The outputs, with f = 2 under conj_half and s_t = |silu(z_t)| (1 without z):

    M_y = (f·Σ_n |C_t,n|·m_t,n + |D·u_t|)·s_t
    G_y·M_y = (f·Σ_n |C_t,n|·E_t,n + (N + 6)·(f·Σ_n |C_t,n|·m_t,n + |D·u_t|))·s_t

(N + 2 roundings of the contraction and the D·u term, 4 of silu and the product), and for the last
state M_h = m_{L−1}, G_h·M_h = E_{L−1}. G = N + 6 (outputs) / 1 (state) where M = 0.
"""

from __future__ import annotations

import numpy as np
import scipy.special

from ssmspec.reference.np.precision import LD


def softplus(x):
    """log(1 + eˣ), accurate for every x."""
    return np.logaddexp(0.0, x)


def silu(x):
    return x * scipy.special.expit(x)


def step_sizes(delta, delta_bias=None, delta_softplus=False):
    """(Δ, ρ): the step sizes and their relative rounding error in units of u."""
    x = np.asarray(delta, dtype=np.float64)
    if delta_bias is not None:
        x = x + np.asarray(delta_bias)[:, None]
    rho = np.full(x.shape, 3.0)
    if delta_softplus:
        sp = softplus(x)
        with np.errstate(divide="ignore", invalid="ignore"):
            cond = np.where(sp > 0, np.abs(x) * scipy.special.expit(x) / sp, 0.0)
        return sp, rho + cond
    return x, rho


def _at(X, t: int, Dn: int):
    """B or C at step t, (batch or 1, D, N)."""
    X = np.asarray(X)
    if X.ndim == 2:
        return X[None]
    if X.ndim == 3:
        return X[:, None, :, t]
    return np.repeat(X[..., t], Dn // X.shape[1], axis=1)


def selective_scan_with_bound(u, delta, A, B, C, D=None, z=None, delta_bias=None,
                              delta_softplus=False, method="zoh_approx", conj_half=None,
                              initial_state=None):
    """(y, h_last, M_y, G_y, M_h, G_h); y (batch, D, L) float64, h_last (batch, D, N)."""
    u, A = np.asarray(u, dtype=np.float64), np.asarray(A)
    batch, Dn, L = u.shape
    N = A.shape[1]
    f = 2.0 if (np.iscomplexobj(A) if conj_half is None else conj_half) else 1.0
    dt, rho = step_sizes(delta, delta_bias, delta_softplus)
    wide = np.complex128 if np.iscomplexobj(A) else np.float64
    h = np.zeros((batch, Dn, N), dtype=wide)
    m = np.zeros((batch, Dn, N))
    E = np.zeros((batch, Dn, N))
    if initial_state is not None:
        h = h + np.asarray(initial_state)
        m = m + np.abs(initial_state)
    y, My, GMy = (np.empty((batch, Dn, L)) for _ in range(3))
    Dv = np.zeros(Dn) if D is None else np.asarray(D, dtype=np.float64)
    for t in range(L):
        d, r = dt[..., t, None], rho[..., t, None]
        zz = d * A
        if method == "bilinear":
            den = 1 - zz / 2
            abar, bbar = (1 + zz / 2) / den, d / den
            alpha = 2 * (1 + r) + 3 * np.abs(abar)
            beta = r + 4 + (1 + r)
        else:
            abar = np.exp(zz)
            alpha = np.abs(abar) * (1 + np.abs(zz) * (1 + r))
            if method == "zoh":
                safe = np.where(zz == 0, 1.0, zz)
                bbar = np.where(zz == 0, d, np.expm1(safe) / safe * d)
                beta = r + 3 + (1 + np.abs(zz)) * (1 + r)
            else:
                bbar, beta = d, r + 2
        bu = bbar * _at(B, t, Dn) * u[..., t, None]
        aa, ab = np.abs(abar), np.abs(bu)
        E = aa * E + alpha * m + beta * ab + 2 * (aa * m + ab)
        m = aa * m + ab
        h = abar * h + bu
        Ct = _at(C, t, Dn)
        du = Dv[None, :] * u[..., t]
        y[..., t] = f * np.real(np.sum(Ct * h, axis=-1)) + du
        cm = f * np.sum(np.abs(Ct) * m, axis=-1) + np.abs(du)
        My[..., t] = cm
        GMy[..., t] = f * np.sum(np.abs(Ct) * E, axis=-1) + (N + 6) * cm
    if z is not None:
        s = silu(np.asarray(z, dtype=np.float64))
        y, My, GMy = y * s, My * np.abs(s), GMy * np.abs(s)
    with np.errstate(divide="ignore", invalid="ignore"):
        Gy = np.where(My > 0, GMy / np.where(My > 0, My, 1), N + 6)
        Gh = np.where(m > 0, E / np.where(m > 0, m, 1), 1.0)
    return y, h, My, Gy, m, Gh


def selective_scan(u, delta, A, B, C, D=None, z=None, delta_bias=None, delta_softplus=False,
                   method="zoh_approx", conj_half=None, initial_state=None):
    """(y (batch, D, L), last state (batch, D, N)), float64/complex128."""
    out = selective_scan_with_bound(u, delta, A, B, C, D, z, delta_bias, delta_softplus, method,
                                    conj_half, initial_state)
    return out[0], out[1]


def ssd_scan_with_bound(x, dt, A, B, C, chunk_size, initial_states=None):
    """(y, final, M_y, G_y, M_f, G_f) of the SSD recurrence (module `ssmspec.impl.selective`):
    h_t = exp(Δ_t a) h_{t−1} + Δ_t x_t ⊗ B_t, y_t = h_t·C_t, per head, in float64.

    Bound terms (per state entry, a_t = Δ_t·A_h ≤ 0): m_t = e^{a_t} m_{t−1} + Δ_t|x_t||B_t| and
    w_t = e^{a_t}(w_{t−1} + |a_t| m_{t−1}), so that w_t = Σ_j |Σ_{j<k≤t} a_k|·(term j's
    magnitude): the segment sums' own rounding (a relative ≤ Q·u·|segment| in each exp(segsum)).
    With Q = chunk size and n_c = the number of chunks,

        M_y = Σ_n |C_t,n| m_t,n,    G_y·M_y = Σ_n |C_t,n|·((Q + N + n_c + 6)·m_t,n + Q·w_t,n)

    (Q + N + n_c: the within-chunk sum over j, the C·B contraction over N, the sum over earlier
    chunks; 6 for the products Δx, C·B·decay and the exps' own roundings).
    """
    # the recurrence in extended precision (x86's 80-bit long double, u = 2^-64 where available):
    # a float64 sequential recurrence errs by ~t·u, above the chunked form's own growth in fp64
    ext = LD()
    x, dt, A, B, C = (np.asarray(t, dtype=np.float64).astype(ext) for t in (x, dt, A, B, C))
    b, L, H, P = x.shape
    G, N = B.shape[2], B.shape[3]
    B, C = np.repeat(B, H // G, axis=2), np.repeat(C, H // G, axis=2)
    Q = min(chunk_size, L)
    nc = -(-L // Q)
    h = np.zeros((b, H, P, N), dtype=ext)
    if initial_states is not None:
        h = h + np.asarray(initial_states, dtype=np.float64).astype(ext)
    m, w = np.abs(h), np.zeros_like(h)
    y, My, GMy = (np.empty((b, L, H, P), dtype=ext) for _ in range(3))
    k = Q + N + nc + 6
    for t in range(L):
        a = (dt[:, t] * A)[:, :, None, None]
        e = np.exp(a)
        inp = (dt[:, t, :, None] * x[:, t])[..., None] * B[:, t, :, None, :]
        h = e * h + inp
        w = e * (w + np.abs(a) * m)
        m = e * m + np.abs(inp)
        Ct = C[:, t, :, None, :]
        y[:, t] = np.sum(h * Ct, axis=-1)
        My[:, t] = np.sum(np.abs(Ct) * m, axis=-1)
        GMy[:, t] = np.sum(np.abs(Ct) * (k * m + Q * w), axis=-1)
    f64 = np.float64
    y, h, My, GMy, m, w = (t.astype(f64) for t in (y, h, My, GMy, m, w))
    with np.errstate(divide="ignore", invalid="ignore"):
        Gy = np.where(My > 0, GMy / np.where(My > 0, My, 1), k)
        Gf = np.where(m > 0, (k * m + Q * w) / np.where(m > 0, m, 1), k)
    return y, h, My, Gy, m, Gf


def given_recurrence(abar, bbar, u, C, initial_state=None, factor=1.0, D=None, z=None):
    """y (b, D, L), float64: h_t = Ā_t h_{t−1} + B̄_t u_t, y_t = factor·Re(C·h_t) (+ D·u_t)
    (·silu(z_t)) run with the given Ā, B̄ (b, D, L, N) and a time-invariant C (D, N): the
    recurrence of someone else's discretisation (the law zoh_is_exact_recurrence)."""
    h = np.zeros(abar.shape[:2] + abar.shape[3:], dtype=abar.dtype)
    if initial_state is not None:
        h = h + initial_state
    y = np.empty(u.shape)
    for t in range(u.shape[-1]):
        h = abar[:, :, t] * h + bbar[:, :, t] * u[..., t, None]
        y[..., t] = factor * np.real(np.sum(C[None] * h, axis=-1))
    if D is not None:
        y = y + D[None, :, None] * u
    return y if z is None else y * silu(z)

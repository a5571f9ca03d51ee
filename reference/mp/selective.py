"""Selective scans in mpmath at `DPS` digits (docs/selective.md), step by step.

selective_scan (Mamba S6): Δ = softplus(delta + delta_bias) if delta_softplus else delta (+ bias),
per batch b, channel d, state n and step t,

    h_t = Ā_t·h_{t−1} + B̄_t·u_t,     y_t = f·Re Σ_n C_t[n]·h_t[n] + D·u_t,    y ← y·silu(z)

with (Ā_t, B̄_t) = discretisation of (A[d, n], B_t[n]) at Δ_t by
`ssmspec.reference.mp.discretization.DIAGONAL[method]`; B, C are (D, N), (batch, N, L) or
(batch, G, N, L) (channel d in group d // (D/G)); f = 2 under conj_half (default: complex A).
Outputs: y (batch, D, L) and the last state (batch, D, N), object arrays of mpf/mpc.
"""

from __future__ import annotations

import mpmath as mp
import numpy as np

from ssmspec.reference.mp import DPS
from ssmspec.reference.mp.discretization import DIAGONAL, _num


def softplus(x):
    return mp.log1p(mp.exp(x))


def silu(x):
    return x / (1 + mp.exp(-x))


def _coef(X, b: int, d: int, n: int, t: int, Dn: int):
    X = np.asarray(X)
    if X.ndim == 2:
        return X[d, n]
    if X.ndim == 3:
        return X[b, n, t]
    return X[b, d // (Dn // X.shape[1]), n, t]


def selective_scan(u, delta, A, B, C, D=None, z=None, delta_bias=None, delta_softplus=False,
                   method="zoh_approx", conj_half=None, initial_state=None):
    """(y, last state); see the module docstring."""
    u, delta, A = np.asarray(u), np.asarray(delta), np.asarray(A)
    batch, Dn, L = u.shape
    N = A.shape[1]
    disc = DIAGONAL[method]
    y = np.empty((batch, Dn, L), dtype=object)
    last = np.empty((batch, Dn, N), dtype=object)
    with mp.workdps(DPS):
        f = mp.mpf(2 if (np.iscomplexobj(A) if conj_half is None else conj_half) else 1)
        for b in range(batch):
            for d in range(Dn):
                h = [(_num(initial_state[b, d, n]) if initial_state is not None else mp.mpf(0))
                     for n in range(N)]
                for t in range(L):
                    x = _num(delta[b, d, t])
                    if delta_bias is not None:
                        x = x + _num(delta_bias[d])
                    dt = softplus(x) if delta_softplus else x
                    ut = _num(u[b, d, t])
                    s = mp.mpf(0)
                    for n in range(N):
                        abar, bbar = disc(_num(A[d, n]), _num(_coef(B, b, d, n, t, Dn)), dt)
                        h[n] = abar * h[n] + bbar * ut
                        s += _num(_coef(C, b, d, n, t, Dn)) * h[n]
                    out = f * mp.re(s)
                    if D is not None:
                        out += _num(D[d]) * ut
                    if z is not None:
                        out *= silu(_num(z[b, d, t]))
                    y[b, d, t] = +out
                for n in range(N):
                    last[b, d, n] = +h[n]
    return y, last


def ssd_scan(x, dt, A, B, C, initial_states=None):
    """(y (batch, L, H, P), final states (batch, H, P, N)) of Mamba-2's SSD recurrence,
    h_t = exp(Δ_t A_h)·h_{t−1} + Δ_t·x_t ⊗ B_t, y_t = h_t·C_t (head h in group h // (H/G))."""
    x, dt, A, B, C = (np.asarray(t) for t in (x, dt, A, B, C))
    b, L, H, P = x.shape
    G, N = B.shape[2], B.shape[3]
    y = np.empty((b, L, H, P), dtype=object)
    final = np.empty((b, H, P, N), dtype=object)
    with mp.workdps(DPS):
        for i in range(b):
            for hd in range(H):
                g = hd // (H // G)
                for p in range(P):
                    h = [(_num(initial_states[i, hd, p, n]) if initial_states is not None
                          else mp.mpf(0)) for n in range(N)]
                    for t in range(L):
                        d = _num(dt[i, t, hd])
                        e = mp.exp(d * _num(A[hd]))
                        s = mp.mpf(0)
                        for n in range(N):
                            h[n] = e * h[n] + d * _num(x[i, t, hd, p]) * _num(B[i, t, g, n])
                            s += h[n] * _num(C[i, t, g, n])
                        y[i, t, hd, p] = +s
                    for n in range(N):
                        final[i, hd, p, n] = +h[n]
    return y, final

"""The NPLR/DPLR (S4) kernel and its recurrent step in mpmath (docs/dplr.md), at `DPS`
digits: the defining dense Krylov kernel of the dense bilinear discretisation of the full A.

Per channel, A = diag(Λ_f) − Σ_r P_f,r Q_f,r^H (full system: under conj_half Λ_f = [Λ, Λ̄],
P_f = [P, P̄], Q_f = [Q, Q̄], B_f = [B, B̄], C_f = [C, C̄]; otherwise the stored states as they are),
Δ = exp(log_dt),

    Ā = (I − Δ/2·A)⁻¹ (I + Δ/2·A),   B̄ = (I − Δ/2·A)⁻¹ Δ·B
    K[l] = Re Σ_n C_f,n (Ā^l B̄)_n                        (object array (H, L) of mpf)
    step: h'_f = Ā h_f + B̄ u (h_f = [h, h̄] under conj_half), y = Re(C_f · h'_f)
"""

from __future__ import annotations

import mpmath as mp
import numpy as np

from ssmspec.reference.mp import DPS
from ssmspec.reference.mp.discretization import _num


def _channel(Lambda, P, Q, B, C, log_dt, h: int, conj_half: bool):
    """(Ā, B̄, C_f) of channel h as mpmath matrices/lists."""
    lam = [_num(x) for x in Lambda[h]]
    Ps = [[_num(x) for x in P[r, h]] for r in range(P.shape[0])]
    Qs = [[_num(x) for x in Q[r, h]] for r in range(Q.shape[0])]
    b = [_num(x) for x in B[h]]
    c = [_num(x) for x in C[h]]
    if conj_half:
        lam = lam + [mp.conj(x) for x in lam]
        Ps = [p + [mp.conj(x) for x in p] for p in Ps]
        Qs = [q + [mp.conj(x) for x in q] for q in Qs]
        b = b + [mp.conj(x) for x in b]
        c = c + [mp.conj(x) for x in c]
    n = len(lam)
    A = mp.matrix(n, n)
    for i in range(n):
        A[i, i] = lam[i]
        for j in range(n):
            for p, q in zip(Ps, Qs):
                A[i, j] -= p[i] * mp.conj(q[j])
    dt = mp.exp(_num(log_dt[h]))
    eye = mp.eye(n)
    Minv = mp.inverse(eye - dt / 2 * A)
    abar = Minv * (eye + dt / 2 * A)
    bbar = Minv * mp.matrix([dt * x for x in b])
    return abar, bbar, c


def dplr_kernel(Lambda, P, Q, B, C, log_dt, L: int, conj_half: bool = True):
    """K (H, L) object array of mpf; see the module docstring."""
    Lambda, P, Q, B, C = (np.asarray(x) for x in (Lambda, P, Q, B, C))
    H = Lambda.shape[0]
    out = np.empty((H, L), dtype=object)
    with mp.workdps(DPS):
        for h in range(H):
            abar, v, c = _channel(Lambda, P, Q, B, C, log_dt, h, conj_half)
            for l in range(L):
                out[h, l] = mp.re(mp.fsum(c[i] * v[i] for i in range(len(c))))
                v = abar * v
    return out


def dplr_step(Lambda, P, Q, B, C, log_dt, state, u, conj_half: bool = True):
    """(state' (batch, H, N) object mpc, y (batch, H) object mpf); see the module docstring."""
    Lambda, P, Q, B, C = (np.asarray(x) for x in (Lambda, P, Q, B, C))
    state, u = np.asarray(state), np.asarray(u)
    nb, H, N = state.shape
    new = np.empty(state.shape, dtype=object)
    y = np.empty((nb, H), dtype=object)
    with mp.workdps(DPS):
        for h in range(H):
            abar, bbar, c = _channel(Lambda, P, Q, B, C, log_dt, h, conj_half)
            for i in range(nb):
                hs = [_num(x) for x in state[i, h]]
                if conj_half:
                    hs = hs + [mp.conj(x) for x in hs]
                hn = abar * mp.matrix(hs) + bbar * _num(u[i, h])
                new[i, h] = [hn[k] for k in range(N)]
                y[i, h] = mp.re(mp.fsum(c[k] * hn[k] for k in range(len(c))))
    return new, y

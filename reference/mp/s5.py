"""S5's MIMO diagonal state-space scan in mpmath at `DPS` digits (docs/s5.md), step by step.

Per batch b, state p, channel h and step t, with Δ_p = exp(log_step_p) and (Λ̄_p, B̄_p,h) the
discretisation of (Λ_p, B_p,h) at Δ_p by `ssmspec.reference.mp.discretization.DIAGONAL[method]`:

    x_t[p] = Λ̄_p·x_{t−1}[p] + Σ_h B̄_p,h·u_t[h],       x_{−1} = h0 (default 0)
    y_t[h] = f·Re Σ_p C_h,p·x_t[p] + D_h·u_t[h],        f = 2 if conj_sym else 1

Outputs: y (batch, L, H) and the last state x_{L−1} (batch, P), object arrays of mpf/mpc.
"""

from __future__ import annotations

import mpmath as mp
import numpy as np

from ssmspec.reference.mp import DPS
from ssmspec.reference.mp.discretization import DIAGONAL, _num


def s5_scan(u, Lambda, B, C, D, log_step, method="zoh", conj_sym=True, h0=None):
    """(y, last state); see the module docstring. D may be None (no feedthrough)."""
    u, Lambda, B, C = (np.asarray(a) for a in (u, Lambda, B, C))
    batch, L, H = u.shape
    P = Lambda.shape[0]
    disc = DIAGONAL[method]
    y = np.empty((batch, L, H), dtype=object)
    last = np.empty((batch, P), dtype=object)
    with mp.workdps(DPS):
        f = mp.mpf(2 if conj_sym else 1)
        abar, bbar = [None] * P, [[None] * H for _ in range(P)]
        for p in range(P):
            dt = mp.exp(_num(log_step[p]))
            for h in range(H):
                abar[p], bbar[p][h] = disc(_num(Lambda[p]), _num(B[p, h]), dt)
        for b in range(batch):
            x = [_num(h0[b, p]) if h0 is not None else mp.mpf(0) for p in range(P)]
            for t in range(L):
                ut = [_num(u[b, t, h]) for h in range(H)]
                for p in range(P):
                    x[p] = abar[p] * x[p] + mp.fsum(bbar[p][h] * ut[h] for h in range(H))
                for h in range(H):
                    out = f * mp.re(mp.fsum(_num(C[h, p]) * x[p] for p in range(P)))
                    if D is not None:
                        out += _num(D[h]) * ut[h]
                    y[b, t, h] = +out
            for p in range(P):
                last[b, p] = +x[p]
    return y, last

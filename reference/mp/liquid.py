"""Liquid-S4's liquid kernels and output in mpmath (issue 9, item 4), written as the literal sums
of `ssmspec.impl.liquid`'s definition, at `DPS` digits:

    Ā_n = (1 + Δλ_n/2)/(1 − Δλ_n/2),   B̄_n = Δ·B_n/(1 − Δλ_n/2)        (bilinear, Δ = exp(log_dt))
    K_p[h, l] = f·Re Σ_n C_n·B̄_n^p·Ā_n^l    (p = 1, and p ≥ 2 under 'kb')
    K_p[h, 0] = f·Re Σ_n C_n·B̄_n^p, 0 after  (p ≥ 2 under 'pb')
    y[b, h, t] = Σ_p Σ_(m ≤ t) K_p[h, t − m]·Π_(j<p) u[b, h, m − j]     (u at negative times = 0)

or, with correlation='binomial' (raminmh/liquid-s4's `upgrade_degree`), the factor u[m − j]
raised to binom(p − 1, j).

f = 2 under conj_half. Powers by repeated multiplication; object arrays of mpf out."""

from __future__ import annotations

from math import comb

import mpmath as mp
import numpy as np

from ssmspec.reference.mp import DPS


def _num(x):
    return mp.mpc(x.real, x.imag) if isinstance(x, complex | np.complexfloating) else mp.mpf(
        float(x))


def liquid_kernel(Lambda, B, C, log_dt, L: int, order: int, method: str = "pb",
                  conj_half: bool = True):
    """K (order, H, L)."""
    Lambda, B, C = np.asarray(Lambda), np.asarray(B), np.asarray(C)
    H, N = Lambda.shape
    out = np.empty((order, H, L), dtype=object)
    with mp.workdps(DPS):
        f = mp.mpf(2) if conj_half else mp.mpf(1)
        for h in range(H):
            dt = mp.exp(mp.mpf(float(log_dt[h])))
            lam = [_num(x) for x in Lambda[h]]
            abar = [(1 + dt * x / 2) / (1 - dt * x / 2) for x in lam]
            bbar = [dt * _num(b) / (1 - dt * x / 2) for b, x in zip(B[h], lam)]
            c = [_num(x) for x in C[h]]
            for p in range(1, order + 1):
                for l in range(L):
                    if p > 1 and method == "pb" and l > 0:
                        out[p - 1, h, l] = mp.mpf(0)
                        continue
                    s = mp.fsum(c[n] * bbar[n] ** p * abar[n] ** l for n in range(N))
                    out[p - 1, h, l] = f * mp.re(s)
    return out


def liquid_conv(u, Lambda, B, C, log_dt, order: int, method: str = "pb",
                conj_half: bool = True, correlation: str = "runs"):
    """y (batch, H, L)."""
    u = np.asarray(u, np.float64)
    Bn, H, L = u.shape
    K = liquid_kernel(Lambda, B, C, log_dt, L, order, method, conj_half)
    y = np.empty((Bn, H, L), dtype=object)
    with mp.workdps(DPS):
        for b in range(Bn):
            for h in range(H):
                x = [mp.mpf(float(t)) for t in u[b, h]]
                for t in range(L):
                    terms = []
                    for p in range(1, order + 1):
                        for m in range(p - 1, t + 1):
                            prod = mp.mpf(1)
                            for j in range(p):
                                e = 1 if correlation == "runs" else comb(p - 1, j)
                                prod *= x[m - j] ** e
                            terms.append(K[p - 1, h, t - m] * prod)
                    y[b, h, t] = mp.fsum(terms)
    return y

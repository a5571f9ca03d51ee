"""Convolution kernels of diagonal SSMs in mpmath (docs/kernels.md), at `DPS` digits.

diag_kernel: Δ = exp(log_dt) per channel, (Ā, B̄) by `ssmspec.reference.mp.discretization`,

    S[h, l] = Σ_n C[h, n] · B̄[h, n] · Ā[h, n]^l,     K = 2·Re(S) if conj_half else Re(S)

(the factor 2 applies to real Λ too, S4's convention). ema_kernel (Mega's `MultiHeadEMA`):

    p = sigmoid(δ), a = sigmoid(α), q = 1 − p·a,   K[d, l] = Σ_n γ √(1/ndim) p β q^l

Powers by repeated multiplication at DPS digits (l·10^-DPS is far below any format's roundoff);
outputs are object arrays of mpf, shape (H, L) / (D, L).
"""

from __future__ import annotations

import mpmath as mp
import numpy as np

from ssmspec.reference.mp import DPS
from ssmspec.reference.mp.discretization import DIAGONAL, _num


def _sums(W: list, abar: list, L: int, factor) -> list:
    """[factor·Re Σ_n W_n Ā_n^l for l < L]."""
    out = [mp.mpf(0)] * L
    pw = [mp.mpf(1)] * len(W)
    for l in range(L):
        s = mp.mpf(0)
        for n in range(len(W)):
            s += W[n] * pw[n]
            pw[n] *= abar[n]
        out[l] = factor * mp.re(s)
    return out


def diag_kernel(Lambda, B, C, log_dt, L: int, method: str = "zoh", conj_half: bool = True):
    """K (H, L) for Λ, B, C (H, N) and log Δ (H,); see the module docstring."""
    Lambda, B, C = np.asarray(Lambda), np.asarray(B), np.asarray(C)
    log_dt = np.asarray(log_dt)
    f = DIAGONAL[method]
    H, N = Lambda.shape
    out = np.empty((H, L), dtype=object)
    with mp.workdps(DPS):
        factor = mp.mpf(2 if conj_half else 1)
        for h in range(H):
            dt = mp.exp(_num(log_dt[h]))
            W, abar = [], []
            for n in range(N):
                a, b = f(_num(Lambda[h, n]), _num(B[h, n]), dt)
                W.append(_num(C[h, n]) * b)
                abar.append(a)
            out[h] = _sums(W, abar, L, factor)
    return out


def ema_kernel(delta, alpha, beta, gamma, L: int):
    """K (D, L) for δ, α, β (D, ndim, 1) and γ (D, ndim); see the module docstring."""
    delta, alpha = np.asarray(delta)[..., 0], np.asarray(alpha)[..., 0]
    beta, gamma = np.asarray(beta)[..., 0], np.asarray(gamma)
    D, ndim = gamma.shape
    out = np.empty((D, L), dtype=object)
    with mp.workdps(DPS):
        scale = mp.sqrt(mp.mpf(1) / ndim)
        for d in range(D):
            W, q = [], []
            for n in range(ndim):
                p = 1 / (1 + mp.exp(-_num(delta[d, n])))
                a = 1 / (1 + mp.exp(-_num(alpha[d, n])))
                W.append(_num(gamma[d, n]) * scale * p * _num(beta[d, n]))
                q.append(1 - p * a)
            out[d] = _sums(W, q, L, mp.mpf(1))
    return out

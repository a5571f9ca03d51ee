"""The recurrent view of the diagonal and EMA systems in mpmath (docs/recurrent.md), at `DPS`
digits: the recurrences run step by step, as defined (the gold standard, small sizes).

    diag:  h_t = Ā ⊙ h_{t−1} + B̄·u_t,   y_t = f·Re(Σ_n C_n h_t[n])       (h_{−1} = h0)
    EMA:   h_t = q ⊙ h_{t−1} + p·β·x_t,  y_t = Σ_n γ_n √(1/ndim) h_t[n],
           p = σ(δ), q = 1 − σ(δ)·σ(α)
    layer: y = silu(conv + ω ⊙ x); conv the forward recurrence's output plus, bidirectional, the
           backward one's at t ('mega': lag 0 counted twice) or at t + 1 ('s4').

(Ā, B̄) by `ssmspec.reference.mp.discretization` with Δ = exp(log_dt). Outputs are object
arrays of mpf/mpc.
"""

from __future__ import annotations

import mpmath as mp
import numpy as np

from ssmspec.reference.mp import DPS
from ssmspec.reference.mp.discretization import DIAGONAL, _num

CONVENTIONS = ("mega", "s4")


def _coefficients(Lambda, B, log_dt, method):
    Lambda, B = np.asarray(Lambda), np.asarray(B)
    H, N = Lambda.shape
    abar = np.empty((H, N), dtype=object)
    bbar = np.empty((H, N), dtype=object)
    for h in range(H):
        dt = mp.exp(_num(np.asarray(log_dt)[h]))
        for n in range(N):
            abar[h, n], bbar[h, n] = DIAGONAL[method](_num(Lambda[h, n]), _num(B[h, n]), dt)
    return abar, bbar


def diag_ssm(u, Lambda, B, C, log_dt, state=None, method="zoh", conj_half=True):
    """(y (batch, H, L), final state (batch, H, N)) by running h ← Ā h + B̄ u_t over u."""
    u = np.asarray(u)
    C = np.asarray(C)
    Bn, H, L = u.shape
    N = C.shape[-1]
    y = np.empty((Bn, H, L), dtype=object)
    final = np.empty((Bn, H, N), dtype=object)
    with mp.workdps(DPS):
        abar, bbar = _coefficients(Lambda, B, log_dt, method)
        f = mp.mpf(2 if conj_half else 1)
        for b, h in np.ndindex(Bn, H):
            st = [_num(state[b, h, n]) if state is not None else mp.mpf(0) for n in range(N)]
            c = [_num(C[h, n]) for n in range(N)]
            for t in range(L):
                x = mp.mpf(float(u[b, h, t]))
                st = [abar[h, n] * st[n] + bbar[h, n] * x for n in range(N)]
                y[b, h, t] = f * mp.re(mp.fsum(c[n] * st[n] for n in range(N)))
            final[b, h] = st
    return y, final


def diag_step(Lambda, B, C, log_dt, state, u, method="zoh", conj_half=True):
    """(h' (batch, H, N), y (batch, H)): one step of `diag_ssm`."""
    y, h = diag_ssm(np.asarray(u)[..., None], Lambda, B, C, log_dt, state, method, conj_half)
    return h, y[..., 0]


def _ema_coefficients(delta, alpha, beta, gamma):
    delta, alpha = np.asarray(delta)[..., 0], np.asarray(alpha)[..., 0]
    beta, gamma = np.asarray(beta)[..., 0], np.asarray(gamma)
    D, n = gamma.shape
    q, pb, c = (np.empty((D, n), dtype=object) for _ in range(3))
    scale = mp.sqrt(mp.mpf(1) / n)
    for d, k in np.ndindex(D, n):
        p = 1 / (1 + mp.exp(-_num(delta[d, k])))
        a = 1 / (1 + mp.exp(-_num(alpha[d, k])))
        q[d, k] = 1 - p * a
        pb[d, k] = p * _num(beta[d, k])
        c[d, k] = _num(gamma[d, k]) * scale
    return q, pb, c


def ema_recurrence(x, delta, alpha, beta, gamma, state=None, reverse=False):
    """(y (batch, D, L), final state (batch, D, ndim)) of the EMA recurrence over x."""
    x = np.asarray(x)
    Bn, D, L = x.shape
    n = np.asarray(gamma).shape[1]
    y = np.empty((Bn, D, L), dtype=object)
    final = np.empty((Bn, D, n), dtype=object)
    with mp.workdps(DPS):
        q, pb, c = _ema_coefficients(delta, alpha, beta, gamma)
        for b, d in np.ndindex(Bn, D):
            st = [_num(state[b, d, k]) if state is not None else mp.mpf(0) for k in range(n)]
            for t in (range(L - 1, -1, -1) if reverse else range(L)):
                xt = mp.mpf(float(x[b, d, t]))
                st = [q[d, k] * st[k] + pb[d, k] * xt for k in range(n)]
                y[b, d, t] = mp.fsum(c[d, k] * st[k] for k in range(n))
            final[b, d] = st
    return y, final


def ema_step(delta, alpha, beta, gamma, state, x):
    """(h' (batch, D, ndim), y (batch, D)): one step of the EMA recurrence."""
    y, h = ema_recurrence(np.asarray(x)[..., None], delta, alpha, beta, gamma, state)
    return h, y[..., 0]


def ema(x, params, omega, bidirectional=None):
    """Mega's EMA layer y = silu(conv + ω ⊙ x), (batch, D, L)."""
    if bidirectional not in (None,) + CONVENTIONS:
        raise ValueError(f"bidirectional: expected one of {CONVENTIONS}, got {bidirectional!r}")
    x = np.asarray(x)
    Bn, D, L = x.shape
    d, a, b, g = (np.asarray(p) for p in params)
    conv, _ = ema_recurrence(x, d[:D], a[:D], b[:D], g[:D])
    if bidirectional is not None:
        back, _ = ema_recurrence(x, d[D:], a[D:], b[D:], g[D:], reverse=True)
        lag = 1 if bidirectional == "s4" else 0
        for i in np.ndindex(Bn, D, L):
            t = i[2] + lag
            conv[i] = conv[i] + (back[i[0], i[1], t] if t < L else 0)
    y = np.empty(x.shape, dtype=object)
    with mp.workdps(DPS):
        for i in np.ndindex(x.shape):
            z = conv[i] + _num(omega[i[1]]) * mp.mpf(float(x[i]))
            y[i] = z / (1 + mp.exp(-z))
    return y

"""Liquid-S4's liquid kernels and output in long double (x87), and their bounds' magnitudes and
growths; definitions in `ssmspec.reference.mp.liquid`.

Kernels, elementwise: the diagonal kernel's pass
(`ssmspec.reference.np.kernels.exp_sum_with_bound`) with
W_p = C·B̄^p and w = log Ā = 2·atanh(ΔΛ/2), so M_p = f·Σ_n |W_p,n|·|Ā_n|^l and
G_p = Σ_n (N + 1 + g0_p + l·(|w_n| + s_n))·|term| / Σ|term| with g0_p = p + 2 (B̄'s division
and product, then p − 1 products for the power, each moving W_p by ~u relative) and
s_n = |z/(1 − z²/4)| the rounding of z = ΔΛ moving w (`abar_sensitivity`, as diag_kernel's
bilinear bound). 'pb' orders ≥ 2: the l = 0 tap only (exact zeros after, G = N + 1 + g0_p).

Output, per signal (b, h) in the 2-norm (the FFT's norm-wise bound, docs/convolution.md):

    M = Σ_p ( ‖K_p‖₁‖c_p‖₂ + ‖K_p‖₂‖c_p‖₁ + ‖M_p ∗ |c_p|‖₂ )
    G = 1 + log₂n + max_p G_p + order

the FFT's rounding (first two terms, growth 1 + log₂n), the kernels' own errors propagated through
the convolution (|δK_p| ≤ u·G_p·M_p, so ‖δK_p ∗ c_p‖₂ ≤ u·max G_p·‖M_p ∗ |c_p|‖₂) and the
p − 1 roundings of each correlation product (≤ order·u·‖|K_p| ∗ |c_p|‖₂, |K_p| ≤ M_p; the
binomial products of `correlation='binomial'` carry 2^(p−1) − 1, `correlation_roundings`).
"""

from __future__ import annotations

import math

import numpy as np

from ssmspec.reference.np.kernels import abar_sensitivity, exp_sum_with_bound
from ssmspec.reference.np.precision import CLD, LD


def _bilinear(Lambda, B, C, log_dt):
    dt = np.exp(np.asarray(log_dt, dtype=LD()))[:, None]
    lam = np.asarray(Lambda)
    z = dt * lam.astype(CLD() if np.iscomplexobj(lam) else LD())
    with np.errstate(divide="ignore", invalid="ignore"):
        w = 2 * np.arctanh(z.astype(CLD()) / 2)
    w = np.where(z == -2, CLD()(-np.inf), w)  # Ā = 0: a NaN phase from 2·(−inf + 0i) kept out
    bbar = dt * np.asarray(B).astype(z.dtype) / (1 - z / 2)
    return np.asarray(C).astype(z.dtype), bbar, w, z


def liquid_kernel_with_bound(Lambda, B, C, log_dt, L, order, method="pb", conj_half=True):
    """(K, M, G), each (order, H, L)."""
    c, bbar, w, z = _bilinear(Lambda, B, C, log_dt)
    sens = abar_sensitivity(z, "bilinear")
    H, N = c.shape
    f = 2.0 if conj_half else 1.0
    K, M, G = (np.zeros((order, H, L)) for _ in range(3))
    for p in range(1, order + 1):
        W = c * bbar**p
        g0 = np.full(W.shape, p + 2.0)
        if p == 1 or method == "kb":
            K[p - 1], M[p - 1], G[p - 1] = exp_sum_with_bound(W, w, L, f, N, g0, sens=sens)
        else:
            K[p - 1, :, 0] = (f * np.real(W.sum(-1))).astype(np.float64)
            M[p - 1, :, 0] = (f * np.abs(W).sum(-1)).astype(np.float64)
            G[p - 1] = N + 1 + p + 2.0
    return K, M, G


def liquid_kernel(Lambda, B, C, log_dt, L, order, method="pb", conj_half=True):
    return liquid_kernel_with_bound(Lambda, B, C, log_dt, L, order, method, conj_half)[0]


def _delayed(x, lag: int):
    out = np.zeros_like(x)
    out[..., lag:] = x[..., : x.shape[-1] - lag]
    return out


def correlations(u, order, correlation="runs"):
    """c (order, *u.shape) in long double, zeros before t = p − 1: 'runs' c_p[t] = Π_(j<p)
    u[t − j]; 'binomial' c_p[t] = c_(p−1)[t]·c_(p−1)[t − 1] (= Π_j u[t − j]^binom(p−1, j))."""
    u = np.asarray(u, dtype=LD())
    out = [u]
    for p in range(2, order + 1):
        out.append(out[-1] * (_delayed(u, p - 1) if correlation == "runs"
                              else _delayed(out[-1], 1)))
    return np.stack(out)


def correlation_roundings(order: int, correlation: str = "runs") -> int:
    """Relative roundings of the order-p products, p ≤ order: p − 1 for runs; for binomial the
    error doubles per level plus one rounding, 2^(p−1) − 1."""
    return order if correlation == "runs" else max(order, 2 ** (order - 1) - 1)


def _conv(x, K):
    """Σ_(m ≤ t) K[h, t − m]·x[b, h, m], long double, for x (B, H, L), K (H, L)."""
    Bn, H, L = x.shape
    y = np.zeros((Bn, H, L), dtype=LD())
    for b in range(Bn):
        for h in range(H):
            y[b, h] = np.convolve(x[b, h], K[h].astype(LD()))[:L]
    return y


def liquid_conv_with_bound(u, Lambda, B, C, log_dt, order, method="pb", conj_half=True,
                           correlation="runs"):
    """(y (B, H, L), M (B, H), G (B, H)); see the module docstring."""
    u = np.asarray(u, np.float64)
    L = u.shape[-1]
    K, Mk, Gk = liquid_kernel_with_bound(Lambda, B, C, log_dt, L, order, method, conj_half)
    c = correlations(u, order, correlation)
    y = np.zeros(u.shape, dtype=LD())
    M = np.zeros(u.shape[:-1])
    for p in range(order):
        y += _conv(c[p], K[p])
        a = np.abs(c[p]).astype(np.float64)
        k = np.abs(K[p])
        M += (k.sum(-1)[None] * np.sqrt((a**2).sum(-1)) + np.sqrt((k**2).sum(-1))[None] * a.sum(-1)
              + np.sqrt((_conv(a, Mk[p]).astype(np.float64) ** 2).sum(-1)))
    n = 1 << max(2 * L - 2, 0).bit_length()
    G = np.full(u.shape[:-1], 1.0 + np.log2(n) + Gk.max()
                + correlation_roundings(order, correlation))
    return y.astype(np.float64), M, G


def liquid_conv(u, Lambda, B, C, log_dt, order, method="pb", conj_half=True,
                correlation="runs"):
    return liquid_conv_with_bound(u, Lambda, B, C, log_dt, order, method, conj_half,
                                  correlation)[0]


# --- written-out sums, in float64 (complex128), for the laws of ssmspec/specs/liquid.py ---------


def _discretised(Lambda, B, log_dt, conj_half):
    """Ā, B̄ (bilinear, complex128) and the factor f (2 under conj_half)."""
    dt = np.exp(log_dt)[:, None]
    z = dt * np.asarray(Lambda).astype(complex)
    return (1 + z / 2) / (1 - z / 2), dt * B / (1 - z / 2), 2.0 if conj_half else 1.0


def liquid_conv_written_out(u, Lambda, B, C, log_dt, order, method="pb", conj_half=True,
                            correlation="runs"):
    """y by the written-out sums: K_p[l] = f·Re Σ_n C B̄^p Ā^l with Ā^l by repeated
    multiplication, then Σ_p Σ_m K_p[t − m]·Π_(j<p) u[m − j]^e_j (e_j = 1 for runs,
    binom(p − 1, j) for the binomial products)."""
    abar, bbar, f = _discretised(Lambda, B, log_dt, conj_half)
    Bn, H, L = u.shape
    y = np.zeros((Bn, H, L))
    for p in range(1, order + 1):
        K = np.zeros((H, L))
        pw = np.ones_like(abar)
        for l in range(L):
            if p == 1 or method == "kb" or l == 0:
                K[:, l] = f * np.real(np.sum(C * bbar**p * pw, axis=-1))
            pw = pw * abar
        for t in range(L):
            for m in range(p - 1, t + 1):
                prod = np.prod([u[..., m - j] ** (math.comb(p - 1, j) if correlation == "binomial"
                                                  else 1) for j in range(p)], axis=0)
                y[..., t] += K[:, t - m] * prod
    return y


def liquid_recurrence_runs(u, Lambda, B, C, log_dt, order, method="kb", conj_half=True,
                           correlation="runs"):
    """Σ over runs S = {m − p + 1 … m} ⊆ {0 … t} of the unrolled liquid recurrence's terms
    C·Ā^(t − min S + 1 − |S|)·B̄^|S|·Π_(s∈S) u_s, enumerated as subsets: `kb` on the runs
    (`method`, `correlation` are taken for the signature's sake)."""
    abar, bbar, f = _discretised(Lambda, B, log_dt, conj_half)
    Bn, H, L = u.shape
    y = np.zeros((Bn, H, L))
    for t in range(L):
        for lo in range(t + 1):
            for hi in range(lo, min(t, lo + order - 1) + 1):
                k = hi - lo + 1
                coef = f * np.real(np.sum(C * bbar**k * abar ** (t - lo + 1 - k), axis=-1))
                y[..., t] += coef * np.prod([u[..., s] for s in range(lo, hi + 1)], axis=0)
    return y

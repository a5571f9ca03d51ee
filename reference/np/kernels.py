"""Convolution kernels of diagonal SSMs in float64/complex128 (SPEC-NOTES §4, §5), and the
magnitudes and growths of their error bounds (SPEC-NOTES §1).

Same definitions as `ssmspec.reference.mp.kernels`. Each kernel is Σ_n W_n·Ā_n^l with a
log-power w_n = log Ā_n (zoh, zoh_approx: ΔΛ; bilinear: 2·atanh(ΔΛ/2); EMA: log1p(−p·a)), and
powers are evaluated as exp(l·w) (never by raising a rounded Ā), chunked over L so memory stays
O(H·N·chunk). The same pass gives, on absolute values,

    M[h, l] = f · Σ_n |W_n|·|Ā_n|^l                   (f = 2 under conj_half, else 1)
    G[h, l] = Σ_n (N + 1 + g0_n + l·|w_n|)·|W_n||Ā_n|^l / Σ_n |W_n||Ā_n|^l   (N + 1 where M = 0)

so that G·M = f·Σ_n (N + 1 + g0_n + l·|w_n|)·|term_n|: the summation's N roundings, the
rounding of z = ΔΛ inside zoh's B̄ = Δ·φ₁(z)·B (g0 = |z|, as discretize_diag's bound; 0
otherwise), and the `l·|log Ā|` growth of a power computed as exp(l·log Ā), per state.
"""

from __future__ import annotations

import numpy as np
import scipy.special

from ssmspec.reference.np.discretization import discretize_diag

CHUNK = 256


def _logpow(Lambda, log_dt, method):
    """(z = ΔΛ, w = log Ā) per state; for bilinear w may carry iπ (real Ā < 0)."""
    z = np.exp(np.asarray(log_dt, dtype=np.float64))[:, None] * np.asarray(Lambda)
    if method == "bilinear":
        with np.errstate(divide="ignore", invalid="ignore"):
            w = 2 * np.arctanh(z.astype(np.complex128) / 2)
        w = np.where(z == -2, -np.inf + 0j, w)
        return z, w
    return z, z


def _powers(w, e):
    """exp(e·w) with e^0 = 1 where w = −inf; w (..., N), e (K,) → (..., N, K)."""
    w = np.asarray(w)[..., None]
    with np.errstate(invalid="ignore", over="ignore"):
        re = np.real(w)
        mag = np.where(e == 0, 1.0, np.exp(e * re))
        if np.iscomplexobj(w):
            return mag * np.exp(1j * np.where(e == 0, 0.0, e * np.imag(w)))
    return mag


def _kernel(W, w, L, factor, n_states, g0=0.0):
    """(K, M, G) of factor·Re Σ_n W_n exp(l·w_n); chunks of CHUNK over l; `g0` a per-state
    growth added to N + 1 (zoh: |ΔΛ|, the rounding of z moving φ₁(z) in B̄)."""
    H, N = W.shape
    K, M, G = (np.empty((H, L)) for _ in range(3))
    aw = np.where(np.isfinite(np.abs(w)), np.abs(w), 0.0)
    for s in range(0, L, CHUNK):
        e = np.arange(s, min(L, s + CHUNK), dtype=np.float64)
        V = _powers(w, e)  # (H, N, k)
        K[:, s:s + len(e)] = factor * np.real(np.einsum("hn,hnk->hk", W, V))
        terms = np.abs(W)[..., None] * np.abs(V)
        m = np.sum(terms, axis=1)
        gm = np.sum((n_states + 1 + np.asarray(g0)[..., None] + e * aw[..., None]) * terms, axis=1)
        M[:, s:s + len(e)] = factor * m
        with np.errstate(invalid="ignore", divide="ignore"):
            G[:, s:s + len(e)] = np.where(m > 0, gm / np.where(m > 0, m, 1), n_states + 1)
    return K, M, G


def diag_kernel_with_bound(Lambda, B, C, log_dt, L, method="zoh", conj_half=True):
    """(K, M, G), each (H, L); see the module docstring."""
    Lambda, B, C = np.asarray(Lambda), np.asarray(B), np.asarray(C)
    z, w = _logpow(Lambda, log_dt, method)
    dt = np.exp(np.asarray(log_dt, dtype=np.float64))[:, None]
    _, bbar = discretize_diag(Lambda, B, dt, method)
    g0 = np.abs(z) if method == "zoh" else np.zeros(z.shape)
    return _kernel(C * bbar, w, L, 2.0 if conj_half else 1.0, Lambda.shape[-1], g0)


def diag_kernel(Lambda, B, C, log_dt, L, method="zoh", conj_half=True):
    """K (H, L), float64."""
    return diag_kernel_with_bound(Lambda, B, C, log_dt, L, method, conj_half)[0]


def ema_log_q(delta, alpha):
    """(p, log q) without cancellation: q = σ(−δ) + σ(δ)σ(−α), log1p(−p·a) where p·a < ½."""
    sig = scipy.special.expit  # σ(x) to full relative accuracy for large |x|, no overflow
    p, a = sig(delta), sig(alpha)
    pa = p * a
    q = sig(-delta) + p * sig(-alpha)
    with np.errstate(divide="ignore"):
        return p, np.where(pa < 0.5, np.log1p(-np.minimum(pa, 0.5)), np.log(q))


def ema_kernel_with_bound(delta, alpha, beta, gamma, L):
    """(K, M, G), each (D, L), for δ, α, β (D, ndim, 1), γ (D, ndim)."""
    delta, alpha = np.asarray(delta)[..., 0], np.asarray(alpha)[..., 0]
    beta, gamma = np.asarray(beta)[..., 0], np.asarray(gamma)
    p, logq = ema_log_q(delta, alpha)
    W = gamma * np.sqrt(1.0 / gamma.shape[1]) * p * beta
    return _kernel(W, logq, L, 1.0, gamma.shape[1])


def ema_kernel(delta, alpha, beta, gamma, L):
    """K (D, L), float64."""
    return ema_kernel_with_bound(delta, alpha, beta, gamma, L)[0]

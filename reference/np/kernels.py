"""Convolution kernels of diagonal SSMs in float64/complex128 (docs/kernels.md), and the
magnitudes and growths of their error bounds (docs/error-model.md).

Same definitions as `ssmspec.reference.mp.kernels`. Each kernel is Σ_n W_n·Ā_n^l with a
log-power w_n = log Ā_n (zoh, zoh_approx: ΔΛ; bilinear: 2·atanh(ΔΛ/2); EMA: log1p(−p·a)), and
powers are evaluated as exp(s·w)·exp(j·w) with l = s + j, s a multiple of the chunk (never by
raising a rounded Ā: each factor is one correctly rounded exp, the product adds one rounding),
chunked over L so memory stays O(H·N·chunk). The same pass gives, on absolute values,

    M[h, l] = f · Σ_n |W_n|·|Ā_n|^l                   (f = 2 under conj_half, else 1)
    G[h, l] = Σ_n (N + 1 + g0_n + l·(|w_n| + s_n))·|W_n||Ā_n|^l / Σ_n |W_n||Ā_n|^l
                                                                      (N + 1 where M = 0)

so that G·M = f·Σ_n (N + 1 + g0_n + l·(|w_n| + s_n))·|term_n|: the summation's N roundings, the
rounding of z = ΔΛ inside B̄ (zoh's B̄ = Δ·φ₁(z)·B: g0 = |z|, as discretize_diag's bound;
bilinear's Δ·B/(1 − z/2): g0 = |z/2|/|1 − z/2|; 0 for zoh_approx), the `l·|log Ā|` growth of a
power computed as exp(l·log Ā), and for bilinear the rounding of z moving w = 2·atanh(z/2) by
s = |z/(1 − z²/4)| times u (`abar_sensitivity`; for the exponentials w = z and l·|w| is that
term already).
"""

from __future__ import annotations

import numpy as np
import scipy.special

from ssmspec.reference.np.precision import CLD, LD

CHUNK = 256




def _logpow(Lambda, log_dt, method):
    """(Δ (H, 1), z = ΔΛ, w = log Ā) per state, long double; bilinear w may carry iπ (Ā < 0)."""
    dt = np.exp(np.asarray(log_dt, dtype=LD()))[:, None]
    lam = np.asarray(Lambda)
    z = dt * lam.astype(CLD() if np.iscomplexobj(lam) else LD())
    if method == "bilinear":
        with np.errstate(divide="ignore", invalid="ignore"):
            w = 2 * np.arctanh(z.astype(CLD()) / 2)
        w = np.where(z == -2, CLD()(-np.inf), w)
        return dt, z, w
    return dt, z, z


def _bbar(dt, z, B, method):
    """B̄ (§2) in long double: zoh Δ·expm1(z)/z·B (Δ·B at z = 0), bilinear Δ·B/(1 − z/2),
    zoh_approx Δ·B."""
    B = np.asarray(B).astype(z.dtype)
    if method == "zoh":
        with np.errstate(divide="ignore", invalid="ignore"):
            phi = np.where(z == 0, 1, np.expm1(z) / np.where(z == 0, 1, z))
        return dt * phi * B
    if method == "bilinear":
        with np.errstate(divide="ignore", invalid="ignore"):
            return dt * B / (1 - z / 2)
    return dt * B


def _powers(w, e):
    """exp(e·w) with e^0 = 1 where w = −inf; w (..., N), e (K,) → (..., N, K)."""
    w = np.asarray(w)[..., None]
    with np.errstate(invalid="ignore", over="ignore"):
        re = np.real(w)
        mag = np.where(e == 0, 1, np.exp(e * re))
        if np.iscomplexobj(w):
            return mag * np.exp(1j * np.where(e == 0, 0.0, e * np.imag(w)))
    return mag


def exp_sum_with_bound(W, w, L, factor, n_states, g0=0.0, kappa=1.0, sens=0.0):
    """(K, M, G) of factor·Re Σ_n W_n exp(l·w_n); chunks of CHUNK over l; `g0` a per-state
    growth added to N + 1 (zoh: |ΔΛ|, the rounding of z moving φ₁(z) in B̄), `kappa` a per-state
    factor on l·|w| (the EMA's conditioning of w from its inputs), `sens` a per-state term added
    to it, l·(κ·|w| + s) (bilinear: the rounding of z moving w, `abar_sensitivity`). W and w
    long double; K is summed in long double and rounded to float64 once."""
    H, N = W.shape
    K, M, G = (np.empty((H, L)) for _ in range(3))
    aw = np.where(np.isfinite(np.abs(w)), np.abs(w), 0.0).astype(np.float64) * kappa + sens
    g0 = np.asarray(g0, dtype=np.float64)
    # exp((s + j)·w) = exp(s·w)·exp(j·w): one exp per state and chunk start, one table of
    # exp(j·w) for the offsets j < CHUNK, and a product (≤ 3u relative) per entry
    offsets = _powers(w, np.arange(CHUNK, dtype=LD()))  # (H, N, CHUNK)
    for s in range(0, L, CHUNK):
        e = np.arange(s, min(L, s + CHUNK), dtype=LD())
        V = _powers(w, e[:1]) * offsets[..., :len(e)]  # (H, N, k)
        K[:, s:s + len(e)] = factor * np.real(np.einsum("hn,hnk->hk", W, V))
        e = e.astype(np.float64)
        terms = (np.abs(W)[..., None] * np.abs(V)).astype(np.float64)
        m = np.sum(terms, axis=1)
        gm = np.sum((n_states + 1 + np.asarray(g0)[..., None] + e * aw[..., None]) * terms, axis=1)
        M[:, s:s + len(e)] = factor * m
        with np.errstate(invalid="ignore", divide="ignore"):
            G[:, s:s + len(e)] = np.where(m > 0, gm / np.where(m > 0, m, 1), n_states + 1)
    return K, M, G


def abar_sensitivity(z, method):
    """s = |z·(d log Ā/dz)| at z = ΔΛ (any shape, float64 out): a relative error ε of z moves
    log Ā by s·ε, so Ā^l by a relative l·s·ε. Exponentials: s = |z|. Bilinear, log Ā =
    2·atanh(z/2): s = |z/(1 − z²/4)| = |z|/(|1 + z/2|·|1 − z/2|), unbounded as Δλ → −2 (Ā → 0;
    |Ā|·s = |z|/|1 − z/2|² stays finite). 0 where Ā is exactly 0 or ∞ (z = ∓2), where the
    reference's powers |Ā|^l (l ≥ 1) are 0 or not finite and carry no relative error."""
    z = np.asarray(z)
    if method != "bilinear":
        return np.abs(z).astype(np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        s = np.abs(z / (1 - z * z / 4)).astype(np.float64)
    return np.where(np.isfinite(s), s, 0.0)


def diag_kernel_with_bound(Lambda, B, C, log_dt, L, method="zoh", conj_half=True):
    """(K, M, G), each (H, L); see the module docstring."""
    Lambda, B, C = np.asarray(Lambda), np.asarray(B), np.asarray(C)
    dt, z, w = _logpow(Lambda, log_dt, method)
    W = C.astype(z.dtype) * _bbar(dt, z, B, method)
    return exp_sum_with_bound(W, w, L, 2.0 if conj_half else 1.0, Lambda.shape[-1],
                              *diag_growths(z, method))


def diag_growths(z, method):
    """(g0, κ, s) of `exp_sum_with_bound` for (Ā, B̄) of `method` at z = ΔΛ (module docstring):
    g0 the rounding of z moving B̄ relative to itself (zoh: |z|; bilinear: |z/2|/|1 − z/2|, ≤ 1
    for Re z ≤ 0; zoh_approx: 0), s the rounding of z moving bilinear's w (0 for the
    exponentials, whose l·|w| is that term)."""
    az = np.abs(z).astype(np.float64)
    if method == "zoh":
        return az, 1.0, 0.0
    if method == "bilinear":
        with np.errstate(divide="ignore", invalid="ignore"):
            g0 = (az / 2) / np.abs(1 - z / 2).astype(np.float64)
        return np.where(np.isfinite(g0), g0, 0.0), 1.0, abar_sensitivity(z, method)
    return np.zeros(z.shape), 1.0, 0.0


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
    p, logq = ema_log_q(delta.astype(LD()), alpha.astype(LD()))
    W = gamma * np.sqrt(LD()(1) / gamma.shape[1]) * p * beta
    return exp_sum_with_bound(W, logq, L, 1.0, gamma.shape[1],
                              kappa=ema_log_q_condition(delta, alpha))


def ema_log_q_condition(delta, alpha):
    """1 + κ_n, the factor on the l·|w| growth of the EMA's w = log q.

    w is computed from p·a, which carries a few u of relative error (two sigmoids, a product).
    Where p·a < ½ (w = log1p(−p·a)) that becomes a relative error κ = p·a/((1 − p·a)·|w|) ≤ 1.45
    times it in w; where p·a ≥ ½ (w = log q, q = σ(−δ) + σ(δ)σ(−α) formed without cancellation)
    q's relative error is an absolute error of w, κ = 1/|w| ≤ 1/log 2. The `+ 1` is log's own
    rounding."""
    d, a = np.asarray(delta, dtype=np.float64), np.asarray(alpha, dtype=np.float64)
    p, logq = ema_log_q(d, a)
    pa = p * scipy.special.expit(a)
    aw = np.abs(logq)
    with np.errstate(divide="ignore", invalid="ignore"):
        kappa = np.where(pa < 0.5, pa / ((1 - pa) * aw), 1 / aw)
    return 1.0 + np.where(np.isfinite(kappa) & (aw > 0), kappa, 1.0)


def ema_kernel(delta, alpha, beta, gamma, L):
    """K (D, L), float64."""
    return ema_kernel_with_bound(delta, alpha, beta, gamma, L)[0]

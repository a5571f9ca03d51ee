"""H3's shift SSM kernel in long double (x87), and its bound's magnitude and growth:
K[h, l] = Σ_{m<N−l} B[h, m]·C[h, m + l]; M = the same sum on |B|, |C|; G = N − l + 1 (a dot
product of N − l terms, plus the final rounding of fp16/bf16), 1 where K is an exact zero."""

from __future__ import annotations

import numpy as np

from ssmspec.reference.np.kernels import diag_kernel
from ssmspec.reference.np.precision import LD


def shift_ssm_kernel_with_bound(B, C, L):
    B, C = np.asarray(B, np.float64), np.asarray(C, np.float64)
    H, N = B.shape
    K, M = np.zeros((H, L), dtype=LD()), np.zeros((H, L), dtype=LD())
    for l in range(min(N, L)):
        K[:, l] = np.sum(B[:, :N - l].astype(LD()) * C[:, l:].astype(LD()), axis=1)
        M[:, l] = np.sum(np.abs(B[:, :N - l]).astype(LD()) * np.abs(C[:, l:]).astype(LD()), axis=1)
    G = np.broadcast_to(np.maximum(N - np.arange(L), 0) + 1.0, (H, L))
    return K.astype(np.float64), M.astype(np.float64), G


def shift_ssm_kernel(B, C, L):
    return shift_ssm_kernel_with_bound(B, C, L)[0]


def _h3_layer_ld(q, k, v, shift_B, shift_C, shift_D, Lambda, B, C, log_dt, D, method):
    """`h3_layer` in long double, not rounded."""
    L = np.asarray(q).shape[-1]
    K_shift = shift_ssm_kernel(shift_B, shift_C, L)
    k1 = _conv_ld(np.asarray(k, np.float64).astype(LD()), K_shift, shift_D)
    p = k1 * np.asarray(v, np.float64).astype(LD())
    y = _conv_ld(p, diag_kernel(Lambda, B, C, log_dt, L, method), D)
    return np.asarray(q, np.float64).astype(LD()) * y


def h3_layer(q, k, v, shift_B, shift_C, shift_D, Lambda, B, C, log_dt, D, method="bilinear"):
    """out = q ⊙ (K_diag * p + D ⊙ p), p = k′ ⊙ v, k′ = K_shift * k + shift_D ⊙ k (head_dim 1):
    the convolutions and products in long double, K_diag the float64 `diag_kernel` reference
    (its own error, ~N·u₆₄·M_K, is part of the reference's fp64 certification)."""
    return _h3_layer_ld(q, k, v, shift_B, shift_C, shift_D, Lambda, B, C, log_dt, D,
                        method).astype(np.float64)


def head_pairs(q, k, v, shift_B, shift_C, shift_D, head_dim: int):
    """The multi-head layer as head_dim-1 layers: yields (i, j, (q_i, k_i, v_j, shift_B_i,
    shift_C_i, shift_D_i)) for i, j < d, where x_i takes model channel h·d + i of every head h
    (so the H rows line up with Λ, B, C, log Δ, D). out[:, j·H + h] = Σ_i layer(pair (i, j))[:, h]
    (`ssmspec.impl.h3.h3_multihead`)."""
    d = head_dim
    q, k, v = (np.asarray(x) for x in (q, k, v))
    sB, sC, sD = (np.asarray(x) for x in (shift_B, shift_C, shift_D))
    for i in range(d):
        for j in range(d):
            yield i, j, (q[:, i::d], k[:, i::d], v[:, j::d], sB[i::d], sC[i::d], sD[i::d])


def h3_multihead(q, k, v, shift_B, shift_C, shift_D, Lambda, B, C, log_dt, D, head_dim,
                 method="bilinear"):
    """The multi-head core (`head_pairs`): each pair's layer and the sum over i in long double,
    rounded once to float64. (batch, H·d, L)."""
    Bn, Hd, L = np.asarray(q).shape
    H = Hd // head_dim
    out = np.zeros((Bn, Hd, L), dtype=LD())
    for _, j, args in head_pairs(q, k, v, shift_B, shift_C, shift_D, head_dim):
        out[:, j * H:(j + 1) * H] += _h3_layer_ld(*args, Lambda, B, C, log_dt, D, method)
    return out.astype(np.float64)


def _conv_ld(u, K, D):
    """Σ_{s≤t} K[h, t−s]·u[b, h, s] + D[h]·u[b, h, t], u long double (not rounded to float64)."""
    y = np.empty(u.shape, dtype=LD())
    for b, h in np.ndindex(u.shape[:2]):
        y[b, h] = np.convolve(u[b, h], np.asarray(K[h], np.float64).astype(LD()))[:u.shape[2]]
    return y + np.asarray(D, np.float64).astype(LD())[None, :, None] * u


def blockwise_products(q, k, v, shift_B, shift_C, shift_D, Lambda, B, C, log_dt, D):
    """p = k′ ⊙ v (batch, H, L) in long double, as float64: the diagonal SSM's input."""
    L = np.asarray(q).shape[-1]
    k1 = _conv_ld(np.asarray(k, np.float64).astype(LD()), shift_ssm_kernel(shift_B, shift_C, L),
                  shift_D)
    return (k1 * np.asarray(v, np.float64).astype(LD())).astype(np.float64)


# --- the layer's bound (docs/layers.md#h3_layer): first-order running error, stage by stage ---


def _aconv(a, K):
    """(K * a)[t] for a (batch, H, L) ≥ 0, K (H, ·) ≥ 0, direct (no FFT roundoff on small
    entries beside large ones: the bound is elementwise)."""
    L = a.shape[-1]
    out = np.empty(a.shape)
    for b, h in np.ndindex(a.shape[:2]):
        out[b, h] = np.convolve(a[b, h], K[h][:L])[:L]
    return out


def _fft_term(a, K):
    """(1 + log₂ n)(‖K‖₁‖a‖₂ + ‖K‖₂‖a‖₁) per signal, n the FFT length
    (docs/convolution.md#causal_conv)."""
    L = a.shape[-1]
    n = 1 << max(2 * L - 2, 0).bit_length()
    k1, k2 = K.sum(-1)[None], np.sqrt((K**2).sum(-1))[None]
    return ((1.0 + np.log2(n)) * (k1 * np.sqrt((a**2).sum(-1)) + k2 * a.sum(-1)))[..., None]


def layer_error_terms(q, k, v, shift_B, shift_C, shift_D, Lambda, B, C, log_dt, D, method,
                      c_conv, c_kernel, stage3=None):
    """(M, E): the layer's output magnitude and its first-order rounding error in units of u,
    stage by stage; `c_conv`, `c_kernel` the constants of causal_conv's and diag_kernel's
    bounds. `stage3(A2)` replaces the diagonal SSM's own rounding term (the kernel's and the
    FFT's) for the block-wise computation (`blockwise_error`)."""
    from ssmspec.reference.np.kernels import diag_kernel_with_bound

    aq, ak, av = np.abs(q), np.abs(k), np.abs(v)
    L = q.shape[-1]
    Ks, Ms, Gs = shift_ssm_kernel_with_bound(shift_B, shift_C, L)
    aKs = np.abs(Ks)
    A1 = _aconv(ak, aKs) + np.abs(shift_D)[None, :, None] * ak
    E1 = (c_conv * _fft_term(ak, aKs) + _aconv(ak, Gs * Ms)
          + c_conv * np.abs(shift_D)[None, :, None] * ak + A1)
    A2, E2 = A1 * av, E1 * av + A1 * av
    Kd, Md, Gd = diag_kernel_with_bound(Lambda, B, C, log_dt, L, method)
    aKd, aD = np.abs(Kd), np.abs(D)[None, :, None]
    A3 = _aconv(A2, aKd) + aD * A2
    own = (c_conv * _fft_term(A2, aKd) + c_kernel * _aconv(A2, Gd * Md)
           if stage3 is None else stage3(A2))
    E3 = _aconv(E2, aKd) + own + aD * E2 + c_conv * aD * A2 + A3
    M = aq * A3
    return M, aq * E3 + M


def blockwise_error(q, k, v, shift_B, shift_C, shift_D, Lambda, B, C, log_dt, D, method, block,
                    c_conv, c_kernel, c_diag):
    """E of the layer computed block by block (FlashConv): `layer_error_terms` with the diagonal
    SSM's own rounding replaced by `diag_ssm`'s per block (norm-wise, from the exact carried
    state; constant `c_diag`) plus the carried state's error through the free response,
    |Ā|^{t+1}·|C|·ε_h, ε_h accumulated as ε ← |Ā|^T ε + (the block's final-state bound)."""
    from ssmspec.reference.np import recurrent as rec

    args = (q, k, v, shift_B, shift_C, shift_D, Lambda, B, C, log_dt, D)
    w = rec._log_abar(Lambda, log_dt, method)

    def stage3(A2):
        p = np.asarray(blockwise_products(*args), np.float64)
        out, state, eps = np.zeros(A2.shape), None, None
        for s in range(0, A2.shape[-1], block):
            e = min(s + block, A2.shape[-1])
            terms = rec.diag_ssm_bound(p[..., s:e], Lambda, B, C, log_dt, state, method)
            my, gy = terms["y"]
            mf, gf = terms["state"]
            out[..., s:e] = c_diag * (my * gy)[..., None]
            if eps is not None:
                t1 = np.arange(1, e - s + 1, dtype=np.float64)
                out[..., s:e] += 2.0 * np.einsum("hn,bhn,hnt->bht", np.abs(C), eps,
                                                 rec._pow_abs(w, t1))
                eps = rec._pow_abs(w, np.array([float(e - s)]))[None, ..., 0] * eps
            eps = (0.0 if eps is None else eps) + c_diag * mf * gf
            _, state = rec.diag_ssm(p[..., s:e], Lambda, B, C, log_dt, state, method)
        return out

    return layer_error_terms(*args, method, c_conv, c_kernel, stage3)[1]

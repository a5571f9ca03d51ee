"""H3's shift SSM kernel in mpmath (issue 9, item 5), written as C·A^l·B with A the shift matrix:
A^l·B moves B down l places, so K[h, l] = Σ_{m=0}^{N−1−l} B[h, m]·C[h, m + l] (0 for l ≥ N).
Object array (H, L) of mpf out."""

from __future__ import annotations

import mpmath as mp
import numpy as np

from ssmspec.reference.mp import DPS
from ssmspec.reference.mp.kernels import diag_kernel
from ssmspec.reference.np.h3 import head_pairs


def shift_ssm_kernel(B, C, L: int):
    B, C = np.asarray(B), np.asarray(C)
    H, N = B.shape
    out = np.empty((H, L), dtype=object)
    with mp.workdps(DPS):
        for h in range(H):
            x = [mp.mpf(float(b)) for b in B[h]]  # A^0 B
            c = [mp.mpf(float(v)) for v in C[h]]
            for l in range(L):
                out[h, l] = mp.fsum(ci * xi for ci, xi in zip(c, x))
                x = [mp.mpf(0)] + x[:-1]  # x ← A x: the shift
    return out


def _conv(u, K, D):
    """Σ_{s≤t} K[h, t−s]·u[b, h, s] + D[h]·u[b, h, t] on object arrays of mpf."""
    y = np.empty(u.shape, dtype=object)
    for b, h in np.ndindex(u.shape[:2]):
        for t in range(u.shape[2]):
            y[b, h, t] = mp.fsum(K[h, t - s] * u[b, h, s] for s in range(t + 1)) + D[h] * u[b, h, t]
    return y


def h3_layer(q, k, v, shift_B, shift_C, shift_D, Lambda, B, C, log_dt, D, method="bilinear"):
    """out = q ⊙ (K_diag * p + D ⊙ p), p = k′ ⊙ v, k′ = K_shift * k + shift_D ⊙ k (head_dim 1),
    every intermediate kept in mpmath. Object array (batch, H, L) of mpf out."""
    L = np.asarray(q).shape[-1]
    with mp.workdps(DPS):
        num = np.vectorize(lambda x: mp.mpf(float(x)), otypes=[object])
        q, k, v = num(np.asarray(q)), num(np.asarray(k)), num(np.asarray(v))
        k1 = _conv(k, shift_ssm_kernel(shift_B, shift_C, L), num(np.asarray(shift_D)))
        p = k1 * v
        y = _conv(p, diag_kernel(Lambda, B, C, log_dt, L, method), num(np.asarray(D)))
        return q * y


def h3_multihead(q, k, v, shift_B, shift_C, shift_D, Lambda, B, C, log_dt, D, head_dim,
                 method="bilinear"):
    """The multi-head core as a sum of head_dim-1 layers over the pairs (i, j) of
    `ssmspec.reference.np.h3.head_pairs`: out[:, j·H + h] = Σ_i layer(pair (i, j))[:, h], all in
    mpmath. Object array (batch, H·d, L) of mpf out."""
    Bn, Hd, L = np.asarray(q).shape
    H = Hd // head_dim
    out = np.empty((Bn, Hd, L), dtype=object)
    out[...] = mp.mpf(0)
    with mp.workdps(DPS):
        for _, j, args in head_pairs(q, k, v, shift_B, shift_C, shift_D, head_dim):
            out[:, j * H:(j + 1) * H] += h3_layer(*args, Lambda, B, C, log_dt, D, method)
    return out

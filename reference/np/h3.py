"""H3's shift SSM kernel in long double (x87), and its bound's magnitude and growth (SPEC-NOTES
§1): K[h, l] = Σ_{m<N−l} B[h, m]·C[h, m + l]; M = the same sum on |B|, |C|; G = N − l + 1 (a dot
product of N − l terms, plus the final rounding of fp16/bf16), 1 where K is an exact zero."""

from __future__ import annotations

import numpy as np

LD = np.longdouble


def shift_ssm_kernel_with_bound(B, C, L):
    B, C = np.asarray(B, np.float64), np.asarray(C, np.float64)
    H, N = B.shape
    K, M = np.zeros((H, L), dtype=LD), np.zeros((H, L), dtype=LD)
    for l in range(min(N, L)):
        K[:, l] = np.sum(B[:, :N - l].astype(LD) * C[:, l:].astype(LD), axis=1)
        M[:, l] = np.sum(np.abs(B[:, :N - l]).astype(LD) * np.abs(C[:, l:]).astype(LD), axis=1)
    G = np.broadcast_to(np.maximum(N - np.arange(L), 0) + 1.0, (H, L))
    return K.astype(np.float64), M.astype(np.float64), G


def shift_ssm_kernel(B, C, L):
    return shift_ssm_kernel_with_bound(B, C, L)[0]

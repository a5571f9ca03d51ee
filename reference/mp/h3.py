"""H3's shift SSM kernel in mpmath (issue 9, item 5), written as C·A^l·B with A the shift matrix:
A^l·B moves B down l places, so K[h, l] = Σ_{m=0}^{N−1−l} B[h, m]·C[h, m + l] (0 for l ≥ N).
Object array (H, L) of mpf out."""

from __future__ import annotations

import mpmath as mp
import numpy as np

from ssmspec.reference.mp import DPS


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

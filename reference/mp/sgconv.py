"""SGConv's multi-scale kernel in mpmath (issue 9, item 3), at `DPS` digits.

Definition and source as `ssmspec.impl.sgconv` (ctlllll/SGConv `gconv_standalone.py` @97862df,
mode 'cat'):
block i (i < S) is decay^{S−1−i}·Up_{2^{s_i}}(w_i), s_i = max(0, i − 1) + init_scale; the blocks
are concatenated (length n = d·2^{S−1+init_scale}), divided by the 2-norm under `normalize`, and
truncated or zero-padded to L. Up is nearest (w[⌊j/s⌋]) or linear with half-pixel centres
(x = max((j + ½)/s − ½, 0), a = ⌊x⌋, b = min(a + 1, d − 1), (1 − λ)w[a] + λw[b], λ = x − a),
written out tap by tap. Object array (H, L) of mpf out.
"""

from __future__ import annotations

import mpmath as mp
import numpy as np

from ssmspec.reference.mp import DPS


def _upsample(w: list, s: int, method: str) -> list:
    d = len(w)
    out = []
    for j in range(d * s):
        if method == "nearest":
            out.append(w[j // s])
            continue
        x = max((mp.mpf(j) + mp.mpf(1) / 2) / s - mp.mpf(1) / 2, mp.mpf(0))
        a = int(mp.floor(x))
        b = min(a + 1, d - 1)
        lam = x - a
        out.append((1 - lam) * w[a] + lam * w[b])
    return out


def sgconv_kernel(weights, L: int, decay, init_scale: int = 0, method: str = "linear",
                  normalize: bool = True):
    """K (H, L) for weights (S, H, d) and decay (H,); see the module docstring."""
    weights, decay = np.asarray(weights), np.asarray(decay)
    S, H, d = weights.shape
    out = np.empty((H, L), dtype=object)
    with mp.workdps(DPS):
        for h in range(H):
            c = mp.mpf(float(decay[h]))
            k = []
            for i in range(S):
                w = [mp.mpf(float(x)) for x in weights[i, h]]
                k += [c ** (S - 1 - i) * x
                      for x in _upsample(w, 1 << (max(0, i - 1) + init_scale), method)]
            if normalize:
                norm = mp.sqrt(mp.fsum(x * x for x in k))
                k = [x / norm if norm != 0 else mp.mpf(0) for x in k]
            k = (k + [mp.mpf(0)] * L)[:L]
            out[h] = k
    return out

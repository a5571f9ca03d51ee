"""Mega's attention (arXiv 2209.10655 §3.2–3.4) in mpmath at `DPS` digits, from the definition.

Per window [a, b) of n = b − a keys (the whole sequence, or one chunk), i, j in the window:

    softmax:  s_ij = q_i·k_j/√S + bias[P − 1 + j − i],  A_ij = e^{s_ij}/Σ_{j'} e^{s_ij'}
    laplace:  s_ij = q_i·k_j/n_i + bias[P − 1 + j − i], A_ij = ½(1 + erf((s_ij − μ)/(σ√2)))
    relu2:    s_ij as laplace,                          A_ij = max(s_ij, 0)²
    out_i = Σ_j A_ij v_j

μ = √½, σ = √(1/(4π)); `mask` (full attention): masked pairs get A = 0, and n_i counts the
row's allowed keys. Output: object array of mpf (batch, L, E).
"""

from __future__ import annotations

import mpmath as mp
import numpy as np

from ssmspec.reference.mp import DPS
from ssmspec.reference.mp.discretization import _num


def attention(q, k, v, bias, fn, chunk=None, mask=None):
    q, k, v, bias = (np.asarray(x) for x in (q, k, v, bias))
    B, L, S = q.shape
    E = v.shape[2]
    P = (len(bias) + 1) // 2
    c = L if chunk is None else min(chunk, L)
    out = np.empty((B, L, E), dtype=object)
    with mp.workdps(DPS):
        mu, sigma = mp.sqrt(mp.mpf(1) / 2), mp.sqrt(1 / (4 * mp.pi))
        for a in range(0, L, c):
            b = min(L, a + c)
            for bi in range(B):
                for i in range(a, b):
                    keys = [j for j in range(a, b) if mask is None or mask[i, j]]
                    n = len(keys)
                    s = {}
                    for j in keys:
                        dot = mp.fsum(_num(q[bi, i, t]) * _num(k[bi, j, t]) for t in range(S))
                        scale = 1 / mp.sqrt(S) if fn == "softmax" else mp.mpf(1) / n
                        s[j] = dot * scale + _num(bias[P - 1 + (j - a) - (i - a)])
                    if fn == "softmax":
                        m = max(s.values())
                        ex = {j: mp.exp(s[j] - m) for j in keys}
                        tot = mp.fsum(ex.values())
                        A = {j: ex[j] / tot for j in keys}
                    elif fn == "laplace":
                        A = {j: mp.erfc((mu - s[j]) / (sigma * mp.sqrt(2))) / 2  # = ½(1 + erf(·))
                             for j in keys}
                    else:
                        A = {j: max(s[j], 0) ** 2 for j in keys}
                    for e in range(E):
                        out[bi, i, e] = mp.fsum(A[j] * _num(v[bi, j, e]) for j in keys)
    return out

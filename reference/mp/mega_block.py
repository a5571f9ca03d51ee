"""Mega's gated block (arXiv 2209.10655 §3.3, eqs. (7)–(15); conventions as
`ssmspec.impl.mega_block`) in mpmath at `DPS` digits, from the definition:

    X′ = ema(X) (`reference.mp.recurrent.ema`, the recurrences), Z = silu(X′W_z + b_z),
    Q = κ_q Z + μ_q, K = κ_k Z + μ_k, V = silu(X W_v + b_v), O = attention(Q, K, V),
    γ = silu(X′W_γ + b_γ), φ = σ(X′W_φ + b_φ), Ĥ = silu(X′W_h + (γ ⊙ O)U_h + b_h),
    Y = φ Ĥ + (1 − φ) X

The attention is written out here (window by window, as `reference.mp.mega_attention`) because
its inputs Q, K, V are mpmath numbers, not float64. Output: object array of mpf (batch, L, D).
"""

from __future__ import annotations

import mpmath as mp
import numpy as np

from ssmspec.reference.mp import DPS
from ssmspec.reference.mp import recurrent as rec

FIELDS = ("delta", "alpha", "beta", "gamma", "omega", "w_v", "b_v", "w_z", "b_z", "qk_gamma",
          "qk_beta", "w_r", "b_r", "w_u", "b_u", "w_h", "u_h", "b_h", "bias")


def _mp(a):
    a = np.asarray(a, np.float64)
    return np.vectorize(lambda t: mp.mpf(float(t)), otypes=[object])(a) if a.size else \
        a.astype(object)


def _silu(a):
    return np.vectorize(lambda t: t / (1 + mp.exp(-t)), otypes=[object])(a)


def _sigmoid(a):
    return np.vectorize(lambda t: 1 / (1 + mp.exp(-t)), otypes=[object])(a)


def attention(q, k, v, bias, fn, chunk):
    """out (batch, L, E) from mpmath q, k (batch, L, S), v (batch, L, E)."""
    B, L, S = q.shape
    E = v.shape[2]
    P = (len(bias) + 1) // 2
    c = L if chunk is None else min(chunk, L)
    mu, sigma = mp.sqrt(mp.mpf(1) / 2), mp.sqrt(1 / (4 * mp.pi))
    out = np.empty((B, L, E), dtype=object)
    for a in range(0, L, c):
        b = min(L, a + c)
        n = b - a
        scale = 1 / mp.sqrt(S) if fn == "softmax" else mp.mpf(1) / n
        for bi in range(B):
            for i in range(a, b):
                s = [mp.fsum(q[bi, i, t] * k[bi, j, t] for t in range(S)) * scale
                     + mp.mpf(float(bias[P - 1 + j - i])) for j in range(a, b)]
                if fn == "softmax":
                    m = max(s)
                    ex = [mp.exp(x - m) for x in s]
                    tot = mp.fsum(ex)
                    A = [x / tot for x in ex]
                elif fn == "laplace":
                    A = [mp.erfc((mu - x) / (sigma * mp.sqrt(2))) / 2 for x in s]
                else:
                    A = [max(x, 0) ** 2 for x in s]
                for e in range(E):
                    out[bi, i, e] = mp.fsum(A[j - a] * v[bi, j, e] for j in range(a, b))
    return out


def block(x, p: dict, fn: str, chunk=None, bidirectional=None):
    """Y (batch, L, D), object array of mpf."""
    x = np.asarray(x, np.float64)
    xe = np.swapaxes(rec.ema(np.swapaxes(x, 1, 2), tuple(p[k] for k in FIELDS[:4]), p["omega"],
                             bidirectional), 1, 2)
    with mp.workdps(DPS):
        P = {k: _mp(p[k]) for k in FIELDS[5:18]}
        X = _mp(x)
        z = _silu(xe @ P["w_z"] + P["b_z"])
        q = z * P["qk_gamma"][0] + P["qk_beta"][0]
        k = z * P["qk_gamma"][1] + P["qk_beta"][1]
        v = _silu(X @ P["w_v"] + P["b_v"])
        o = attention(q, k, v, np.asarray(p["bias"], np.float64), fn, chunk)
        r = _silu(xe @ P["w_r"] + P["b_r"])
        a_u = xe @ P["w_u"] + P["b_u"]
        h = _silu(xe @ P["w_h"] + (r * o) @ P["u_h"] + P["b_h"])
        return _sigmoid(a_u) * h + _sigmoid(-a_u) * X

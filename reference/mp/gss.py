"""The GSS layer (arXiv 2206.13947 §3; conventions as `ssmspec.impl.gss`) in mpmath at `DPS`
digits, from the definition:

    u = gelu(x W1 + b1), v = gelu(x W2 + b2), Λ = −e^{λ_re} + i e^{λ_im},
    K[h, l] = Re Σ_n C_n·expm1(Λ_n)/Λ_n·e^{lΛ_n},  y[t] = Σ_{s≤t} K[t − s] v[s] + d v[t],
    out = ((y W3 + b3) ⊙ u) W4 + b4 (+ x)

gelu(a) = a·Φ(a) = ½a·erfc(−a/√2). Output: object array of mpf (batch, L, D).
"""

from __future__ import annotations

import mpmath as mp
import numpy as np

from ssmspec.reference.mp import DPS

FIELDS = ("w1", "b1", "w2", "b2", "lambda_re", "lambda_im", "c_re", "c_im", "d", "w3", "b3",
          "w4", "b4")


def _mp(a):
    a = np.asarray(a, np.float64)
    out = np.empty(a.shape, dtype=object)
    for i in np.ndindex(a.shape):
        out[i] = mp.mpf(float(a[i]))
    return out


def _gelu(a):
    return np.vectorize(lambda t: t * mp.erfc(-t / mp.sqrt(2)) / 2, otypes=[object])(a)


def kernel(p: dict, L: int):
    """K (H, L), object array of mpf."""
    lre, lim = np.asarray(p["lambda_re"]), np.asarray(p["lambda_im"])
    cre, cim = np.asarray(p["c_re"]), np.asarray(p["c_im"])
    H, N = lre.shape
    K = np.empty((H, L), dtype=object)
    for h in range(H):
        lam = [mp.mpc(-mp.exp(mp.mpf(float(lre[h, n]))), mp.exp(mp.mpf(float(lim[h, n]))))
               for n in range(N)]
        coef = [mp.mpc(float(cre[h, n]), float(cim[h, n])) * mp.expm1(lam[n]) / lam[n]
                for n in range(N)]
        for l in range(L):
            K[h, l] = mp.re(mp.fsum(coef[n] * mp.exp(l * lam[n]) for n in range(N)))
    return K


def layer(x, p: dict, residual: bool = True):
    """out (batch, L, D), object array of mpf."""
    with mp.workdps(DPS):
        X = _mp(x)
        P = {k: _mp(p[k]) for k in ("w1", "b1", "w2", "b2", "d", "w3", "b3", "w4", "b4")}
        B, L, _ = X.shape
        u = _gelu(X @ P["w1"] + P["b1"])
        v = _gelu(X @ P["w2"] + P["b2"])
        K = kernel(p, L)
        H = K.shape[0]
        y = np.empty(v.shape, dtype=object)
        for b, t, h in np.ndindex(B, L, H):
            y[b, t, h] = mp.fsum(K[h, t - s] * v[b, s, h] for s in range(t + 1)) + \
                P["d"][h] * v[b, t, h]
        o = ((y @ P["w3"] + P["b3"]) * u) @ P["w4"] + P["b4"]
        return o + X if residual else o

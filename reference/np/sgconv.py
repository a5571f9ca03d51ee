"""SGConv's multi-scale kernel in long double (x87, u = 2⁻⁶⁴), and the magnitude and growth of
its error bound (docs/error-model.md). Same definition as `ssmspec.reference.mp.sgconv`, vectorised.

With k the unnormalised concatenation and |k| the same expression on absolute values
(decay^{e}·((1 − λ)|w_a| + λ|w_b|)), the bound's magnitude is

    M[h, l] = (|k|_l + |k_l|·ρ_h) / ‖k_h‖,    ρ_h = ‖|k_h|‖ / ‖k_h‖        (normalize)
    M[h, l] = |k|_l                                                        (otherwise)

the first term the error of tap l itself, the second the error every tap inherits from the
norm's. The growth is G = 6 + ⌈log₂ n⌉: a few roundings per tap (decay^{e}, two products, a sum,
the scale, the division, the final cast) and the sum of squares over n taps by a tree (pairwise,
cascade) reduction, as torch's reductions sum on CPU and GPU, in the working format or wider.
M = 0 at zero-padded taps (exact zeros).
"""

from __future__ import annotations

import numpy as np

from ssmspec.reference.np.precision import LD


def _concat(weights, decay, init_scale, method):
    """(k, |k|) of shape (H, n), long double."""
    S, H, d = weights.shape
    ks, ms = [], []
    for i in range(S):
        s = 1 << (max(0, i - 1) + init_scale)
        j = np.arange(d * s)
        if method == "nearest":
            a = b = j // s
            lam = np.zeros(j.shape, dtype=LD())
        else:
            x = np.maximum((j.astype(LD()) + LD()(0.5)) / s - LD()(0.5), LD()(0))
            a = np.floor(x).astype(np.int64)
            b = np.minimum(a + 1, d - 1)
            lam = x - a
        w = weights[i].astype(LD())
        c = decay.astype(LD())[:, None] ** (S - 1 - i)
        ks.append(c * ((1 - lam) * w[:, a] + lam * w[:, b]))
        ms.append(np.abs(c) * ((1 - lam) * np.abs(w[:, a]) + lam * np.abs(w[:, b])))
    return np.concatenate(ks, axis=1), np.concatenate(ms, axis=1)


def _fit(x, L):
    n = x.shape[1]
    return x[:, :L] if n >= L else np.pad(x, ((0, 0), (0, L - n)))


def sgconv_kernel_with_bound(weights, L, decay, init_scale=0, method="linear", normalize=True):
    """(K, M, G), each (H, L) float64."""
    weights, decay = np.asarray(weights, np.float64), np.asarray(decay, np.float64)
    k, m = _concat(weights, decay, init_scale, method)
    n = k.shape[1]
    if normalize:
        norm = np.sqrt(np.sum(k * k, axis=1, keepdims=True))
        mnorm = np.sqrt(np.sum(m * m, axis=1, keepdims=True))
        zero = norm == 0
        safe = np.where(zero, 1, norm)
        K = np.where(zero, 0, k / safe)
        M = np.where(zero, 0, (m + np.abs(k) * mnorm / safe) / safe)
    else:
        K, M = k, m
    G = np.full((K.shape[0], L), 6.0 + (np.ceil(np.log2(n)) if normalize else 0.0))
    return _fit(K, L).astype(np.float64), _fit(M, L).astype(np.float64), G


def sgconv_kernel(weights, L, decay, init_scale=0, method="linear", normalize=True):
    """K (H, L), float64."""
    return sgconv_kernel_with_bound(weights, L, decay, init_scale, method, normalize)[0]

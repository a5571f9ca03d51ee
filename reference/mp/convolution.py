"""Causal and bidirectional convolution, in mpmath, as the written-out sums (docs/convolution.md).

    causal:  y[b, h, t] = Σ_{s=0}^{t} K[h, t−s]·u[b, h, s]  (+ D[h]·u[b, h, t])
    mega:    y[t] = Σ_{s≤t} k_f[t−s]·x[s] + Σ_{s≥t} k_b[s−t]·x[s]        (lag 0 counted twice)
    s4:      y[t] = Σ_{s≤t} k_f[t−s]·x[s] + Σ_{s>t} k_b[s−t−1]·x[s]      (k_b[j] at lag −(j+1))

K[h, j] = 0 for j ≥ L_K. Object arrays of mpf at `DPS` digits out.
"""

from __future__ import annotations

import mpmath as mp
import numpy as np

from ssmspec.reference.mp import DPS

CONVENTIONS = ("mega", "s4")


def _lagged(k, j):
    return k[j] if 0 <= j < len(k) else 0


def _each_output(u: np.ndarray, kernels, D, term) -> np.ndarray:
    """y[b, h, t] = term(kernels of channel h, x = u[b, h], t) (+ D[h]·x[t]), in mpmath."""
    y = np.empty(u.shape, dtype=object)
    with mp.workdps(DPS):
        for b, h in np.ndindex(u.shape[:2]):
            ks = [[mp.mpf(float(v)) for v in K[h]] for K in kernels]
            x = [mp.mpf(float(v)) for v in u[b, h]]
            for t in range(len(x)):
                acc = term(ks, x, t)
                if D is not None:
                    acc += mp.mpf(float(D[h])) * x[t]
                y[b, h, t] = +acc
    return y


def _forward(k, x, t):
    return mp.fsum(_lagged(k, t - s) * x[s] for s in range(t + 1))


def causal_conv(u: np.ndarray, K: np.ndarray, D: np.ndarray | None = None) -> np.ndarray:
    """u (B, H, L), K (H, L_K), D (H,) or None → y (B, H, L)."""
    return _each_output(u, [K], D, lambda ks, x, t: _forward(ks[0], x, t))


def bidirectional_conv(u, K_fwd, K_bwd, D=None, convention: str = "mega") -> np.ndarray:
    """u (B, H, L), K_fwd and K_bwd (H, L_K), D (H,) or None → y (B, H, L), per the convention."""
    if convention not in CONVENTIONS:
        raise ValueError(f"convention: expected one of {CONVENTIONS}, got {convention!r}")
    lag0 = 0 if convention == "mega" else 1  # s4: k_b[j] acts at lag −(j+1)

    def term(ks, x, t):
        bwd = mp.fsum(_lagged(ks[1], s - t - lag0) * x[s] for s in range(t + lag0, len(x)))
        return _forward(ks[0], x, t) + bwd

    return _each_output(u, [K_fwd, K_bwd], D, term)

"""Causal and bidirectional convolution, in mpmath, as the written-out sums (SPEC-NOTES §5, §6).

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


def causal_conv(u: np.ndarray, K: np.ndarray, D: np.ndarray | None = None) -> np.ndarray:
    """u (B, H, L), K (H, L_K), D (H,) or None → y (B, H, L)."""
    Bn, H, L = u.shape
    y = np.empty(u.shape, dtype=object)
    with mp.workdps(DPS):
        for b in range(Bn):
            for h in range(H):
                k = [mp.mpf(float(v)) for v in K[h]]
                x = [mp.mpf(float(v)) for v in u[b, h]]
                for t in range(L):
                    acc = mp.fsum(_lagged(k, t - s) * x[s] for s in range(t + 1))
                    if D is not None:
                        acc += mp.mpf(float(D[h])) * x[t]
                    y[b, h, t] = +acc
    return y


def bidirectional_conv(u, K_fwd, K_bwd, D=None, convention: str = "mega") -> np.ndarray:
    """u (B, H, L), K_fwd and K_bwd (H, L_K), D (H,) or None → y (B, H, L), per the convention."""
    if convention not in CONVENTIONS:
        raise ValueError(f"convention: expected one of {CONVENTIONS}, got {convention!r}")
    Bn, H, L = u.shape
    y = np.empty(u.shape, dtype=object)
    with mp.workdps(DPS):
        for b in range(Bn):
            for h in range(H):
                kf = [mp.mpf(float(v)) for v in K_fwd[h]]
                kb = [mp.mpf(float(v)) for v in K_bwd[h]]
                x = [mp.mpf(float(v)) for v in u[b, h]]
                for t in range(L):
                    fwd = mp.fsum(_lagged(kf, t - s) * x[s] for s in range(t + 1))
                    if convention == "mega":
                        bwd = mp.fsum(_lagged(kb, s - t) * x[s] for s in range(t, L))
                    else:
                        bwd = mp.fsum(_lagged(kb, s - t - 1) * x[s] for s in range(t + 1, L))
                    acc = fwd + bwd
                    if D is not None:
                        acc += mp.mpf(float(D[h])) * x[t]
                    y[b, h, t] = +acc
    return y

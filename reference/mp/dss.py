"""DSS kernels in mpmath (arXiv 2203.14343 §3.2–3.3), straight from the definition, at `DPS`
digits. Δ = exp(log_dt), z = Δ·Λ (or Δ_re·Re Λ + i·Δ_im·Im Λ, Δ_im = exp(log_dt_im), DSS's
code's separate steps; the coefficient keeps Λ):

    exp:      K[h, l] = Re Σ_n W · (e^z − 1)/Λ · e^{l z}
    softmax:  K[h, l] = Re Σ_n W · Λ^{-1} · e^{l z} / Σ_{r<L} e^{r z}     (the sum written out)

Outputs are object arrays of mpf, shape (H, L).
"""

from __future__ import annotations

import mpmath as mp
import numpy as np

from ssmspec.reference.mp import DPS
from ssmspec.reference.mp.discretization import _num


def dss_kernel(Lambda, W, log_dt, L: int, method: str = "exp", log_dt_im=None):
    Lambda, W, log_dt = np.asarray(Lambda), np.asarray(W), np.asarray(log_dt)
    log_dt_im = log_dt if log_dt_im is None else np.asarray(log_dt_im)
    H, N = Lambda.shape
    out = np.empty((H, L), dtype=object)
    with mp.workdps(DPS):
        for h in range(H):
            dt, dt_im = mp.exp(_num(log_dt[h])), mp.exp(_num(log_dt_im[h]))
            row = [mp.mpc(0)] * L
            for n in range(N):
                lam, w = _num(Lambda[h, n]), _num(W[h, n])
                z = mp.mpc(dt * mp.re(lam), dt_im * mp.im(lam))
                pows = [mp.exp(z * l) for l in range(L)]
                if method == "exp":
                    coef = w * (mp.expm1(z) / lam if lam != 0 else dt)
                else:
                    coef = w / lam / mp.fsum(pows)
                for l in range(L):
                    row[l] += coef * pows[l]
            out[h] = [mp.re(s) for s in row]
    return out

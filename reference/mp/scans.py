"""The first-order linear recurrence (docs/scans.md) in mpmath, at `DPS` digits.

    h_t = a_t · h_{t−1} + b_t,    h_{−1} = h0 (0 if None),    t = 0 … L−1 over the last axis

(t from L−1 down to 0 under `reverse`, h0 then entering at t = L−1). a, b: (..., L) float64 or
complex128, h0: (...,) or None. Returns an object array (..., L) of mpf/mpc: the exact scan of the
given (already rounded) inputs to far below any format's roundoff.
"""

from __future__ import annotations

import mpmath as mp
import numpy as np

from ssmspec.reference.mp import DPS


def _num(x):
    return mp.mpc(x) if isinstance(x, complex | np.complexfloating) else mp.mpf(float(x))


def linear_scan(a, b, h0=None, reverse: bool = False) -> np.ndarray:
    """h (..., L), object array; see the module docstring."""
    a, b = np.asarray(a), np.asarray(b)
    lead, L = a.shape[:-1], a.shape[-1]
    a2, b2 = a.reshape(-1, L), b.reshape(-1, L)
    init = np.zeros(a2.shape[0]) if h0 is None else np.asarray(h0).reshape(-1)
    order = range(L - 1, -1, -1) if reverse else range(L)
    out = np.empty(a2.shape, dtype=object)
    with mp.workdps(DPS):
        for r in range(a2.shape[0]):
            h = _num(init[r])
            for t in order:
                h = _num(a2[r, t]) * h + _num(b2[r, t])
                out[r, t] = h
    return out.reshape(*lead, L)

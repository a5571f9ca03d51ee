"""Griffin's RG-LRU recurrence in mpmath (docs/recurrent.md#rg_lru), at `DPS` digits, step by
step as defined (the gold standard, small sizes).

    r_t = σ(gate_a_t),  i_t = σ(gate_x_t),  log a_t = −c·r_t·softplus(Λ)        (c = 8)
    a_t = exp(log a_t),  m_t = √(1 − a_t²)                  (a_t = 0 and m_t = 1 at a reset)
    h_t = a_t·h_{t−1} + m_t·(i_t·x_t),    h_{−1} = h0 (0 if None),    y_t = h_t

x, gate_x, gate_a (batch, L, width); Λ (width,); reset (batch, L) bool. Outputs are object arrays
of mpf: y (batch, L, width) and the final state h_{L−1} (batch, width).
"""

from __future__ import annotations

import mpmath as mp
import numpy as np

from ssmspec.reference.mp import DPS

C = 8


def _sigmoid(z):
    return 1 / (1 + mp.exp(-z))


def rg_lru(x, gate_x, gate_a, a_param, reset, h0=None, c=C):
    """(y (batch, L, width), final state (batch, width)); see the module docstring."""
    x, gate_x, gate_a = (np.asarray(v, dtype=np.float64) for v in (x, gate_x, gate_a))
    reset = np.asarray(reset, dtype=bool)
    batch, L, width = x.shape
    y = np.empty((batch, L, width), dtype=object)
    with mp.workdps(DPS):
        softplus = [mp.log1p(mp.exp(mp.mpf(float(v)))) for v in np.asarray(a_param)]
        for b, w in np.ndindex(batch, width):
            h = mp.mpf(0) if h0 is None else mp.mpf(float(np.asarray(h0)[b, w]))
            for t in range(L):
                log_a = -c * _sigmoid(mp.mpf(gate_a[b, t, w])) * softplus[w]
                if reset[b, t]:
                    a, m = mp.mpf(0), mp.mpf(1)
                else:
                    a, m = mp.exp(log_a), mp.sqrt(-mp.expm1(2 * log_a))
                h = a * h + m * _sigmoid(mp.mpf(gate_x[b, t, w])) * mp.mpf(x[b, t, w])
                y[b, t, w] = h
    return y, y[:, -1, :].copy()

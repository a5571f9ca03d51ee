"""Griffin's RG-LRU recurrence in NumPy (docs/recurrent.md#rg_lru), and the terms of its bound.

    r_t = σ(gate_a_t),  i_t = σ(gate_x_t),  log a_t = −c·r_t·softplus(Λ)        (c = 8)
    a_t = exp(log a_t),  m_t = √(−expm1(2·log a_t))         (a_t = 0 and m_t = 1 at a reset)
    h_t = a_t·h_{t−1} + m_t·(i_t·x_t),    h_{−1} = h0 (0 if None),    y_t = h_t

The gates, a and m are formed vectorised in numpy's longdouble and the recurrence runs in it by
`ssmspec.reference.np.scans` (a step loop, u = 2⁻⁶⁴ where longdouble is extended); the result is
returned in float64. Certified against mpmath in tests/test_reference_rg_lru.py.

Bound terms (docs/recurrent.md#rg_lru), per output entry, from float64 absolute values:
- M: the scan of (a, |b|, |h0|) with b = m·i·x: every term |b_s|·Π a_r (and |h0|·Π a_r);
- E: the same terms each weighted by Σ_r |log a_r| over its product: the relative error the
  rounded log a_r carries into a_r = exp(log a_r), summed along the product.
"""

from __future__ import annotations

import numpy as np

from ssmspec.reference.np import scans
from ssmspec.reference.np.precision import LD

C = 8.0


def sigmoid(z):
    """σ(z) without overflow, in z's dtype."""
    e = np.exp(-np.abs(z))
    return np.where(z >= 0, 1 / (1 + e), e / (1 + e))


def softplus(z):
    """log(1 + e^z) = max(z, 0) + log1p(e^{−|z|}), without overflow or cancellation."""
    return np.maximum(z, 0) + np.log1p(np.exp(-np.abs(z)))


def coefficients(x, gate_x, gate_a, a_param, reset, c=C, wide=np.float64):
    """(a, log a, b), each (batch, width, L) in dtype `wide`: the scan's coefficients, time last."""
    x, gate_x, gate_a = (np.moveaxis(np.asarray(v).astype(wide), 1, -1)
                         for v in (x, gate_x, gate_a))
    reset = np.asarray(reset, dtype=bool)[:, None, :]
    log_a = -c * sigmoid(gate_a) * softplus(np.asarray(a_param).astype(wide))[None, :, None]
    a = np.where(reset, 0, np.exp(log_a))
    m = np.where(reset, 1, np.sqrt(-np.expm1(2 * log_a)))
    return a, np.where(reset, 0, log_a), m * sigmoid(gate_x) * x


def rg_lru(x, gate_x, gate_a, a_param, reset, h0=None, c=C):
    """(y (batch, L, width), final state (batch, width)), float64."""
    a, _, b = coefficients(x, gate_x, gate_a, a_param, reset, c, LD())
    h = scans.linear_scan(a, b, h0)  # (batch, width, L)
    return np.moveaxis(h, -1, 1), h[..., -1]


def bound_terms(x, gate_x, gate_a, a_param, reset, h0=None, c=C):
    """(M, E), each (batch, width, L) float64; see the module docstring."""
    a, log_a, b = coefficients(x, gate_x, gate_a, a_param, reset, c)
    b = np.abs(b)
    M = scans.magnitude(a, b, h0)
    prev = np.zeros(a.shape[:-1]) if h0 is None else np.abs(np.asarray(h0, np.float64))
    E = np.empty_like(M)
    e = np.zeros_like(prev)
    for t in range(a.shape[-1]):
        # every term alive at t − 1 gains the factor a_t and its |log a_t|
        e = a[..., t] * (e + np.abs(log_a[..., t]) * prev)
        E[..., t] = e
        prev = M[..., t]
    return M, E

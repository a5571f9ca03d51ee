"""The RG-LRU references against a plain step-by-step loop written from the definition, a slow
decay worked by hand, and the bound's terms on a case worked by hand (the float64 tier against
mpmath is tests/test_certification.py's, as for every spec)."""

import math

import numpy as np

from ssmspec.reference.mp import rg_lru as rmp
from ssmspec.reference.np import rg_lru as rnp


def _loop(x, gate_x, gate_a, a_param, reset, h0=None, c=8.0):
    """The recurrence in Python floats, one entry at a time: the oracle of the definition."""
    batch, L, width = x.shape
    y = np.empty((batch, L, width))
    for b in range(batch):
        for w in range(width):
            lam = float(a_param[w])
            softplus = max(lam, 0.0) + math.log1p(math.exp(-abs(lam)))
            h = 0.0 if h0 is None else float(h0[b, w])
            for t in range(L):
                r = 1 / (1 + math.exp(-gate_a[b, t, w]))
                i = 1 / (1 + math.exp(-gate_x[b, t, w]))
                log_a = -c * r * softplus
                a, m = (0.0, 1.0) if reset[b, t] else (math.exp(log_a),
                                                       math.sqrt(-math.expm1(2 * log_a)))
                h = a * h + m * i * x[b, t, w]
                y[b, t, w] = h
    return y


def test_references_equal_the_step_loop():
    rng = np.random.default_rng(3)
    shape = (2, 40, 3)
    x, gx, ga = (rng.normal(size=shape) * s for s in (1.0, 3.0, 3.0))
    lam = np.array([-30.0, -2.0, 4.0])
    reset = rng.random(shape[:2]) < 0.2
    h0 = rng.normal(size=(2, 3))
    want = _loop(x, gx, ga, lam, reset, h0)
    y, h = rnp.rg_lru(x, gx, ga, lam, reset, h0)
    scale = np.abs(want).max()
    np.testing.assert_allclose(y, want, rtol=0, atol=1e-13 * scale)
    np.testing.assert_allclose(h, want[:, -1], rtol=0, atol=1e-13 * scale)
    ymp, hmp = rmp.rg_lru(x[:, :12], gx[:, :12], ga[:, :12], lam, reset[:, :12], h0)
    np.testing.assert_allclose(ymp.astype(float), want[:, :12], rtol=0, atol=1e-13 * scale)
    np.testing.assert_allclose(hmp.astype(float), want[:, 11], rtol=0, atol=1e-13 * scale)


def test_slow_decay_keeps_its_input_weight():
    """softplus(Λ) ≈ e^{−40}: a rounds to 1 in float64, yet √(1 − a²) = √(8σ·e^{−40}) ≠ 0."""
    x = np.ones((1, 3, 1))
    zero = np.zeros_like(x)
    y, _ = rnp.rg_lru(x, zero, zero, np.array([-40.0]), np.zeros((1, 3), bool))
    m = math.sqrt(-math.expm1(-8 * math.exp(-40.0)))
    np.testing.assert_allclose(y[0, :, 0], [0.5 * m, m, 1.5 * m], rtol=1e-14)


def test_bound_terms_by_hand():
    """Λ with softplus(Λ) = ln 2 / 4 and gate_a = 0: log a = −ln 2, a = ½, m = √¾; gate_x large."""
    lam = math.log(math.expm1(math.log(2) / 4))
    x = np.array([[[1.0], [-2.0], [4.0]]])
    gx, ga = np.full_like(x, 40.0), np.zeros_like(x)
    reset = np.array([[False, True, False]])
    M, E = rnp.bound_terms(x, gx, ga, np.array([lam]), reset, np.array([[8.0]]))
    m = math.sqrt(0.75)
    # t=0: ½·8 + m·1; t=1 (reset): 2; t=2: ½·2 + 4m
    np.testing.assert_allclose(M[0, 0], [4 + m, 2.0, 1 + 4 * m], rtol=1e-15)
    # E: the terms through a's: t=0: ln2·½·8; t=1: 0 (a = 0); t=2: ln2·½·2
    np.testing.assert_allclose(E[0, 0], [4 * math.log(2), 0.0, math.log(2)], rtol=1e-15)

"""Mega's attention reference (float64 against mpmath: tests/test_certification.py): the bias layout
of Mega's SimpleRelativePositionalBias; the laplace constants."""

import math

import numpy as np

from ssmspec import harness, registry
from ssmspec.reference.np import mega_attention as rnp
from ssmspec.spec import Case


def test_bias_layout_is_megas_simple_relative_bias():
    """SimpleRelativePositionalBias.forward(n) builds, from w (2P − 1,), the matrix
    t[i, j] = w[P − 1 + j − i] (its pad/tile/reshape trick, replayed here in numpy)."""
    P, n = 6, 4
    w = np.arange(2 * P - 1, dtype=float)
    b = w[P - n:P + n - 1]
    t = np.tile(np.pad(b, (0, n)), n)[:-n].reshape(n, 3 * n - 2)
    r = (2 * n - 1) // 2
    assert np.array_equal(t[:, r:t.shape[1] - r], rnp.relative_bias_matrix(w, n))


def test_laplace_constants_are_the_papers():
    from ssmspec.impl import mega_attention as impl

    assert impl.MU == math.sqrt(0.5) and impl.SIGMA == math.sqrt(1 / (4 * math.pi))
    # Mega's code rounds them to 6 digits
    assert abs(impl.MU - 0.707107) < 1e-6 and abs(impl.SIGMA - 0.282095) < 1e-6


def test_underflow_term_admits_the_subnormal_weight_times_v():
    """A random-seed run's false alarm (laplace, fp64, chunk 1): the weight ½·erfc(27.1) ≈ 10η
    is subnormal, times v ≈ −1.96 the output errs by 2η; the bound's η term must count the
    weight's own underflow (η) times |v| plus the output sum's roundings: G ≥ Σ_j |v_je| + n."""
    spec = registry.spec("mega_attention")
    arrays = {"q": np.array([[[-29.414351800864416]]]), "k": np.array([[[0.3446004407375229]]]),
              "v": np.array([[[2.21757051, -1.9561962]]]), "bias": np.array([0.00825949])}
    case = Case(arrays, "fp64", {"chunk": 1})
    _, M, G = rnp.attention_with_bound(*(arrays[k] for k in ("q", "k", "v", "bias")),
                                       "laplace", 1)
    assert np.all(G >= np.abs(arrays["v"]) + 1)
    m = harness.evaluate(spec, registry.implementation("mega_attention", "torch").fn, case,
                         "laplace", "cpu")
    assert m.passed, m.describe()
    assert m.outputs["out"].err > 0  # the subnormal output does err (the case is a real test)

"""The scan references (float64, longdouble-accumulated, against mpmath:
tests/test_certification.py): the bound's magnitude and growth terms on cases worked by hand."""

import numpy as np

from ssmspec.errors import abs_error, ratio
from ssmspec.reference.mp import scans as rmp
from ssmspec.reference.np import scans as rnp


def test_float64_reference_at_long_length_far_below_the_fp64_bound():
    """L = 4000, a ∈ [0.99, 1]: the longdouble accumulation keeps the reference ~2^-11 of an
    fp64 scan's error (where longdouble is extended precision)."""
    rng = np.random.default_rng(0)
    a, b = rng.uniform(0.99, 1.0, (1, 4000)), rng.normal(size=(1, 4000))
    got = rnp.linear_scan(a, b)
    want = rmp.linear_scan(a[:, :600], b[:, :600])
    M = rnp.magnitude(a, b)[:, :600]
    r = ratio(abs_error(got[:, :600], want), 2 * 2.0**-53 * (np.arange(600) + 1) * M)
    limit = 0.05 if np.finfo(np.longdouble).eps < 2.0**-60 else 1.0
    # from t = 100 on (earlier, the final rounding to float64 is the whole error)
    assert r[:, 100:].max() <= limit, r[:, 100:].max()


def test_magnitude_and_log_terms_by_hand():
    a, b = np.array([[-0.5, 0.0, 2.0]]), np.array([[1.0, -3.0, 0.5]])
    M = rnp.magnitude(a, b, np.array([4.0]))
    assert M.tolist() == [[3.0, 3.0, 6.5]]
    Mr = rnp.magnitude(a, b, np.array([4.0]), reverse=True)
    assert Mr.tolist() == [[2.5, 3.0, 8.5]]
    lam, beta = rnp.scan_log_terms(np.array([[0.5, 0.0, 0.25]]), b)
    np.testing.assert_allclose(lam, [[np.log(2), np.log(2), 3 * np.log(2)]])
    np.testing.assert_allclose(beta, [[0.0, np.log(3), np.log(3)]])
    h = rnp.linear_scan(a, b, np.array([4.0]), reverse=True)
    assert h.tolist() == [[2.5, -3.0, 8.5]]
    assert [float(x) for x in rmp.linear_scan(a, b, np.array([4.0]), True)[0]] == [2.5, -3, 8.5]

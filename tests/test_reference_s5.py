"""The S5 reference (the long-double recurrence against mpmath: tests/test_certification.py):
extended precision at long length."""

import numpy as np

from ssmspec.errors import abs_error, ratio


def test_reference_is_extended_precision_at_long_length():
    """One long, slowly decaying sequence (|Λ̄| = e^-3e-4, L = 600) against mpmath, on the last
    state (no output cancellation, and its rounding to complex128 is a small part of the bound):
    the long-double recurrence is at err/bound ~1e-5, a complex128 one at ~4e-3 (measured), so
    this fails if the reference silently computes in float64."""
    from ssmspec.reference.mp import s5 as ref_mp
    from ssmspec.reference.np import s5 as ref_np

    rng = np.random.default_rng(11)
    L, H, P = 600, 1, 1
    u = rng.normal(size=(1, L, H))
    lam, B = np.array([-1e-3 + 0.7j]), rng.normal(size=(P, H)) + 1j * rng.normal(size=(P, H))
    C, D, ls = rng.normal(size=(H, P)) + 1j * rng.normal(size=(H, P)), np.ones(H), np.log([0.3])
    _, x_mp = ref_mp.s5_scan(u, lam, B, C, D, ls, "zoh", True)
    _, x, _, _, Mx, Gx = ref_np.s5_scan_with_bound(u, lam, B, C, D, ls, "zoh", True)
    r = ratio(abs_error(x, x_mp), 2 * 2.0**-53 * Gx * Mx)
    assert r.max() <= 1e-4, f"reference's last state at L = {L}: err/bound {r.max():.3g}"

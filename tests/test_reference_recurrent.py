"""The recurrent references (the long-double step loop against mpmath:
tests/test_certification.py): the EMA layer's reference (the recurrences) against the
kernel-and-convolution form of the same definition."""

import numpy as np
import pytest

from ssmspec.errors import abs_error
from ssmspec.reference.np import convolution as conv_np
from ssmspec.reference.np import kernels as kern_np
from ssmspec.reference.np import recurrent as rnp

CASES = [("diag_step", "zoh", "c128"), ("diag_step", "bilinear", "fp64"),
         ("diag_ssm", "zoh", "c128"), ("diag_ssm", "bilinear", "c128"),
         ("diag_ssm", "zoh_approx", "fp64"), ("diag_ssm", "bilinear", "fp64"),
         ("ema_step", "mega", "fp64"), ("ema", "causal", "fp64"), ("ema", "mega", "fp64"),
         ("ema", "s4", "fp64")]


@pytest.mark.parametrize("convention", [None, "mega", "s4"])
def test_ema_recurrences_equal_kernel_and_convolution(convention):
    """conv = recurrence (docs/recurrent.md#ema_step): the reference's recurrences against
    ema_kernel's float64 reference and the long-double direct convolution, per convention."""
    rng = np.random.default_rng(1)
    D, n, L = 2, 3, 40
    rows = D if convention is None else 2 * D
    params = (rng.normal(size=(rows, n, 1)), rng.normal(size=(rows, n, 1)),
              rng.normal(size=(rows, n, 1)), rng.normal(size=(rows, n)))
    x, omega = rng.normal(size=(2, D, L)), rng.normal(size=D)
    K = kern_np.ema_kernel(*params, L)
    if convention is None:
        conv = conv_np.causal_conv(x, K)
    else:
        conv = conv_np.bidirectional_conv(x, K[:D], K[D:], None, convention)
    z = conv + omega[None, :, None] * x
    want = z / (1 + np.exp(-z))
    assert np.max(abs_error(rnp.ema(x, params, omega, convention), want)) < 1e-13


def test_chunked_state_passing_in_the_reference():
    """The step loop split at k, resumed from its own final state, is the same loop (to the
    float64 rounding of that state)."""
    rng = np.random.default_rng(2)
    lam = -rng.uniform(0.1, 1, (2, 3)) + 1j * rng.uniform(0, 5, (2, 3))
    B, C = np.ones_like(lam), rng.normal(size=(2, 3)) + 0j
    log_dt, u = np.log([0.1, 0.5]), rng.normal(size=(1, 2, 9))
    y, h = rnp.diag_ssm(u, lam, B, C, log_dt, None)
    y1, h1 = rnp.diag_ssm(u[..., :4], lam, B, C, log_dt, None)
    y2, h2 = rnp.diag_ssm(u[..., 4:], lam, B, C, log_dt, h1)
    assert np.max(np.abs(np.concatenate([y1, y2], -1) - y)) < 1e-14
    assert np.max(np.abs(h2 - h)) < 1e-15

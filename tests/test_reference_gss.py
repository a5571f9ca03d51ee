"""GSS reference (long double against mpmath: tests/test_certification.py): the mpmath kernel is the
DSS-exp kernel with Δ = 1; gss_init's configuration."""

import numpy as np
import pytest
import torch

from ssmspec.impl import gss as impl
from ssmspec.reference.mp import dss as dss_mp
from ssmspec.reference.mp import gss as rmp


def test_mpmath_kernel_is_dss_exp_with_unit_step():
    """Λ = −e^{λ_re} + i e^{λ_im} and Δ = 1 (log Δ = 0) in the DSS-exp kernel."""
    lre, lim = np.array([[0.3, -1.2]]), np.array([[0.5, 1.1]])
    p = {"lambda_re": lre, "lambda_im": lim, "c_re": np.array([[1.0, -0.5]]),
         "c_im": np.array([[0.25, 2.0]])}
    lam = -np.exp(lre) + 1j * np.exp(lim)
    want = np.array(dss_mp.dss_kernel(lam, p["c_re"] + 1j * p["c_im"], np.zeros(1), 6, "exp"),
                    dtype=float)
    got = np.array(rmp.kernel(p, 6), dtype=float)
    assert np.max(np.abs(got - want)) < 1e-14


@pytest.mark.parametrize("dt", [torch.float64, torch.float32])
def test_gss_init_is_seeded_with_stable_oscillating_spectrum(dt):
    a, b = impl.gss_init(16, 4, 7, dt), impl.gss_init(16, 4, 7, dt)
    assert all(torch.equal(s, t) for s, t in zip(a, b))
    assert not torch.equal(a.lambda_re, impl.gss_init(16, 4, 8, dt).lambda_re)
    lam = impl.gss_lambda(a.lambda_re, a.lambda_im)
    assert lam.shape == (4, 16) and a.d.shape == (4,)
    assert bool((lam.real < 0).all()) and bool((lam.imag > 0).all())


def test_gss_init_shares_lambda_across_channels_by_default():
    """lucidrains' DSS (0347886) and ag1988/dss (7bd8645) keep one Λ of shape (N,) for all
    channels; C and d are per channel. per_channel_lambda=True draws Λ per channel."""
    a = impl.gss_init(8, 3, 5, torch.float64)
    for t in (a.lambda_re, a.lambda_im):
        assert torch.equal(t, t[:1].expand(3, 8))
    assert not torch.equal(a.c_re[0], a.c_re[1]) and not torch.equal(a.c_im[0], a.c_im[2])
    # the shared draw is the first N numbers of the seeded stream
    g = torch.Generator().manual_seed(5)
    assert torch.equal(a.lambda_re[0], torch.randn(8, generator=g, dtype=torch.float64))
    b = impl.gss_init(8, 3, 5, torch.float64, per_channel_lambda=True)
    assert not torch.equal(b.lambda_re[0], b.lambda_re[1])
    assert not torch.equal(b.lambda_im[1], b.lambda_im[2])


@pytest.mark.parametrize("bad, err", [((0, 2, 1), ValueError), ((4, 2, 1.5), TypeError),
                                      ((4, 2.0, 1), TypeError),
                                      ((4, 2, 1, torch.float64, "cpu", 1), TypeError)])
def test_gss_init_bad_input(bad, err):
    with pytest.raises(err):
        impl.gss_init(*bad)

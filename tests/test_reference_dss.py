"""DSS reference (the long-double tier against mpmath: tests/test_certification.py): the mpmath
DSS-exp equal to the mpmath zoh diagonal kernel with B = 1, C = W (the paper's Proposition 1)."""

import numpy as np

from ssmspec import harness, registry
from ssmspec.reference.mp import dss as dmp
from ssmspec.reference.mp import kernels as kmp


def test_mpmath_dss_exp_is_mpmath_zoh():
    lam = np.array([[-0.5 + 3j, -2.0 + 0.1j]])
    W = np.array([[1.0 - 0.5j, 0.25 + 2j]])
    log_dt = np.array([np.log(0.3)])
    k_dss = np.array(dmp.dss_kernel(lam, W, log_dt, 7, "exp"), dtype=float)
    k_zoh = np.array(kmp.diag_kernel(lam, np.ones_like(lam), W, log_dt, 7, "zoh", False),
                     dtype=float)
    assert np.max(np.abs(k_dss - k_zoh)) < 1e-15


def test_separate_steps_match_dss_codes_form_and_differ_from_one_step():
    """ag1988/dss 7bd8645 (`DSSKernel.forward`, sep_dt_re_im=True): z = Δ_re·Re Λ + i·Δ_im·Im Λ,
    coefficient W·(e^z − 1)/Λ, K = Re Σ_n coefficient·e^{l z}. The mpmath reference against
    that form written in complex128; then the built-in on S4D-LegS (64 pairs, C of diag_init as W,
    L = 256): with Δ_re = 0.01, Δ_im = 0.05 the kernel moves by 0.39 against max|K| = 0.10 of
    the one-step kernel (0.38 with separate steps); with Δ_im = Δ_re it is the one-step kernel."""
    import math

    import torch

    from ssmspec.impl.dss import dss_kernel
    from ssmspec.impl.hippo import diag_init

    lam = np.array([[-0.5 + 3j, -2.0 + 0.1j, -0.1 - 7j]])
    W = np.array([[1.0 - 0.5j, 0.25 + 2j, -1.0 + 0j]])
    log_dt, log_dt_im = np.log([0.3]), np.log([0.05])
    z = np.exp(log_dt)[:, None] * lam.real + 1j * np.exp(log_dt_im)[:, None] * lam.imag
    code = np.real(np.einsum("hn,hnl->hl", W * (np.exp(z) - 1) / lam,
                             np.exp(z[..., None] * np.arange(9))))
    ref = np.array(dmp.dss_kernel(lam, W, log_dt, 9, "exp", log_dt_im), dtype=float)
    assert np.max(np.abs(ref - code)) < 1e-14

    lam_t, _, C, _ = diag_init("s4d-legs", 128, 1, seed=0)

    def k(dre, dim=None):
        im = None if dim is None else torch.tensor([math.log(dim)], dtype=torch.float64)
        return dss_kernel(lam_t, C, torch.tensor([math.log(dre)], dtype=torch.float64), 256,
                          log_dt_im=im)

    one, sep = k(0.01), k(0.01, 0.05)
    assert 0.38 < float((one - sep).abs().max()) < 0.40
    assert 0.10 < float(one.abs().max()) < 0.11 and 0.37 < float(sep.abs().max()) < 0.39
    assert float((k(0.01, 0.01) - one).abs().max()) < 1e-15


def test_strategy_draws_separate_steps():
    spec = registry.spec("dss_kernel")
    cases = harness.sample(spec.strategy("c128", "exp"), 12)
    assert any("log_dt_im" in c.arrays for c in cases)
    assert any("log_dt_im" not in c.arrays for c in cases)

"""The Liquid-S4 references: the binomial correlation's long-double tier against mpmath (the
strategy's other cases: tests/test_certification.py)."""

import numpy as np
import pytest

from ssmspec import harness, registry


def test_binomial_products_are_the_codes_upgrade_degree():
    """raminmh/liquid-s4 06031dc `upgrade_degree` (allcombs=False): us ← us·pad(us[..., :-1],
    (1, 0)), from us = u. Written here in numpy; the built-in, the long-double reference and the
    closed form Π_j u[t − j]^binom(p − 1, j) agree; order 3 differs from the runs."""
    import math

    import torch

    from ssmspec.impl import liquid as impl
    from ssmspec.reference.np import liquid as ref_np

    u = np.array([[1.5, -0.5, 2.0, 0.25, -1.25, 3.0, 0.5]])
    us, code = u.copy(), [u.copy()]
    for _ in range(3):
        us = us * np.concatenate([np.zeros((1, 1)), us[:, :-1]], axis=-1)
        code.append(us.copy())
    code = np.stack(code)
    got = impl.correlations(torch.tensor(u), 4, "binomial").numpy()
    ref = np.asarray(ref_np.correlations(u, 4, "binomial"), dtype=np.float64)
    np.testing.assert_allclose(got, code, rtol=1e-15, atol=0)
    np.testing.assert_allclose(ref, code, rtol=1e-15, atol=0)
    t = 5
    closed = np.prod([u[0, t - j] ** math.comb(2, j) for j in range(3)])
    assert code[2, 0, t] == closed  # order 3: u_t·u_(t−1)²·u_(t−2)
    runs = impl.correlations(torch.tensor(u), 4, "runs").numpy()
    np.testing.assert_array_equal(runs[:2], code[:2])
    assert not np.allclose(runs[2], code[2])


@pytest.mark.parametrize("method", ["pb", "kb"])
def test_binomial_long_double_reference_within_bound_of_mpmath(method):
    spec = registry.spec("liquid_conv")
    cases = [c for c in harness.sample(spec.strategy("c128", method), 40)
             if spec.reference_tier(c) == "mp" and c.params["order"] == 3][:3]
    assert cases
    for case in cases:
        case = type(case)(case.arrays, case.dtype, {**case.params, "correlation": "binomial"})
        m = harness.certify(spec, case, method, "c128")
        assert m.passed, f"long-double binomial reference off its bound: {m.describe()}"


def test_codes_kb_fft_multiplies_spectra_on_two_grids():
    """The code's kb term: fft(k_b, n=(L_K + L)//2 + 1) · rfft(u_corr, n=L_K + L), then irfft
    of length L_K + L. The two spectra have the same length but different grids, so the product
    is no convolution: on a damped cosine kernel and N(0, 1) input (L = L_K = 64) the result is
    off the linear convolution by 0.97 in relative 2-norm (the README's finding); with both
    spectra on the grid of L_K + L points it is the convolution to rounding."""
    import torch

    L = 64
    l = np.arange(L)
    k = torch.tensor(np.exp(-0.05 * l) * np.cos(0.3 * l))[None]
    u = torch.tensor(np.random.default_rng(0).normal(size=(1, L)))
    n = 2 * L
    u_f = torch.fft.rfft(u, n=n)
    code = torch.fft.irfft(u_f * torch.fft.fft(k.to(torch.complex128), n=n // 2 + 1), n=n)[..., :L]
    same_grid = torch.fft.irfft(u_f * torch.fft.rfft(k, n=n), n=n)[..., :L]
    direct = torch.tensor(np.convolve(u[0].numpy(), k[0].numpy())[:L])[None]
    assert float((same_grid - direct).abs().max()) < 1e-13
    rel = float((code - direct).norm() / direct.norm())
    assert 0.95 < rel < 1.0, rel

"""The convolution references: mpmath against exact rational arithmetic, and the two
bidirectional conventions against their definitions (the long-double tier against mpmath:
tests/test_certification.py)."""

from fractions import Fraction

import numpy as np
import pytest
import torch

from ssmspec.errors import to_float
from ssmspec.reference.mp import convolution as rmp
from ssmspec.reference.np import convolution as rnp


def _exact_causal(u, K):
    L, L_K = len(u), len(K)
    return [sum((Fraction(K[t - s]) * Fraction(u[s]) for s in range(t + 1) if t - s < L_K),
                Fraction(0)) for t in range(L)]


def test_mpmath_causal_sum_is_exact_on_dyadic_inputs():
    rng = np.random.default_rng(1)
    u = rng.integers(-8, 9, 13) / 8.0
    K = rng.integers(-8, 9, 7) / 16.0
    got = rmp.causal_conv(u[None, None], K[None])[0, 0]
    assert [Fraction(float(g)) for g in got] == _exact_causal(u, K)


def test_conventions_by_definition():
    """Mega counts lag 0 in both directions; S4 moves k_b one lag later."""
    u = np.zeros((1, 1, 5))
    u[0, 0, 2] = 1.0  # an impulse at t = 2
    kf = np.array([[1.0, 0.0, 0.0, 0.0, 0.0]])
    kb = np.array([[10.0, 20.0, 0.0, 0.0, 0.0]])
    mega = to_float(rmp.bidirectional_conv(u, kf, kb, None, "mega"))[0, 0]
    s4 = to_float(rmp.bidirectional_conv(u, kf, kb, None, "s4"))[0, 0]
    # y[t] picks x[2] through k_b at lag 2 − t (mega) or 2 − t − 1 (s4)
    assert mega.tolist() == [0.0, 20.0, 11.0, 0.0, 0.0]
    assert s4.tolist() == [20.0, 10.0, 1.0, 0.0, 0.0]


def test_long_double_reference_agrees_with_scipy_at_length_4096():
    from scipy.signal import fftconvolve

    rng = np.random.default_rng(0)
    u, K = rng.normal(size=(1, 1, 4096)), rng.normal(size=(1, 4096)) * 0.999 ** np.arange(4096)
    ref = rnp.causal_conv(u, K)[0, 0]
    other = fftconvolve(u[0, 0], K[0])[:4096]
    bound = 2 * 2.0**-53 * 13 * rnp.fft_norm_magnitude(u, K)[0, 0]
    assert np.linalg.norm(ref - other) <= bound


def _mega_flash_bidirectional(u, k_f, k_b, shift: bool):
    """facebookresearch/mega 7d00ee4 (`flash`, "bug in shift FFTs") `MultiHeadEMA.forward`,
    written here from its construction: one kernel of length L + L_K on a circular FFT grid of
    that length, the output's first L samples. shift=True: k_f at lags 0 … L_K − 1 and k_b
    flipped into the last L_K slots (k_b[j] at lag −(j + 1)); shift=False: k_b[0] added at lag 0
    and k_b[1:] flipped into the last L_K − 1 slots (k_b[j] at lag −j)."""
    L, LK = u.shape[-1], k_f.shape[-1]
    n = L + LK
    k = torch.zeros(k_f.shape[0], n, dtype=u.dtype)
    k[:, :LK] += k_f
    if shift:
        k[:, n - LK:] += k_b.flip(-1)
    else:
        k[:, 0] += k_b[:, 0]
        k[:, n - LK + 1:] += k_b[:, 1:].flip(-1)
    return torch.fft.irfft(torch.fft.rfft(u, n=n) * torch.fft.rfft(k, n=n), n=n)[..., :L]


@pytest.mark.parametrize("shift, convention", [(True, "s4"), (False, "mega")])
def test_mega_flash_shift_is_s4s_convention_after_7d00ee4(shift, convention):
    """After 7d00ee4 `shift=True` (the default) is S4's convention and shift=False Mega's
    cfc14f2 one (lag 0 counted twice); 06f2d0e had them the other way round (shift dropping
    k_b[0], shift=False S4's)."""
    from ssmspec.impl.convolution import bidirectional_conv

    rng = np.random.default_rng(4)
    u = torch.tensor(rng.normal(size=(2, 3, 9)))
    k_f, k_b = (torch.tensor(rng.normal(size=(3, 9))) for _ in range(2))
    got = _mega_flash_bidirectional(u, k_f, k_b, shift)
    torch.testing.assert_close(got, bidirectional_conv(u, k_f, k_b, None, convention),
                               rtol=0, atol=1e-12)
    other = "mega" if convention == "s4" else "s4"
    assert float((got - bidirectional_conv(u, k_f, k_b, None, other)).abs().max()) > 1e-3

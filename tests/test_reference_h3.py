"""The shift SSM kernel reference: long double against mpmath (C·A^l·B with the shift matrix
written out) within the fp64 bound, and the built-in against H3's FFT form of the same kernel."""

import numpy as np
import torch

from ssmspec import harness, registry
from ssmspec.errors import abs_error, ratio
from ssmspec.impl import h3 as impl


def test_long_double_reference_within_fp64_bound_of_mpmath():
    spec = registry.spec("shift_ssm_kernel")
    cases = [c for c in harness.sample(spec.strategy("fp64", "direct"), 40)
             if spec.reference_tier(c) == "mp"][:10]
    assert len(cases) >= 6
    for case in cases:
        r = ratio(abs_error(spec.reference(case, "direct", "np")["K"],
                            spec.reference(case, "direct", "mp")["K"]),
                  spec.bound(case, "direct", "fp64")["K"])
        assert np.all(r <= 1), f"long-double reference off by {r.max():.3g}× its bound"


def test_equals_h3s_fft_cross_correlation():
    """irfft(conj(rfft B)·rfft C, n = 2N)[:N], zero-padded to L (SSKernelShift.forward)."""
    rng = np.random.default_rng(2)
    B, C = (torch.tensor(rng.normal(size=(3, 16))) for _ in range(2))
    n = 32
    k = torch.fft.irfft(torch.fft.rfft(B, n=n).conj() * torch.fft.rfft(C, n=n), n=n)[:, :16]
    K = impl.shift_ssm_kernel(B, C, 20)
    torch.testing.assert_close(K[:, :16], k, rtol=0, atol=1e-13)
    assert torch.all(K[:, 16:] == 0)

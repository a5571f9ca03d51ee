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


def test_layer_long_double_reference_within_fp64_bound_of_mpmath():
    spec = registry.spec("h3_layer")
    cases = [c for c in harness.sample(spec.strategy("fp64", "zoh"), 40)
             if spec.reference_tier(c) == "mp"][:6]
    assert len(cases) >= 4
    for case in cases:
        r = ratio(abs_error(spec.reference(case, "zoh", "np")["y"],
                            spec.reference(case, "zoh", "mp")["y"]),
                  spec.bound(case, "zoh", "fp64")["y"])
        assert np.all(r <= 1), f"long-double layer reference off by {r.max():.3g}× its bound"


def test_dropped_state_violates_the_state_passing_tolerance():
    """FlashConv without the carried state (and shift inputs) breaks the law's tolerance."""
    from ssmspec.dtypes import dtype
    from ssmspec.specs import h3 as h3_spec

    case = h3_spec._layer_witness("fp64")
    args = h3_spec.layer_tensors(case, "cpu")
    whole = impl.h3_layer(*args).numpy()
    tol = (h3_spec.LAYER.bound(case, "zoh")["y"] + h3_spec.C_LAYER * dtype("fp64").u
           * h3_spec.blockwise_bound(case, "zoh", 2))
    good = h3_spec.blockwise_layer(*args, block=2).numpy()
    dropped = h3_spec.blockwise_layer(*args, block=2, carry=False).numpy()
    assert ratio(abs_error(good, whole), tol).max() <= 1
    assert ratio(abs_error(dropped, whole), tol).max() > 1e6

"""The H3 references (long double against mpmath: tests/test_certification.py): the built-in
against H3's FFT form of the same kernel, the state-passing tolerance, the default
discretisation, the multi-head layouts."""

import numpy as np
import pytest
import torch

from ssmspec import harness, registry
from ssmspec.errors import abs_error, ratio
from ssmspec.impl import h3 as impl


def test_equals_h3s_fft_cross_correlation():
    """irfft(conj(rfft B)·rfft C, n = 2N)[:N], zero-padded to L (SSKernelShift.forward)."""
    rng = np.random.default_rng(2)
    B, C = (torch.tensor(rng.normal(size=(3, 16))) for _ in range(2))
    n = 32
    k = torch.fft.irfft(torch.fft.rfft(B, n=n).conj() * torch.fft.rfft(C, n=n), n=n)[:, :16]
    K = impl.shift_ssm_kernel(B, C, 20)
    torch.testing.assert_close(K[:, :16], k, rtol=0, atol=1e-13)
    assert torch.all(K[:, 16:] == 0)


def test_dropped_state_violates_the_state_passing_tolerance():
    """FlashConv without the carried state (and shift inputs) breaks the law's tolerance."""
    from ssmspec.dtypes import dtype
    from ssmspec.specs import h3 as h3_spec

    case = h3_spec._layer_witness("fp64")
    args = h3_spec.layer_tensors(case, "cpu")
    whole = impl.h3_layer(*args).numpy()
    tol = (h3_spec.LAYER.bound(case, "bilinear")["y"] + h3_spec.C_LAYER * dtype("fp64").u
           * h3_spec.blockwise_bound(case, "bilinear", 2))
    good = impl.h3_layer_blockwise(*args, block=2).numpy()
    dropped = impl.h3_layer_blockwise(*args, block=2, carry=False).numpy()
    assert ratio(abs_error(good, whole), tol).max() <= 1
    assert ratio(abs_error(dropped, whole), tol).max() > 1e6


def test_default_discretisation_is_h3s_bilinear_and_differs_from_zoh():
    """H3's SSKernelDiag defaults to disc='bilinear' (70d8792); on S4D-Lin with 32 pairs the
    zoh kernel is another function (the figure in ssmspec.impl.h3's docstring)."""
    import inspect
    import math

    from ssmspec.impl.hippo import diag_init
    from ssmspec.impl.kernels import diag_kernel
    from ssmspec.reference.mp import h3 as ref_mp
    from ssmspec.reference.np import h3 as ref_np

    for fn in (impl.h3_layer, ref_mp.h3_layer, ref_np.h3_layer):
        assert inspect.signature(fn).parameters["method"].default == "bilinear"
    lam, B, C, log_dt = diag_init("s4d-lin", 64, 1, seed=0)
    assert math.isclose(float(log_dt.exp()), 0.0871, rel_tol=1e-3)
    Kz = diag_kernel(lam, B, C, log_dt, 256, method="zoh")
    Kb = diag_kernel(lam, B, C, log_dt, 256, method="bilinear")
    assert 0.59 < float((Kz - Kb).abs().max()) < 0.61
    assert 0.49 < float(Kz.abs().max()) < 0.51 and 0.54 < float(Kb.abs().max()) < 0.56


def test_default_is_bilinear_law_catches_a_zoh_default():
    """The law fails on a layer whose default discretisation is zoh (the pre-issue-15 one)."""
    from ssmspec.spec import Implementation, LawContext

    def zoh_default(*args, method="zoh"):
        return impl.h3_layer(*args, method=method)

    case = registry.mutants("h3_layer")[0].witness("fp64")
    law = next(law for law in registry.laws("h3_layer") if law.name == "default_is_bilinear")
    ctx = LawContext(Implementation("h3_layer", "zoh_default", zoh_default), "fp64", "cpu",
                     lambda strategy, label=None: case,
                     lambda p: registry.implementation(p, "torch").fn)
    with pytest.raises(AssertionError):
        law.check(ctx)
    law.check(LawContext(Implementation("h3_layer", "torch", impl.h3_layer), "fp64", "cpu",
                         lambda strategy, label=None: case,
                         lambda p: registry.implementation(p, "torch").fn))


def test_multihead_long_double_reference_within_fp64_bound_of_mpmath():
    spec = registry.spec("h3_multihead")
    cases = [c for c in harness.sample(spec.strategy("fp64", "bilinear"), 60)
             if spec.reference_tier(c) == "mp" and c.params["head_dim"] > 1][:4]
    assert len(cases) >= 2
    for case in cases:
        r = ratio(abs_error(spec.reference(case, "bilinear", "np")["y"],
                            spec.reference(case, "bilinear", "mp")["y"]),
                  spec.bound(case, "bilinear", "fp64")["y"])
        assert np.all(r <= 1), f"long-double multi-head reference off by {r.max():.3g}× its bound"


def test_multihead_follows_h3s_layouts():
    """H3 70d8792 `H3.forward` (no fast fftconv), its reshapes written with view/permute:
    k′ and v split 'b (h d) l', kv = k′[b, i, 1, h] · v[b, 1, j, h], y = K_diag * kv + D·kv,
    q 'b (h d1) l -> b d1 1 h l', (q·y) summed over d1, then 'b d h l -> b (d h) l'."""
    from ssmspec.impl.convolution import causal_conv
    from ssmspec.impl.kernels import diag_kernel

    rng = np.random.default_rng(8)
    Bn, H, d, L, Ns, N = 2, 3, 2, 9, 4, 2

    def x(*shape):
        return torch.tensor(rng.normal(size=shape))

    q, k, v = x(Bn, H * d, L), x(Bn, H * d, L), x(Bn, H * d, L)
    sB, sC, sD, D = x(H * d, Ns), x(H * d, Ns), x(H * d), x(H)
    lam = torch.complex(-torch.rand(H, N, dtype=torch.float64), x(H, N))
    B, C = torch.complex(x(H, N), x(H, N)), torch.complex(x(H, N), x(H, N))
    log_dt = torch.full((H,), float(np.log(0.2)), dtype=torch.float64)
    k1 = causal_conv(k, impl.shift_ssm_kernel(sB, sC, L), sD)
    kv = k1.view(Bn, H, d, L).permute(0, 2, 1, 3)[:, :, None] * \
        v.view(Bn, H, d, L).permute(0, 2, 1, 3)[:, None]  # b d1 d2 h l
    Kd = diag_kernel(lam, B, C, log_dt, L, "bilinear")
    y = causal_conv(kv.reshape(-1, H, L), Kd, D).view(Bn, d, d, H, L)
    qq = q.view(Bn, H, d, L).permute(0, 2, 1, 3)[:, :, None]  # b d1 1 h l
    want = (qq * y).sum(1).reshape(Bn, d * H, L)  # 'b d h l -> b (d h) l'
    got = impl.h3_multihead(q, k, v, sB, sC, sD, lam, B, C, log_dt, D, d)
    torch.testing.assert_close(got, want, rtol=0, atol=1e-12)

"""The SGConv kernel reference (long double against mpmath: tests/test_certification.py): the built-
in's interpolation is PyTorch's `F.interpolate` (the public code's upsampling) tap for tap."""

import numpy as np
import pytest
import torch

from ssmspec.impl import sgconv as impl


@pytest.mark.parametrize("mode", ["linear", "nearest"])
def test_upsampling_is_torch_interpolate_exactly(mode):
    """Unnormalised, decay 1: each block is F.interpolate's output to a few ulps (the two may
    round the blend (1 − λ)a + λb differently), never an off-by-one tap."""
    rng = np.random.default_rng(1)
    w = torch.tensor(rng.normal(size=(4, 2, 5)))
    K = impl.sgconv_kernel(w, impl.sgconv_length(4, 5), torch.ones(2, dtype=torch.float64),
                           method=mode, normalize=False)
    off = 0
    for i in range(4):
        s = 2 ** max(0, i - 1)
        up = torch.nn.functional.interpolate(w[i][None], scale_factor=s, mode=mode)[0]
        torch.testing.assert_close(K[:, off:off + up.shape[-1]], up, rtol=4 * 2.0**-53,
                                   atol=4 * 2.0**-53 * float(up.abs().max()))
        off += up.shape[-1]
    assert off == K.shape[-1] == 5 * 2**3


def test_num_scales_matches_the_public_formula():
    """1 + ⌈log₂(L/d)⌉ − init_scale wherever that is ≥ 1."""
    import math

    for L in (1, 7, 64, 65, 1000, 16384):
        for d in (1, 3, 64):
            for s0 in (0, 1):
                want = 1 + math.ceil(math.log2(L / d)) - s0
                if want >= 1:
                    assert impl.sgconv_num_scales(L, d, s0) == want


@pytest.mark.parametrize("mode", ["linear", "nearest"])
@pytest.mark.parametrize("L, init_scale", [(37, 0), (200, 1), (12, 0)])
def test_matches_the_main_branch_cat_construction(mode, L, init_scale):
    """ctlllll/SGConv `main` (97862df, "kernel_norm size bug") `GConv.forward`, mode 'cat',
    rebuilt from its description: block i = interpolate(w_i, 2^(max(0, i−1) + init_scale))
    · multiplier^(S−1−i), concatenated, divided by the 2-norm over all its taps (the norm the
    code freezes at the first call, shape (channels, H, 1) after 97862df), then truncated or
    zero-padded to L; S = 1 + ⌈log₂(l_max/d)⌉ − init_scale with l_max = L."""
    import math

    rng = np.random.default_rng(5)
    d, H = 4, 3
    S = 1 + math.ceil(math.log2(L / d)) - init_scale
    w = torch.tensor(rng.normal(size=(S, H, d)))
    decay = torch.linspace(1.5, 2.5, H, dtype=torch.float64)
    blocks = [torch.nn.functional.interpolate(
        w[i][None], scale_factor=2 ** (max(0, i - 1) + init_scale), mode=mode)[0]
        * decay[:, None] ** (S - 1 - i) for i in range(S)]
    k = torch.cat(blocks, dim=-1)
    k = k / k.norm(dim=-1, keepdim=True)
    k = k[:, :L] if k.shape[-1] >= L else torch.nn.functional.pad(k, (0, L - k.shape[-1]))
    got = impl.sgconv_kernel(w, L, decay, init_scale, mode)
    torch.testing.assert_close(got, k, rtol=0, atol=16 * 2.0**-53)

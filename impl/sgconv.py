"""SGConv's multi-scale convolution kernel, in PyTorch (issue 9, item 3).

Source: the paper "What Makes Convolutional Models Great on Long Sequence Modeling?" (Li, Cai,
Zhang, Chen, Dey; arXiv 2210.09298, §3.1) and its public code, ctlllll/SGConv
`gconv_standalone.py` on `main` (commit 97862df, "kernel_norm size bug"), `GConv.__init__` and
`GConv.forward`, mode 'cat' (the default, `cat_randn`). (An earlier citation, 03de26b8, is a
commit of the unmerged pull request #5, whose head refs/pull/5/head is its child e409501; it
rewrites the construction to skip taps past L once the norm is frozen, and is not the official
code.) Facts read there (the code is
not copied; tests/test_reference_sgconv.py rebuilds the 'cat' construction and compares):

- S sub-kernels w_0 … w_{S−1}, each of d = `kernel_dim` taps, one per channel: weights (S, H, d).
- Sub-kernel i is upsampled by the factor 2^{s_i}, s_i = max(0, i − 1) + init_scale, so the first
  two share the finest scale and the concatenation has length n = d·2^{S−1+init_scale}.
- The number of scales that covers a length L: S = 1 + ⌈log₂(L/d)⌉ − init_scale (at least 1):
  `sgconv_num_scales`.
- Sub-kernel i is multiplied by decay^{S−1−i} (`multiplier`, one per channel, default 2): the
  first, finest block carries the largest weight. The paper writes the weights as α^i with
  α = 1/decay (α = ½); the two differ by the factor decay^{S−1}, which normalisation removes.
  ssmspec follows the code (decay^{S−1−i}); a law checks the paper's form against it.
- Upsampling is `F.interpolate(..., mode='linear')` (align_corners=False) or 'nearest' when the
  mode string names it: methods `linear` and `nearest` here.
- The concatenation k is divided by its 2-norm over all n taps, then truncated or zero-padded to
  L. The code divides by the norm frozen at the first forward call (a buffer `kernel_norm`, of
  shape (channels, H, 1) since 97862df); the paper by the kernel's norm. `normalize=True` is
  the kernel's own norm; `normalize=False` returns k unnormalised, so a caller holding a frozen
  constant divides by it.
- Not covered: the 'sum' mode and the 'learnable' decay (k·(l+1)^{−decay}) of the code.

    K[h, l] = c_h · decay_h^{S−1−i} · ((1 − λ_l)·w_i[h, a_l] + λ_l·w_i[h, b_l]),  i = i(l)   (l < n)
    K[h, l] = 0                                                                         (l ≥ n)

with i(l) the block of tap l, j its offset in the block, and for the factor s = 2^{s_i}:
nearest a = b = ⌊j/s⌋; linear x = max((j + ½)/s − ½, 0), a = ⌊x⌋, b = min(a + 1, d − 1), λ = x − a
(exact dyadic numbers). c_h = 1/‖k_h‖₂ under `normalize` (0 for an all-zero kernel), else 1.

Numerics: decay^{e} is formed in float64 and rounded once; the interpolation and scaling run in
the working format (fp16/bf16 in fp32, rounded once at the end); the norm's sum of squares runs in
float64 by a pairwise tree, so its error is ⌈log₂ n⌉·2⁻⁵³ relative at most.
"""

from __future__ import annotations

import torch

from ssmspec.impl import _validate as v

METHODS = ("linear", "nearest")


def sgconv_num_scales(L: int, kernel_dim: int, init_scale: int = 0) -> int:
    """The number of sub-kernels whose concatenation covers L taps: the least S ≥ 1 with
    kernel_dim·2^{S−1+init_scale} ≥ L (SGConv's 1 + ⌈log₂(L/kernel_dim)⌉ − init_scale)."""
    L = v.positive_int("L", L)
    d = v.positive_int("kernel_dim", kernel_dim)
    init_scale = _init_scale(init_scale)
    S = 1
    while d << (S - 1 + init_scale) < L:
        S += 1
    return S


def sgconv_length(num_scales: int, kernel_dim: int, init_scale: int = 0) -> int:
    """n = kernel_dim·2^{num_scales−1+init_scale}, the length of the concatenated kernel."""
    return kernel_dim << (num_scales - 1 + init_scale)


def _init_scale(x) -> int:
    if isinstance(x, bool) or not isinstance(x, int):
        raise TypeError(f"init_scale: expected an int, got {type(x).__name__}")
    if x < 0:
        raise ValueError(f"init_scale: expected init_scale >= 0, got {x}")
    return x


def _check(weights, L, decay, init_scale, method, normalize):
    v.method("method", method, METHODS)
    v.tensor("weights", weights)
    if weights.is_complex():
        raise TypeError(f"weights: expected a real floating dtype, got {weights.dtype}")
    if weights.ndim != 3 or min(weights.shape) < 1:
        raise ValueError("weights: expected shape (num_scales, H, kernel_dim) with every side "
                         f">= 1, got {tuple(weights.shape)}")
    v.beside("decay", decay, "weights", weights, weights.shape[1:2], "(one per channel)")
    if bool((decay <= 0).any()):
        raise ValueError(f"decay: expected decay > 0, got min {decay.min().item()}")
    if not isinstance(normalize, bool):
        raise TypeError(f"normalize: expected a bool, got {type(normalize).__name__}")
    return v.positive_int("L", L), _init_scale(init_scale)


def _taps(S: int, d: int, init_scale: int, method: str, device):
    """Per tap l < n: (block i, source a, source b, λ), with a, b indices into the flattened
    (S·d) weights. Integer arithmetic; λ is a dyadic fraction, exact in every format."""
    parts = []
    for i in range(S):
        s = 1 << (max(0, i - 1) + init_scale)
        j = torch.arange(d * s, device=device, dtype=torch.int64)
        if method == "nearest":
            a = torch.div(j, s, rounding_mode="floor")
            b, lam = a, torch.zeros(j.shape, dtype=torch.float64, device=device)
        else:
            x = torch.clamp((j.to(torch.float64) + 0.5) / s - 0.5, min=0.0)
            a = torch.floor(x).to(torch.int64)
            b = torch.clamp(a + 1, max=d - 1)
            lam = x - a.to(torch.float64)
        parts.append((torch.full_like(j, i), a + i * d, b + i * d, lam))
    return tuple(torch.cat(p) for p in zip(*parts))


def _pairwise_sum(x: torch.Tensor) -> torch.Tensor:
    """Σ over the last axis by a binary tree (log₂ n levels): relative error ≤ ⌈log₂ n⌉·u for
    positive terms, the growth the bound admits (torch's CPU norm accumulates in a few
    sequential lanes, whose error grows faster)."""
    n = x.shape[-1]
    width = 1 << max(n - 1, 0).bit_length()
    x = torch.nn.functional.pad(x, (0, width - n))
    while x.shape[-1] > 1:
        x = x[..., 0::2] + x[..., 1::2]
    return x[..., 0]


def sgconv_kernel(weights: torch.Tensor, L: int, decay: torch.Tensor, init_scale: int = 0,
                  method: str = "linear", normalize: bool = True) -> torch.Tensor:
    """SGConv's kernel K (H, L) (module docstring).

    weights: (S, H, d) real, the S sub-kernels; L >= 1; decay: (H,) > 0, weights' dtype;
    init_scale >= 0; method: 'linear' | 'nearest' (the upsampling); normalize: divide by the
    2-norm of the whole concatenated kernel. Returns weights' dtype and device.
    """
    L, init_scale = _check(weights, L, decay, init_scale, method, normalize)
    S, H, d = weights.shape
    work = v.work_dtype(weights.dtype)
    block, a, b, lam = _taps(S, d, init_scale, method, weights.device)
    n = block.numel()
    # decay^{S−1−i} formed in float64 from the exact decay, rounded once
    expo = (S - 1 - torch.arange(S, device=weights.device)).to(torch.float64)
    scale = (decay.to(torch.float64)[:, None] ** expo).to(work)  # (H, S)
    flat = weights.to(work).permute(1, 0, 2).reshape(H, S * d)
    lam_w = lam.to(work)
    k = ((1 - lam_w) * flat[:, a] + lam_w * flat[:, b]) * scale[:, block]  # (H, n)
    if normalize:
        k64 = k.to(torch.float64)
        # scaled by a power of two near max|k| (exact) so the squares neither underflow nor
        # overflow: a kernel of subnormal-sized taps has a nonzero norm
        _, e = torch.frexp(k64.abs().amax(-1, keepdim=True))
        scale = torch.ldexp(torch.ones_like(k64[:, :1]), -e)
        norm = torch.sqrt(_pairwise_sum((k64 * scale).square()))[:, None] / scale
        # an all-zero kernel stays zero rather than 0/0; a NaN norm propagates
        k = torch.where(norm == 0, torch.zeros((), dtype=work, device=k.device),
                        k / norm.to(work))
    if n >= L:
        K = k[:, :L]
    else:
        K = torch.nn.functional.pad(k, (0, L - n))
    return K.to(weights.dtype)

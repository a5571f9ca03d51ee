"""Mega's EMA layer forward in PyTorch: the damped-EMA kernel, a long
convolution, the ω-weighted residual, SiLU.

    K = ema_kernel(δ, α, β, γ, L)                       (rows: D, or 2D when bidirectional)
    unidirectional:  y = silu(K * x + ω ⊙ x)
    bidirectional:   y = silu(bidirectional_conv(x, K[:D], K[D:], convention) + ω ⊙ x)

Facts checked against the official source, facebookresearch/mega
`fairseq/modules/exponential_moving_average.py`, `MultiHeadEMA.forward` (and `_compute_kernel`,
`_calc_coeffs`): the residual `x * self.omega` is added *inside* the SiLU
(`out = F.silu(out + residual)`); the kernel has `kernel_dim = 2 * embed_dim` rows when
bidirectional, split `torch.split(k, [embed_dim, embed_dim])`: rows [:D] the forward kernel k_f,
rows [D:] the backward k_b (flipped onto negative lags). Three states of that file are public:
- `main`, commit cfc14f2 (no `shift` argument): `k = pad(k1, (L−1, 0)) + pad(k2.flip(-1), (0,
  L−1))`, so k_f[0] and k_b[0] both act at lag 0 — the 'mega' convention here (lag 0 counted
  twice); p = σ(δ), q = 1 − σ(δ)·σ(α), as ema_kernel.
- `flash`, commit 06f2d0e (`shift=True` by default): with shift k_b[0] is dropped (k_b[j] acts
  at lag −j, j ≥ 1: lag 0 counted once, by k_f); with shift=False k_b[j] acts at lag −(j+1),
  S4's convention ('s4' here). Superseded by:
- `flash`, commit 7d00ee4 ("bug in shift FFTs"; unchanged at the branch head 13787f5), which
  swaps the meaning of `shift`: shift=True (still the default) puts k_b[j] at lag −(j+1), S4's
  convention ('s4'); shift=False adds k_b[0] at lag 0 and k_b[j] at lag −j, cfc14f2's ('mega').
  tests/test_reference_convolution.py rebuilds that construction and pins both.
Both `flash` commits swap the parameter roles, p = σ(α), q = 1 − σ(α)·σ(δ): pass their α as δ and
their δ as α.
`bidirectional='s4'` is S4's off-by-one (state-spaces/s4 `FFTConv`); see `impl.convolution`.

fp64, fp32, fp16, bf16: fp16/bf16 are computed in fp32 (the kernel too) and rounded once.
"""

from __future__ import annotations

from typing import NamedTuple

import torch
import torch.nn.functional as F

from ssmspec.impl import _validate as v
from ssmspec.impl.convolution import CONVENTIONS, bidirectional_conv, causal_conv
from ssmspec.impl.kernels import ema_kernel


class EMAParams(NamedTuple):
    """Mega's EMA parameters: delta, alpha, beta (rows, ndim, 1), gamma (rows, ndim)."""

    delta: torch.Tensor
    alpha: torch.Tensor
    beta: torch.Tensor
    gamma: torch.Tensor


def _params(params) -> EMAParams:
    if not isinstance(params, (tuple, list)) or len(params) != 4:
        got = f"{len(params)} items" if isinstance(params, (tuple, list)) else \
            type(params).__name__
        raise ValueError(f"params: expected (delta, alpha, beta, gamma), got {got}")
    return EMAParams(*params)


def ema(x: torch.Tensor, params, omega: torch.Tensor, bidirectional: str | None = None
        ) -> torch.Tensor:
    """Mega's EMA layer: y = silu(conv(x, ema_kernel(params, L)) + ω ⊙ x).

    x: (batch, D, L) real; params: (delta, alpha, beta, gamma) or `EMAParams`, x's dtype, with D
    rows (2D when bidirectional: [:D] forward, [D:] backward): delta, alpha, beta (rows, ndim, 1),
    gamma (rows, ndim); omega: (D,), x's dtype; bidirectional: None | 'mega' | 's4'.
    Returns y: (batch, D, L), x's dtype.
    """
    if bidirectional is not None:
        v.method("bidirectional", bidirectional, CONVENTIONS)
    v.real_tensor("x", x)
    if x.ndim != 3 or x.shape[-1] < 1:
        raise ValueError(f"x: expected shape (batch, D, L) with L >= 1, got {tuple(x.shape)}")
    p = _params(params)
    D, L = x.shape[1], x.shape[2]
    rows = 2 * D if bidirectional else D
    for name, t in zip(EMAParams._fields, p):
        v.beside(name, t, "x", x)
    if p.delta.ndim < 1 or p.delta.shape[0] != rows:
        raise ValueError(
            f"params: expected {rows} rows ({'2D, bidirectional' if bidirectional else 'D'}), "
            f"D = {D}; got delta of shape {tuple(p.delta.shape)}")
    v.beside("omega", omega, "x", x, (D,), "(one per channel)")
    work = v.work_dtype(x.dtype)
    # the kernel in the working format: ema_kernel rounds to its input's dtype, so feeding it
    # fp32 copies (exact) keeps fp16/bf16 to one rounding at the very end
    K = ema_kernel(*(t.to(work) for t in p), L)
    xw = x.to(work)
    if bidirectional is None:
        conv = causal_conv(xw, K)
    else:
        conv = bidirectional_conv(xw, K[:D], K[D:], convention=bidirectional)
    return F.silu(conv + omega.to(work)[:, None] * xw).to(x.dtype)

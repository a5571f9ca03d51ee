"""Mega's single-head attention (Ma et al. 2022, "Mega: Moving Average Equipped Gated
Attention", arXiv 2209.10655, §3.2–3.4) in PyTorch: the attention functions `softmax`, `laplace`
and `relu2` with the simple relative position bias, full or chunked (Mega-chunk).

For a window of n keys (the whole sequence, or one chunk; a last partial chunk has its own n)
and queries i, keys j of that window, with b the relative bias vector of length 2P − 1 (P ≥ n,
Mega's `SimpleRelativePositionalBias` parameter: entry P − 1 + (j − i) is the bias of offset
j − i):

    softmax:  s_ij = q_i·k_j / √S + b[P − 1 + j − i],   A_i = softmax_j(s_i)
    laplace:  s_ij = q_i·k_j / n  + b[P − 1 + j − i],   A_ij = ½·(1 + erf((s_ij − μ)/(σ√2)))
              μ = √½, σ = √(1/(4π))
    relu2:    s_ij as laplace,                          A_ij = max(s_ij, 0)²
    out_i = Σ_j A_ij v_j

`mask` (bool (L, L), True = may attend; full attention only) follows Mega's attn_mask: softmax
sets masked scores to −inf; laplace/relu2 multiply the weights by the mask and take n_i = the
number of True entries of row i (Mega's `lengths = attn_mask.sum(-1)`).

Sources: facebookresearch/mega (commit 09f1a87) `fairseq/modules/moving_average_gated_attention.py`
(`softmax_attention`: q scaled by zdim^-½; `element_attention`: qk / lengths + bias),
`relative_positional_bias.py` (`SimpleRelativePositionalBias.forward`: the (n, n) bias is
b[P − 1 + j − i], checked numerically), `fairseq/utils.py` (`laplace`, `relu2`). Where the code
and the paper differ, ssmspec follows the paper: the code's laplace uses the rounded constants
μ = 0.707107, σ = 0.282095 (relative differences 4.4e-7 and 7.5e-7 from √½ and √(1/4π)) and
evaluates ½(1 + erf(x)), which cancels to 0 (absolute error ~u) in the tail x ≪ 0; ssmspec uses
the exact constants and ½·erfc(−x), accurate to a few ulps of the weight itself. Mega pads a
sequence to a multiple of the chunk and masks the padding (`lengths` = unpadded count); ssmspec's
last partial chunk is that, without materialising the padding in the result.

Shapes: q, k (batch, L, S), v (batch, L, E) (Mega's B × L × dim layout, not channels-first:
attention contracts over the feature axis); out (batch, L, E). Formats fp64, fp32, fp16, bf16
(fp16/bf16 computed in fp32 and rounded once). Vectorised over batch and chunks: one batched
matmul for the scores and one for the output, O(batch·L·chunk) memory.
"""

from __future__ import annotations

import math

import torch

from ssmspec.impl import _validate as v

FNS = ("softmax", "laplace", "relu2")
MU = math.sqrt(0.5)
SIGMA = math.sqrt(1.0 / (4.0 * math.pi))


def laplace(s: torch.Tensor) -> torch.Tensor:
    """½(1 + erf((s − μ)/(σ√2))) = ½·erfc((μ − s)/(σ√2)): erfc keeps the tail's relative
    accuracy where 1 + erf cancels."""
    return 0.5 * torch.special.erfc((MU - s) / (SIGMA * math.sqrt(2.0)))


def _check(q, k, v_, bias, fn, chunk, mask):
    v.method("fn", fn, FNS)
    v.tensor("q", q)
    if q.is_complex():
        raise TypeError(f"q: expected a real floating dtype, got {q.dtype}")
    if q.ndim != 3 or q.shape[1] < 1 or q.shape[2] < 1:
        raise ValueError(f"q: expected shape (batch, L, S) with L, S >= 1, got {tuple(q.shape)}")
    B, L, _ = q.shape
    for name, x in (("k", k), ("v", v_), ("bias", bias)):
        v.beside(name, x, "q", q)
    v.shape("k", k, q.shape, "(that of q)")
    if v_.ndim != 3 or tuple(v_.shape[:2]) != (B, L) or v_.shape[2] < 1:
        raise ValueError(f"v: expected shape ({B}, {L}, E) with E >= 1, got {tuple(v_.shape)}")
    if chunk is not None:
        chunk = v.positive_int("chunk", chunk)
    window = L if chunk is None else min(chunk, L)
    if bias.ndim != 1 or bias.shape[0] % 2 == 0 or (bias.shape[0] + 1) // 2 < window:
        raise ValueError(f"bias: expected shape (2P − 1,) with P >= {window} (the window), got "
                         f"{tuple(bias.shape)}")
    if mask is not None:
        if chunk is not None:
            raise ValueError("mask: expected None when chunk is given (a chunk is its mask)")
        if not isinstance(mask, torch.Tensor) or mask.dtype != torch.bool:
            got = mask.dtype if isinstance(mask, torch.Tensor) else type(mask).__name__
            raise TypeError(f"mask: expected a torch.bool tensor, got {got}")
        v.shape("mask", mask, (L, L), "(L, L)")
        v.same_device("mask", mask, "q", q)
        if not bool(mask.any(dim=-1).all()):
            raise ValueError("mask: expected at least one True entry in every row")
    return chunk


def mega_attention(q: torch.Tensor, k: torch.Tensor, v_: torch.Tensor, bias: torch.Tensor,
                   fn: str = "softmax", chunk: int | None = None,
                   mask: torch.Tensor | None = None) -> torch.Tensor:
    """Mega's attention out (batch, L, E); see the module docstring for the formulas.

    q, k: (batch, L, S); v_: (batch, L, E); bias: (2P − 1,) with P ≥ the window (L, or
    min(chunk, L)); all one real dtype. fn: 'softmax' | 'laplace' | 'relu2'; chunk: None (full
    attention) or the chunk length; mask: None or bool (L, L), full attention only.
    """
    chunk = _check(q, k, v_, bias, fn, chunk, mask)
    B, L, S = q.shape
    work = v.work_dtype(q.dtype)
    c = L if chunk is None else min(chunk, L)
    nc = -(-L // c)
    pad = nc * c - L
    qw, kw, vw = (torch.nn.functional.pad(t.to(work), (0, 0, 0, pad)) for t in (q, k, v_))
    qw, kw = qw.reshape(B, nc, c, S), kw.reshape(B, nc, c, S)
    vw = vw.reshape(B, nc, c, -1)
    pos = torch.arange(c, device=q.device)
    P = (bias.shape[0] + 1) // 2
    rel = bias.to(work)[P - 1 + pos[None, :] - pos[:, None]]  # (c, c): offset j − i
    # which keys exist: padding of the last chunk, or the user's mask (full attention)
    valid = (torch.arange(nc * c, device=q.device) < L).reshape(nc, 1, c)
    if mask is not None:
        valid = mask[None]
    if fn == "softmax":
        s = torch.matmul(qw * (1.0 / math.sqrt(S)), kw.transpose(-1, -2)) + rel
        A = torch.softmax(s.masked_fill(~valid, -math.inf), dim=-1)
    else:
        n = valid.sum(dim=-1, keepdim=True).to(work)  # (nc, c, 1): keys per row
        s = torch.matmul(qw, kw.transpose(-1, -2)) / n + rel
        A = (laplace(s) if fn == "laplace" else torch.relu(s).square()) * valid
    out = torch.matmul(A, vw).reshape(B, nc * c, -1)[:, :L]
    return out.to(q.dtype)

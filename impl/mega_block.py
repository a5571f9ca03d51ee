"""Mega's gated block forward (Ma et al. 2022, "Mega: Moving Average Equipped Gated Attention",
arXiv 2209.10655, §3.3 eqs. (7)–(15)) in PyTorch, composed of the EMA layer
(`ssmspec.impl.ema.ema`) and Mega's single-head attention (`ssmspec.impl.mega_attention`).

For x (batch, L, D), with the EMA layer acting along L per channel:

    X′ = ema(X)             = silu(EMA-conv(X) + ω ⊙ X)                     (batch, L, D)   (7)
    Z  = silu(X′W_z + b_z)                                                   (batch, L, S)   (8)
    Q  = κ_q ⊙ Z + μ_q,  K = κ_k ⊙ Z + μ_k                                   (batch, L, S)   (9)
    V  = silu(X W_v + b_v)                                                   (batch, L, E)  (10)
    O  = mega_attention(Q, K, V, bias, fn, chunk)                            (batch, L, E)  (11)
    γ  = silu(X′W_γ + b_γ)        (reset gate)                               (batch, L, E)  (12)
    φ  = sigmoid(X′W_φ + b_φ)     (update gate)                              (batch, L, D)  (13)
    Ĥ  = silu(X′W_h + (γ ⊙ O)U_h + b_h)                                      (batch, L, D)  (14)
    Y  = φ ⊙ Ĥ + (1 − φ) ⊙ X                                                 (batch, L, D)  (15)

Sources and conventions: the paper's eqs. as above; checked against facebookresearch/mega
(commit 09f1a87) `fairseq/modules/moving_average_gated_attention.py`
(`MovingAverageGatedAttention.forward`): V = silu(v_proj(x)) takes the block input X, not X′;
one projection `mx_proj` of X′ gives (φ's pre-activation, [Z; γ]'s, X′W_h + b), and
`torch.split(F.silu(zr), [zdim, hdim])` gives Z and γ; `z.unsqueeze(2) * self.gamma + self.beta`
gives Q, K with (κ, μ) stored as `gamma`, `beta` of shape (2, S) (row 0 for Q, row 1 for K: here
`qk_gamma`, `qk_beta`); `h = silu(hx + h_proj(h * r))`; `out = addcmul(residual, u, h − residual)`.
Where code and paper differ:
- the code has two biases on Ĥ's pre-activation (`mx_proj`'s slice and `h_proj`'s); the paper,
  and ssmspec, one: b_h = the sum of the two (the same function, not the same roundings);
- the code forms Y = X + φ ⊙ (Ĥ − X); the paper, and ssmspec, φ ⊙ Ĥ + (1 − φ) ⊙ X with
  1 − φ = sigmoid(−a) (no cancellation in 1 − σ(a) when φ → 1); equal in exact arithmetic.
Out of scope (say so rather than guess): the normalisation layer (`prenorm` / post-norm
`SequenceNorm`), every dropout, padding masks, incremental decoding, the rotary bias option.
EMA parameters and `bidirectional` are those of `ssmspec.impl.ema` (2D rows when bidirectional).

Formats fp64, fp32, fp16, bf16: fp16/bf16 inputs are cast (exactly) to fp32, the whole block runs
in fp32 (its parts too: they keep fp32 inputs in fp32) and the output is rounded once.
"""

from __future__ import annotations

from typing import NamedTuple

import torch
import torch.nn.functional as F

from ssmspec.impl import _validate as v
from ssmspec.impl.ema import ema
from ssmspec.impl.mega_attention import FNS, mega_attention


class MegaBlockParams(NamedTuple):
    """Every weight of the block (shapes for D channels, S = zdim, E = hdim, ndim, P):

    delta, alpha, beta (R, ndim, 1), gamma (R, ndim), omega (D,): the EMA layer (R = D, or 2D
    when bidirectional); w_v (D, E), b_v (E,); w_z (D, S), b_z (S,); qk_gamma, qk_beta (2, S)
    (row 0: κ_q, μ_q; row 1: κ_k, μ_k); w_r (D, E), b_r (E,): the reset gate γ; w_u (D, D),
    b_u (D,): the update gate φ; w_h (D, D), u_h (E, D), b_h (D,); bias (2P − 1,): the relative
    position bias (P ≥ the attention window).
    """

    delta: torch.Tensor
    alpha: torch.Tensor
    beta: torch.Tensor
    gamma: torch.Tensor
    omega: torch.Tensor
    w_v: torch.Tensor
    b_v: torch.Tensor
    w_z: torch.Tensor
    b_z: torch.Tensor
    qk_gamma: torch.Tensor
    qk_beta: torch.Tensor
    w_r: torch.Tensor
    b_r: torch.Tensor
    w_u: torch.Tensor
    b_u: torch.Tensor
    w_h: torch.Tensor
    u_h: torch.Tensor
    b_h: torch.Tensor
    bias: torch.Tensor


def _params(x: torch.Tensor, params) -> MegaBlockParams:
    if not isinstance(params, (tuple, list)) or len(params) != len(MegaBlockParams._fields):
        got = f"{len(params)} items" if isinstance(params, (tuple, list)) else \
            type(params).__name__
        raise ValueError(f"params: expected the {len(MegaBlockParams._fields)} weights "
                         f"{MegaBlockParams._fields}, got {got}")
    p = MegaBlockParams(*params)
    for name, t in zip(MegaBlockParams._fields, p):
        v.beside(name, t, "x", x)
    D = x.shape[2]
    S, E = p.w_z.shape[-1], p.w_v.shape[-1]
    expected = {"w_v": (D, E), "b_v": (E,), "w_z": (D, S), "b_z": (S,), "qk_gamma": (2, S),
                "qk_beta": (2, S), "w_r": (D, E), "b_r": (E,), "w_u": (D, D), "b_u": (D,),
                "w_h": (D, D), "u_h": (E, D), "b_h": (D,), "omega": (D,)}
    if p.w_v.ndim != 2 or E < 1:
        raise ValueError(f"w_v: expected shape ({D}, E) with E >= 1, got {tuple(p.w_v.shape)}")
    if p.w_z.ndim != 2 or S < 1:
        raise ValueError(f"w_z: expected shape ({D}, S) with S >= 1, got {tuple(p.w_z.shape)}")
    for name, shape in expected.items():
        v.shape(name, getattr(p, name), shape)
    return p


def _linear(a: torch.Tensor, w: torch.Tensor, b: torch.Tensor | None = None) -> torch.Tensor:
    out = torch.matmul(a, w)
    return out if b is None else out + b


def mega_block(x: torch.Tensor, params, fn: str = "softmax", chunk: int | None = None,
               bidirectional: str | None = None) -> torch.Tensor:
    """Mega's gated block Y (batch, L, D), x's dtype; see the module docstring for the formulas.

    x: (batch, L, D) real (fp64, fp32, fp16, bf16); params: `MegaBlockParams` (or a tuple in
    its order), every tensor x's dtype and device; fn: 'softmax' | 'laplace' | 'relu2';
    chunk: None (full attention) or Mega-chunk's length; bidirectional: None | 'mega' | 's4'
    (the EMA layer's convention).
    """
    v.method("fn", fn, FNS)
    v.real_tensor("x", x)
    if x.ndim != 3 or min(x.shape) < 1:
        raise ValueError(f"x: expected shape (batch, L, D) with every size >= 1, got "
                         f"{tuple(x.shape)}")
    p = _params(x, params)
    work = v.work_dtype(x.dtype)
    # one cast up front: the parts keep fp32 inputs in fp32, so fp16/bf16 round only at the end
    xw = x.to(work)
    pw = MegaBlockParams(*(t.to(work) for t in p))
    xe = ema(xw.transpose(1, 2), pw[:4], pw.omega, bidirectional=bidirectional).transpose(1, 2)
    z = F.silu(_linear(xe, pw.w_z, pw.b_z))
    q = z * pw.qk_gamma[0] + pw.qk_beta[0]
    k = z * pw.qk_gamma[1] + pw.qk_beta[1]
    val = F.silu(_linear(xw, pw.w_v, pw.b_v))
    o = mega_attention(q, k, val, pw.bias, fn=fn, chunk=chunk)
    reset = F.silu(_linear(xe, pw.w_r, pw.b_r))
    a_u = _linear(xe, pw.w_u, pw.b_u)
    h = F.silu(_linear(xe, pw.w_h) + _linear(reset * o, pw.u_h, pw.b_h))
    # 1 − σ(a) = σ(−a): exact where σ(a) → 1 (the block passes X through untouched as φ → 0)
    y = torch.sigmoid(a_u) * h + torch.sigmoid(-a_u) * xw
    return y.to(x.dtype)

"""GSS, the Gated State Space layer (Mehta, Gupta, Cutkosky & Neyshabur 2022, "Long Range
Language Modeling via Gated State Spaces", arXiv 2206.13947, §3 and its Fig. 1 pseudocode), and
its simplified-DSS configuration, in PyTorch.

For x (batch, L, D), F the gate width, H the SSM channels, N states per channel:

    u   = gelu(x W1 + b1)                     (batch, L, F)   the gate
    v   = gelu(x W2 + b2)                     (batch, L, H)   the SSM's input
    Λ   = −exp(λ_re) + i·exp(λ_im)            (H, N)          GSS's parameterisation
    K   = Re Σ_n C_n (e^{Λ_n} − 1)/Λ_n · e^{l Λ_n}   (H, L)    DSS-exp with Δ = 1
    y   = K ∗ v + d ⊙ v                       (batch, L, H)   causal, per channel
    uc  = y W3 + b3                           (batch, L, F)
    o   = (uc ⊙ u) W4 + b4                    (batch, L, D)
    out = o + x   (residual=True, the paper's `return o + shortcut`)

Sources: the paper's Fig. 1 (`v = dense(x, F, activation='gelu')`, `u = dense(x, H,
activation='gelu')`, `y = dss(u, H, L)`, `uc = dense(y, F)`, `o = dense(uc * v, E)`,
`return o + shortcut`; the paper calls the gate v and the SSM input u, lucidrains the reverse —
ssmspec follows lucidrains' names: u the gate) and lucidrains/gated-state-spaces-pytorch (commit
0347886) `gated_state_spaces_pytorch/gss.py` (`GSS.forward`, `DSS.forward`): Λ =
−exp(Λ_real) + i·exp(Λ_imag), both parameters N(0, 1) at init (`torch.randn`); the kernel
`(C·(e^Λ − 1)/Λ) @ exp(Λ·l)`, real part, no factor 2 and Δ = 1 (DSS-exp with log Δ = 0, see
`ssmspec.impl.dss`); a learned skip `param_D`; uc without activation; biases only on the output
projection (`to_out`). ssmspec keeps a bias on every projection (zero gives lucidrains').
Λ is shared by the H channels in both sources: lucidrains' `DSS.__init__` (0347886, and its
head d484cf5) draws `Lambda_real`, `Lambda_imag` of shape (N,) and only `C_real`, `C_imag` (dim,
N) and `param_D` (dim,) per channel; DSS's own code (ag1988/dss 7bd8645
`src/models/sequence/ss/standalone/dss.py`, `DSSKernel.init`) likewise keeps Λ (N,) and makes
only Δ (H,) and W (C, H, N) per channel. `gss_layer` takes Λ as (H, N), which holds both the
shared form (equal rows) and a per-channel one. lucidrains applies an extra LayerNorm inside its
DSS. Out of scope: the LayerNorms (the paper's `norm(x)` before both branches), dropout.

`gss_init(N, H, seed)` is lucidrains' random configuration: λ_re, λ_im drawn once, N(0, 1) of
shape (N,), and repeated over the H rows (the shared Λ); C_re, C_im (H, N) and d (H,) N(0, 1)
per channel; all from a seeded CPU generator (the same numbers on every device), so Re Λ < 0 and
Im Λ > 0. `per_channel_lambda=True` draws λ_re, λ_im (H, N) independently per channel instead (a
variant neither source uses, kept for experiments where the channels' spectra should differ).

Formats fp64, fp32, fp16, bf16: fp16/bf16 are computed in fp32 and rounded once; the kernel is
formed in complex128 (fp64) or complex64 (otherwise) by `ssmspec.impl.dss.dss_kernel`, the
convolution by `ssmspec.impl.convolution.causal_conv` (FFT). No loop over L.
"""

from __future__ import annotations

from typing import NamedTuple

import torch
import torch.nn.functional as F

from ssmspec.impl import _validate as v
from ssmspec.impl.convolution import causal_conv
from ssmspec.impl.dss import dss_kernel


class GSSParams(NamedTuple):
    """w1 (D, F), b1 (F,); w2 (D, H), b2 (H,); lambda_re, lambda_im, c_re, c_im (H, N); d (H,);
    w3 (H, F), b3 (F,); w4 (F, D), b4 (D,)."""

    w1: torch.Tensor
    b1: torch.Tensor
    w2: torch.Tensor
    b2: torch.Tensor
    lambda_re: torch.Tensor
    lambda_im: torch.Tensor
    c_re: torch.Tensor
    c_im: torch.Tensor
    d: torch.Tensor
    w3: torch.Tensor
    b3: torch.Tensor
    w4: torch.Tensor
    b4: torch.Tensor


class GSSKernelParams(NamedTuple):
    """The SSM part of `GSSParams`: lambda_re, lambda_im, c_re, c_im (H, N), d (H,)."""

    lambda_re: torch.Tensor
    lambda_im: torch.Tensor
    c_re: torch.Tensor
    c_im: torch.Tensor
    d: torch.Tensor


def gss_lambda(lambda_re: torch.Tensor, lambda_im: torch.Tensor) -> torch.Tensor:
    """Λ = −exp(λ_re) + i·exp(λ_im), complex128 (Re Λ < 0, Im Λ > 0 for finite parameters)."""
    return torch.complex(-torch.exp(lambda_re.to(torch.float64)),
                         torch.exp(lambda_im.to(torch.float64)))


def gss_init(N: int, H: int, seed: int, dtype: torch.dtype = torch.float32,
             device: str | torch.device = "cpu", per_channel_lambda: bool = False
             ) -> GSSKernelParams:
    """GSS's random diagonal configuration: λ_re, λ_im (H, N), C_re, C_im (H, N), d (H,).

    Draw order from a CPU generator seeded with `seed`, all N(0, 1) in float64: λ_re, λ_im of
    shape (N,) repeated over the H rows (shared Λ, lucidrains' and DSS's), or (H, N) with
    `per_channel_lambda=True`; then C_re, C_im (H, N) and d (H,). Cast to `dtype` on `device`.
    """
    N, H = v.positive_int("N", N), v.positive_int("H", H)
    if isinstance(seed, bool) or not isinstance(seed, int):
        raise TypeError(f"seed: expected an int, got {type(seed).__name__}")
    if not isinstance(dtype, torch.dtype) or not dtype.is_floating_point:
        raise TypeError(f"dtype: expected a real floating torch.dtype, got {dtype}")
    if not isinstance(per_channel_lambda, bool):
        raise TypeError(f"per_channel_lambda: expected a bool, got "
                        f"{type(per_channel_lambda).__name__}")
    gen = torch.Generator(device="cpu").manual_seed(seed)
    lam_shape = (H, N) if per_channel_lambda else (N,)
    draws = [torch.randn(lam_shape, generator=gen, dtype=torch.float64).expand(H, N)
             for _ in range(2)]
    draws += [torch.randn(H, N, generator=gen, dtype=torch.float64) for _ in range(2)]
    draws.append(torch.randn(H, generator=gen, dtype=torch.float64))
    return GSSKernelParams(*(t.to(dtype=dtype, device=device).contiguous() for t in draws))


def _params(x: torch.Tensor, params) -> GSSParams:
    n = len(GSSParams._fields)
    if not isinstance(params, (tuple, list)) or len(params) != n:
        got = f"{len(params)} items" if isinstance(params, (tuple, list)) else \
            type(params).__name__
        raise ValueError(f"params: expected the {n} weights {GSSParams._fields}, got {got}")
    p = GSSParams(*params)
    for name, t in zip(GSSParams._fields, p):
        v.beside(name, t, "x", x)
    D = x.shape[2]
    for name in ("w1", "w2"):
        w = getattr(p, name)
        if w.ndim != 2 or w.shape[0] != D or w.shape[1] < 1:
            raise ValueError(f"{name}: expected shape ({D}, width) with width >= 1, got "
                             f"{tuple(w.shape)}")
    Fw, H = p.w1.shape[1], p.w2.shape[1]
    if p.lambda_re.ndim != 2 or p.lambda_re.shape[0] != H or p.lambda_re.shape[1] < 1:
        raise ValueError(f"lambda_re: expected shape ({H}, N) with N >= 1, got "
                         f"{tuple(p.lambda_re.shape)}")
    N = p.lambda_re.shape[1]
    expected = {"b1": (Fw,), "b2": (H,), "lambda_im": (H, N), "c_re": (H, N), "c_im": (H, N),
                "d": (H,), "w3": (H, Fw), "b3": (Fw,), "w4": (Fw, D), "b4": (D,)}
    for name, shape in expected.items():
        v.shape(name, getattr(p, name), shape)
    return p


def gss_layer(x: torch.Tensor, params, residual: bool = True) -> torch.Tensor:
    """The GSS layer out (batch, L, D), x's dtype; see the module docstring for the formulas.

    x: (batch, L, D) real (fp64, fp32, fp16, bf16); params: `GSSParams` (or a tuple in its
    order), every tensor x's dtype and device; residual: add x (the paper's shortcut).
    """
    v.real_tensor("x", x)
    if x.ndim != 3 or min(x.shape) < 1:
        raise ValueError(f"x: expected shape (batch, L, D) with every size >= 1, got "
                         f"{tuple(x.shape)}")
    if not isinstance(residual, bool):
        raise TypeError(f"residual: expected a bool, got {type(residual).__name__}")
    p = _params(x, params)
    work = v.work_dtype(x.dtype)
    xw = x.to(work)
    pw = GSSParams(*(t.to(work) for t in p))
    L = x.shape[1]
    u = F.gelu(xw @ pw.w1 + pw.b1)
    vv = F.gelu(xw @ pw.w2 + pw.b2)
    cdt = torch.complex128 if work == torch.float64 else torch.complex64
    lam = gss_lambda(pw.lambda_re, pw.lambda_im).to(cdt)
    C = torch.complex(pw.c_re, pw.c_im).to(cdt)
    log_dt = torch.zeros(lam.shape[0], dtype=v.real_dtype(cdt), device=x.device)  # Δ = 1
    K = dss_kernel(lam, C, log_dt, L, "exp").to(work)
    y = causal_conv(vv.transpose(1, 2), K, pw.d).transpose(1, 2)
    o = ((y @ pw.w3 + pw.b3) * u) @ pw.w4 + pw.b4
    return (o + xw if residual else o).to(x.dtype)

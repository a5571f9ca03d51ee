"""`diag_kernel` and `ema_kernel` in Triton (the `triton` implementations). Both are
K[h, l] = Re Σ_n W[h, n]·exp(l·w[h, n]) (docs/kernels.md), with W = C·B̄ and w = log Ā for the
S4D kernel, W = γ·√(1/ndim)·p·β and w = log q for Mega's EMA. Contracts, checks and errors: those
of `ssmspec.impl.kernels` (diag_kernel: Lambda, B, C (H, N), log_dt (H,); ema_kernel: delta,
alpha, beta (D, ndim, 1), gamma (D, ndim); K (H, L) in the real dtype of Lambda / delta).

The per-state work (Δ, (Ā, B̄), w, W: O(H·N)) is the built-in's, in float64/complex128 from the
exactly converted inputs. The kernel (one program per (channel, block of BLOCK_L steps), a loop
over the states in blocks of BLOCK_N) forms every power in float64 directly from w, as
exp(l·Re w)·(cos(l·Im w), sin(l·Im w)) with e^0 = 1 and a zero phase at l = 0 imposed (Ā = 0 or a
NaN Im w never reaches K[h, 0]); never from a rounded Ā, so no l·u growth beyond the honest
l·|w|·u of the float64 product l·w; a real bilinear Ā < 0 carries its sign (−1)^l separately.
The sum over n is accumulated in float64 and rounded once to the output's format (fp16/bf16 as
the built-in: computed wider, rounded once). Nothing of size H·N·L is stored.
"""

from __future__ import annotations

import torch
import triton
import triton.language as tl

from ssmspec.impl import _validate as v
from ssmspec.impl.kernels import check_diag, check_ema, discretize_wide, ema_weights
from ssmspec.impl.triton import interpreted, kernel_device

METHODS = ("zoh", "bilinear", "zoh_approx")
EMA_METHODS = ("mega",)
BLOCK_L = 128 if interpreted() else 256
BLOCK_N = 16 if interpreted() else 32


@triton.jit
def _vandermonde_kernel(Wr_ptr, Wi_ptr, wr_ptr, wi_ptr, neg_ptr, out_ptr, N, L, N_loop,
                        COMPLEX: tl.constexpr, SIGNED: tl.constexpr,
                        BLOCK_N: tl.constexpr, BLOCK_L: tl.constexpr):
    h = tl.program_id(0)
    offs_l = tl.program_id(1) * BLOCK_L + tl.arange(0, BLOCK_L)
    l_ok = offs_l < L
    e = offs_l.to(tl.float64)[None, :]
    at_zero = offs_l[None, :] == 0
    acc = tl.zeros([BLOCK_L], dtype=tl.float64)
    for n0 in range(0, N_loop, BLOCK_N):  # N_loop = N (the mutant: N rounded down)
        offs_n = n0 + tl.arange(0, BLOCK_N)
        n_ok = offs_n < N
        p = h * N + offs_n
        Wr = tl.load(Wr_ptr + p, mask=n_ok, other=0.0)[:, None]
        wr = tl.load(wr_ptr + p, mask=n_ok, other=0.0)[:, None]
        mag = tl.where(at_zero, 1.0, tl.exp(e * wr))
        if SIGNED:  # real Ā < 0: |Ā|^l·(−1)^l
            neg = tl.load(neg_ptr + p, mask=n_ok, other=0)[:, None] != 0
            odd = (offs_l[None, :] % 2) == 1
            mag = tl.where(neg & odd, -mag, mag)
        if COMPLEX:
            Wi = tl.load(Wi_ptr + p, mask=n_ok, other=0.0)[:, None]
            wi = tl.load(wi_ptr + p, mask=n_ok, other=0.0)[:, None]
            phase = tl.where(at_zero, 0.0, e * wi)
            term = mag * (Wr * tl.cos(phase) - Wi * tl.sin(phase))
        else:
            term = Wr * mag
        acc += tl.sum(tl.where(n_ok[:, None], term, 0.0), axis=0)
    tl.store(out_ptr + h * L + offs_l, acc.to(out_ptr.dtype.element_ty), mask=l_ok)


def vandermonde(W: torch.Tensor, w: torch.Tensor, L: int, out_dtype: torch.dtype,
                negative: torch.Tensor | None = None, drop_tail: bool = False) -> torch.Tensor:
    """Re Σ_n W[h, n]·exp(l·w[h, n]) for l < L: (H, L) in `out_dtype`, from float64/complex128
    W and w (H, N); `negative` (H, N) bool marks real bases < 0 (w is then log|Ā|)."""
    H, N = W.shape
    cplx = W.is_complex() or w.is_complex()
    f64 = torch.float64
    Wr = (W.real if W.is_complex() else W).to(f64).contiguous()
    wr = (w.real if w.is_complex() else w).to(f64).contiguous()
    Wi = W.imag.to(f64).contiguous() if W.is_complex() else torch.zeros_like(Wr)
    wi = w.imag.to(f64).contiguous() if w.is_complex() else torch.zeros_like(wr)
    neg = (negative.to(torch.int8).contiguous() if negative is not None
           else torch.zeros((1,), dtype=torch.int8, device=W.device))
    # fp16/bf16: the kernel stores the float64 sum, the cast below is the one rounding
    store = out_dtype if out_dtype in (torch.float64, torch.float32) else torch.float64
    out = torch.empty((H, L), dtype=store, device=W.device)
    grid = (H, triton.cdiv(L, BLOCK_L))
    n_loop = N // BLOCK_N * BLOCK_N if drop_tail else N
    _vandermonde_kernel[grid](Wr, Wi, wr, wi, neg, out, N, L, n_loop, COMPLEX=cplx,
                              SIGNED=negative is not None,
                              BLOCK_N=BLOCK_N, BLOCK_L=BLOCK_L)
    return out.to(out_dtype)


def _diag(Lambda, B, C, log_dt, L, method="zoh", conj_half=True, drop_tail=False):
    L = check_diag(Lambda, B, C, log_dt, L, method, conj_half)
    kernel_device("Lambda", Lambda)
    _, bbar, w, negative = discretize_wide(Lambda, B, log_dt, method)
    c = C.to(bbar.dtype)
    K = vandermonde(c * bbar, w, L, v.real_dtype(Lambda.dtype), negative, drop_tail)
    return K + K if conj_half else K  # the factor 2 is exact


def diag_kernel(Lambda: torch.Tensor, B: torch.Tensor, C: torch.Tensor, log_dt: torch.Tensor,
                L: int, method: str = "zoh", conj_half: bool = True) -> torch.Tensor:
    """The S4D kernel K (H, L): K[h, l] = f·Re Σ_n C·B̄·Ā^l, f = 2 if conj_half else 1.

    Lambda: (H, N) complex (or real); B, C: (H, N), Lambda's dtype; log_dt: (H,) real; L >= 1;
    method: 'zoh' | 'bilinear' | 'zoh_approx'. Returns Lambda's real dtype, on its device.
    """
    return _diag(Lambda, B, C, log_dt, L, method, conj_half)


def diag_kernel_dropping_tail(Lambda, B, C, log_dt, L, method="zoh", conj_half=True):
    """The mutant: the loop over states stops at the last full block of BLOCK_N (the tail of
    N mod BLOCK_N states is dropped)."""
    return _diag(Lambda, B, C, log_dt, L, method, conj_half, drop_tail=True)


def ema_kernel(delta: torch.Tensor, alpha: torch.Tensor, beta: torch.Tensor, gamma: torch.Tensor,
               L: int, method: str = "mega") -> torch.Tensor:
    """Mega's damped EMA kernel K (D, L): K[d, l] = Σ_n γ·√(1/ndim)·p·β·q^l, p = σ(δ),
    q = 1 − σ(δ)σ(α). delta, alpha, beta: (D, ndim, 1); gamma: (D, ndim), one real dtype; L >= 1.
    Returns delta's dtype, on its device."""
    v.method("method", method, EMA_METHODS)
    L = check_ema(delta, alpha, beta, gamma, L)
    kernel_device("delta", delta)
    W, logq = ema_weights(delta, alpha, beta, gamma)
    return vandermonde(W, logq, L, delta.dtype)

"""`linear_scan` in Triton (the `triton` implementation, methods `chunked` and `sequential`):

    h_t = a_t ⊙ h_{t−1} + b_t,   h_{−1} = h0 (0 if None),   over the last axis

a, b (..., L) real (fp64, fp32; fp16/bf16 read, computed in fp32, written once) or complex (c128,
c64: the kernel reads the interleaved real/imaginary pairs of `torch.view_as_real`); h0 (...,);
returns h (..., L) in a's dtype and device. Contract, checks and errors: those of
`ssmspec.impl.scans.linear_scan`.

Kernel: one program per BLOCK_R rows; it walks the row in blocks of BLOCK_T steps. Inside a block
`tl.associative_scan` forms the local prefixes (A_j, B_j) of the operator
(a₁, b₁) ∘ (a₂, b₂) = (a₁a₂, a₂b₁ + b₂) (padding steps are the identity (1, 0)); the state
carried from the previous block enters as h_j = A_j·carry + B_j, and the block's last h is the
next carry. `reverse` reads the steps from the end (index L − 1 − t): no flipped copies.
Method `sequential` is the same kernel with one-step blocks (BLOCK_T = 1): the recurrence itself,
h_t = a_t·h_{t−1} + b_t, one step per iteration (slow on a GPU; the baseline the laws compare to).
Rounding: on any scan network the path of a term b_s to h_t meets each a_r (s < r ≤ t) in one
product and at most t − s additions (every combine on the path merges at least one new step),
and each block crossing adds one product and one addition while replacing T products and sums:
at most the sequential recurrence's 2(τ + 1) roundings per term, inside the `chunked` bound.

Backward (`torch.autograd.Function`): the adjoint is the same scan run the other way,
λ_t = g_t + conj(a_{t+1})·λ_{t+1}, by the same kernel; ∂b = λ, ∂a = λ·conj(h_{t−1}),
∂h0 = conj(a_first)·λ_first (h is saved from the forward; nothing else is recomputed).
"""

from __future__ import annotations

import torch
import triton
import triton.language as tl

from ssmspec.impl import _validate as v
from ssmspec.impl.scans import check_scan_args, scan_adjoint
from ssmspec.impl.triton import interpreted, kernel_device

METHODS = ("sequential", "chunked")
# (rows, steps) per tile. The interpreter runs tl.associative_scan element by element, padding
# included, so it gets short tiles (which also put a block boundary every 16 steps under test).
BLOCK_R = 1
BLOCK_T = 16 if interpreted() else 1024


@triton.jit
def _real_combine(a1, b1, a2, b2):
    return a1 * a2, a2 * b1 + b2


@triton.jit
def _complex_combine(ar1, ai1, br1, bi1, ar2, ai2, br2, bi2):
    # (a₁a₂, a₂b₁ + b₂) with complex a, b as (re, im) pairs
    return (ar1 * ar2 - ai1 * ai2, ar1 * ai2 + ai1 * ar2,
            ar2 * br1 - ai2 * bi1 + br2, ar2 * bi1 + ai2 * br1 + bi2)


@triton.jit
def _last(x, offs_t, BLOCK_T: tl.constexpr):
    # the block's last column, exactly (one value summed with zeros)
    return tl.sum(tl.where(offs_t[None, :] == BLOCK_T - 1, x, 0.0), axis=1)


@triton.jit
def _scan_kernel(a_ptr, b_ptr, h0_ptr, out_ptr, R, L,
                 HAS_H0: tl.constexpr, REVERSE: tl.constexpr, COMPLEX: tl.constexpr,
                 DROP_CARRY: tl.constexpr, BLOCK_R: tl.constexpr, BLOCK_T: tl.constexpr):
    rows = tl.program_id(0) * BLOCK_R + tl.arange(0, BLOCK_R)
    row_ok = rows < R
    offs_t = tl.arange(0, BLOCK_T)
    work = tl.float64 if a_ptr.dtype.element_ty == tl.float64 else tl.float32
    P: tl.constexpr = 2 if COMPLEX else 1  # numbers per element (re, im)
    cr = tl.zeros([BLOCK_R], dtype=work)
    ci = tl.zeros([BLOCK_R], dtype=work)
    if HAS_H0:
        cr = tl.load(h0_ptr + rows * P, mask=row_ok, other=0.0).to(work)
        if COMPLEX:
            ci = tl.load(h0_ptr + rows * P + 1, mask=row_ok, other=0.0).to(work)
    for start in range(0, L, BLOCK_T):
        t = start + offs_t
        ok = row_ok[:, None] & (t < L)[None, :]
        idx = (L - 1 - t) if REVERSE else t
        off = (rows[:, None].to(tl.int64) * L + idx[None, :]) * P
        ar = tl.load(a_ptr + off, mask=ok, other=1.0).to(work)  # padding: the identity (1, 0)
        br = tl.load(b_ptr + off, mask=ok, other=0.0).to(work)
        if DROP_CARRY:  # the mutant: every block after the first starts from h0 again
            if start > 0:
                cr = tl.zeros([BLOCK_R], dtype=work)
                ci = tl.zeros([BLOCK_R], dtype=work)
                if HAS_H0:
                    cr = tl.load(h0_ptr + rows * P, mask=row_ok, other=0.0).to(work)
                    if COMPLEX:
                        ci = tl.load(h0_ptr + rows * P + 1, mask=row_ok, other=0.0).to(work)
        if COMPLEX:
            ai = tl.load(a_ptr + off + 1, mask=ok, other=0.0).to(work)
            bi = tl.load(b_ptr + off + 1, mask=ok, other=0.0).to(work)
            Ar, Ai, Br, Bi = tl.associative_scan((ar, ai, br, bi), 1, _complex_combine)
            hr = Ar * cr[:, None] - Ai * ci[:, None] + Br
            hi = Ar * ci[:, None] + Ai * cr[:, None] + Bi
            tl.store(out_ptr + off, hr.to(out_ptr.dtype.element_ty), mask=ok)
            tl.store(out_ptr + off + 1, hi.to(out_ptr.dtype.element_ty), mask=ok)
            cr = _last(hr, offs_t, BLOCK_T)
            ci = _last(hi, offs_t, BLOCK_T)
        else:
            A, B = tl.associative_scan((ar, br), 1, _real_combine)
            h = A * cr[:, None] + B
            tl.store(out_ptr + off, h.to(out_ptr.dtype.element_ty), mask=ok)
            cr = _last(h, offs_t, BLOCK_T)


def _as_real(x: torch.Tensor) -> torch.Tensor:
    x = x.contiguous()
    return torch.view_as_real(x) if x.is_complex() else x


def scan_rows(a, b, h0, reverse: bool, drop_carry: bool = False, block_t: int = BLOCK_T):
    """The kernel on (..., L) tensors of one dtype (a work dtype, or fp16/bf16 read as fp32);
    h (..., L) of a's dtype."""
    lead, L = a.shape[:-1], a.shape[-1]
    R = 1
    for n in lead:
        R *= n
    out = torch.empty(a.shape, dtype=a.dtype, device=a.device)
    if R == 0:
        return out
    h0r = _as_real(h0 if h0 is not None else out)  # out: an unread placeholder without h0
    grid = (triton.cdiv(R, BLOCK_R),)
    _scan_kernel[grid](_as_real(a), _as_real(b), h0r, _as_real(out), R, L,
                       HAS_H0=h0 is not None, REVERSE=reverse, COMPLEX=a.is_complex(),
                       DROP_CARRY=drop_carry, BLOCK_R=BLOCK_R, BLOCK_T=block_t,
                       num_warps=1 if interpreted() else 8)
    return out


class _Scan(torch.autograd.Function):
    @staticmethod
    def forward(ctx, a, b, h0, reverse, drop_carry, block_t):
        h = scan_rows(a, b, h0, reverse, drop_carry, block_t)
        ctx.save_for_backward(a, h, h0)
        ctx.reverse, ctx.block_t = reverse, block_t
        return h

    @staticmethod
    def backward(ctx, g):
        a, h, h0 = ctx.saved_tensors

        def scan(a_, b_, h0_, reverse):
            return scan_rows(a_, b_, h0_, reverse, block_t=ctx.block_t)

        return (*scan_adjoint(scan, a, h, h0, g, ctx.reverse), None, None, None)


def _linear_scan(a, b, h0=None, reverse=False, method="chunked", drop_carry=False):
    check_scan_args(a, b, h0, reverse, method)
    if method not in METHODS:
        raise ValueError(f"method: the Triton scan implements {METHODS}, got {method!r}")
    kernel_device("a", a)
    work = v.work_dtype(a.dtype)
    aw, bw = a.to(work), b.to(work)
    hw = None if h0 is None else h0.to(work)
    block_t = 1 if method == "sequential" else BLOCK_T
    return _Scan.apply(aw, bw, hw, reverse, drop_carry, block_t).to(a.dtype)


def linear_scan(a: torch.Tensor, b: torch.Tensor, h0: torch.Tensor | None = None,
                reverse: bool = False, method: str = "chunked") -> torch.Tensor:
    """h_t = a_t ⊙ h_{t−1} + b_t over the last axis (see the module docstring).

    a, b: (..., L), one floating or complex dtype, on CUDA (or CPU under TRITON_INTERPRET=1);
    h0: (...,) or None; reverse: bool; method: 'chunked' | 'sequential'. Returns h (..., L) in
    a's dtype.
    """
    return _linear_scan(a, b, h0, reverse, method)


def linear_scan_dropping_carry(a, b, h0=None, reverse=False, method="chunked"):
    """The mutant: a block boundary drops the carried state (each block restarts from h0)."""
    return _linear_scan(a, b, h0, reverse, method, drop_carry=True)

"""Mamba's selective scan (S6) forward in Triton (the `triton` implementation of
`selective_scan`); contract, shapes, dtypes, checks and errors: `ssmspec.impl.selective`.

    Δ ← softplus(Δ + delta_bias) (if delta_softplus),   h_t = Ā_t ⊙ h_{t−1} + B̄_t·u_t,
    y_t = f·Re(Σ_n C_t[n]·h_t[n]) + D·u_t,   y ← y·silu(z)

Fused kernel: one program per (batch, channel) holds the state (N,) in registers and walks L in
blocks of BLOCK_T steps. Per block it reads u, Δ (and z) once, forms Δ (bias, softplus), the
discretisation (zoh_approx / zoh / bilinear; complex A as (re, im) pairs) and B̄·u as an
(N, BLOCK_T) tile, scans the tile along time with `tl.associative_scan` over
(a₁, b₁) ∘ (a₂, b₂) = (a₁a₂, a₂b₁ + b₂), enters the carried state (h = A_j·carry + B_j), contracts
with C over n, applies f, D and the z gate, and writes y; the block's last h is the next carry
and, after the last block, the last state. No (batch, D, N, L) tensor exists, in memory or
otherwise: the largest live value is one (N, BLOCK_T) tile per program. Padding steps (past L)
have Δ = 0, u = 0: the identity (Ā = 1, B̄u = 0) for every method.
B and C in every layout are read through strides: (D, N) time-invariant as a group per channel
with time stride 0; (batch, N, L) per step as one group; (batch, G, N, L) grouped.
Formats: fp64 in fp64; fp32, fp16, bf16 in fp32 (read, computed, rounded once on the store);
complex A (c128/c64) in the real format of its parts. expm1 and log1p (softplus, zoh's φ₁) are
Kahan's forms from exp and log — (e − 1)·x/log e and x·log(1 + x)/((1 + x) − 1) — a few ulps
(libdevice is not available to the interpreter, and one code path is what gets verified); exp
is `libm.exp`: libdevice's on CUDA, not Triton's approximate fp32 tl.exp (see libm).

Precision: on the same inputs this kernel and the torch built-in agree to within a small
factor either way (the report measures both against the same bound); the largest err/bound of
either sits on short problems, where a bound whose growth G has had few steps to grow is small.
What could open a gap on CUDA only — Triton's fp32 tl.exp is an approximation whose error grows
with |x| — is closed by `libm.exp` (libdevice).

Backward (`torch.autograd.Function`): recompute-based — the gradients are those of the built-in
torch scan recomputed from the saved inputs (its chunked recurrence, no (B, D, N, L) tensor).
"""

from __future__ import annotations

import torch
import triton
import triton.language as tl

from ssmspec.impl import _validate as v
from ssmspec.impl import selective as torch_selective
from ssmspec.impl.triton import interpreted, kernel_device, libm
from ssmspec.impl.triton.scan import _complex_combine, _last, _real_combine

METHODS = ("zoh_approx", "zoh", "bilinear")
BLOCK_T = 16 if interpreted() else 64


@triton.jit
def _expm1(x):
    # Kahan: exact where e = 1 (x tiny) and where e − 1 = −1 (x very negative)
    e = libm.exp(x)
    em1 = e - 1.0
    ratio = em1 * x / tl.log(tl.where(e == 1.0, 2.0, e))
    return tl.where(e == 1.0, x, tl.where(em1 == -1.0, -1.0, ratio))


@triton.jit
def _log1p(x):
    w = 1.0 + x
    d = w - 1.0
    return tl.where(d == 0.0, x, tl.log(w) * x / tl.where(d == 0.0, 1.0, d))


@triton.jit
def _softplus(x):
    return tl.maximum(x, 0.0) + _log1p(libm.exp(-tl.abs(x)))


@triton.jit
def _selective_kernel(u_ptr, dt_ptr, A_ptr, B_ptr, C_ptr, D_ptr, z_ptr, bias_ptr, h0_ptr,
                      y_ptr, hl_ptr, Dn, N, L, per_group,
                      sBb, sBg, sBn, sBt, sCb, sCg, sCn, sCt, factor,
                      METHOD: tl.constexpr, COMPLEX: tl.constexpr, SOFTPLUS: tl.constexpr,
                      HAS_D: tl.constexpr, HAS_Z: tl.constexpr, HAS_BIAS: tl.constexpr,
                      HAS_H0: tl.constexpr, DROP_CARRY: tl.constexpr,
                      BLOCK_N: tl.constexpr, BLOCK_T: tl.constexpr):
    b = tl.program_id(0)
    d = tl.program_id(1)
    g = d // per_group
    work = tl.float64 if A_ptr.dtype.element_ty == tl.float64 else tl.float32
    P: tl.constexpr = 2 if COMPLEX else 1
    offs_n = tl.arange(0, BLOCK_N)
    n_ok = offs_n < N
    offs_t = tl.arange(0, BLOCK_T)
    row = (b * Dn + d).to(tl.int64) * L
    # states past N: A = 0, B = C = 0, so they stay 0 and add nothing
    Ar = tl.load(A_ptr + (d * N + offs_n) * P, mask=n_ok, other=0.0).to(work)
    Ai = tl.zeros([BLOCK_N], dtype=work)
    if COMPLEX:
        Ai = tl.load(A_ptr + (d * N + offs_n) * P + 1, mask=n_ok, other=0.0).to(work)
    hr = tl.zeros([BLOCK_N], dtype=work)
    hi = tl.zeros([BLOCK_N], dtype=work)
    hoff = ((b * Dn + d) * N + offs_n) * P
    if HAS_H0:
        hr = tl.load(h0_ptr + hoff, mask=n_ok, other=0.0).to(work)
        if COMPLEX:
            hi = tl.load(h0_ptr + hoff + 1, mask=n_ok, other=0.0).to(work)
    bias = 0.0
    if HAS_BIAS:
        bias = tl.load(bias_ptr + d).to(work)
    Dd = 0.0
    if HAS_D:
        Dd = tl.load(D_ptr + d).to(work)
    Bbase = b.to(tl.int64) * sBb + g * sBg
    Cbase = b.to(tl.int64) * sCb + g * sCg
    for start in range(0, L, BLOCK_T):
        t = start + offs_t
        ok = t < L
        u = tl.load(u_ptr + row + t, mask=ok, other=0.0).to(work)
        dl = tl.load(dt_ptr + row + t, mask=ok, other=0.0).to(work)
        if HAS_BIAS:
            dl = dl + bias
        if SOFTPLUS:
            dl = _softplus(dl)
        dl = tl.where(ok, dl, 0.0)  # padding: Δ = 0, the identity step
        tile = n_ok[:, None] & ok[None, :]
        Boff = Bbase + offs_n[:, None] * sBn + t[None, :] * sBt
        Coff = Cbase + offs_n[:, None] * sCn + t[None, :] * sCt
        Br = tl.load(B_ptr + Boff, mask=tile, other=0.0).to(work)
        Cr = tl.load(C_ptr + Coff, mask=tile, other=0.0).to(work)
        dl2 = dl[None, :]
        if DROP_CARRY:  # the mutant: a block boundary forgets the carried state
            if start > 0:
                hr = tl.zeros([BLOCK_N], dtype=work)
                hi = tl.zeros([BLOCK_N], dtype=work)
        if COMPLEX:
            Bi = tl.load(B_ptr + Boff + 1, mask=tile, other=0.0).to(work)
            Ci = tl.load(C_ptr + Coff + 1, mask=tile, other=0.0).to(work)
            zr = dl2 * Ar[:, None]
            zi = dl2 * Ai[:, None]
            if METHOD == 2:  # bilinear: Ā = (1 + z/2)/(1 − z/2), B̄ = Δ·B/(1 − z/2)
                nr = 1.0 - zr / 2
                ni = -zi / 2
                den = nr * nr + ni * ni
                pr = 1.0 + zr / 2
                pi = zi / 2
                abr = (pr * nr + pi * ni) / den
                abi = (pi * nr - pr * ni) / den
                sr = dl2 * nr / den
                si = -dl2 * ni / den
            else:
                mag = libm.exp(zr)
                abr = mag * tl.cos(zi)
                abi = mag * tl.sin(zi)
                if METHOD == 1:  # zoh: B̄ = Δ·φ₁(z)·B, φ₁(z) = expm1(z)/z
                    s = tl.sin(zi / 2)
                    er = _expm1(zr) * tl.cos(zi) - 2.0 * s * s  # Re expm1(z), no cancellation
                    ei = abi
                    zz = zr * zr + zi * zi
                    safe = tl.where(zz == 0.0, 1.0, zz)
                    phr = tl.where(zz == 0.0, 1.0, (er * zr + ei * zi) / safe)
                    phi = tl.where(zz == 0.0, 0.0, (ei * zr - er * zi) / safe)
                    sr = dl2 * phr
                    si = dl2 * phi
                else:
                    sr = dl2 + tl.zeros_like(zr)
                    si = tl.zeros_like(zr)
            su_r = sr * u[None, :]
            su_i = si * u[None, :]
            bur = su_r * Br - su_i * Bi
            bui = su_r * Bi + su_i * Br
            Sr, Si, Hr, Hi = tl.associative_scan((abr, abi, bur, bui), 1, _complex_combine)
            Hr2 = Sr * hr[:, None] - Si * hi[:, None] + Hr
            Hi2 = Sr * hi[:, None] + Si * hr[:, None] + Hi
            y = tl.sum(Cr * Hr2 - Ci * Hi2, axis=0)
            hr = _last(Hr2, offs_t, BLOCK_T)
            hi = _last(Hi2, offs_t, BLOCK_T)
        else:
            zr = dl2 * Ar[:, None]
            if METHOD == 2:
                den = 1.0 - zr / 2
                ab = (1.0 + zr / 2) / den
                sr = dl2 / den
            else:
                ab = libm.exp(zr)
                if METHOD == 1:
                    safe = tl.where(zr == 0.0, 1.0, zr)
                    sr = tl.where(zr == 0.0, dl2, _expm1(zr) / safe * dl2)
                else:
                    sr = dl2 + tl.zeros_like(zr)
            bu = (sr * u[None, :]) * Br
            S, H = tl.associative_scan((ab, bu), 1, _real_combine)
            H2 = S * hr[:, None] + H
            y = tl.sum(Cr * H2, axis=0)
            hr = _last(H2, offs_t, BLOCK_T)
        y = y * factor
        if HAS_D:
            y = y + Dd * u
        if HAS_Z:
            zg = tl.load(z_ptr + row + t, mask=ok, other=0.0).to(work)
            y = y * (zg / (1.0 + libm.exp(-zg)))
        tl.store(y_ptr + row + t, y.to(y_ptr.dtype.element_ty), mask=ok)
    tl.store(hl_ptr + hoff, hr.to(hl_ptr.dtype.element_ty), mask=n_ok)
    if COMPLEX:
        tl.store(hl_ptr + hoff + 1, hi.to(hl_ptr.dtype.element_ty), mask=n_ok)


def _real_view(x: torch.Tensor) -> torch.Tensor:
    return torch.view_as_real(x.resolve_conj()) if x.is_complex() else x


def _strides(X: torch.Tensor, layout: str, Dn: int):
    """(per_group, (batch, group, n, t) strides) of B or C in units of its real view."""
    s = _real_view(X).stride()
    if layout == "invariant":  # (D, N): a group per channel, no time axis
        return 1, (0, s[0], s[1], 0)
    if layout == "step":  # (batch, N, L): one group
        return Dn, (s[0], 0, s[1], s[2])
    return Dn // X.shape[1], (s[0], s[1], s[2], s[3])


def _forward(u, delta, A, B, C, D, z, delta_bias, delta_softplus, method, factor,
             initial_state, lay, drop_carry=False):
    batch, Dn, L = u.shape
    N = A.shape[1]
    work = v.work_dtype(u.dtype)
    cdt = A.dtype if A.dtype not in v.LOW_PRECISION else torch.float32
    y = torch.empty((batch, Dn, L), dtype=work if u.dtype in v.LOW_PRECISION else u.dtype,
                    device=u.device)
    hl = torch.empty((batch, Dn, N), dtype=cdt, device=u.device)
    Bc, Cc = B.contiguous(), C.contiguous()
    per_b, sb = _strides(Bc, lay, Dn)
    _, sc = _strides(Cc, lay, Dn)
    dummy = u
    grid = (batch, Dn)
    _selective_kernel[grid](
        u.contiguous(), delta.contiguous(), _real_view(A.contiguous()), _real_view(Bc),
        _real_view(Cc), D if D is not None else dummy, z.contiguous() if z is not None else dummy,
        delta_bias if delta_bias is not None else dummy,
        _real_view(initial_state.contiguous()) if initial_state is not None else dummy,
        y, _real_view(hl), Dn, N, L, per_b, *sb, *sc, factor,
        METHOD=METHODS.index(method), COMPLEX=A.is_complex(), SOFTPLUS=delta_softplus,
        HAS_D=D is not None, HAS_Z=z is not None, HAS_BIAS=delta_bias is not None,
        HAS_H0=initial_state is not None, DROP_CARRY=drop_carry,
        BLOCK_N=triton.next_power_of_2(N), BLOCK_T=BLOCK_T, num_warps=1 if interpreted() else 4)
    return y.to(u.dtype), hl.to(A.dtype)


_ARGS = ("u", "delta", "A", "B", "C", "D", "z", "delta_bias", "initial_state")


class _Selective(torch.autograd.Function):
    @staticmethod
    def forward(ctx, options, *tensors):
        kw = dict(zip(_ARGS, tensors))
        y, h = _forward(kw["u"], kw["delta"], kw["A"], kw["B"], kw["C"], kw["D"], kw["z"],
                        kw["delta_bias"], options["delta_softplus"], options["method"],
                        options["factor"], kw["initial_state"], options["layout"],
                        options["drop_carry"])
        ctx.save_for_backward(*tensors)
        ctx.options = options
        return y, h

    @staticmethod
    def backward(ctx, gy, gh):
        saved = ctx.saved_tensors
        o = ctx.options
        with torch.enable_grad():
            xs = [None if x is None else x.detach().requires_grad_(x.requires_grad)
                  for x in saved]
            kw = dict(zip(_ARGS, xs))
            y, h = torch_selective.selective_scan(
                kw.pop("u"), kw.pop("delta"), kw.pop("A"), kw.pop("B"), kw.pop("C"),
                delta_softplus=o["delta_softplus"], discretization=o["method"],
                return_last_state=True, conj_half=o["conj_half"], **kw)
            wanted = [x for x in xs if x is not None and x.requires_grad]
            grads = iter(torch.autograd.grad((y, h), wanted, (gy, gh), allow_unused=True))
        return (None, *[next(grads) if x is not None and x.requires_grad else None for x in xs])


def _selective_scan(u, delta, A, B, C, D=None, z=None, delta_bias=None, delta_softplus=False,
                    discretization="zoh_approx", return_last_state=False, conj_half=None,
                    initial_state=None, drop_carry=False):
    v.method("discretization", discretization, METHODS)
    torch_selective._flag("delta_softplus", delta_softplus)
    torch_selective._flag("return_last_state", return_last_state)
    if conj_half is not None:
        torch_selective._flag("conj_half", conj_half)
    lay = torch_selective.check_selective(u, delta, A, B, C, D, z, delta_bias, initial_state)
    kernel_device("u", u)
    factor = 2.0 if (A.is_complex() if conj_half is None else conj_half) else 1.0
    options = dict(delta_softplus=delta_softplus, method=discretization, factor=factor,
                   layout=lay, drop_carry=drop_carry, conj_half=conj_half)
    y, h = _Selective.apply(options, u, delta, A, B, C, D, z, delta_bias, initial_state)
    return (y, h) if return_last_state else y


def selective_scan(u: torch.Tensor, delta: torch.Tensor, A: torch.Tensor, B: torch.Tensor,
                   C: torch.Tensor, D: torch.Tensor | None = None, z: torch.Tensor | None = None,
                   delta_bias: torch.Tensor | None = None, delta_softplus: bool = False,
                   discretization: str = "zoh_approx", return_last_state: bool = False,
                   conj_half: bool | None = None, initial_state: torch.Tensor | None = None):
    """Mamba's selective scan (S6), fused in one Triton kernel; see the module docstring and
    `ssmspec.impl.selective.selective_scan` for the contract. u, delta, z: (batch, D, L); A (D, N);
    B, C: (D, N) | (batch, N, L) | (batch, G, N, L); D, delta_bias (D,); initial_state
    (batch, D, N). Returns y (batch, D, L) in u's dtype (and the last state in A's dtype)."""
    return _selective_scan(u, delta, A, B, C, D, z, delta_bias, delta_softplus, discretization,
                           return_last_state, conj_half, initial_state)


def selective_scan_dropping_carry(u, delta, A, B, C, D=None, z=None, delta_bias=None,
                                  delta_softplus=False, discretization="zoh_approx",
                                  return_last_state=False, conj_half=None, initial_state=None):
    """The mutant: each block of BLOCK_T steps starts from a zero state."""
    return _selective_scan(u, delta, A, B, C, D, z, delta_bias, delta_softplus, discretization,
                           return_last_state, conj_half, initial_state, drop_carry=True)

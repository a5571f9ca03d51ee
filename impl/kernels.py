"""Convolution kernels of diagonal SSMs in PyTorch (docs/kernels.md): `diag_kernel` (S4D) and
`ema_kernel` (Mega's multi-dimensional damped EMA).

diag_kernel, per channel h (Λ, B, C: (H, N); Δ = exp(log_dt): (H,); (Ā, B̄) from §2):

    S[h, l] = Σ_n C[h, n] · B̄[h, n] · Ā[h, n]^l
    K = 2·Re(S) if conj_half else Re(S)                       (Re is the identity for real Λ)

`conj_half=True` (the default, S4's convention) means each stored state stands for itself and its
complex conjugate, and the factor 2 applies for real Λ too (S4D-Real in S4's code); with
`conj_half=False` every state is written out. Hence the law: the half representation with
conj_half=True equals the full one ([Λ, Λ̄], [B, B̄], [C, C̄]) with conj_half=False.

ema_kernel (Mega, facebookresearch/mega `fairseq/modules/exponential_moving_average.py`,
`MultiHeadEMA._compute_kernel`), δ, α, β: (D, ndim, 1), γ: (D, ndim):

    p = sigmoid(δ), a = sigmoid(α), q = 1 − p·a
    K[d, l] = Σ_n γ[d, n] · √(1/ndim) · p[d, n] · β[d, n] · q[d, n]^l

Algorithm (both kernels are Σ_n W_n·Ā_n^l with a log-power w_n = log Ā_n):
- Everything per state (Δ, (Ā, B̄), w = log Ā, W = C·B̄) is computed in float64/complex128 from
  the exactly converted inputs: for fp32/c64 runs the per-state work is exact to far below the
  output's roundoff, so none of the `l·|log Ā|` phase/decay growth of exp(l·log Ā) reaches the
  output (docs/kernels.md); for fp64 it is the honest growth the bound admits.
- Powers are split l = c·T + j with T = ⌈√L⌉: Ā^l = Ā^{cT} · Ā^j. Both factors, exp(cT·w) and
  exp(j·w), are formed in float64 from w (never from a rounded Ā: raising a rounded Ā to the l-th
  power costs l·u whatever |log Ā| is), then rounded to the working format; the contraction
  K[h, cT + j] = Σ_n (W_n Ā_n^{cT}) · Ā_n^j is one batched matmul (H, L/T, N) @ (H, N, T) in the
  working format. Memory is O(H·N·√L), there is no loop over L, and the work is H·N·L
  multiply-adds as for the direct Vandermonde product.
- Powers are exp(e·Re w)·e^{i·e·Im w} with e^0 = 1 imposed: no 0·(−inf) = NaN at l = 0 when Ā
  (or q) is exactly 0. For real bilinear Ā < 0 (Δλ < −2) the sign is carried separately.
- The EMA's q is computed without cancellation as q = σ(−δ) + σ(δ)·σ(−α) (both terms positive),
  and log q = log1p(−p·a) where p·a < ½, log q otherwise.
- fp16/bf16 are worked in fp32 and rounded once. Outputs have Λ's real dtype (δ's dtype for the
  EMA) and device.
"""

from __future__ import annotations

import math

import torch

from ssmspec.impl import _validate as v
from ssmspec.impl.discretization import phi1

METHODS = ("zoh", "bilinear", "zoh_approx")
EMA_METHODS = ("mega",)


def _wide(dtype: torch.dtype) -> torch.dtype:
    return torch.complex128 if dtype.is_complex else torch.float64


def powers(w: torch.Tensor, e: torch.Tensor, negative: torch.Tensor | None = None):
    """exp(e·w) for w (..., N) float64/complex128 and exponents e (K,) float64: (..., N, K).

    e = 0 gives exactly 1 even where w = −inf (Ā = 0); `negative` marks real bases < 0, whose
    sign (−1)^e is applied separately (w is then log|Ā|).
    """
    w = w[..., None]
    re = w.real if w.is_complex() else w
    # a scalar fill: torch.where with a tensor of ones is much slower on large CPU tensors
    mag = torch.where(e == 0, 1.0, torch.exp(e * re))
    if w.is_complex():
        # the phase of l = 0 is 0 too: a NaN or infinite Im w must not reach Ā^0 = 1
        return torch.polar(mag, torch.where(e == 0, 0.0, e * w.imag))
    if negative is not None:
        odd = torch.remainder(e, 2) == 1
        mag = torch.where(negative[..., None] & odd, -mag, mag)
    return mag


def vandermonde(W: torch.Tensor, w: torch.Tensor, L: int, work: torch.dtype, negative=None):
    """Re Σ_n W[h, n]·exp(l·w[h, n]) for l < L, in `work` (real), from float64 W and w.

    The sum runs as a batched matmul in the working format; see the module docstring.
    """
    H, N = W.shape
    T = max(1, math.isqrt(L - 1) + 1) if L > 1 else 1  # T = ⌈√L⌉
    nc = -(-L // T)
    rdt = torch.float64
    j = torch.arange(T, dtype=rdt, device=W.device)
    c0 = torch.arange(nc, dtype=rdt, device=W.device) * T
    inner = powers(w, j, negative)  # (H, N, T)
    anchor = W[..., None] * powers(w, c0, negative)  # (H, N, nc)
    real_work = work.to_real() if work.is_complex else work
    if inner.is_complex() or anchor.is_complex():
        anchor = anchor.to(torch.complex128) if not anchor.is_complex() else anchor
        inner = inner.to(torch.complex128) if not inner.is_complex() else inner
        # Re(Σ a·b) = Σ Re a·Re b − Im a·Im b: one real matmul with 2N inner terms
        a = torch.cat([anchor.real, -anchor.imag], dim=1).transpose(1, 2).to(real_work)
        del anchor  # the float64 factors are done with: keep the peak memory to one copy
        b = torch.cat([inner.real, inner.imag], dim=1).to(real_work)
    else:
        a = anchor.transpose(1, 2).to(real_work)
        del anchor
        b = inner.to(real_work)
    del inner
    K = torch.bmm(a.contiguous(), b.contiguous())  # (H, nc, T)
    return K.reshape(H, nc * T)[:, :L]


def discretize_wide(Lambda, B, log_dt, method: str):
    """(Ā, B̄, w = log Ā, negative) per state in float64/complex128 (§2), as every diagonal kernel
    and recurrence here discretises: Δ = exp(log_dt) per channel, z = ΔΛ; w is log Ā formed from z
    (zoh, zoh_approx: z; bilinear: 2·atanh(z/2)), never from a rounded Ā. For real bilinear
    Ā < 0 (ΔΛ < −2), w = log|Ā| and `negative` marks those states; else `negative` is None.
    """
    wide = _wide(Lambda.dtype)
    lam, b = Lambda.to(wide), B.to(wide)
    dt = torch.exp(log_dt.to(torch.float64))[:, None]
    z = dt * lam
    negative = None
    if method == "bilinear":
        abar, bbar = (1 + z / 2) / (1 - z / 2), dt * b / (1 - z / 2)
        x = z / 2
        if lam.is_complex():
            a = torch.atanh(x)
        else:
            big = x.abs() > 1  # Ā < 0: |Ā| = |(1 + 1/x)/(1 − 1/x)|
            a = torch.atanh(torch.where(big, 1 / x, x))
            negative = big
        # `a + a`, not 2·a: a complex product turns atanh(±1) = ∓inf + 0i into a NaN phase
        w = a + a
    else:
        abar, w = torch.exp(z), z
        bbar = dt * phi1(z) * b if method == "zoh" else dt * b
    return abar, bbar, w, negative


def check_diag(Lambda, B, C, log_dt, L, method, conj_half):
    v.method("method", method, METHODS)
    v.tensor("Lambda", Lambda)
    if Lambda.ndim != 2 or Lambda.shape[-1] < 1:
        raise ValueError(f"Lambda: expected shape (H, N) with N >= 1, got {tuple(Lambda.shape)}")
    v.like("B", B, "Lambda", Lambda)
    v.like("C", C, "Lambda", Lambda)
    v.real_of("log_dt", log_dt, "Lambda", Lambda, Lambda.shape[:1], "(one per channel)")
    v.flag("conj_half", conj_half)
    return v.positive_int("L", L)


def diag_kernel(Lambda: torch.Tensor, B: torch.Tensor, C: torch.Tensor, log_dt: torch.Tensor,
                L: int, method: str = "zoh", conj_half: bool = True) -> torch.Tensor:
    """The S4D diagonal SSM kernel K (H, L), real.

    Lambda: (H, N) complex (or real, S4D-Real); B, C: (H, N), Lambda's dtype; log_dt: (H,),
    Lambda's real dtype (Δ = exp(log_dt), one per channel, as S4D); L >= 1;
    method: 'zoh' | 'bilinear' | 'zoh_approx' (docs/discretization.md); conj_half:
    K = 2·Re(S) if True (the factor 2 for real Λ too, as S4), Re(S) if False. Returns Lambda's
    real dtype.
    """
    L = check_diag(Lambda, B, C, log_dt, L, method, conj_half)
    _, bbar, w, negative = discretize_wide(Lambda, B, log_dt, method)
    c = C.to(bbar.dtype)
    K = vandermonde(c * bbar, w, L, v.work_dtype(Lambda.dtype), negative)
    if conj_half:
        K = K + K  # exact
    return K.to(v.real_dtype(Lambda.dtype))


def check_ema(delta, alpha, beta, gamma, L):
    v.real_tensor("delta", delta)
    if delta.ndim != 3 or delta.shape[-1] != 1 or delta.shape[1] < 1:
        raise ValueError(
            f"delta: expected shape (D, ndim, 1) with ndim >= 1, got {tuple(delta.shape)}"
        )
    for name, x, shape in (("alpha", alpha, delta.shape), ("beta", beta, delta.shape),
                           ("gamma", gamma, delta.shape[:2])):
        v.tensor(name, x)
        v.same_dtype(name, x, "delta", delta)
        v.same_device(name, x, "delta", delta)
        v.shape(name, x, shape, "(D, ndim, 1)" if len(shape) == 3 else "(D, ndim)")
    return v.positive_int("L", L)


def ema_log_q(delta64: torch.Tensor, alpha64: torch.Tensor):
    """(p, log q) in float64 without cancellation: q = σ(−δ) + σ(δ)·σ(−α) = 1 − σ(δ)σ(α)."""
    p = torch.sigmoid(delta64)
    pa = p * torch.sigmoid(alpha64)
    q = torch.sigmoid(-delta64) + p * torch.sigmoid(-alpha64)
    return p, torch.where(pa < 0.5, torch.log1p(-pa), torch.log(q))


def ema_weights(delta, alpha, beta, gamma):
    """(W = γ·√(1/ndim)·p·β, w = log q) per (channel, state) in float64: the EMA kernel is
    Σ_n W_n·exp(l·w_n)."""
    f64 = torch.float64
    p, logq = ema_log_q(delta.to(f64)[..., 0], alpha.to(f64)[..., 0])
    W = gamma.to(f64) * math.sqrt(1.0 / delta.shape[1]) * p * beta.to(f64)[..., 0]
    return W, logq


def ema_kernel(delta: torch.Tensor, alpha: torch.Tensor, beta: torch.Tensor, gamma: torch.Tensor,
               L: int, method: str = "mega") -> torch.Tensor:
    """Mega's multi-dimensional damped EMA kernel K (D, L).

    delta, alpha, beta: (D, ndim, 1) real; gamma: (D, ndim), the same dtype; L >= 1;
    method: 'mega' (the official parameterisation, the only one). Returns delta's dtype.
    """
    v.method("method", method, EMA_METHODS)
    L = check_ema(delta, alpha, beta, gamma, L)
    W, logq = ema_weights(delta, alpha, beta, gamma)
    K = vandermonde(W, logq, L, v.work_dtype(delta.dtype))
    return K.to(delta.dtype)

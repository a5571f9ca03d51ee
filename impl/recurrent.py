"""The recurrent view of the diagonal (S4D) and EMA (Mega) systems, in PyTorch
(docs/recurrent.md): one step of each recurrence, and the diagonal system run over a chunk from
an initial state.

    diag_step:  h' = Ā ⊙ h + B̄·u,        y = f·Re(Σ_n C_n h'_n)
    ema_step:   h' = q ⊙ h + p·β·x,       y = Σ_n γ_n √(1/ndim) h'_n
    diag_ssm:   y[t] = (K * u)[t] + f·Re(Σ_n C_n Ā_n^{t+1} h0_n)
                h_L  = Ā^L ⊙ h0 + Σ_s Ā^{L−1−s} B̄ u_s

(Ā, B̄) are exactly diag_kernel's (`zoh`, `bilinear`, `zoh_approx`, Δ = exp(log_dt) per channel),
K is diag_kernel's, f = 2 under conj_half (for real Λ too, S4's convention), else 1. So the
impulse response of `diag_step` from h = 0 is K, and `diag_ssm` is the step run over a sequence.
The EMA's p = σ(δ), q = 1 − σ(δ)σ(α) are ema_kernel's (docs/kernels.md#ema_kernel;
Mega's `one_step`).

Numerics:
- Per-state coefficients (Ā, B̄, log Ā; p·β, q) are computed in float64/complex128 from the
  exactly converted inputs, as the kernels do, then rounded once to the working format. The
  EMA's q = σ(−δ) + σ(δ)σ(−α) directly (no cancellation of 1 − p·a, and not exp(log q), whose
  relative error |log q|·u grows as q → 0; q = 0 exactly when both terms underflow).
- `diag_ssm` has no loop over L: y is diag_kernel + FFT convolution (`causal_conv`), plus the
  state's free response Re Σ_n (C_n Ā_n h0_n)·Ā_n^t evaluated as a chunked Vandermonde product
  (the kernels' `vandermonde`: powers exp(l·log Ā) formed in float64 from log Ā, never a rounded
  Ā raised to l); the final state's Σ_s Ā^{L−1−s} u_s is the same split l = c·T + j, T = ⌈√L⌉,
  as two contractions: memory O(batch·H·N·√L).
- fp16/bf16 (ema_step) are computed in fp32 and rounded once.

Chunked state passing: running `diag_ssm` on u[..., :k] and then on u[..., k:] from the first
call's final state gives the same y and final state as one call on u (within rounding).
"""

from __future__ import annotations

import math

import torch

from ssmspec.impl import _validate as v
from ssmspec.impl.convolution import causal_conv
from ssmspec.impl.kernels import (
    check_diag,
    check_ema,
    diag_kernel,
    discretize_wide,
    powers,
    vandermonde,
)

METHODS = ("zoh", "bilinear", "zoh_approx")


def _check_state(name: str, x, like: torch.Tensor, shape: tuple, what: str):
    v.tensor(name, x)
    if x.dtype != like.dtype:
        raise TypeError(f"{name}: expected dtype {like.dtype} (that of Lambda), got {x.dtype}")
    v.same_device(name, x, "Lambda", like)
    v.shape(name, x, shape, what)


def _check_real_input(name: str, x, like: torch.Tensor, ref_name: str, shape: tuple, what: str):
    v.tensor(name, x)
    rdt = v.real_dtype(like.dtype)
    if x.is_complex() or x.dtype != rdt:
        raise TypeError(f"{name}: expected dtype {rdt} (the real dtype of {ref_name}), "
                        f"got {x.dtype}")
    v.same_device(name, x, ref_name, like)
    v.shape(name, x, shape, what)


def diag_step(Lambda: torch.Tensor, B: torch.Tensor, C: torch.Tensor, log_dt: torch.Tensor,
              state: torch.Tensor, u: torch.Tensor, method: str = "zoh",
              conj_half: bool = True) -> tuple[torch.Tensor, torch.Tensor]:
    """One step of the diagonal SSM: h' = Ā h + B̄ u, y = f·Re(Σ_n C_n h'_n).

    Lambda, B, C: (H, N) complex (or real, S4D-Real); log_dt: (H,), Lambda's real dtype;
    state: (batch, H, N), Lambda's dtype; u: (batch, H), Lambda's real dtype; method: 'zoh' |
    'bilinear' | 'zoh_approx'; conj_half: f = 2 if True else 1.
    Returns (state' (batch, H, N) Lambda's dtype, y (batch, H) Lambda's real dtype).
    """
    check_diag(Lambda, B, C, log_dt, 1, method, conj_half)
    H, N = Lambda.shape
    if not isinstance(state, torch.Tensor) or state.ndim != 3:
        v.tensor("state", state)
        raise ValueError(f"state: expected shape (batch, {H}, {N}), got {tuple(state.shape)}")
    batch = state.shape[0]
    _check_state("state", state, Lambda, (batch, H, N), "(batch, H, N)")
    _check_real_input("u", u, Lambda, "Lambda", (batch, H), "(batch, H)")
    work = v.work_dtype(Lambda.dtype)
    abar, bbar, _, _ = discretize_wide(Lambda, B, log_dt, method)
    h = abar.to(work) * state.to(work) + bbar.to(work) * u.to(work)[..., None]
    y = (C.to(work) * h).sum(-1)
    y = y.real if y.is_complex() else y
    if conj_half:
        y = y + y  # exact
    return h.to(Lambda.dtype), y.to(v.real_dtype(Lambda.dtype))


def ema_step(delta: torch.Tensor, alpha: torch.Tensor, beta: torch.Tensor, gamma: torch.Tensor,
             state: torch.Tensor, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """One step of Mega's damped EMA (its incremental decoding, `MultiHeadEMA.one_step`):

        h' = q ⊙ h + p·β·x,   y = Σ_n γ_n √(1/ndim) h'_n,   p = σ(δ), q = 1 − σ(δ)σ(α)

    delta, alpha, beta: (D, ndim, 1) real; gamma: (D, ndim); state: (batch, D, ndim); x:
    (batch, D); all delta's dtype (fp64, fp32, fp16, bf16). Returns (state', y (batch, D)).
    """
    check_ema(delta, alpha, beta, gamma, 1)
    D, n = gamma.shape
    if not isinstance(state, torch.Tensor) or state.ndim != 3:
        v.tensor("state", state)
        raise ValueError(f"state: expected shape (batch, {D}, {n}), got {tuple(state.shape)}")
    batch = state.shape[0]
    for name, t, shape, what in (("state", state, (batch, D, n), "(batch, D, ndim)"),
                                 ("x", x, (batch, D), "(batch, D)")):
        v.beside(name, t, "delta", delta, shape, what)
    work = v.work_dtype(delta.dtype)
    d64, a64 = delta.to(torch.float64)[..., 0], alpha.to(torch.float64)[..., 0]
    p = torch.sigmoid(d64)
    # q = σ(−δ) + σ(δ)σ(−α): both terms positive, no cancellation, and no exp(log q), whose
    # relative error |log q|·u grows as q → 0; q = 0 exactly (both σ underflow) resets the state
    q = torch.sigmoid(-d64) + p * torch.sigmoid(-a64)
    pb = (p * beta.to(torch.float64)[..., 0]).to(work)
    h = q.to(work) * state.to(work) + pb * x.to(work)[..., None]
    y = (h * (gamma.to(torch.float64) * math.sqrt(1.0 / n)).to(work)).sum(-1)
    return h.to(delta.dtype), y.to(delta.dtype)


def _final_state_sum(u: torch.Tensor, w: torch.Tensor, negative, work: torch.dtype):
    """Σ_s Ā^{L−1−s} u_s for u (batch, H, L), w = log Ā (H, N): (batch, H, N) in `work`.

    With ur = flip(u) and j = L−1−s = c·T + i: Σ_c Ā^{cT} (Σ_i ur[cT + i] Ā^i); both power
    tables come from float64 w, rounded once to `work`.
    """
    batch, H, L = u.shape
    T = max(1, math.isqrt(L - 1) + 1) if L > 1 else 1
    nc = -(-L // T)
    dev = u.device
    inner = powers(w, torch.arange(T, dtype=torch.float64, device=dev), negative)  # (H, N, T)
    anchor = powers(w, torch.arange(nc, dtype=torch.float64, device=dev) * T, negative)
    ur = torch.nn.functional.pad(u.flip(-1).to(work), (0, nc * T - L)).reshape(batch, H, nc, T)
    if inner.is_complex():
        ur = ur.to(work if work.is_complex else torch.complex64)
    inner, anchor = inner.to(ur.dtype), anchor.to(ur.dtype)
    # (H, batch·nc, T) @ (H, T, N): one batched matmul over the channels
    part = torch.bmm(ur.permute(1, 0, 2, 3).reshape(H, batch * nc, T), inner.transpose(1, 2))
    part = part.reshape(H, batch, nc, -1)  # (H, batch, nc, N)
    return torch.einsum("hbcn,hnc->bhn", part, anchor)


def diag_ssm(u: torch.Tensor, Lambda: torch.Tensor, B: torch.Tensor, C: torch.Tensor,
             log_dt: torch.Tensor, state: torch.Tensor | None = None, method: str = "zoh",
             conj_half: bool = True) -> tuple[torch.Tensor, torch.Tensor]:
    """The diagonal SSM run over a chunk u from an initial state h0 (None: zeros):

        y[t] = Σ_{s≤t} K[t−s] u[s] + f·Re(Σ_n C_n Ā_n^{t+1} h0_n)
        final_state = Ā^L h0 + Σ_s Ā^{L−1−s} B̄ u_s

    u: (batch, H, L), Lambda's real dtype; Lambda, B, C: (H, N); log_dt: (H,); state:
    (batch, H, N), Lambda's dtype, or None. Returns (y (batch, H, L) Lambda's real dtype,
    final_state (batch, H, N) Lambda's dtype). K is diag_kernel(Lambda, B, C, log_dt, L, method,
    conj_half); (Ā, B̄) are its discretisation.
    """
    check_diag(Lambda, B, C, log_dt, 1, method, conj_half)
    H, N = Lambda.shape
    v.tensor("u", u)
    if u.ndim != 3 or u.shape[1] != H or u.shape[2] < 1:
        raise ValueError(f"u: expected shape (batch, {H}, L) with L >= 1, got {tuple(u.shape)}")
    _check_real_input("u", u, Lambda, "Lambda", tuple(u.shape), "(batch, H, L)")
    batch, _, L = u.shape
    if state is not None:
        _check_state("state", state, Lambda, (batch, H, N), "(batch, H, N)")
    work = v.work_dtype(Lambda.dtype)
    rwork = v.real_dtype(work)
    K = diag_kernel(Lambda, B, C, log_dt, L, method=method, conj_half=conj_half)
    y = causal_conv(u.to(rwork), K.to(rwork))
    abar, bbar, w, negative = discretize_wide(Lambda, B, log_dt, method)
    final = bbar.to(work) * _final_state_sum(u, w, negative, work)
    if state is not None:
        h0 = state.to(abar.dtype)
        # free response Re Σ_n (C_n Ā_n h0_n)·Ā_n^t, t < L: one Vandermonde per (batch, h)
        W = (C.to(abar.dtype) * abar * h0).reshape(batch * H, N)
        ww = w.repeat(batch, 1)
        neg = negative.repeat(batch, 1) if negative is not None else None
        free = vandermonde(W, ww, L, work, neg).reshape(batch, H, L).to(rwork)
        y = y + (free + free if conj_half else free)
        last = torch.tensor([float(L)], dtype=torch.float64, device=u.device)
        final = final + (powers(w, last, negative)[..., 0] * h0).to(work)
    return y.to(v.real_dtype(Lambda.dtype)), final.to(Lambda.dtype)

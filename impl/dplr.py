"""The NPLR/DPLR (S4) convolution kernel and its recurrent step, in PyTorch (docs/dplr.md).

Per channel h, with R ≥ 1 ranks (S4's LegS: R = 1, Q = P):

    A = diag(Λ) − Σ_r P_r Q_r^H,   Δ = exp(log_dt),
    Ā = (I − Δ/2·A)⁻¹ (I + Δ/2·A),   B̄ = (I − Δ/2·A)⁻¹ Δ·B             (bilinear, §2)
    K[l] = Re Σ_n C_n (Ā^l B̄)_n            (C not conjugated, as `diag_kernel`)

conj_half=True: the N stored states are one of each conjugate pair of the real 2N-state system
Λ_f = [Λ, Λ̄], P_f = [P, P̄], Q_f = [Q, Q̄], B_f = [B, B̄], C_f = [C, C̄] (K is real; with P = 0
it is diag_kernel(..., 'bilinear', conj_half=True) = 2·Re Σ over the stored half).
conj_half=False: the N states are the whole system.

Kernel algorithm (§5): with ω_k = exp(−2πik/L), g(ω) = (2/Δ)(1 − ω)/(1 + ω),

    C̃ = (I − Ā^L)ᵀ C
    K̂(ω) = 2/(1 + ω) · (k(C̃,B) − k(C̃,P)·(I + k(Q̄,P))⁻¹·k(Q̄,B)),  k(x,y) = Σ_n x_n y_n/(g − Λ_n)
    K̂(−1) = (Δ/2)·Σ_n C̃_n B_n                 (the exact limit of the 0·∞ at ω = −1, L even)
    K = irfft of the Hermitian part of K̂

- Everything but the squarings that form C̃ (see below) runs in float64/complex128 from the
  exactly converted inputs and is rounded once to the output format, so its error is the
  output's rounding plus C̃'s (perf/test_perf_dplr.py measures it against a naive all-complex64
  transcription, both against the complex128 Krylov kernel).
- No ω is ever formed. On the unit circle (1 − ω)/(1 + ω) = −i·tan(θ/2), so g = −(2i/Δ)·τ_k and
  2/(1 + ω) = 1 − i·τ_k with τ_k = tan(−πk/L) taken from the integer k directly (through the
  cotangent of the complementary angle past π/4, so τ has relative error ~u even next to the
  pole at k = L/2). 1/(g − Λ_n) = (−Re Λ_n − i·d)/(Re Λ_n² + d²) with d = Im g − Im Λ_n: one real
  reciprocal per (state, frequency), and the sums are real batched matmuls (H, 2J, 2N) @
  (H, 2N, chunk) with J = (1 + R)² weight vectors, chunked over the frequencies so memory stays
  O(H·N·chunk) (no (H, N, L) tensor).
- Conjugate half: 1/(g_k − Λ̄_n) = conj(1/(g_{−k} − Λ_n)) because g is imaginary, so the sums
  over the conjugate members at frequency k are the conjugates of the stored sums at −k: the
  Cauchy work is H·N·L whatever conj_half is.
- C̃ needs Ā^L: the dense Ā of the full system in its real basis (conj_half: a real 2N×2N matrix
  on (Re h, Im h)) or complex N×N, powered by repeated squaring in the offset form F ← 2F + F²
  (F = Ā^{2^j} − I), with F₀ = Ā − I = Δ·Λ/(1 − ΔΛ/2) − 2(P'/m)W⁻¹(Q^H/m) written without
  cancellation against I. The offset form keeps I − Ā^L accurate relative to itself when Ā^L ≈ I
  (slow decay), where plain squaring loses everything to the subtraction. Cost H·n³·log₂L, the
  one part run in the working precision: float32 squarings for a complex64 kernel (twice as fast;
  the bound's m_C term is exactly the error of powering Ā in the working format), float64 for
  complex128. F₀ itself and everything after C̃ stay in float64/complex128.
- 1 + k(Q̄, P) vanishes only where g(ω) is an eigenvalue of A (det(g − A) = det(g − Λ)·det(1 +
  k(Q̄, P))): on the unit circle g is imaginary, so a stable A (all Re eig < 0) never hits it; the
  strategies draw dissipative A (A + A^H < 0), for which Ā is a contraction.

dplr_step (the real 2N system under conj_half): h' = Ā h + B̄ u, y = Re(C_f·h'_f) (2·Re over
the stored half), computed as x = (I + Δ/2·A)h + Δ·B·u, h' = (I − Δ/2·A)⁻¹x by Woodbury:
(I − Δ/2·A)⁻¹ = diag(d) − diag(d)·(Δ/2)P·W⁻¹·Q^H·diag(d), d = 1/(1 − ΔΛ/2), W = I + (Δ/2)Q^H d P
(R×R). Under conj_half Q_f^H h_f = 2·Re(Q^H h): the low-rank term couples each stored state with
its conjugate. O(N·R) per step and channel, in complex128, rounded once.
"""

from __future__ import annotations

import math

import torch

from ssmspec.impl import _validate as v

CHUNK_ELEMENTS = 1 << 18  # H·N·chunk per float64 half-buffer of the Cauchy sums (2 MiB)


# --- argument checks ----------------------------------------------------------------------------


def _check_system(Lambda, P, Q, B, C, log_dt):
    v.tensor("Lambda", Lambda)
    if not Lambda.is_complex():
        raise TypeError(f"Lambda: expected a complex dtype (complex64/complex128), got "
                        f"{Lambda.dtype}")
    if Lambda.ndim != 2 or Lambda.shape[-1] < 1:
        raise ValueError(f"Lambda: expected shape (H, N) with N >= 1, got {tuple(Lambda.shape)}")
    H, N = Lambda.shape
    v.beside("P", P, "Lambda", Lambda)
    if P.ndim != 3 or P.shape[0] < 1 or tuple(P.shape[1:]) != (H, N):
        raise ValueError(f"P: expected shape (R, {H}, {N}) with R >= 1, got {tuple(P.shape)}")
    v.beside("Q", Q, "Lambda", Lambda, P.shape, "(that of P: the same rank R)")
    v.like("B", B, "Lambda", Lambda)
    v.like("C", C, "Lambda", Lambda)
    v.real_of("log_dt", log_dt, "Lambda", Lambda, (H,), "(one per channel)")


def widened(Lambda, P, Q, B, C, log_dt):
    c = torch.complex128
    return (Lambda.to(c), P.to(c), Q.to(c), B.to(c), C.to(c),
            torch.exp(log_dt.to(torch.float64)))


def full_states(x: torch.Tensor, conj_half: bool) -> torch.Tensor:
    return torch.cat([x, x.conj()], dim=-1) if conj_half else x


# --- C̃ = (I − Ā^L)ᵀ C -------------------------------------------------------------------------


def abar_minus_identity(lam, P, Q, dt):
    """F₀ = Ā − I (H, n, n) complex128 of A = diag(Λ) − Σ_r P_r Q_r^H, without cancellation:
    Ā − I = 2M⁻¹ − 2I, M = I − Δ/2·A = diag(m) + P'Q^H, m = 1 − ΔΛ/2, P' = (Δ/2)P."""
    half = dt[:, None] / 2
    m = 1 - half * lam
    Pm = (half * P / m).permute(1, 2, 0)  # (H, n, R): P'/m
    Qh = Q.conj().permute(1, 0, 2)  # (H, R, n)
    W = torch.eye(P.shape[0], dtype=lam.dtype, device=lam.device) + Qh @ Pm
    X = torch.linalg.solve(W, Qh / m[:, None, :])  # W⁻¹ Q^H / m
    return torch.diag_embed(dt[:, None] * lam / m) - 2 * (Pm @ X)


def _real_form(F_full: torch.Tensor) -> torch.Tensor:
    """The real 2N×2N matrix of the real-linear map h ↦ F11 h + F12 h̄ on x = (Re h, Im h)."""
    N = F_full.shape[-1] // 2
    S = F_full[..., :N, :N] + F_full[..., :N, N:]
    D = F_full[..., :N, :N] - F_full[..., :N, N:]
    return torch.cat([torch.cat([S.real, -D.imag], -1), torch.cat([S.imag, D.real], -1)], -2)


def c_tilde(lam, P, Q, C, dt, L: int, conj_half: bool,
            work: torch.dtype = torch.float64) -> torch.Tensor:
    """C̃ = (I − Ā^L)ᵀ C on the stored states, (H, N) complex128 (see the module docstring).

    F₀ = Ā − I is formed in float64; the squarings run in `work` (float64, or float32 for a
    complex64 kernel: the O(n³ log L) part, and the bound's m_C term admits powering Ā in the
    working format)."""
    F = abar_minus_identity(*(full_states(x, conj_half) for x in (lam, P, Q)), dt)
    if conj_half:
        F = _real_form(F)
        # 2·Re(Cᵀh) = c_r·x with x = (Re h, Im h)
        c = torch.cat([2 * C.real, -2 * C.imag], dim=-1)[:, None, :]
    else:
        c = C[:, None, :]
    cw = torch.complex64 if work == torch.float32 else torch.complex128
    F = F.to(cw if F.is_complex() else work)
    c = c.to(F.dtype)
    y = torch.zeros_like(c)  # c·(Ā^a − I) for the bits of L consumed so far
    bits = L
    while True:
        if bits & 1:
            y = y + c @ F + y @ F
        bits >>= 1
        if not bits:
            break
        F = torch.baddbmm(F, F, F, beta=2)  # F ← 2F + F²: Ā^{2a} − I
    y = -y[:, 0, :].to(torch.complex128 if y.is_complex() else torch.float64)  # c·(I − Ā^L)
    if conj_half:
        N = C.shape[-1]
        return torch.complex(y[:, :N], -y[:, N:]) / 2
    return y


# --- the spectrum --------------------------------------------------------------------------------


def half_angle_tan(L: int, device) -> torch.Tensor:
    """τ_k = tan(−πk/L) for k = 0 … L−1 (float64), relative error ~u; τ_{L/2} = inf (L even)."""
    k = torch.arange(L, dtype=torch.float64, device=device)
    j = torch.where(k < L / 2, k, k - L)  # −L/2 < j ≤ L/2, τ_k = −tan(πj/L)
    a = j.abs()
    direct = torch.tan(math.pi * a / L)
    # past π/4: tan(x) = 1/tan(π/2 − x), with π/2 − x = π(L − 2|j|)/(2L) exact in the integers
    comp = 1 / torch.tan(math.pi * (L - 2 * a) / (2 * L))
    t = torch.where(4 * a <= L, direct, comp)
    return -torch.sign(j) * t


def _cauchy_sums(lam, W, dt, tau, chunk: int):
    """S[h, j, k] = Σ_n W[h, j, n] / (g_k − Λ[h, n]), g_k = −(2i/Δ_h)·τ_k; (H, J, K) complex128.

    Real arithmetic: 1/(g − Λ) = (−α − i·d)/(α² + d²), α = Re Λ, d = Im g − Im Λ.
    """
    H, J, N = W.shape
    alpha, beta = lam.real[..., None], lam.imag[..., None]
    Wr = torch.cat([torch.cat([-alpha[..., 0][:, None] * W.real, W.imag], -1),
                    torch.cat([-alpha[..., 0][:, None] * W.imag, -W.real], -1)], 1)  # (H, 2J, 2N)
    sig = (-2 / dt)[:, None] * tau[None, :]  # Im g, (H, K)
    out = torch.empty((H, 2 * J, tau.shape[0]), dtype=torch.float64, device=lam.device)
    buf = torch.empty((H, 2 * N, min(chunk, tau.shape[0])), dtype=torch.float64, device=lam.device)
    a2 = alpha * alpha
    for s in range(0, tau.shape[0], chunk):
        c = min(chunk, tau.shape[0] - s)
        inv, d = buf[:, :N, :c], buf[:, N:, :c]  # one buffer, no concatenation per chunk
        torch.sub(sig[:, None, s:s + c], beta, out=d)
        torch.addcmul(a2, d, d, out=inv).reciprocal_()
        d.mul_(inv)
        torch.bmm(Wr, buf[:, :, :c], out=out[:, :, s:s + c])
    return torch.complex(out[:, :J], out[:, J:])


def spectrum(lam, P, Q, B, Ct, dt, L: int, conj_half: bool) -> torch.Tensor:
    """The Hermitian half-spectrum (H, L//2 + 1) complex128 of K (see the module docstring)."""
    H, N = lam.shape
    R = P.shape[0]
    Pk, Qc = P.permute(1, 0, 2), Q.conj().permute(1, 0, 2)  # (H, R, N)
    left = torch.cat([Ct[:, None], Qc], dim=1)  # (H, 1 + R, N): C̃, Q̄_r
    right = torch.cat([B[:, None], Pk], dim=1)  # (H, 1 + R, N): B, P_s
    W = (left[:, :, None, :] * right[:, None, :, :]).reshape(H, (1 + R) ** 2, N)
    tau = half_angle_tan(L, lam.device)
    finite = torch.isfinite(tau)
    chunk = max(1, CHUNK_ELEMENTS // max(1, H * N))
    S = torch.zeros((H, (1 + R) ** 2, L), dtype=torch.complex128, device=lam.device)
    S[..., finite] = _cauchy_sums(lam, W, dt, tau[finite], chunk)
    if conj_half:  # the conjugate members at k are the conjugated stored sums at −k
        S = S + torch.roll(torch.flip(S, [-1]), 1, -1).conj()
    S = S.reshape(H, 1 + R, 1 + R, L)
    a, b, c = S[:, 0, 0], S[:, 0, 1:], S[:, 1:, 0]  # (H, L), (H, R, L), (H, R, L)
    D = torch.eye(R, dtype=S.dtype, device=S.device)[..., None] + S[:, 1:, 1:]
    if R == 1:
        corr = b[:, 0] * c[:, 0] / D[:, 0, 0]
    else:
        x = torch.linalg.solve(D.permute(0, 3, 1, 2), c.permute(0, 2, 1)[..., None])[..., 0]
        corr = (b.permute(0, 2, 1) * x).sum(-1)
    Khat = torch.complex(torch.ones_like(tau), -tau)[None] * (a - corr)
    if L % 2 == 0:  # ω = −1: the limit (Δ/2)·Σ C̃_n B_n over the full system
        lim = (Ct * B).sum(-1)
        lim = 2 * lim.real if conj_half else lim
        Khat[:, L // 2] = dt / 2 * lim
    if not conj_half:  # Re(ifft X) is the irfft of the Hermitian part of X
        Khat = (Khat + torch.roll(torch.flip(Khat, [-1]), 1, -1).conj()) / 2
    return Khat[:, :L // 2 + 1]


def dplr_kernel(Lambda: torch.Tensor, P: torch.Tensor, Q: torch.Tensor, B: torch.Tensor,
                C: torch.Tensor, log_dt: torch.Tensor, L: int,
                conj_half: bool = True) -> torch.Tensor:
    """The NPLR/DPLR (S4) kernel K (H, L), real.

    Lambda: (H, N) complex64/complex128; P, Q: (R, H, N), Lambda's dtype (A = diag(Λ) − Σ_r P_r
    Q_r^H); B, C: (H, N), Lambda's dtype; log_dt: (H,), Lambda's real dtype (Δ = exp(log_dt));
    L >= 1; conj_half: the stored states are one of each conjugate pair (True) or the whole
    system (False). Takes the true C (computes C̃ for this L). Returns Lambda's real dtype.
    """
    _check_system(Lambda, P, Q, B, C, log_dt)
    L = v.positive_int("L", L)
    v.flag("conj_half", conj_half)
    lam, p, q, b, c, dt = widened(Lambda, P, Q, B, C, log_dt)
    Ct = c_tilde(lam, p, q, c, dt, L, conj_half, v.real_dtype(Lambda.dtype))
    K = torch.fft.irfft(spectrum(lam, p, q, b, Ct, dt, L, conj_half), n=L)
    return K.to(v.real_dtype(Lambda.dtype))


# --- the recurrent step -------------------------------------------------------------------------


def _check_step(Lambda, state, u):
    H, N = Lambda.shape
    v.beside("state", state, "Lambda", Lambda)
    if state.ndim != 3 or tuple(state.shape[1:]) != (H, N):
        raise ValueError(f"state: expected shape (batch, {H}, {N}), got {tuple(state.shape)}")
    v.tensor("u", u)
    rdt = v.real_dtype(Lambda.dtype)
    if u.is_complex() or u.dtype != rdt:
        raise TypeError(f"u: expected dtype {rdt} (the real dtype of Lambda), got {u.dtype}")
    v.same_device("u", u, "Lambda", Lambda)
    v.shape("u", u, (state.shape[0], H), "(batch, H)")


def _low_rank(Qc, x, conj_half: bool):
    """Q_f^H x_f per rank, (batch, H, R): 2·Re(Q^H x) under conj_half."""
    t = torch.einsum("rhn,bhn->bhr", Qc, x)
    return torch.complex(2 * t.real, torch.zeros_like(t.real)) if conj_half else t


def dplr_step(Lambda: torch.Tensor, P: torch.Tensor, Q: torch.Tensor, B: torch.Tensor,
              C: torch.Tensor, log_dt: torch.Tensor, state: torch.Tensor, u: torch.Tensor,
              conj_half: bool = True):
    """One step of the bilinear DPLR recurrence: (state' (batch, H, N), y (batch, H)).

    h' = Ā h + B̄ u, y = Re(C_f·h'_f) (2·Re(C·h') under conj_half), so that from h = 0 the
    impulse response of the step is dplr_kernel's K[0], K[1], …. Arguments as dplr_kernel, plus
    state: (batch, H, N), Lambda's dtype (the stored half under conj_half) and u: (batch, H),
    Lambda's real dtype. Returns state' in Lambda's dtype and y in its real dtype.
    """
    _check_system(Lambda, P, Q, B, C, log_dt)
    _check_step(Lambda, state, u)
    v.flag("conj_half", conj_half)
    lam, p, q, b, c, dt = widened(Lambda, P, Q, B, C, log_dt)
    h, uw = state.to(torch.complex128), u.to(torch.float64)
    half = (dt / 2)[:, None]
    Qc = q.conj()
    x = ((1 + half * lam) * h - half * torch.einsum("rhn,bhr->bhn", p, _low_rank(Qc, h, conj_half))
         + (dt[:, None] * b) * uw[..., None])
    d = 1 / (1 - half * lam)
    # W = I + (Δ/2)·Q_f^H diag(d_f) P_f, R×R per channel (real under conj_half)
    Wm = torch.einsum("rhn,hn,shn->hrs", Qc, d, p)
    Wm = torch.complex(2 * Wm.real, torch.zeros_like(Wm.real)) if conj_half else Wm
    Wm = torch.eye(p.shape[0], dtype=Wm.dtype, device=Wm.device) + half[..., None] * Wm
    dx = d * x
    t = torch.linalg.solve(Wm[None], _low_rank(Qc, dx, conj_half)[..., None])[..., 0]
    new = dx - half * d * torch.einsum("rhn,bhr->bhn", p, t)
    y = (c * new).sum(-1)
    y = 2 * y.real if conj_half else y.real
    return new.to(state.dtype), y.to(u.dtype)

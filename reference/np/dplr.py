"""The NPLR/DPLR (S4) kernel and its recurrent step in complex128 (docs/dplr.md),
and the magnitudes of the kernel's error bound (docs/error-model.md).

Definitions (the same as `ssmspec.reference.mp.dplr`). Per channel h, with R ranks:

    A = diag(Λ) − Σ_r P_r Q_r^H,   Δ = exp(log_dt),
    Ā = (I − Δ/2·A)⁻¹ (I + Δ/2·A),   B̄ = (I − Δ/2·A)⁻¹ Δ·B          (bilinear, §2)
    K[l] = Re Σ_n C_n (Ā^l B̄)_n     (C not conjugated)

Under conj_half the stored N states are one of each conjugate pair and the system is the full 2N
one, Λ_f = [Λ, Λ̄], P_f = [P, P̄], Q_f = [Q, Q̄], B_f = [B, B̄], C_f = [C, C̄] (K is then real
by symmetry: 2·Re of the stored half when P = 0). The kernel here is the dense Krylov kernel:
Ā by `numpy.linalg.solve` of the dense full system, then the Krylov vectors Ā^l B̄ by doubling
(`krylov`: the block of the first m vectors times (Ā^m)ᵀ gives the next m, Ā^m by squaring), a
few channels at a time: n_f²·L work per channel as matrix products, O(n_f·L) memory per chunk.
Its error grows like l·u·‖Ā‖, far below the fp32 bound; certified against mpmath in
tests/test_reference_dplr.py.

Bound magnitudes (`kernel_bound_terms`): see `ssmspec.specs.dplr` for the reasoning. In the
frequency domain, ω_k = exp(−2πik/L) from a float64 angle, with the continuous forms

    q_n = Δ / ((1 − ω) − (1 + ω)(Δ/2)Λ_n)     (= 2/(1+ω) · 1/(g(ω) − Λ_n), finite at ω = −1)
    p_n = (1 + ω)/2 · q_n                      (= 1/(g(ω) − Λ_n))
    K̂ = Σ C̃ B q − (Σ C̃ P p)ᵀ D⁻¹ (Σ Q̄ B q),   D = I + [Σ_n Q̄_r P_s p]_{rs}

the first-order error magnitudes per frequency are
- m1: the Cauchy sums and the R×R Woodbury solve on absolute values, each state weighted by
  |q_n|·(1 + κ_n) (or |p_n|·(1 + κ_n)), κ_n = (|1 − ω| + |1 + ω|·|ΔΛ_n|/2)·|q_n|/Δ the condition
  of the denominator (which cancels near resonance, g(ω) ≈ Λ_n);
- m_C: the error of C̃ = (I − Ā^L)ᵀC, Σ_n τ_n |ζ_n| with ζ the resolvent vector (K̂ = C̃ᵀζ) and
  τ = (n_f + log₂L)·|F|ᵀ|C| + L·‖Ā − I‖₂·‖Ā^{L−1}‖₂·‖C‖₂, F = Ā^L − I (the powering's condition:
  a power a^L of a rounded a = 1 + f moves by L·|f|·|a|^{L−1}·u);
- m_ω: |ω·dK̂/dω|, the effect of a relative error u in ω (ω rounded to the working format, or the
  equivalent relative error u in Δ): dK̂/dω = (1/Δ)·ψᵀ(I + Δ/2·A)ζ, ψ the left resolvent vector;
  on absolute values per state it also bounds (×2) a relative error u in every denominator;
- for the gated bound: m1 without κ (`m1_plain`), and per channel ‖|F|ᵀ|C_f|‖₂, L·‖Ā − I‖₂·
  ‖Ā^{L−1}‖₂·‖C_f‖₂ and σ_V, the largest singular value of the Krylov matrix (from its Gram
  matrix Σ_l v_l v_lᴴ), which carries a C̃ error into the time domain (`KernelBoundTerms`).
All are computed a few channels at a time, as (channels, L, n_f) arrays.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


def full_system(Lambda, P, Q, B, C, conj_half: bool):
    """(Λ_f (H, n), P_f, Q_f (R, H, n), B_f, C_f (H, n)) with n = 2N under conj_half, else N."""
    arrs = [np.asarray(x, dtype=np.complex128) for x in (Lambda, P, Q, B, C)]
    if conj_half:
        arrs = [np.concatenate([x, np.conj(x)], axis=-1) for x in arrs]
    return tuple(arrs)


def dense_a(Lambda_f, P_f, Q_f) -> np.ndarray:
    """A = diag(Λ) − Σ_r P_r Q_r^H, (H, n, n)."""
    A = np.zeros(Lambda_f.shape + Lambda_f.shape[-1:], dtype=np.complex128)
    idx = np.arange(Lambda_f.shape[-1])
    A[:, idx, idx] = Lambda_f
    return A - np.einsum("rhi,rhj->hij", P_f, np.conj(Q_f))


def bilinear(A, B_f, log_dt):
    """(Ā (H, n, n), B̄ (H, n), Δ (H,)) of the bilinear discretisation, by dense solves."""
    dt = np.exp(np.asarray(log_dt, dtype=np.float64))
    eye = np.eye(A.shape[-1])
    M = eye - dt[:, None, None] / 2 * A
    abar = np.linalg.solve(M, eye + dt[:, None, None] / 2 * A)
    bbar = np.linalg.solve(M, (dt[:, None] * B_f)[..., None])[..., 0]
    return abar, bbar, dt


def krylov(abar: np.ndarray, bbar: np.ndarray, L: int) -> np.ndarray:
    """V (H, L, n) complex128, V[:, l] = Ā^l B̄, by doubling: V[:, m:2m] = V[:, :m]·(Ā^m)ᵀ with
    Ā^m from repeated squaring (n²·L work per channel as matrix products; the error of Ā^(2^j)
    grows like j·u·‖Ā^(2^j)‖, as the l·u of the step-by-step recurrence)."""
    V = np.empty(bbar.shape[:1] + (L,) + bbar.shape[1:], dtype=np.complex128)
    V[:, 0] = bbar
    power_t, m = np.swapaxes(abar, -1, -2).copy(), 1  # (Ā^m)ᵀ
    while m < L:
        w = min(m, L - m)
        V[:, m:m + w] = V[:, :w] @ power_t
        m += w
        if m < L:
            power_t = power_t @ power_t
    return V


def _channel_chunks(H: int, per_channel: int, budget: int = 1 << 23):
    """Slices over H channels with about `budget` elements of per-channel work each."""
    step = max(1, budget // max(1, per_channel))
    return [slice(s, min(H, s + step)) for s in range(0, H, step)]


def dplr_kernel(Lambda, P, Q, B, C, log_dt, L: int, conj_half: bool = True) -> np.ndarray:
    """K (H, L) float64: the dense Krylov kernel Re(C_f Ā^l B̄) of the full system (`krylov`,
    a few channels at a time so that memory stays O(n·L) per channel chunk)."""
    lam, P_f, Q_f, B_f, C_f = full_system(Lambda, P, Q, B, C, conj_half)
    abar, bbar, _ = bilinear(dense_a(lam, P_f, Q_f), B_f, log_dt)
    K = np.empty((lam.shape[0], L))
    for sl in _channel_chunks(lam.shape[0], lam.shape[1] * L):
        K[sl] = np.real(krylov(abar[sl], bbar[sl], L) @ C_f[sl, :, None])[..., 0]
    return K


def dplr_step(Lambda, P, Q, B, C, log_dt, state, u, conj_half: bool = True):
    """(state' (batch, H, N), y (batch, H)): h' = Ā h + B̄ u, y = Re(C_f·h'_f), dense."""
    lam, P_f, Q_f, B_f, C_f = full_system(Lambda, P, Q, B, C, conj_half)
    abar, bbar, _ = bilinear(dense_a(lam, P_f, Q_f), B_f, log_dt)
    h = np.asarray(state, dtype=np.complex128)
    N = h.shape[-1]
    h_f = np.concatenate([h, np.conj(h)], axis=-1) if conj_half else h
    new = np.einsum("hij,bhj->bhi", abar, h_f) + bbar[None] * np.asarray(u)[..., None]
    return new[..., :N], np.real(np.sum(C_f[None] * new, axis=-1))


def step_magnitude(Lambda, P, Q, B, C, log_dt, state, u, conj_half: bool = True):
    """(M_state (batch, H, N), M_y (batch, H)): the structured step on absolute values.

    x = (I + Δ/2·A) h + Δ·B·u on magnitudes, |1| + |ΔΛ|/2 for the diagonal (1 + ΔΛ/2 may cancel);
    then the Woodbury solve (I − Δ/2·A)⁻¹ = D − D P W⁻¹ (Δ/2) Q^H D, D = diag(1/(1 − ΔΛ/2)),
    W = I + Δ/2·Q^H D P, on magnitudes; M_y = |C_f|ᵀ M_state_f.
    """
    lam, P_f, Q_f, B_f, C_f = full_system(Lambda, P, Q, B, C, conj_half)
    dt = np.exp(np.asarray(log_dt, dtype=np.float64))[:, None]
    h = np.asarray(state, dtype=np.complex128)
    N = h.shape[-1]
    ah = np.abs(np.concatenate([h, np.conj(h)], axis=-1) if conj_half else h)
    aP, aQ = np.abs(P_f), np.abs(Q_f)
    x = ((1 + dt * np.abs(lam) / 2) * ah + dt / 2 * np.einsum("rhi,rhj,bhj->bhi", aP, aQ, ah)
         + dt * np.abs(B_f) * np.abs(np.asarray(u))[..., None])
    d = 1 / (1 - dt * lam / 2)
    W = np.eye(P_f.shape[0]) + dt[..., None] / 2 * np.einsum("rhn,hn,shn->hrs", np.conj(Q_f), d,
                                                             P_f)
    Winv = np.abs(np.linalg.inv(W))
    dx = np.abs(d) * x
    t = np.einsum("hrs,shn,bhn->bhr", Winv, aQ, dx)
    m = dx + dt / 2 * np.abs(d) * np.einsum("rhn,bhr->bhn", aP, t)
    return m[..., :N], np.sum(np.abs(C_f)[None] * m, axis=-1)


def _omega_parts(L: int):
    """(ω, 1 − ω, 1 + ω) at the L roots of unity, from float64 angles without cancellation."""
    half = -np.pi * np.arange(L) / L  # θ/2
    s, c = np.sin(half), np.cos(half)
    one_minus = 2 * s * s - 2j * s * c  # 1 − e^{iθ} = −2i·sin(θ/2)·e^{iθ/2}
    one_plus = 2 * c * c + 2j * s * c
    return np.exp(2j * half), one_minus, one_plus


@dataclass
class KernelBoundTerms:
    """The magnitudes of dplr_kernel's bounds (see `ssmspec.specs.dplr`), per channel h.

    Per frequency (H, L), ≥ 0: `m1` the Cauchy sums and the R×R Woodbury quotient on absolute
    values with each state weighted by |q_n|·(1 + κ_n); `m1_plain` the same without κ; `m_c` the
    error of C̃ through the resolvent, Σ_n τ_n·|ζ_n|; `m_w` = Σ_n |ψ_n||ζ_n|·(1 + Δ|Λ_n|/2)/Δ (+ the
    low-rank part), the effect of a relative perturbation of the denominators (ω, Δ, g − Λ_n).
    Per channel (H,): `c_round` = ‖|Ā^L − I|ᵀ|C_f|‖₂, `c_power` = L·‖Ā − I‖₂·‖Ā^(L−1)‖₂·‖C_f‖₂
    (forming C̃ = (I − Ā^L)ᵀC in the working format) and `sigma_v` = σ_max[B̄, ĀB̄, …, Ā^(L−1)B̄],
    which carries an error δC̃ into the time domain: ‖δK‖₂ ≤ ‖δC̃_f‖₂·σ_v (K[l] = Re C̃_fᵀĀ^l B̄
    exactly for l < L, the route's truncation identity).
    """

    m1: np.ndarray
    m1_plain: np.ndarray
    m_c: np.ndarray
    m_w: np.ndarray
    c_round: np.ndarray
    c_power: np.ndarray
    sigma_v: np.ndarray


def kernel_bound_terms(Lambda, P, Q, B, C, log_dt, L: int, conj_half: bool = True,
                       worst_case: bool = True) -> KernelBoundTerms:
    """The bound magnitudes of dplr_kernel (see `KernelBoundTerms`), a few channels at a time
    (memory O(n·L) per channel). `worst_case=False` skips `m1` and `m_c` (None), which only the
    worst-case bound needs."""
    lam, P_f, Q_f, B_f, C_f = full_system(Lambda, P, Q, B, C, conj_half)
    abar, bbar, dt = bilinear(dense_a(lam, P_f, Q_f), B_f, log_dt)
    H, n = lam.shape
    parts = [_chunk_terms(lam[sl], P_f[:, sl], Q_f[:, sl], C_f[sl], B_f[sl], abar[sl],
                          bbar[sl], dt[sl], L, worst_case)
             for sl in _channel_chunks(H, n * L, budget=1 << 21)]
    return KernelBoundTerms(*(None if x[0] is None else np.concatenate(x) for x in zip(*parts)))


def _chunk_terms(lam, P_f, Q_f, C_f, B_f, abar, bbar, dt, L: int, worst_case: bool):
    n = lam.shape[-1]
    eye = np.eye(n)
    last = np.linalg.matrix_power(abar, L - 1)
    power = last @ abar
    F = power - eye
    Ctil = C_f - np.einsum("hji,hj->hi", power, C_f)  # (I − Ā^L)ᵀ C
    absFC = np.einsum("hji,hj->hi", np.abs(F), np.abs(C_f))
    c_power = (L * np.linalg.norm(abar - eye, ord=2, axis=(-2, -1))
               * np.linalg.norm(last, ord=2, axis=(-2, -1)) * np.linalg.norm(C_f, axis=-1))
    tau = (n + np.log2(L)) * absFC + c_power[:, None]
    V = krylov(abar, bbar, L)
    gram = np.swapaxes(V, -1, -2) @ np.conj(V)  # Σ_l v_l v_lᴴ
    sigma_v = np.sqrt(np.maximum(np.linalg.eigvalsh(gram)[:, -1], 0))
    del V
    _, om_m, om_p = _omega_parts(L)
    Dt = dt[:, None, None]
    q = Dt / (om_m[None, :, None] - om_p[None, :, None] * Dt / 2 * lam[:, None, :])  # (h, L, n)
    p = om_p[None, :, None] / 2 * q
    Pk, Qc = np.moveaxis(P_f, 0, 1), np.conj(np.moveaxis(Q_f, 0, 1))  # (h, R, n)
    R = Pk.shape[1]
    # weight vectors of the Cauchy sums: q-weighted [C̃B, Q̄_r B], p-weighted [C̃P_s, Q̄_r P_s]
    Wq = np.concatenate([(Ctil * B_f)[:, None], Qc * B_f[:, None]], 1)  # (h, 1 + R, n)
    Wp = np.concatenate([Ctil[:, None] * Pk, (Qc[:, :, None] * Pk[:, None]).reshape(
        -1, R * R, n)], 1)  # (h, R + R², n)
    sq, sp = q @ np.swapaxes(Wq, -1, -2), p @ np.swapaxes(Wp, -1, -2)
    c, b = sq[..., 1:], sp[..., :R]
    D = np.eye(R) + sp[..., R:].reshape(sp.shape[:2] + (R, R))
    x = np.linalg.solve(D, c[..., None])[..., 0]  # (h, L, R)
    y = np.linalg.solve(np.swapaxes(D, -1, -2), b[..., None])[..., 0]
    aWq, aWp = np.swapaxes(np.abs(Wq), -1, -2), np.swapaxes(np.abs(Wp), -1, -2)
    ax, ay = np.abs(x), np.abs(y)

    def cauchy_and_woodbury(wq, wp):
        tq, tp = wq @ aWq, wp @ aWp
        t4 = np.einsum("hkr,hkrs,hks->hk", ay, tp[..., R:].reshape(tp.shape[:2] + (R, R)), ax)
        return (tq[..., 0] + np.sum(tp[..., :R] * ax, -1) + np.sum(ay * tq[..., 1:], -1) + t4)

    aq = np.abs(q)
    ap = np.abs(om_p)[None, :, None] / 2 * aq
    m1_plain = cauchy_and_woodbury(aq, ap)
    m1 = None
    if worst_case:  # κ_n: the condition of the denominator (1 − ω) − (1 + ω)ΔΛ_n/2
        kappa = 1 + (np.abs(om_m)[None, :, None] + np.abs(om_p)[None, :, None] * Dt
                     * np.abs(lam)[:, None, :] / 2) * aq / Dt
        m1 = cauchy_and_woodbury(aq * kappa, ap * kappa)
        del kappa
    zeta = q * B_f[:, None]  # K̂ = Σ_n C̃_n ζ_n, ζ = q·B − p·Σ_r x_r P_r
    psi = Ctil[:, None] + np.zeros_like(q)  # ψ = q·(C̃ − Σ_r y_r Q̄_r)
    for r in range(R):
        zeta -= p * x[..., r, None] * Pk[:, None, r]
        psi -= y[..., r, None] * Qc[:, None, r]
    psi *= q
    del p
    azeta = np.abs(zeta)
    m_c = (azeta @ tau[..., None])[..., 0] if worst_case else None
    m_w = (np.sum(np.abs(psi) * azeta * (1 + Dt * np.abs(lam)[:, None] / 2), axis=-1)
           + Dt[..., 0] / 2 * np.sum(np.abs(psi @ np.swapaxes(Pk, -1, -2))
                                    * np.abs(zeta @ np.swapaxes(Qc, -1, -2)), -1))
    return (m1, m1_plain, m_c, m_w / Dt[..., 0], np.linalg.norm(absFC, axis=-1),
            c_power, sigma_v)


def kernel_via_woodbury(Lambda, P, Q, B, C, log_dt, L: int, conj_half: bool = True):
    """K (H, L) by the §5 generating-function route in complex128 (a cross-check of the bound's
    algebra, not the reference)."""
    lam, P_f, Q_f, B_f, C_f = full_system(Lambda, P, Q, B, C, conj_half)
    abar, _, dt = bilinear(dense_a(lam, P_f, Q_f), B_f, log_dt)
    Ctil = C_f - np.einsum("hji,hj->hi", np.linalg.matrix_power(abar, L), C_f)
    _, om_m, om_p = _omega_parts(L)
    Dt = dt[:, None, None]
    q = Dt / (om_m[None, :, None] - om_p[None, :, None] * Dt / 2 * lam[:, None, :])
    p = om_p[None, :, None] / 2 * q
    Pk, Qk = np.moveaxis(P_f, 0, 1), np.moveaxis(Q_f, 0, 1)
    b = np.einsum("hn,hrn,hkn->hkr", Ctil, Pk, p)
    c = np.einsum("hrn,hn,hkn->hkr", np.conj(Qk), B_f, q)
    D = np.eye(Pk.shape[1]) + np.einsum("hrn,hsn,hkn->hkrs", np.conj(Qk), Pk, p)
    Khat = np.einsum("hn,hn,hkn->hk", Ctil, B_f, q) - np.einsum(
        "hkr,hkr->hk", b, np.linalg.solve(D, c[..., None])[..., 0])
    return np.real(np.fft.ifft(Khat, axis=-1))

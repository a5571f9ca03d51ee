"""The recurrent view of the diagonal and EMA systems in float64/complex128 (docs/recurrent.md):
the recurrences run step by step, as defined, and the magnitudes and growths of their bounds.

    diag:  h_t = Ā ⊙ h_{t−1} + B̄·u_t,   y_t = f·Re(Σ_n C_n h_t[n])       (h_{−1} = h0)
    EMA:   h_t = q ⊙ h_{t−1} + p·β·x_t,  y_t = Σ_n γ_n √(1/ndim) h_t[n]  (p = σ(δ), q = 1 − p·σ(α))
    layer: y = silu(conv + ω ⊙ x), conv the forward EMA recurrence's output, plus for
           bidirectional the backward one's (run from t = L−1 down): Mega's convention adds it
           at t (lag 0 counted twice), S4's at t + 1 (k_b[j] acts at lag −(j+1)).

(Ā, B̄) by `ssmspec.reference.np.discretization.discretize_diag` with Δ = exp(log_dt) per
channel; q = σ(−δ) + σ(δ)σ(−α), without cancellation. The step loop is the definition: the
kernels and the FFT the implementations use never enter it. Its own error is the sequential
recurrence's, t·u₆₄·M (certified against mpmath in tests/test_reference_recurrent.py).

Magnitudes (docs/error-model.md): each function `*_bound` returns (M, G) per output such that G·M is
the sum of the rounding terms an a-priori analysis admits (see ssmspec/specs/recurrent.py and
ssmspec/specs/ema_layer.py for the reasoning and the constants).
"""

from __future__ import annotations

import numpy as np

from ssmspec.reference.np.discretization import discretize_diag
from ssmspec.reference.np.kernels import (
    abar_sensitivity,
    diag_kernel_with_bound,
    ema_kernel_with_bound,
)
from ssmspec.reference.np.precision import CLD, LD, fftconvolve

CONVENTIONS = ("mega", "s4")


def fft_length(n: int) -> int:
    """The power of two ≥ n."""
    return 1 << max(n - 1, 0).bit_length()




def _disc(Lambda, B, log_dt, method):
    """(Ā, B̄) per state, float64/complex128 (for the magnitudes)."""
    dt = np.exp(np.asarray(log_dt, np.float64))[:, None]
    return discretize_diag(np.asarray(Lambda), np.asarray(B), dt, method)


def _disc_ld(Lambda, B, log_dt, method):
    """(Ā, B̄) per state in long double (u = 2⁻⁶⁴): the step loop runs in it, so its t·u
    growth stays far below float64's roundoff up to the nightly lengths."""
    lam = np.asarray(Lambda)
    wide = CLD() if np.iscomplexobj(lam) else LD()
    dt = np.exp(np.asarray(log_dt, dtype=LD()))[:, None]
    z = dt * lam.astype(wide)
    b = np.asarray(B).astype(wide)
    if method == "bilinear":
        den = 1 - z / 2
        return (1 + z / 2) / den, dt * b / den
    if method == "zoh":
        with np.errstate(divide="ignore", invalid="ignore"):
            phi = np.where(z == 0, 1, np.expm1(z) / np.where(z == 0, 1, z))
        return np.exp(z), dt * phi * b
    return np.exp(z), dt * b


# --- diagonal system --------------------------------------------------------------------------


def diag_step(Lambda, B, C, log_dt, state, u, method="zoh", conj_half=True):
    """(h' (batch, H, N), y (batch, H)): h' = Ā h + B̄ u, y = f·Re(Σ_n C h')."""
    y, h = diag_ssm(np.asarray(u)[..., None], Lambda, B, C, log_dt, state, method, conj_half)
    return h, y[..., 0]


def diag_ssm(u, Lambda, B, C, log_dt, state=None, method="zoh", conj_half=True):
    """(y (batch, H, L), final state (batch, H, N)), by running the step over u."""
    u = np.asarray(u, np.float64).astype(LD())
    abar, bbar = _disc_ld(Lambda, B, log_dt, method)
    C = np.asarray(C).astype(abar.dtype)
    f = 2.0 if conj_half else 1.0
    h = np.zeros(u.shape[:2] + abar.shape[-1:], dtype=abar.dtype)
    if state is not None:
        h = h + np.asarray(state).astype(abar.dtype)
    y = np.empty(u.shape, dtype=LD())
    for t in range(u.shape[-1]):
        h = abar * h + bbar * u[..., t, None]
        y[..., t] = f * np.real(np.sum(C * h, axis=-1))
    out = np.complex128 if np.iscomplexobj(h) else np.float64
    return y.astype(np.float64), h.astype(out)


def _log_abar(Lambda, log_dt, method):
    """w = log Ā per state (bilinear: 2·atanh(z/2), with iπ where Ā < 0)."""
    z = np.exp(np.asarray(log_dt, np.float64))[:, None] * np.asarray(Lambda)
    if method != "bilinear":
        return z
    with np.errstate(divide="ignore", invalid="ignore"):
        w = 2 * np.arctanh(z.astype(np.complex128) / 2)
    return np.where(z == -2, -np.inf + 0j, w)


def _bbar_error(Lambda, B, log_dt, method):
    """zoh: 3·Δ|B|(|e^z| + |φ₁(z)|), the absolute error of B̄ = Δ·φ₁(z)·B per unit roundoff
    from the rounding of Δ = exp(log_dt) and z = ΔΛ (≤ 3u relative on z, and z·φ₁′(z) =
    e^z − φ₁(z)); relative to |B̄| it is unbounded where φ₁(z) ≈ 0 (e^z ≈ 1, z ≠ 0). 0 for the
    other methods, whose B̄ = Δ·B or Δ·B/(1 − z/2) has relative error a few u."""
    z = np.exp(np.asarray(log_dt, np.float64))[:, None] * np.asarray(Lambda)
    if method != "zoh":
        return np.zeros(z.shape)
    dt = np.exp(np.asarray(log_dt, np.float64))[:, None]
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        phi = np.where(z == 0, 1.0, np.expm1(z) / np.where(z == 0, 1.0, z))
    return 3.0 * dt * np.abs(np.asarray(B)) * (np.abs(np.exp(z)) + np.abs(phi))


def _abs_w(w):
    aw = np.abs(w)
    return np.where(np.isfinite(aw), aw, 0.0)


def _pow_abs(w, e):
    """|Ā|^e = exp(e·Re w) for exponents e (K,): (..., N, K); |Ā|^0 = 1 even where Ā = 0."""
    re = np.real(w)[..., None]
    with np.errstate(invalid="ignore", over="ignore"):
        return np.where(e == 0, 1.0, np.exp(e * re))


def _abar_sensitivity(Lambda, log_dt, method):
    """|z·(d log Ā/dz)| at z = ΔΛ: the relative change of Ā per unit relative change of z, so
    the rounding of z moves Ā by that times u (exp methods: |z|; bilinear: |z/(1 − z²/4)|;
    `ssmspec.reference.np.kernels.abar_sensitivity`)."""
    z = np.exp(np.asarray(log_dt, np.float64))[:, None] * np.asarray(Lambda)
    return abar_sensitivity(z, method)


def diag_step_bound(Lambda, B, C, log_dt, state, u, method="zoh", conj_half=True):
    """{"state": (M, G), "y": (M, G)}, elementwise, with M_h = |Ā||h| + |B̄||u|:
    state: G·M = (3 + s)|Ā||h| + 3|B̄||u| + e_B̄|u|  (s: the rounding of z = ΔΛ moving Ā,
    e_B̄: that of B̄, `_bbar_error`);
    y: M = f·Σ_n |C| M_h, G·M = f·Σ_n |C|·(N + G_h)·M_h.
    """
    abar, bbar = _disc(Lambda, B, log_dt, method)
    eb = _bbar_error(Lambda, B, log_dt, method)
    sens = _abar_sensitivity(Lambda, log_dt, method)
    ah = np.abs(abar) * np.abs(state)
    bu = np.abs(bbar) * np.abs(np.asarray(u))[..., None]
    mh = ah + bu
    gmh = (3.0 + sens) * ah + 3.0 * bu + eb * np.abs(np.asarray(u))[..., None]
    f = 2.0 if conj_half else 1.0
    N = abar.shape[-1]
    aC = np.abs(np.asarray(C))
    my = f * (aC * mh).sum(-1)
    gmy = f * (aC * (N * mh + gmh)).sum(-1)
    return {"state": (mh, _growth(gmh, mh, 3.0)), "y": (my, _growth(gmy, my, N + 3.0))}


def _growth(gm, m, default):
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(m > 0, gm / np.where(m > 0, m, 1.0), default)


def _row_conv_norm(a, K):
    """‖a * K‖₂ per row, a (batch, H, L) ≥ 0, K (H, L_K) ≥ 0 (causal part, first L outputs)."""
    L = a.shape[-1]
    out = np.empty(a.shape[:2])
    for b, h in np.ndindex(a.shape[:2]):
        c = fftconvolve(a[b, h], K[h])[:L]
        out[b, h] = np.sqrt(np.sum(np.maximum(c, 0.0) ** 2))
    return out


def diag_ssm_bound(u, Lambda, B, C, log_dt, state=None, method="zoh", conj_half=True):
    """{"y": (M, G) per row (batch, H), "state": (M, G) elementwise (batch, H, N)}.

    y (2-norm per signal): G·M = (1 + log₂n)(‖M_K‖₁‖u‖₂ + ‖M_K‖₂‖u‖₁)   the FFT convolution
                                + ‖(G_K·M_K) * |u|‖₂                   the kernel's own error
                                + ‖f·Σ_n (N + 4 + (t+1)|w|)|C h0||Ā|^{t+1}‖₂   free response
    with (M_K, G_K) diag_kernel's bound terms and n = the power of two ≥ 2L − 1.
    final state (elementwise): G·M = (4 + L|w|)|Ā|^L|h0|
                                     + Σ_s ((L + 4 + (L−1−s)|w|)|B̄| + e_B̄)|Ā|^{L−1−s}|u_s|.
    For bilinear |w| stands for |w| + s, s = |z/(1 − z²/4)| (`abar_sensitivity`), as in
    diag_kernel's bound.
    """
    u = np.asarray(u, np.float64)
    Bn, H, L = u.shape
    _, MK, GK = diag_kernel_with_bound(Lambda, B, C, log_dt, L, method, conj_half)
    w = _log_abar(Lambda, log_dt, method)
    eb = _bbar_error(Lambda, B, log_dt, method)
    # the powers' growth per step, as diag_kernel's: |w|, plus for bilinear the rounding of z
    # moving w = 2·atanh(z/2) (for the exponentials w = z and |w| is that term already)
    aw = _abs_w(w) + (_abar_sensitivity(Lambda, log_dt, method) if method == "bilinear" else 0.0)
    N = np.asarray(Lambda).shape[-1]
    f = 2.0 if conj_half else 1.0
    au = np.abs(u)
    u1, u2 = au.sum(-1), np.sqrt((au**2).sum(-1))
    k1, k2 = MK.sum(-1)[None], np.sqrt((MK**2).sum(-1))[None]
    m_fft = k1 * u2 + k2 * u1
    gm_y = (1.0 + np.log2(fft_length(2 * L - 1))) * m_fft + _row_conv_norm(au, GK * MK)
    m_y = m_fft + _row_conv_norm(au, MK)
    # final state: Σ_s over j = L−1−s
    _, bbar = _disc(Lambda, B, log_dt, method)
    j = np.arange(L, dtype=np.float64)
    Pa = _pow_abs(w, j)  # (H, N, L)
    P = Pa * np.abs(bbar)[..., None]
    ur = au[..., ::-1]
    m_f = np.einsum("bhl,hnl->bhn", ur, P)
    gm_f = np.einsum("bhl,hnl->bhn", ur, P * (L + 4.0 + j * aw[..., None])
                     + Pa * eb[..., None])
    if state is not None:
        ah0 = np.abs(np.asarray(state))
        t1 = np.arange(1, L + 1, dtype=np.float64)
        P1 = _pow_abs(w, t1)  # (H, N, L)
        terms = np.abs(np.asarray(C))[None, ..., None] * ah0[..., None] * P1[None]
        m_free = f * terms.sum(2)  # (batch, H, L)
        gm_free = f * ((N + 4.0 + t1 * aw[..., None])[None] * terms).sum(2)
        m_y = m_y + np.sqrt((m_free**2).sum(-1))
        gm_y = gm_y + np.sqrt((gm_free**2).sum(-1))
        last = _pow_abs(w, np.array([float(L)]))[..., 0] * ah0
        m_f = m_f + last
        gm_f = gm_f + (4.0 + L * aw) * last
    return {"y": (m_y, _growth(gm_y, m_y, 1.0)), "state": (m_f, _growth(gm_f, m_f, 1.0))}


# --- EMA --------------------------------------------------------------------------------------


def _sigmoid_ld(x):
    with np.errstate(over="ignore"):
        return 1 / (1 + np.exp(-np.asarray(x, np.float64).astype(LD())))


def ema_coefficients(delta, alpha, beta, gamma, wide=None):
    """(q, p·β, γ·√(1/ndim)), each (D, ndim), in the working precision (or `wide`), q without
    cancellation: q = σ(−δ) + σ(δ)σ(−α)."""
    d, a = np.asarray(delta)[..., 0], np.asarray(alpha)[..., 0]
    p = _sigmoid_ld(d)
    q = _sigmoid_ld(-d) + p * _sigmoid_ld(-a)
    gamma = np.asarray(gamma, np.float64).astype(LD())
    out = (q, p * np.asarray(beta, np.float64)[..., 0].astype(LD()),
           gamma * np.sqrt(LD()(1) / gamma.shape[1]))
    return tuple(o.astype(wide or LD()) for o in out)


def ema_step(delta, alpha, beta, gamma, state, x):
    """(h' (batch, D, ndim), y (batch, D)): h' = q h + p·β·x, y = Σ_n γ√(1/ndim) h'."""
    q, pb, c = ema_coefficients(delta, alpha, beta, gamma)
    h = q * np.asarray(state, np.float64).astype(LD()) + pb * np.asarray(x, np.float64)[..., None]
    return h.astype(np.float64), np.sum(c * h, axis=-1).astype(np.float64)


def ema_step_bound(delta, alpha, beta, gamma, state, x):
    """{"state": (M, G), "y": (M, G)}: M_h = q|h| + |pβ||x|, G = 3; M_y = Σ|c| M_h,
    G = ndim + 4 (the sum, the products, fp16/bf16's final rounding)."""
    q, pb, c = ema_coefficients(delta, alpha, beta, gamma, np.float64)
    mh = q * np.abs(state) + np.abs(pb) * np.abs(np.asarray(x))[..., None]
    my = np.sum(np.abs(c) * mh, axis=-1)
    return {"state": (mh, np.full(mh.shape, 3.0)), "y": (my, np.full(my.shape, c.shape[1] + 4.0))}


def ema_recurrence(x, delta, alpha, beta, gamma, reverse=False):
    """y_t of the EMA recurrence from h = 0 over x (batch, D, L); t from L−1 down if reverse."""
    x = np.asarray(x, np.float64).astype(LD())
    q, pb, c = ema_coefficients(delta, alpha, beta, gamma)
    h = np.zeros(x.shape[:2] + q.shape[-1:], dtype=LD())
    y = np.empty(x.shape, dtype=LD())
    order = range(x.shape[-1] - 1, -1, -1) if reverse else range(x.shape[-1])
    for t in order:
        h = q * h + pb * x[..., t, None]
        y[..., t] = np.sum(c * h, axis=-1)
    return y


def silu(z):
    """z·σ(z), in z's precision (long double here)."""
    with np.errstate(over="ignore"):
        return z / (1 + np.exp(-z))


def ema_preactivation(x, params, omega, bidirectional=None):
    """conv + ω ⊙ x, the EMA layer before its SiLU; conv from the recurrences (long double)."""
    x = np.asarray(x, np.float64).astype(LD())
    D = x.shape[1]
    d, a, b, g = (np.asarray(p, np.float64) for p in params)
    conv = ema_recurrence(x, d[:D], a[:D], b[:D], g[:D])
    if bidirectional is not None:
        if bidirectional not in CONVENTIONS:
            raise ValueError(f"bidirectional: expected one of {CONVENTIONS}, got "
                             f"{bidirectional!r}")
        back = ema_recurrence(x, d[D:], a[D:], b[D:], g[D:], reverse=True)
        if bidirectional == "s4":  # k_b[j] at lag −(j+1): the backward output one step later
            back = np.concatenate([back[..., 1:], np.zeros_like(back[..., :1])], axis=-1)
        conv = conv + back
    return conv + np.asarray(omega, np.float64).astype(LD())[None, :, None] * x


def ema(x, params, omega, bidirectional=None):
    """y = silu(conv + ω ⊙ x), (batch, D, L), float64."""
    return silu(ema_preactivation(x, params, omega, bidirectional)).astype(np.float64)


def conv_terms(ax, MK, GK, reverse=False):
    """For a kernel with bound terms (M_K, G_K) (H, L_K) convolved by FFT with x (|x| = ax,
    (batch, H, L)), per row: (M, G·M) of the error in units of u, and |K| * |x| elementwise.

    M = ‖M_K‖₁‖x‖₂ + ‖M_K‖₂‖x‖₁;  G·M = (1 + log₂n)·M + ‖(G_K M_K) * |x|‖₂, n the power of
    two ≥ L + L_K − 1. `reverse`: the anti-causal sum (x flipped, the result flipped back)."""
    L = ax.shape[-1]
    xs = ax[..., ::-1] if reverse else ax
    x1, x2 = ax.sum(-1), np.sqrt((ax**2).sum(-1))
    m = MK.sum(-1)[None] * x2 + np.sqrt((MK**2).sum(-1))[None] * x1
    gm = (1.0 + np.log2(fft_length(L + MK.shape[-1] - 1))) * m + _row_conv_norm(xs, GK * MK)
    z = np.empty(ax.shape)
    for b, h in np.ndindex(ax.shape[:2]):
        z[b, h] = np.maximum(fftconvolve(xs[b, h], MK[h])[:L], 0.0)
    return m, gm, (z[..., ::-1] if reverse else z)


def ema_bound(x, params, omega, bidirectional=None):
    """{"y": (M, G)} per row (batch, D), for an implementation by kernel + FFT convolution:

    error of z = conv + ωx (units of u), per kernel k (k_f; and k_b, one lag later for 's4'):
        (1 + log₂n)(‖M_k‖₁‖x‖₂ + ‖M_k‖₂‖x‖₁) + ‖(G_k·M_k) * |x|‖₂  (`conv_terms`), + 2‖ω x‖₂;
    then 1.1× that (|silu′| ≤ 1.1) + 4‖|z|‖₂ (SiLU's own roundings and the final rounding),
    with |z| ≤ Σ_k M_k * |x| + |ω x|.
    """
    x = np.asarray(x, np.float64)
    Bn, D, L = x.shape
    d, a, b, g = (np.asarray(p, np.float64) for p in params)
    ax = np.abs(x)
    rows = [slice(0, D)] + ([slice(D, 2 * D)] if bidirectional is not None else [])
    m_z, gm_z, z_abs = np.zeros((Bn, D)), np.zeros((Bn, D)), np.zeros(x.shape)
    for i, r in enumerate(rows):
        _, MK, GK = ema_kernel_with_bound(d[r], a[r], b[r], g[r], L)
        if i == 1 and bidirectional == "s4":
            MK = np.concatenate([np.zeros_like(MK[:, :1]), MK], axis=1)
            GK = np.concatenate([np.ones_like(GK[:, :1]), GK], axis=1)
        m, gm, z = conv_terms(ax, MK, GK, reverse=i == 1)
        m_z, gm_z, z_abs = m_z + m, gm_z + gm, z_abs + z
    wx = np.abs(np.asarray(omega, np.float64))[None, :, None] * ax
    z_abs += wx
    wx2 = np.sqrt((wx**2).sum(-1))
    zn = np.sqrt((z_abs**2).sum(-1))
    m_y = m_z + wx2 + zn
    gm_y = 1.1 * (gm_z + 2.0 * wx2) + 4.0 * zn
    return {"y": (m_y, _growth(gm_y, m_y, 1.0))}


# --- running-error bounds of the step loops (for the laws) ------------------------------------


def diag_sequential_error(u, Lambda, B, C, log_dt, state=None, method="zoh", conj_half=True):
    """Running-error bound, in units of u, of the step run over u: (E_y (batch, H, L),
    E_state (batch, H, N)) with E_t = |Ā| E_{t−1} + (3 + s)|Ā||h_{t−1}| + 3|B̄||u_t| + e_B̄|u_t|
    (|h| the recurrence on absolute values) and E_y = f·Σ_n |C|(E_t + N·|h_t|)."""
    u = np.abs(np.asarray(u, np.float64))
    abar, bbar = _disc(Lambda, B, log_dt, method)
    aa, ab, aC = np.abs(abar), np.abs(bbar), np.abs(np.asarray(C))
    sens = _abar_sensitivity(Lambda, log_dt, method)
    eb = _bbar_error(Lambda, B, log_dt, method)
    N = aa.shape[-1]
    f = 2.0 if conj_half else 1.0
    h = np.zeros(u.shape[:2] + (N,)) + (0 if state is None else np.abs(np.asarray(state)))
    E = np.zeros_like(h)
    Ey = np.empty(u.shape)
    for t in range(u.shape[-1]):
        ut = u[..., t, None]
        E = aa * E + (3.0 + sens) * aa * h + (3.0 * ab + eb) * ut
        h = aa * h + ab * ut
        Ey[..., t] = f * np.sum(aC * (E + N * h), axis=-1)
    return Ey, E


def ema_sequential_error(x, delta, alpha, beta, gamma):
    """Running-error bound, in units of u, of ema_step run over x from h = 0: E_y (batch, D, L)
    with E_t = q E_{t−1} + 3(q|h_{t−1}| + |pβ||x_t|), E_y = Σ_n |c|(E_t + (ndim + 1)|h_t|)."""
    x = np.abs(np.asarray(x, np.float64))
    q, pb, c = ema_coefficients(delta, alpha, beta, gamma, np.float64)
    n = q.shape[-1]
    h = np.zeros(x.shape[:2] + (n,))
    E = np.zeros_like(h)
    Ey = np.empty(x.shape)
    for t in range(x.shape[-1]):
        xt = x[..., t, None]
        E = q * E + 3.0 * (q * h + np.abs(pb) * xt)
        h = q * h + np.abs(pb) * xt
        Ey[..., t] = np.sum(np.abs(c) * (E + (n + 1) * h), axis=-1)
    return Ey


def carried_error(Lambda, B, C, log_dt, err, steps: int, method="zoh", conj_half=True):
    """An error `err` (batch, H, N) of the initial state carried through `steps` steps: (on y
    (batch, H, steps): f·Σ_n |C_n|·|Ā_n|^{t+1}·err_n, on the final state: |Ā|^steps·err)."""
    abar, _ = _disc(Lambda, B, log_dt, method)
    powers = np.abs(abar)[..., None] ** np.arange(1, steps + 1)  # (H, N, steps)
    f = 2.0 if conj_half else 1.0
    return (f * np.einsum("hn,bhn,hnl->bhl", np.abs(C), err, powers), powers[..., -1] * err)

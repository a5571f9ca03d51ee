"""Input-dependent (selective) state-space scans in PyTorch (docs/selective.md): Mamba's S6
`selective_scan` and Mamba-2's SSD `ssd_scan`.

selective_scan (conventions of Mamba's `selective_scan_ref`, state-spaces/mamba,
mamba_ssm/ops/selective_scan_interface.py), per batch b, channel d, state n, step t:

    Δ ← softplus(Δ + delta_bias)            if delta_softplus (the bias is added before softplus)
    h_t = Ā_t ⊙ h_{t−1} + B̄_t·u_t           h_{−1} = initial_state (default 0)
    y_t = f·Re(Σ_n C_t[n]·h_t[n]) + D·u_t,   y ← y·silu(z) if z is given

with (Ā_t, B̄_t) from the discretisation of (A, B_t) at step Δ_t (docs/discretization.md):
`zoh_approx` (Mamba's default) Ā = exp(ΔA), B̄ = Δ·B; `zoh` Ā = exp(ΔA), B̄ = Δ·φ₁(ΔA)·B;
`bilinear` Ā = (1 + ΔA/2)/(1 − ΔA/2), B̄ = Δ·B/(1 − ΔA/2). f = 2 under `conj_half`, else 1;
`conj_half=None` (the default) is Mamba's behaviour: 2·Re for complex A, 1 for real A (Mamba's
reference takes `y.real * 2` exactly when y is complex). `conj_half=True` with real A applies the
factor 2 as S4 does for S4D-Real.

Shapes: u, delta: (batch, D, L); A: (D, N) real or complex; B, C each one of
(D, N) time-invariant, (batch, N, L) per step (shared by all channels), or (batch, G, N, L) grouped
with G | D (channel d uses group d // (D/G)); D: (D,); z: (batch, D, L); delta_bias: (D,);
initial_state: (batch, D, N). Dtypes: u, delta, z, D, delta_bias share one real dtype (fp64,
fp32, fp16, bf16); A has that dtype or its complex counterpart (complex A: real u only); B, C have
A's dtype. Where Mamba's reference takes complex per-step B/C as real tensors of length 2L
(interleaved real/imaginary pairs), ssmspec takes complex tensors: `torch.view_as_complex` of the
(L, 2) view converts one to the other. Returns y (batch, D, L) in u's dtype, and with
`return_last_state` the state after step L − 1, (batch, D, N) in A's dtype.
`initial_state` is an ssmspec extension (Mamba's interface has none): it makes the split law
(scan x[:k], then x[k:] from the last state) expressible.

Algorithm: a chunked scan with T = CHUNK steps per chunk; never a (batch, D, N, L) tensor.
- Δ, u and the B/C layouts are padded to a multiple of T with Δ = 0, u = 0 (Ā = 1, B̄·u = 0
  exactly for every method: identity steps, so the last state is untouched).
- Pass 1: all chunks at once, a Python loop over the T steps of a chunk runs the recurrence from
  a zero state, giving each chunk's end state and the product of its Ā_t (an accumulated
  product, not exp(A·ΣΔ): the product's phase error is the sequential recurrence's, while
  exp(A·ΣΔ) would add the summation error of ΣΔ times |A|).
- The chunk carries h_in[c] (state entering chunk c) come from a scan of (ΠĀ, h_end) over the
  chunks: `_scan`, the same chunked algorithm applied recursively (depth log_T L).
- Pass 2: the recurrence again over the T steps of every chunk, now from h_in[c], forming y_t.
  Inside a chunk the arithmetic is the sequential recurrence's, so the error is that of the
  reference loop plus one carry per level.
Memory: O(batch·D·N·L/T) for the states plus the inputs; the work is ~2× the sequential loop's.
fp16/bf16 run in fp32 and are rounded once at the end.

ssd_scan (Mamba-2's `ssd_minimal_discrete`, state-spaces/mamba mamba_ssm/modules/ssd_minimal.py):
x: (batch, L, H, P) (H heads of headdim P), dt: (batch, L, H), A: (H,) real ≤ 0, B, C:
(batch, L, G, N) with G | H (head h uses group h // (H/G)); per head, with a_t = Δ_t·A_h,

    h_t = exp(a_t)·h_{t−1} + Δ_t·x_t ⊗ B_t   (P × N),     y_t = h_t·C_t   (P,)

computed in Mamba-2's chunked matrix form with chunks of `chunk_size` steps: within a chunk
y = (C Bᵀ ∘ Lmask) (Δx) with Lmask[i, j] = exp(Σ_{j<k≤i} a_k) for i ≥ j (0 above the diagonal);
chunk states passed between chunks by the same segment sums. The segment sums are formed by
subtracting *inside the segment* (a masked cumulative sum of a over k ∈ (j, i]), never as
cumsum_i − cumsum_j, which cancels catastrophically once the cumulative decay is large and whose
exp overflows for |cumsum| > ~88 in fp32. L not a multiple of chunk_size is padded with dt = 0
(identity steps). Returns y (batch, L, H, P) in x's dtype (and the final states (batch, H, P, N)).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from ssmspec.impl import _validate as v

METHODS = ("zoh_approx", "zoh", "bilinear")
SSD_METHODS = ("chunked",)
CHUNK = 32


# --- checks -----------------------------------------------------------------------------------


def _flag(name: str, x) -> bool:
    if not isinstance(x, bool):
        raise TypeError(f"{name}: expected a bool, got {type(x).__name__}")
    return x


def _layout(name: str, X: torch.Tensor, A: torch.Tensor, batch: int, L: int) -> str:
    """'invariant' (D, N), 'step' (batch, N, L) or 'grouped' (batch, G, N, L); checks G | D."""
    v.beside(name, X, "A", A)
    Dn, N = A.shape
    if X.ndim == 2:
        v.shape(name, X, (Dn, N), "(time-invariant: that of A)")
        return "invariant"
    if X.ndim == 3:
        v.shape(name, X, (batch, N, L), "(per step: (batch, N, L))")
        return "step"
    if X.ndim == 4:
        G = X.shape[1]
        if tuple(X.shape) != (batch, G, N, L) or G < 1:
            raise ValueError(f"{name}: expected shape (batch, G, N, L) = ({batch}, G, {N}, {L}), "
                             f"got {tuple(X.shape)}")
        if Dn % G:
            raise ValueError(f"{name}: the number of groups G = {G} must divide D = {Dn}; "
                             f"got shape {tuple(X.shape)}")
        return "grouped"
    raise ValueError(f"{name}: expected shape (D, N), (batch, N, L) or (batch, G, N, L), "
                     f"got {tuple(X.shape)}")


def check_selective(u, delta, A, B, C, D, z, delta_bias, initial_state):
    v.real_tensor("u", u)
    if u.ndim != 3 or u.shape[1] < 1 or u.shape[2] < 1:
        raise ValueError(f"u: expected shape (batch, D, L) with D, L >= 1, got {tuple(u.shape)}")
    batch, Dn, L = u.shape
    v.beside("delta", delta, "u", u, u.shape, "(that of u)")
    v.tensor("A", A)
    if v.real_dtype(A.dtype) != u.dtype:
        raise TypeError(f"A: expected dtype {u.dtype} or its complex counterpart (u's), "
                        f"got {A.dtype}")
    v.same_device("A", A, "u", u)
    if A.ndim != 2 or A.shape[0] != Dn or A.shape[1] < 1:
        raise ValueError(f"A: expected shape (D, N) = ({Dn}, N) with N >= 1, got {tuple(A.shape)}")
    lay_b = _layout("B", B, A, batch, L)
    lay_c = _layout("C", C, A, batch, L)
    if (lay_b == "invariant") != (lay_c == "invariant") or (
            lay_b != "invariant" and lay_b != lay_c):
        raise ValueError(f"C: expected the layout of B ({lay_b}, shape {tuple(B.shape)}), "
                         f"got {lay_c} shape {tuple(C.shape)}")
    if lay_b == "grouped" and B.shape[1] != C.shape[1]:
        raise ValueError(f"C: expected {B.shape[1]} groups (those of B), got shape "
                         f"{tuple(C.shape)}")
    for name, x, shape in (("D", D, (Dn,)), ("delta_bias", delta_bias, (Dn,)),
                           ("z", z, tuple(u.shape))):
        if x is not None:
            v.beside(name, x, "u", u, shape)
    if initial_state is not None:
        v.beside("initial_state", initial_state, "A", A, (batch, Dn, A.shape[1]), "(batch, D, N)")
    return lay_b


# --- the chunked scan of (a, b) pairs -----------------------------------------------------------


def _scan(a: torch.Tensor, b: torch.Tensor, T: int = CHUNK) -> torch.Tensor:
    """Inclusive scan h_k = a_k·h_{k−1} + b_k (h_{−1} = 0) along dim −2 of (..., n, N).

    Chunks of T steps run in parallel, a Python loop over the T steps inside them; the chunk
    carries by the same scan, recursively. Padding with the identity (a = 1, b = 0).
    """
    n = a.shape[-2]
    if n <= T:
        h, out = torch.zeros_like(b[..., 0, :]), []
        for k in range(n):
            h = a[..., k, :] * h + b[..., k, :]
            out.append(h)
        return torch.stack(out, dim=-2)
    nc = -(-n // T)
    pad = nc * T - n
    if pad:
        a = torch.cat([a, torch.ones_like(a[..., :pad, :])], dim=-2)
        b = torch.cat([b, torch.zeros_like(b[..., :pad, :])], dim=-2)
    a = a.unflatten(-2, (nc, T))
    b = b.unflatten(-2, (nc, T))
    h = torch.zeros_like(b[..., 0, :])
    p = torch.ones_like(a[..., 0, :])
    hs, ps = [], []
    for k in range(T):
        h = a[..., k, :] * h + b[..., k, :]
        p = a[..., k, :] * p
        hs.append(h)
        ps.append(p)
    h_loc, p_loc = torch.stack(hs, dim=-2), torch.stack(ps, dim=-2)  # (..., nc, T, N)
    ends = _scan(p_loc[..., -1, :], h_loc[..., -1, :], T)  # state after each chunk
    carry = torch.cat([torch.zeros_like(ends[..., :1, :]), ends[..., :-1, :]], dim=-2)
    out = h_loc + p_loc * carry[..., None, :]
    return out.flatten(-3, -2)[..., :n, :]


# --- selective_scan -----------------------------------------------------------------------------


def softplus(x: torch.Tensor) -> torch.Tensor:
    """log(1 + eˣ) to full relative accuracy for every x.
    (torch's F.softplus returns x for x > 20, a relative error of ~e^{−20}/20 ≈ 1e-10: above
    fp64's roundoff.)"""
    # logaddexp(x, 0) = max(x, 0) + log1p(exp(−|x|)) in one op (fewer L-long temporaries)
    return torch.logaddexp(x, torch.zeros((), dtype=x.dtype, device=x.device))


def _discretize(dt: torch.Tensor, A: torch.Tensor, method: str):
    """(Ā, B̄/B) per state: dt (..., 1) broadcast against A (..., N)."""
    zz = dt * A
    if method == "zoh_approx":
        return torch.exp(zz), dt
    if method == "zoh":
        safe = torch.where(zz == 0, 1.0, zz)
        return torch.exp(zz), torch.where(zz == 0, dt, torch.expm1(zz) / safe * dt)
    den = 1 - zz / 2
    return (1 + zz / 2) / den, dt / den


def _per_step(X: torch.Tensor, layout: str, G: int, nc: int, T: int, pad: int):
    """B or C as a function of the step j inside a chunk: a tensor broadcastable against the
    state (batch, G, D/G, nc, N)."""
    if layout == "invariant":
        Dn, N = X.shape
        Xi = X.reshape(G, Dn // G, 1, N)
        return lambda j: Xi
    if layout == "step":
        X = X[:, None]
    X = F.pad(X, (0, pad))  # (batch, G, N, nc·T)
    X = X.unflatten(-1, (nc, T)).permute(4, 0, 1, 3, 2)  # (T, batch, G, nc, N)
    X = X.unsqueeze(3).contiguous()  # (T, batch, G, 1, nc, N)
    return lambda j: X[j]


def selective_scan(u: torch.Tensor, delta: torch.Tensor, A: torch.Tensor, B: torch.Tensor,
                   C: torch.Tensor, D: torch.Tensor | None = None, z: torch.Tensor | None = None,
                   delta_bias: torch.Tensor | None = None, delta_softplus: bool = False,
                   discretization: str = "zoh_approx", return_last_state: bool = False,
                   conj_half: bool | None = None, initial_state: torch.Tensor | None = None):
    """Mamba's selective scan (S6): formula, shapes and dtypes in docs/selective.md#selective_scan.

    Returns y (batch, D, L), u's dtype; with `return_last_state`, (y, h_{L−1} (batch, D, N) in
    A's dtype).
    """
    v.method("discretization", discretization, METHODS)
    _flag("delta_softplus", delta_softplus)
    _flag("return_last_state", return_last_state)
    if conj_half is not None:
        _flag("conj_half", conj_half)
    lay = check_selective(u, delta, A, B, C, D, z, delta_bias, initial_state)
    batch, Dn, L = u.shape
    N = A.shape[1]
    f = 2.0 if (A.is_complex() if conj_half is None else conj_half) else 1.0
    work = v.work_dtype(u.dtype)
    cwork = v.work_dtype(A.dtype) if not A.is_complex() else A.dtype
    if A.dtype in v.LOW_PRECISION:
        cwork = torch.float32

    dt = delta.to(work)
    if delta_bias is not None:
        dt = dt + delta_bias.to(work)[:, None]
    if delta_softplus:
        dt = softplus(dt)
    uw = u.to(work)
    G = B.shape[1] if lay == "grouped" else 1
    T = CHUNK if L > CHUNK else L
    nc = -(-L // T)
    pad = nc * T - L
    # (T, batch, G, D/G, nc, 1): step j of every chunk at once
    def steps(x):
        x = F.pad(x, (0, pad)).reshape(batch, G, Dn // G, nc, T)
        return x.permute(4, 0, 1, 2, 3).unsqueeze(-1).contiguous()

    dts, us = steps(dt), steps(uw)
    del dt  # the padded, step-major copy is what the loops read
    Aw = A.to(cwork).reshape(G, Dn // G, 1, N)
    Bj = _per_step(B.to(cwork), lay, G, nc, T, pad)
    Cj = _per_step(C.to(cwork), lay, G, nc, T, pad)

    # pass 1: every chunk from a zero state; its end state and the product of its Ā
    h = torch.zeros((batch, G, Dn // G, nc, N), dtype=cwork, device=u.device)
    p = torch.ones_like(h)
    for j in range(T):
        abar, bscale = _discretize(dts[j], Aw, discretization)
        h = abar * h + (bscale * us[j]) * Bj(j)
        p = abar * p
    if initial_state is not None:
        h0 = initial_state.to(cwork).reshape(batch, G, Dn // G, N)
        h[..., 0, :] = h[..., 0, :] + p[..., 0, :] * h0
    ends = _scan(p, h)
    h = torch.cat([torch.zeros_like(ends[..., :1, :]), ends[..., :-1, :]], dim=-2)
    if initial_state is not None:
        h[..., 0, :] = h0

    # pass 2: the recurrence from the true state entering each chunk, and the outputs
    ys = []
    for j in range(T):
        abar, bscale = _discretize(dts[j], Aw, discretization)
        h = abar * h + (bscale * us[j]) * Bj(j)
        ch = Cj(j) * h
        ys.append(ch.real.sum(-1) if ch.is_complex() else ch.sum(-1))
    del dts, us
    y = torch.stack(ys, dim=-1).reshape(batch, Dn, nc * T)[..., :L]
    # in place where autograd does not need the intermediate: the epilogue's (batch, D, L)
    # temporaries are most of the peak memory
    inplace = not (torch.is_grad_enabled() and y.requires_grad)
    if f != 1.0:
        y = y.mul_(2.0) if inplace else y + y  # exact
    if D is not None:
        y = y.add_(D.to(work)[:, None] * uw) if inplace else y + D.to(work)[:, None] * uw
    if z is not None:
        y = y.mul_(F.silu(z.to(work))) if inplace else y * F.silu(z.to(work))
    y = y.to(u.dtype)
    if not return_last_state:
        return y
    return y, h[..., -1, :].reshape(batch, Dn, N).to(A.dtype)


# --- ssd_scan (Mamba-2) -------------------------------------------------------------------------


def segsum(a: torch.Tensor) -> torch.Tensor:
    """S[..., i, j] = Σ_{j<k≤i} a_k for i ≥ j, −inf above the diagonal, from a (..., Q).

    Each entry is a cumulative sum over its own segment (a masked cumsum), so it carries the
    rounding of |S[i, j]| only — never the cancellation of cumsum_i − cumsum_j.
    """
    Q = a.shape[-1]
    x = a[..., :, None].expand(*a.shape, Q)  # x[..., k, j] = a_k
    strict = torch.tril(torch.ones(Q, Q, dtype=torch.bool, device=a.device), diagonal=-1)
    S = torch.cumsum(x.masked_fill(~strict, 0), dim=-2)
    lower = torch.tril(torch.ones(Q, Q, dtype=torch.bool, device=a.device))
    return S.masked_fill(~lower, -torch.inf)


def _check_ssd(x, dt, A, B, C, chunk_size, initial_states):
    v.real_tensor("x", x)
    if x.ndim != 4 or min(x.shape) < 1:
        raise ValueError(f"x: expected shape (batch, L, nheads, headdim), got {tuple(x.shape)}")
    b, L, H, P = x.shape
    for name, t in (("dt", dt), ("A", A), ("B", B), ("C", C)):
        v.beside(name, t, "x", x)
    v.shape("dt", dt, (b, L, H), "(batch, L, nheads)")
    v.shape("A", A, (H,), "(nheads,)")
    if B.ndim != 4 or B.shape[:2] != (b, L) or B.shape[2] < 1 or H % B.shape[2]:
        raise ValueError(f"B: expected shape (batch, L, ngroups, N) = ({b}, {L}, G, N) with G "
                         f"dividing nheads = {H}, got {tuple(B.shape)}")
    v.shape("C", C, tuple(B.shape), "(that of B)")
    if isinstance(chunk_size, bool) or not isinstance(chunk_size, int):
        raise TypeError(f"chunk_size: expected an int, got {type(chunk_size).__name__}")
    if chunk_size < 1:
        raise ValueError(f"chunk_size: expected chunk_size >= 1, got {chunk_size}")
    if initial_states is not None:
        v.beside("initial_states", initial_states, "x", x)
        v.shape("initial_states", initial_states, (b, H, P, B.shape[3]),
                "(batch, nheads, headdim, N)")


def ssd_chunks(x, dt, A, B, C, chunk_size, initial_states, segment_sums):
    b, L, H, P = x.shape
    G, N = B.shape[2], B.shape[3]
    work = v.work_dtype(x.dtype)
    Q = min(chunk_size, L)
    nc = -(-L // Q)
    pad = nc * Q - L
    xw, dtw = x.to(work), dt.to(work)
    Bw = B.to(work).repeat_interleave(H // G, dim=2)  # (b, L, H, N): head h in group h // (H/G)
    Cw = C.to(work).repeat_interleave(H // G, dim=2)
    if pad:  # identity steps: dt = 0 gives decay 1 and no input
        xw, dtw = F.pad(xw, (0, 0, 0, 0, 0, pad)), F.pad(dtw, (0, 0, 0, pad))
        Bw, Cw = F.pad(Bw, (0, 0, 0, 0, 0, pad)), F.pad(Cw, (0, 0, 0, 0, 0, pad))
    xc = xw.reshape(b, nc, Q, H, P)
    Bc, Cc = Bw.reshape(b, nc, Q, H, N), Cw.reshape(b, nc, Q, H, N)
    dtc = dtw.reshape(b, nc, Q, H)
    a = (dtc * A.to(work)).permute(0, 3, 1, 2)  # (b, H, nc, Q)
    dx = xc * dtc[..., None]  # Δ_j·x_j
    # within chunks: y_i = Σ_{j≤i} (C_i·B_j)·exp(Σ_{j<k≤i} a_k)·Δ_j x_j
    decay = torch.exp(segment_sums(a))  # (b, H, nc, Q, Q)
    scores = torch.einsum("bcihn,bcjhn->bhcij", Cc, Bc) * decay
    y = torch.einsum("bhcij,bcjhp->bcihp", scores, dx)
    # each chunk's end state from a zero start: decay from j to the chunk's end, Σ_{j<k<Q} a_k
    rev = torch.flip(torch.cumsum(torch.flip(a, (-1,)), -1), (-1,))  # Σ_{k≥j} a_k
    to_end = torch.cat([rev[..., 1:], torch.zeros_like(rev[..., :1])], dim=-1)
    states = torch.einsum("bcjhn,bhcj,bcjhp->bchpn", Bc, torch.exp(to_end), dx)
    # between chunks: the same segment sums over the chunk totals, h0 as chunk −1
    h0 = (initial_states.to(work) if initial_states is not None
          else torch.zeros((b, H, P, N), dtype=work, device=x.device))
    states = torch.cat([h0[:, None], states], dim=1)  # (b, nc + 1, H, P, N)
    totals = F.pad(rev[..., 0], (1, 0))  # (b, H, nc + 1)
    carried = torch.einsum("bhzc,bchpn->bzhpn", torch.exp(segment_sums(totals)), states)
    entering, final = carried[:, :-1], carried[:, -1]
    within = torch.exp(torch.cumsum(a, dim=-1))  # decay from the chunk's start to step i
    y = y + torch.einsum("bcihn,bchpn,bhci->bcihp", Cc, entering, within)
    y = y.reshape(b, nc * Q, H, P)[:, :L]
    return y.to(x.dtype), final.to(x.dtype)


def ssd_scan(x: torch.Tensor, dt: torch.Tensor, A: torch.Tensor, B: torch.Tensor,
             C: torch.Tensor, chunk_size: int = 64, initial_states: torch.Tensor | None = None,
             return_final_states: bool = False, method: str = "chunked"):
    """Mamba-2's SSD scan in the chunked form (docs/selective.md#ssd_scan).

    x: (batch, L, nheads, headdim); dt: (batch, L, nheads), Δ > 0; A: (nheads,) real ≤ 0;
    B, C: (batch, L, ngroups, N); initial_states: (batch, nheads, headdim, N); all one real
    dtype. Returns y (batch, L, nheads, headdim) (and the final states) in x's dtype.
    """
    v.method("method", method, SSD_METHODS)
    _flag("return_final_states", return_final_states)
    _check_ssd(x, dt, A, B, C, chunk_size, initial_states)
    y, final = ssd_chunks(x, dt, A, B, C, chunk_size, initial_states, segsum)
    return (y, final) if return_final_states else y

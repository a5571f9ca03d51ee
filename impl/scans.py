"""The first-order linear recurrence (docs/scans.md) in PyTorch: `linear_scan`.

    h_t = a_t ⊙ h_{t−1} + b_t,    h_{−1} = h0 (0 if None),    t = 0 … L−1 over the last axis

elementwise over every leading axis: a, b (..., L), h0 (...,). `reverse=True` runs t from L−1
down to 0 (h0 then enters at t = L−1). Real (fp64, fp32; fp16/bf16 computed in fp32 and rounded
once) and complex (c128, c64). Output: a's dtype and device, shape (..., L).

Methods (each is an algorithm; all compute the same h):
- `sequential`: the recurrence itself, one step at a time; the Python loop over L *is* the
  method. Each step is one fused `addcmul` over all leading axes at once, on a time-major copy
  (one contiguous row per step) written into a preallocated output.
- `associative`: a work-efficient tree (Blelloch/Ladner–Fischer) over the operator
  (a₁, b₁) ∘ (a₂, b₂) = (a₁a₂, a₂b₁ + b₂) with identity (1, 0): pairs are combined, the half-length
  sequence is scanned recursively, and the even positions are finished from the odd prefixes;
  the length is padded to a power of two with the identity. It yields the prefixes (A_t, B_t),
  so h_t = A_t·h0 + B_t. A loop over the log₂L levels only.
- `logspace`: Heinsen's form for a ≥ 0, real only: h_t = e^{A_t}·(h0 + Σ_{s≤t} b_s e^{−A_s}) with
  A_t = Σ_{r≤t} log a_r, evaluated as exp(A_t + logcumsumexp_s(log|b_s| − A_s)), positive and
  negative b in two sums (so any sign of b works). a = 0 is exact, not clamped: log 0 is never
  formed, A restarts at each zero (A_t = C_t − C_z, C the cumulative sum with log 0 read as 0 and
  z the last zero ≤ t), and the sum restarts there too — by `torch.logcumsumexp` when no a is 0,
  by a segmented log-sum-exp tree (the same tree over the log-semiring (+, logaddexp)) when some
  is. Its precision falls as |A_t| grows with L (docs/scans.md): that is the method.
- `chunked`: chunks of CHUNK = 64 steps. Pass 1 runs the recurrence inside every chunk at once
  (a loop over the 64 steps, vectorised over all chunks and leading axes) for the chunk
  summaries (Π a, local h at the chunk's end); the summaries are scanned across chunks with the
  tree (log-depth); pass 2 reruns every chunk from its carried state, writing h.
`reverse` is computed as flip∘scan∘flip by every method but `sequential`, which walks backwards.
"""

from __future__ import annotations

import math

import torch

from ssmspec.impl import _validate as v

METHODS = ("sequential", "associative", "logspace", "chunked")
CHUNK = 64


def check_scan_args(a, b, h0, reverse, method):
    v.method("method", method, METHODS)
    v.tensor("a", a, min_ndim=1)
    v.beside("b", b, "a", a, a.shape, "(that of a)")
    if a.shape[-1] < 1:
        raise ValueError(f"a: expected a non-empty last dimension L >= 1, got shape "
                         f"{tuple(a.shape)}")
    if h0 is not None:
        v.beside("h0", h0, "a", a, a.shape[:-1], "(a's shape without its last dimension L)")
    if not isinstance(reverse, bool):
        raise TypeError(f"reverse: expected a bool, got {type(reverse).__name__}")
    if method == "logspace":
        if a.is_complex():
            raise ValueError(f"a: method 'logspace' needs real a >= 0, got dtype {a.dtype}")
        if bool((a < 0).any()):
            raise ValueError(f"a: method 'logspace' needs a >= 0, got min {a.min().item()}")


def _needs_grad(*xs) -> bool:
    return torch.is_grad_enabled() and any(x is not None and x.requires_grad for x in xs)


# --- sequential -------------------------------------------------------------------------------


def _sequential(a, b, h0, reverse):
    L = a.shape[-1]
    at = a.movedim(-1, 0).contiguous()  # time-major: each step reads one contiguous row
    bt = b.movedim(-1, 0).contiguous()
    order = range(L - 1, -1, -1) if reverse else range(L)
    if _needs_grad(a, b, h0):
        # autograd cannot record `out=` writes: build the rows and stack them
        rows, h = [None] * L, h0
        for t in order:
            h = bt[t] if h is None else torch.addcmul(bt[t], at[t], h)
            rows[t] = h
        return torch.stack(rows, dim=-1)
    out = torch.empty_like(at)
    prev = None
    for t in order:
        # h_{-1} = 0 gives h_0 = b_0 exactly, a_0 not involved
        if prev is None:
            if h0 is None:
                out[t].copy_(bt[t])
            else:
                torch.addcmul(bt[t], at[t], h0, out=out[t])
        else:
            torch.addcmul(bt[t], at[t], out[prev], out=out[t])
        prev = t
    return out.movedim(0, -1).contiguous()


# --- the tree ---------------------------------------------------------------------------------


def _interleave(even, odd):
    return torch.stack([even, odd], dim=-1).flatten(-2)


def _tree(A, B, mul, add, one, zero):
    """Inclusive prefixes of (A, B) under (A₁, B₁) ∘ (A₂, B₂) = (A₁A₂, A₂B₁ + B₂), written with
    the semiring's `mul`, `add`; the last axis has a power-of-two length."""
    n = A.shape[-1]
    if n == 1:
        return A, B
    Ae, Ao, Be, Bo = A[..., 0::2], A[..., 1::2], B[..., 0::2], B[..., 1::2]
    Ai, Bi = _tree(mul(Ae, Ao), add(mul(Ao, Be), Bo), mul, add, one, zero)  # odd prefixes
    # prefix[2k] = prefix[2k − 1] ∘ x[2k], the identity before position 0
    first = A[..., :1]
    prevA = torch.cat([torch.full_like(first, one), Ai[..., :-1]], dim=-1)
    prevB = torch.cat([torch.full_like(first, zero), Bi[..., :-1]], dim=-1)
    return _interleave(mul(prevA, Ae), Ai), _interleave(add(mul(Ae, prevB), Be), Bi)


def _padded(x, n, value):
    if x.shape[-1] == n:
        return x
    pad = torch.full((*x.shape[:-1], n - x.shape[-1]), value, dtype=x.dtype, device=x.device)
    return torch.cat([x, pad], dim=-1)


def tree_scan(A, B, identity=(1.0, 0.0)):
    """Inclusive prefixes (A_t, B_t) of the linear operator along the last axis, any length:
    padded to a power of two with `identity` (the right one is (1, 0))."""
    L = A.shape[-1]
    n = 1 << (L - 1).bit_length()
    one, zero = identity
    A, B = _padded(A, n, one), _padded(B, n, zero)
    A, B = _tree(A, B, torch.mul, torch.add, one, zero)
    return A[..., :L], B[..., :L]


def associative_forward(a, b, h0, identity=(1.0, 0.0)):
    """The forward scan (working format) by the tree of `tree_scan`; `identity` pads and starts
    the tree (the mutants pass another)."""
    A, B = tree_scan(a, b, identity)
    return B if h0 is None else torch.addcmul(B, A, h0[..., None])


# --- log-space --------------------------------------------------------------------------------


def _segmented_logcumsumexp(x, starts):
    """log Σ_{z(t) ≤ s ≤ t} e^{x_s}, z(t) the last `starts` position ≤ t: the log-semiring scan
    r_t = logaddexp(r_{t−1} + α_t, x_t) with α = −inf at a start (an exact restart), 0 elsewhere."""
    alpha = torch.where(starts, -math.inf, 0.0).to(x.dtype)
    L = x.shape[-1]
    n = 1 << (L - 1).bit_length()
    al, xs = _padded(alpha, n, 0.0), _padded(x, n, -math.inf)
    _, r = _tree(al, xs, torch.add, torch.logaddexp, 0.0, -math.inf)
    return r[..., :L]


def logspace_forward(a, b, h0, log_a=None):
    zero = a == 0
    has_zero = bool(zero.any())
    # log 0 is never formed: zeros read as log 1 here and restart A and the sums below
    la = torch.log(torch.where(zero, torch.ones_like(a), a)) if log_a is None else log_a(a)
    C = torch.cumsum(la, dim=-1)
    L = a.shape[-1]
    if has_zero:
        pos = torch.arange(L, device=a.device).expand_as(a)
        last = torch.cummax(torch.where(zero, pos, -1), dim=-1).values  # z(t), −1: none yet
        A = C - torch.where(last >= 0, torch.gather(C, -1, last.clamp(min=0)), 0.0)
        first_segment = last < 0
    else:
        A = C
    log_b = torch.log(torch.where(b == 0, torch.ones_like(b), b.abs())) - A
    neg_inf = torch.tensor(-math.inf, dtype=a.dtype, device=a.device)
    terms = (torch.where(b > 0, log_b, neg_inf), torch.where(b < 0, log_b, neg_inf))
    if has_zero:
        sums = [_segmented_logcumsumexp(x, zero) for x in terms]
    else:
        sums = [torch.logcumsumexp(x, dim=-1) for x in terms]
    if h0 is not None:
        # h0 is the term s = −1 (A_{−1} = 0), alive until the first zero
        log_h0 = torch.log(torch.where(h0 == 0, torch.ones_like(h0), h0.abs()))[..., None]
        for i, keep in enumerate((h0 > 0, h0 < 0)):
            with_h0 = torch.logaddexp(sums[i], torch.where(keep[..., None], log_h0, neg_inf))
            alive = keep[..., None] & (first_segment if has_zero else True)
            sums[i] = torch.where(alive, with_h0, sums[i])
    return torch.exp(A + sums[0]) - torch.exp(A + sums[1])


# --- chunked ----------------------------------------------------------------------------------


def chunked_forward(a, b, h0, T=CHUNK, carry_h0=True):
    """The forward scan (working format) in chunks of T steps; `carry_h0=False` (a mutant)
    forgets h0 after the first chunk."""
    lead, L = a.shape[:-1], a.shape[-1]
    R, nc = math.prod(lead), -(-L // T)
    grad = _needs_grad(a, b, h0)
    # (T, R, nc): step j of every chunk is one contiguous (R, nc) slab
    a3 = _padded(a.reshape(R, L), nc * T, 1.0).reshape(R, nc, T).permute(2, 0, 1).contiguous()
    b3 = _padded(b.reshape(R, L), nc * T, 0.0).reshape(R, nc, T).permute(2, 0, 1).contiguous()
    # pass 1: each chunk's summary (Π a, local h at its end), all chunks at once
    A, B = a3[0].clone(), b3[0].clone()
    for j in range(1, T):
        if grad:
            A, B = A * a3[j], torch.addcmul(b3[j], a3[j], B)
        else:
            A.mul_(a3[j])
            B.mul_(a3[j]).add_(b3[j])
    # the summaries scanned across chunks: the state entering chunk c is that after c − 1
    Ac, Bc = tree_scan(A, B)
    h0r = None if h0 is None else h0.reshape(R, 1)
    if h0r is None:
        carry = torch.cat([torch.zeros_like(Bc[:, :1]), Bc[:, :-1]], dim=-1)
    else:
        after = torch.addcmul(Bc[:, :-1], Ac[:, :-1], h0r) if carry_h0 else Bc[:, :-1]
        carry = torch.cat([h0r, after], dim=-1)
    # pass 2: every chunk rerun from its carried state
    if grad:
        rows, h = [], carry
        for j in range(T):
            h = torch.addcmul(b3[j], a3[j], h)
            rows.append(h)
        out = torch.stack(rows, dim=0)
    else:
        out = torch.empty_like(a3)
        torch.addcmul(b3[0], a3[0], carry, out=out[0])
        for j in range(1, T):
            torch.addcmul(b3[j], a3[j], out[j - 1], out=out[j])
    return out.permute(1, 2, 0).reshape(R, nc * T)[:, :L].reshape(*lead, L)


# --- the adjoint ------------------------------------------------------------------------------


def scan_adjoint(scan, a, h, h0, g, reverse: bool):
    """Gradients (∂a, ∂b, ∂h0) of h = linear_scan(a, b, h0, reverse) for the output gradient g,
    by one reverse scan (`scan(a, b, h0, reverse)` runs it) of the adjoint recurrence

        λ_t = g_t + conj(a_{t+1})·λ_{t+1},   ∂b_t = λ_t,   ∂a_t = λ_t·conj(h_{t−1}),
        ∂h0 = conj(a_0)·λ_0

    in scan order (mirrored for reverse=True), PyTorch's conjugate convention for complex inputs.
    Shared by the compiled implementations' autograd Functions (`cpp`, `triton`)."""
    ac = a.conj().resolve_conj() if a.is_complex() else a
    first = -1 if reverse else 0
    shifted = torch.zeros_like(ac)  # the coefficient of λ's next step; 0 past the end
    prev = torch.zeros_like(h)  # h_{t−1} in scan order
    if reverse:
        shifted[..., 1:] = ac[..., :-1]
        prev[..., :-1] = h[..., 1:]
    else:
        shifted[..., :-1] = ac[..., 1:]
        prev[..., 1:] = h[..., :-1]
    lam = scan(shifted, g.contiguous(), None, not reverse)
    if h0 is not None:
        prev[..., first] = h0
    prev = prev.conj() if prev.is_complex() else prev
    grad_h0 = ac[..., first] * lam[..., first] if h0 is not None else None
    return lam * prev, lam, grad_h0


# --- the primitive ----------------------------------------------------------------------------


def linear_scan(a: torch.Tensor, b: torch.Tensor, h0: torch.Tensor | None = None,
                reverse: bool = False, method: str = "sequential") -> torch.Tensor:
    """h_t = a_t ⊙ h_{t−1} + b_t over the last axis (docs/scans.md#linear_scan).

    a, b: (..., L), the same floating or complex dtype and device, L >= 1; h0: (...,) or None
    (zero); reverse: bool; method: 'sequential' | 'associative' | 'logspace' (real a >= 0 only)
    | 'chunked'. Returns h (..., L) in a's dtype (fp16/bf16 worked in fp32, rounded once).
    """
    check_scan_args(a, b, h0, reverse, method)
    work = v.work_dtype(a.dtype)
    aw, bw = a.to(work), b.to(work)
    hw = None if h0 is None else h0.to(work)
    if method == "sequential":
        h = _sequential(aw, bw, hw, reverse)
    else:
        if reverse:
            aw, bw = aw.flip(-1), bw.flip(-1)
        f = {"associative": associative_forward, "logspace": logspace_forward,
             "chunked": chunked_forward}[method]
        h = f(aw, bw, hw)
        if reverse:
            h = h.flip(-1)
    return h.to(a.dtype)

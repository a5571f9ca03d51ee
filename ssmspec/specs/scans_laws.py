"""Laws and mutants of the linear scan (SPEC-NOTES §7).

Laws (each draws a method the format allows, and compares within the sum of the bounds of the
calls compared, plus the propagation of any derived input's rounding):
- methods_agree: every method equals the sequential one.
- split: scanning x[:k], then x[k:] with h0 = the last state, equals scanning x (under reverse
  the later part first); the first part's error, carried by Π|a|, is added to the tolerance.
- reverse_flip: reverse=True equals flip∘scan∘flip.
- linearity: scan(b₁, h0₁) + scan(b₂, h0₂) = scan(b₁ + b₂, h0₁ + h0₂), the sums rounded to the
  format (their rounding carried by the magnitude scan).
- ones_cumsum: a ≡ 1 gives the cumulative sum of b (plus h0), the sum taken in longdouble.
- zero_resets: a = 0 at step z gives h_z = b_z and, from z on, the scan of x[z:] without h0.
Boundary lengths 1, 2, 3, 2^k ± 1 come from the strategy.

Mutants (the built-in passes each witness):
- tree_identity_zero: the tree padded, and started, with (0, 0) instead of the identity (1, 0):
  every prefix product A_t is 0, so h = A·h0 + B loses h0 (witness: h0, L = 100).
- eps_clamp (fp64 and fp32): log-space with log(max(a, 1e-6)) and no restart at a = 0: a 0
  acts as 1e-6 and lets 1e-6·h_{z−1} through (witness: h ≈ 300 before a zero, b_z = 0.1).
- unguarded_heinsen: h = e^{A}·(h0 + cumsum(b·e^{−A})) directly: e^{−A} overflows for small a
  at long L (inf·0 = NaN) (witness: a ∈ [0.3, 0.6], L = 1200).
- chunk_drops_h0: the chunked state passing forgets h0 after the first chunk (witness: h0,
  a ∈ [0.99, 1], L = 200).
"""

from __future__ import annotations

import numpy as np
import torch
from hypothesis import strategies as st

from ssmspec import registry
from ssmspec.dtypes import dtype
from ssmspec.errors import abs_error, higham_bound, ratio
from ssmspec.harness import to_numpy
from ssmspec.impl import _validate as v
from ssmspec.impl import scans as impl
from ssmspec.reference.np import scans as ref_np
from ssmspec.spec import Case, Law, LawContext, Mutant
from ssmspec.specs.scans import (
    DTYPES,
    SCAN,
    draw_a,
    h0_of,
    make_case,
    scan_cases,
)
from ssmspec.strategies import boundary_lengths

MEDIUM = st.sampled_from([n for n in boundary_lengths(257)])


def _methods(fmt: str) -> list[str]:
    return [m for m in SCAN.methods if fmt in SCAN.dtypes_of(m)]


def _h(fn, case: Case, method: str, device: str) -> np.ndarray:
    return to_numpy(SCAN.call(fn, case, method, device))


def _bound(case: Case, method: str) -> np.ndarray:
    return SCAN.bound(case, method)["h"]


def _check(got, want, tol, what):
    err = abs_error(got, want)
    r = ratio(err, tol)
    at = np.unravel_index(r.argmax(), r.shape) if r.size else ()
    assert np.all(r <= 1), f"{what}: err/tol {r.max():.3g} at {at}"


def _draw(ctx: LawContext, length=MEDIUM, method=None):
    method = method or ctx.draw(ctx.methods(_methods(ctx.dtype)))
    return method, ctx.draw(scan_cases(ctx.dtype, method, length=length))


# --- laws -------------------------------------------------------------------------------------


def methods_agree(ctx: LawContext) -> None:
    method, case = _draw(ctx)
    tol = _bound(case, method) + _bound(case, "sequential")
    _check(_h(ctx.fn, case, method, ctx.device), _h(ctx.fn, case, "sequential", ctx.device),
           tol, f"{method} vs sequential")


def split(ctx: LawContext) -> None:
    method, case = _draw(ctx, st.sampled_from([n for n in boundary_lengths(257) if n >= 2]))
    a, b, h0 = case.arrays["a"], case.arrays["b"], h0_of(case)
    rev = case.params["reverse"]
    L = a.shape[-1]
    k = ctx.draw(st.integers(1, L - 1), label="k")
    first, second = (slice(k, L), slice(0, k)) if rev else (slice(0, k), slice(k, L))
    c1 = make_case(case.dtype, a[..., first], b[..., first], h0, rev)
    h1 = _h(ctx.fn, c1, method, ctx.device)
    last = h1[..., 0] if rev else h1[..., -1]
    c2 = make_case(case.dtype, a[..., second], b[..., second], last, rev)
    h2 = _h(ctx.fn, c2, method, ctx.device)
    whole = _h(ctx.fn, case, method, ctx.device)
    b1, b2, bw = _bound(c1, method), _bound(c2, method), _bound(case, method)
    # the first part's error at its last state, carried through the second part by Π|a|
    carried = ref_np.magnitude(a[..., second], np.zeros(a[..., second].shape),
                               b1[..., 0] if rev else b1[..., -1], rev)
    got = np.concatenate([h2, h1] if rev else [h1, h2], axis=-1)
    tol = bw + np.concatenate([b2 + carried, b1] if rev else [b1, b2 + carried], axis=-1)
    _check(got, whole, tol, f"{method}: split at k = {k} vs whole")


def reverse_flip(ctx: LawContext) -> None:
    method, case = _draw(ctx)
    a, b, h0 = case.arrays["a"], case.arrays["b"], h0_of(case)
    rev = make_case(case.dtype, a, b, h0, True)
    fwd = make_case(case.dtype, a[..., ::-1], b[..., ::-1], h0, False)
    tol = _bound(rev, method) + _bound(fwd, method)[..., ::-1]
    _check(_h(ctx.fn, rev, method, ctx.device),
           _h(ctx.fn, fwd, method, ctx.device)[..., ::-1], tol, f"{method}: reverse vs flip")


def linearity(ctx: LawContext) -> None:
    method, c1 = _draw(ctx)
    a, b1, h01 = c1.arrays["a"], c1.arrays["b"], h0_of(c1)
    rev = c1.params["reverse"]
    b2 = -0.75 * b1[..., ::-1] + 0.5
    h02 = None if h01 is None else -2.0 * h01 + 0.25
    c2 = make_case(c1.dtype, a, b2, h02, rev)
    c3 = make_case(c1.dtype, a, c2.arrays["b"] + b1, None if h01 is None else
                   c2.arrays["h0"] + h01, rev)
    absb = np.abs(b1) + np.abs(c2.arrays["b"])
    absh = None if h01 is None else np.abs(h01) + np.abs(c2.arrays["h0"])
    rounding = higham_bound(1.0, c1.dtype, 1.0, ref_np.magnitude(a, absb, absh, rev))
    tol = _bound(c1, method) + _bound(c2, method) + _bound(c3, method) + rounding
    _check(_h(ctx.fn, c1, method, ctx.device) + _h(ctx.fn, c2, method, ctx.device),
           _h(ctx.fn, c3, method, ctx.device), tol, f"{method}: linearity in (b, h0)")


def ones_cumsum(ctx: LawContext) -> None:
    method, case = _draw(ctx)
    b, h0, rev = case.arrays["b"], h0_of(case), case.params["reverse"]
    ones = make_case(case.dtype, np.ones(b.shape), b, h0, rev)
    wide = np.clongdouble if np.iscomplexobj(b) else np.longdouble
    bb = np.asarray(b, dtype=wide)
    want = np.cumsum(bb[..., ::-1], axis=-1)[..., ::-1] if rev else np.cumsum(bb, axis=-1)
    if h0 is not None:
        want = want + np.asarray(h0, dtype=wide)[..., None]
    want = want.astype(np.complex128 if np.iscomplexobj(b) else np.float64)
    _check(_h(ctx.fn, ones, method, ctx.device), want, _bound(ones, method),
           f"{method}: a ≡ 1 vs cumsum")


def zero_resets(ctx: LawContext) -> None:
    method, case = _draw(ctx)
    a, b, rev = case.arrays["a"].copy(), case.arrays["b"], case.params["reverse"]
    L = a.shape[-1]
    z = ctx.draw(st.integers(0, L - 1), label="z")
    a[..., z] = 0
    case = make_case(case.dtype, a, b, h0_of(case), rev)
    after = slice(0, z + 1) if rev else slice(z, L)  # the steps from z on, in the scan's order
    fresh = make_case(case.dtype, a[..., after], b[..., after], None, rev)
    h = _h(ctx.fn, case, method, ctx.device)
    bound = _bound(case, method)
    _check(h[..., z], b[..., z], bound[..., z], f"{method}: h_z vs b_z at a_z = 0")
    _check(h[..., after], _h(ctx.fn, fresh, method, ctx.device),
           bound[..., after] + _bound(fresh, method), f"{method}: reset at z = {z}")


for _law in (
    Law("linear_scan", "methods_agree", "every method equals the sequential scan",
        methods_agree, DTYPES),
    Law("linear_scan", "split", "scan(x) = scan(x[:k]) then scan(x[k:], h0 = last state)",
        split, DTYPES),
    Law("linear_scan", "reverse_flip", "reverse scan = flip∘scan∘flip", reverse_flip, DTYPES),
    Law("linear_scan", "linearity", "linear in (b, h0)", linearity, DTYPES),
    Law("linear_scan", "ones_cumsum", "a ≡ 1 gives h0 + cumsum(b)", ones_cumsum, DTYPES),
    Law("linear_scan", "zero_resets", "a_z = 0 gives h_z = b_z and forgets everything before z",
        zero_resets, DTYPES),
):
    registry.register_law(_law)


# --- mutants ----------------------------------------------------------------------------------


def _wrap(core):
    """A linear_scan-shaped callable around `core(a, b, h0)` (working format, forward only)."""
    def fn(a, b, h0=None, reverse=False, method="sequential"):
        work = v.work_dtype(a.dtype)
        aw, bw = a.to(work), b.to(work)
        hw = None if h0 is None else h0.to(work)
        if reverse:
            aw, bw = aw.flip(-1), bw.flip(-1)
        h = core(aw, bw, hw)
        return (h.flip(-1) if reverse else h).to(a.dtype)
    return fn


tree_identity_zero = _wrap(lambda a, b, h0: impl._associative(a, b, h0, identity=(0.0, 0.0)))
chunk_drops_h0 = _wrap(lambda a, b, h0: impl._chunked(a, b, h0, carry_h0=False))


def _heinsen_clamped(a, b, h0, eps=1e-6):
    """log-space without the restart at a = 0: log(max(a, eps))."""
    A = torch.cumsum(torch.log(a.clamp(min=eps)), dim=-1)
    log_b = torch.log(torch.where(b == 0, torch.ones_like(b), b.abs())) - A
    ninf = torch.tensor(-float("inf"), dtype=a.dtype)
    out = 0
    for sign, keep in ((1, b > 0), (-1, b < 0)):
        r = torch.logcumsumexp(torch.where(keep, log_b, ninf), dim=-1)
        if h0 is not None:
            k0 = h0 > 0 if sign > 0 else h0 < 0
            r = torch.logaddexp(r, torch.where(k0, torch.log(h0.abs()), ninf)[..., None])
        out = out + sign * torch.exp(A + r)
    return out


def _heinsen_unguarded(a, b, h0):
    A = torch.cumsum(torch.log(a), dim=-1)
    start = 0 if h0 is None else h0[..., None]
    return torch.exp(A) * (start + torch.cumsum(b * torch.exp(-A), dim=-1))


eps_clamp = _wrap(_heinsen_clamped)
unguarded_heinsen = _wrap(_heinsen_unguarded)


def _tree_witness(fmt: str) -> Case:
    rng = np.random.default_rng(1)
    cplx = dtype(fmt).is_complex
    a = draw_a(rng, (2, 100), "hard", 0.0, 0.0, False, cplx, "small")
    b = rng.normal(size=(2, 100))
    return make_case(fmt, a, b, np.array([3.0, -2.0]), False)


def _eps_witness(fmt: str) -> Case:
    a = np.full((1, 300), 0.995)
    a[0, 250] = 0.0
    b = np.full((1, 300), 1.5)
    b[0, 250] = 0.1
    return make_case(fmt, a, b, None, False)


def _unguarded_witness(fmt: str) -> Case:
    rng = np.random.default_rng(2)
    return make_case(fmt, rng.uniform(0.3, 0.6, (2, 1200)), rng.normal(size=(2, 1200)),
                     np.array([1.0, -1.0]), False)


def _chunk_witness(fmt: str) -> Case:
    rng = np.random.default_rng(3)
    return make_case(fmt, rng.uniform(0.99, 1.0, (1, 200)), rng.normal(size=(1, 200)),
                     np.array([5.0]), True)


for _m in (
    Mutant("linear_scan", "tree_identity_zero", tree_identity_zero, "associative",
           ("fp64", "fp32", "c64"), "tree padded and started with (0, 0) instead of (1, 0): "
           "h0 is lost", _tree_witness),
    Mutant("linear_scan", "eps_clamp", eps_clamp, "logspace", ("fp64",),
           "log(max(a, 1e-6)) without a restart: a = 0 acts as 1e-6", _eps_witness),
    Mutant("linear_scan", "eps_clamp", eps_clamp, "logspace", ("fp32",),
           "log(max(a, 1e-6)) without a restart: a = 0 acts as 1e-6", _eps_witness,
           search=False),  # in fp32 it shows only where h_{z−1} ≫ b_z: the witness has it
    Mutant("linear_scan", "unguarded_heinsen", unguarded_heinsen, "logspace", ("fp32", "fp64"),
           "exp(−Σ log a) unguarded: overflow, inf·0 = NaN for small a at long L",
           _unguarded_witness),
    Mutant("linear_scan", "chunk_drops_h0", chunk_drops_h0, "chunked", ("fp64", "fp32", "c64"),
           "chunked state passing drops h0 after the first chunk", _chunk_witness),
):
    registry.register_mutant(_m)

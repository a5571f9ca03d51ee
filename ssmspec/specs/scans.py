"""The first-order linear scan `linear_scan` — spec, bound, references, sweep, implementations
(torch, cpp, triton), laws, mutants and bad inputs.

    h_t = a_t ⊙ h_{t−1} + b_t,   h_{−1} = h0 (0 if None),   over the last axis (reverse: t from L−1)

The methods, the bound's derivation (G per method, c = 2), what it does not admit, the laws and the
strategies: docs/scans.md#linear_scan.
"""

from __future__ import annotations

import math
from functools import partial

import numpy as np
import torch
from hypothesis import strategies as st

from ssmspec import triton as triton_kernels
from ssmspec.impl import _validate as v
from ssmspec.impl import cpu_scan
from ssmspec.impl import scans as impl
from ssmspec.reference.mp import scans as ref_mp
from ssmspec.reference.np import scans as ref_np
from ssmspec.speckit import *  # noqa: F403 (the spec vocabulary)
from ssmspec.specs import _scan_kit as sk

CHUNK = impl.CHUNK
C_BOUND = 2.0
MP_MAX = 300  # numel of a up to which the mpmath tier is used
DTYPES = ("fp64", "fp32", "fp16", "bf16", "c128", "c64")


def lengths() -> st.SearchStrategy[int]:
    """`sequence_lengths(1025, 16385)`, with the long ones (≥ 255) also drawn on their own:
    hypothesis favours the first of equal choices, and a scan's error shows at long L."""
    from ssmspec.profiles import heavy

    long = [n for n in boundary_lengths(16385 if heavy() else 1025) if n >= 255]
    return st.one_of(sequence_lengths(1025, 16385), st.sampled_from(long))


def draw_a(rng, shape, profile: str, zero_rate: float, one_rate: float, negative: bool,
           cplx: bool, phase: str = "full") -> np.ndarray:
    """a of `shape` from a numpy generator (docs/scans.md#strategies-and-references)."""
    unit, hard = rng.uniform(0.0, 1.0, shape), rng.uniform(0.99, 1.0, shape)
    mag = {"unit": unit, "hard": hard}.get(profile)
    if mag is None:  # mixed
        mag = np.where(rng.random(shape) < 0.5, unit, hard)
    mag = np.where(rng.random(shape) < one_rate, 1.0, mag)
    mag = np.where(rng.random(shape) < zero_rate, 0.0, mag)
    if cplx:
        width = math.pi if phase == "full" else 0.05
        return mag * np.exp(1j * rng.uniform(-width, width, shape))
    if negative:
        return np.where(rng.random(shape) < 0.5, -mag, mag)
    return mag


def make_case(fmt: str, a, b, h0=None, reverse: bool = False) -> Case:
    """A Case of `fmt` from arrays (rounded to the format; complex formats hold complex arrays)."""
    wide = np.complex128 if dtype(fmt).is_complex else np.float64
    return case_of(fmt, {k: np.asarray(x, dtype=wide) for k, x in {"a": a, "b": b, "h0": h0}.items()
                         if x is not None}, reverse=bool(reverse))


@st.composite
def scan_cases(draw, fmt: str, method: str = "sequential", length=None) -> Case:
    """a, b (..., L), h0 (...,) or None, reverse (docs/scans.md#strategies-and-references)."""
    cplx = dtype(fmt).is_complex
    shape = (*draw(batch_shapes(2, 3)),
             draw(size("L", length if length is not None else lengths())))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1), label="seed"))
    a = draw_a(rng, shape, draw(st.sampled_from(["unit", "hard", "mixed"])),
               draw(st.sampled_from([0.0, 0.02, 0.2])), draw(st.sampled_from([0.0, 0.05, 0.3])),
               method != "logspace" and not cplx and draw(st.booleans()), cplx,
               draw(st.sampled_from(["full", "small"])))
    b, h0 = sk.normals(rng, shape, cplx), sk.normals(rng, shape[:-1], cplx)
    return make_case(fmt, a, b, h0 if draw(feature("h0", st.booleans(), False)) else None,
                     draw(feature("reverse", st.booleans(), False)))


_args = arguments("a", "b", "h0", "reverse")

REFERENCE = sk.references(lambda case, method: (ref_mp.linear_scan(*_args(case)),),
                          lambda case, method: (ref_np.linear_scan(*_args(case)),), ("h",), MP_MAX,
                          lambda case: np.asarray(case.arrays["a"]).size)


def _terms(case: Case, method: str, d) -> dict:
    """G (..., L) of docs/scans.md#bound and M."""
    return {"h": Terms(ref_np.growth(method, CHUNK, *_args(case)), ref_np.magnitude(*_args(case)))}


def uniform_case(fmt: str, rng, shape: tuple, lo: float, hi: float, h0=None,
                 reverse: bool = False, turn: bool = True) -> Case:
    """a ~ U[lo, hi] and b normal of `shape` from `rng`, h0 as given ("normal": drawn after b);
    in complex formats, where `turn`, a turned by a phase in ±0.1 and b, h0 given imaginary
    parts (b's normal, h0's 1)."""
    a, b = rng.uniform(lo, hi, shape), rng.normal(size=shape)
    h0 = rng.normal(size=shape[:-1]) if isinstance(h0, str) else h0
    if turn and dtype(fmt).is_complex:
        a = a * np.exp(1j * rng.uniform(-0.1, 0.1, shape))
        b, h0 = b + 1j * rng.normal(size=shape), None if h0 is None else h0 + 1j
    return make_case(fmt, a, b, h0, reverse)


def _bench(fmt: str) -> Case:
    """B = 4, D = 256, L = 4096; a mixed uniform (0, 1) / [0.99, 1], b normal, no h0."""
    rng, shape, cplx = np.random.default_rng(0), (4, 256, 4096), dtype(fmt).is_complex
    a = draw_a(rng, shape, "mixed", 0.0, 0.0, False, cplx, "small")
    return make_case(fmt, a, sk.normals(rng, shape, cplx))


def sweep_problem(fmt: str, L: int, rows: int = 32) -> Case:
    """The sweep along L: a ~ U[0.99, 1] (long memory: where the log-space scan's u·Σ|log a|
    shows), b normal, 32 rows."""
    return uniform_case(fmt, problem_rng(), (rows, L), 0.99, 1.0)


# --- laws (docs/scans.md#laws) ---------------------------------------------------------------
MEDIUM = st.sampled_from([n for n in boundary_lengths(257)])


def _h(fn, case: Case, method: str, device: str) -> np.ndarray:
    return run(SCAN, fn, case, method, device)[0]


def _bound(case: Case, method: str) -> np.ndarray:
    return SCAN.bound(case, method)["h"]


def _draw(ctx: LawContext, length=MEDIUM):
    """(method, case): a method that runs the law's format, and a case of a length from `length`."""
    methods = [m for m in SCAN.methods if ctx.dtype in SCAN.dtypes_of(m)]
    return draw_case(ctx, scan_cases, methods, length=length)


def methods_agree(ctx: LawContext) -> None:
    method, case = _draw(ctx)
    agree(SCAN, ctx, (case, method), (case, "sequential"), f"{method} vs sequential")


def split(ctx: LawContext) -> None:
    method, case = _draw(ctx, st.sampled_from([n for n in boundary_lengths(257) if n >= 2]))
    a, b, h0 = case.arrays["a"], case.arrays["b"], case.arrays.get("h0")
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
    assert_within(got, whole, tol, f"{method}: split at k = {k} vs whole")


def reverse_flip(ctx: LawContext) -> None:
    method, case = _draw(ctx)
    a, b = case.arrays["a"], case.arrays["b"]
    fwd = case.with_(a=a[..., ::-1], b=b[..., ::-1], reverse=False)
    agree(SCAN, ctx, (case.with_(reverse=True), method), (fwd, method),
          f"{method}: reverse vs flip", lambda k, x: x[..., ::-1])


def linearity(ctx: LawContext) -> None:
    method, c1 = _draw(ctx)
    a, b1, h01 = c1.arrays["a"], c1.arrays["b"], c1.arrays.get("h0")
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
    assert_within(_h(ctx.fn, c1, method, ctx.device) + _h(ctx.fn, c2, method, ctx.device),
                  _h(ctx.fn, c3, method, ctx.device), tol, f"{method}: linearity in (b, h0)")


def ones_cumsum(ctx: LawContext) -> None:
    method, case = _draw(ctx)
    b, h0, rev = case.arrays["b"], case.arrays.get("h0"), case.params["reverse"]
    ones = make_case(case.dtype, np.ones(b.shape), b, h0, rev)
    wide = np.clongdouble if np.iscomplexobj(b) else np.longdouble
    bb = np.asarray(b, dtype=wide)
    want = np.cumsum(bb[..., ::-1], axis=-1)[..., ::-1] if rev else np.cumsum(bb, axis=-1)
    if h0 is not None:
        want = want + np.asarray(h0, dtype=wide)[..., None]
    want = want.astype(np.complex128 if np.iscomplexobj(b) else np.float64)
    assert_within(_h(ctx.fn, ones, method, ctx.device), want, _bound(ones, method),
                  f"{method}: a ≡ 1 vs cumsum")


def zero_resets(ctx: LawContext) -> None:
    method, case = _draw(ctx)
    a, b, rev = case.arrays["a"].copy(), case.arrays["b"], case.params["reverse"]
    L = a.shape[-1]
    z = ctx.draw(st.integers(0, L - 1), label="z")
    a[..., z] = 0
    case = make_case(case.dtype, a, b, case.arrays.get("h0"), rev)
    after = slice(0, z + 1) if rev else slice(z, L)  # the steps from z on, in the scan's order
    fresh = make_case(case.dtype, a[..., after], b[..., after], None, rev)
    h = _h(ctx.fn, case, method, ctx.device)
    bound = _bound(case, method)
    assert_within(h[..., z], b[..., z], bound[..., z], f"{method}: h_z vs b_z at a_z = 0")
    assert_within(h[..., after], _h(ctx.fn, fresh, method, ctx.device),
                  bound[..., after] + _bound(fresh, method), f"{method}: reset at z = {z}")


# --- mutants (docs/scans.md#what-the-bound-does-not-admit) -------------------------------------
def _wrap(core):
    """A linear_scan-shaped callable around `core(a, b, h0)` (working format, forward only)."""
    def fn(a, b, h0=None, reverse=False, method="sequential"):
        work = v.work_dtype(a.dtype)
        aw, bw = (x.to(work).flip(-1) if reverse else x.to(work) for x in (a, b))
        h = core(aw, bw, None if h0 is None else h0.to(work))
        return (h.flip(-1) if reverse else h).to(a.dtype)
    return fn


tree_identity_zero = _wrap(lambda a, b, h0: impl.associative_forward(a, b, h0, identity=(0.0, 0.0)))
chunk_drops_h0 = _wrap(lambda a, b, h0: impl.chunked_forward(a, b, h0, carry_h0=False))


@_wrap
def eps_clamp(a, b, h0, eps=1e-6):
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


@_wrap
def unguarded_heinsen(a, b, h0):
    A = torch.cumsum(torch.log(a), dim=-1)
    start = 0 if h0 is None else h0[..., None]
    return torch.exp(A) * (start + torch.cumsum(b * torch.exp(-A), dim=-1))


def _tree_witness(fmt: str) -> Case:
    rng = np.random.default_rng(1)
    a = draw_a(rng, (2, 100), "hard", 0.0, 0.0, False, dtype(fmt).is_complex, "small")
    return make_case(fmt, a, rng.normal(size=(2, 100)), np.array([3.0, -2.0]), False)


def _eps_witness(fmt: str) -> Case:
    a, b = np.full((1, 300), 0.995), np.full((1, 300), 1.5)
    a[0, 250], b[0, 250] = 0.0, 0.1  # a reset at step 250
    return make_case(fmt, a, b, None, False)


def _uniform_witness(seed: int, shape: tuple, lo: float, hi: float, h0: list, reverse: bool):
    """A witness: a ~ U[lo, hi], b normal, of `shape` (generator seeded `seed`, real in every
    format), h0 given."""
    return lambda fmt: uniform_case(fmt, np.random.default_rng(seed), shape, lo, hi, np.array(h0),
                                    reverse, turn=False)


def _triton_witness(fmt: str) -> Case:
    """2 rows, L = 2·BLOCK_T + 5 steps, a in [0.9, 1] (the carry matters), h0 drawn."""
    from ssmspec.impl.triton.scan import BLOCK_T

    return uniform_case(fmt, np.random.default_rng(8), (2, 2 * BLOCK_T + 5), 0.9, 1.0, "normal")


# --- bad input (docs/bad-input.md) ----------------------------------------------------------------
_t = partial(full, fill=0.5)
_C128 = torch.complex128
# and the generic rows (docs/bad-input.md#the-generic-rows); a takes any leading axes
_BAD = bad_calls({"a": _t(2, 5), "b": _t(2, 5)}, [
    ("b of another shape", "b", ValueError, dict(b=_t(2, 4))),
    ("h0 of another shape", "h0", ValueError, dict(h0=_t(3))),
    ("h0 with the L axis", "h0", ValueError, dict(h0=_t(2, 5))),
    ("a real, b complex", "b", TypeError, dict(b=_t(2, 5, dt=_C128))),
    ("a complex, b real", "b", TypeError, dict(a=_t(2, 5, dt=_C128))),
    ("logspace with complex a", "a", ValueError,
     dict(a=_t(2, 5, dt=_C128), b=_t(2, 5, dt=_C128), method="logspace")),
    ("logspace with negative a", "a", ValueError, dict(a=_t(2, 5, fill=-0.5), method="logspace")),
    ("reverse not a bool", "reverse", TypeError, dict(reverse=1)),
    ("L = 0", "a", ValueError, dict(a=_t(2, 0), b=_t(2, 0))),
    ("a 0-d", "a", ValueError, dict(a=torch.tensor(0.5), b=torch.tensor(1.0))),
], generic=dict(batched=("a",)))
_EPS_CLAMP = "log(max(a, 1e-6)) without a restart: a = 0 acts as 1e-6"


SCAN = registry.register_spec(
    Spec(
        name="linear_scan", family="scans", methods=impl.METHODS, dtypes=DTYPES,
        sizes=("L",), outputs=("h",),
        summary="first-order linear recurrence h_t = a_t ⊙ h_{t−1} + b_t over the last axis",
        signature="linear_scan(a (..., L), b (..., L), h0 (...,) = None, reverse=False, method) "
                  "-> h (..., L)",
        strategy=lambda fmt, method: scan_cases(fmt, method),
        references=REFERENCE,
        bound=Bound(c=C_BOUND, terms=_terms,
                    reasoning="elementwise; M = scan of (|a|, |b|, |h0|); G = τ + 1 (sequential), "
                              "τ + 2⌈log₂L⌉ + 2 (associative), τ + 2⌈log₂(L/64)⌉ + 2 (chunked), "
                              "τ + 1 + 2Σ|log a| + max|log|b|| (logspace)"),
        call=caller("a", "b", "h0", keywords=("reverse",)), bench_case=_bench,
        bench_shape="B=4, D=256, L=4096",
        sweep=Sweep("L", LONG, sweep_problem, LONG_HEAVY, "a in [0.99, 1], 32 rows"),
        method_dtypes={"logspace": REAL_DTYPES},
        features={"h0": optional_argument("h0", "an initial state h0 (..., ) before a_0, b_0"),
                  "reverse": flag("reverse", True, "the scan run from t = L−1 down to 0")}),
    implementations=[
        Implementation("linear_scan", "torch", impl.linear_scan),
        # the sequential method compiled for the CPU (C++, built on first use): the fast CPU path
        Implementation("linear_scan", "cpp", cpu_scan.linear_scan, methods=("sequential",),
                       devices=("cpu",), source="builtin (C++, compiled on first use)",
                       unavailable=cpu_scan.available()),
        triton_kernels.implementation("linear_scan", "scan", "linear_scan",
                                      methods=("sequential", "chunked"))],
    # every law holds in every format of the spec
    laws=[Law(name, what, law, DTYPES) for name, what, law in [
        ("methods_agree", "every method equals the sequential scan", methods_agree),
        ("split", "scan(x) = scan(x[:k]) then scan(x[k:], h0 = last state)", split),
        ("reverse_flip", "reverse scan = flip∘scan∘flip", reverse_flip),
        ("linearity", "linear in (b, h0)", linearity),
        ("ones_cumsum", "a ≡ 1 gives h0 + cumsum(b)", ones_cumsum),
        ("zero_resets", "a_z = 0 gives h_z = b_z and forgets everything before z", zero_resets)]],
    mutants=[
        Mutant("tree_identity_zero", tree_identity_zero, "associative", ("fp64", "fp32", "c64"),
               "tree padded and started with (0, 0) instead of (1, 0): h0 is lost", _tree_witness),
        Mutant("eps_clamp", eps_clamp, "logspace", ("fp64",), _EPS_CLAMP, _eps_witness),
        # in fp32 it shows only where h_{z−1} ≫ b_z: the witness has it
        Mutant("eps_clamp", eps_clamp, "logspace", ("fp32",), _EPS_CLAMP, _eps_witness,
               search=False),
        Mutant("unguarded_heinsen", unguarded_heinsen, "logspace",
               ("fp32", "fp64"), "exp(−Σ log a) unguarded: overflow, inf·0 = NaN for small a at "
               "long L", _uniform_witness(2, (2, 1200), 0.3, 0.6, [1.0, -1.0], False)),
        Mutant("chunk_drops_h0", chunk_drops_h0, "chunked",
               ("fp64", "fp32", "c64"), "chunked state passing drops h0 after the first chunk",
               _uniform_witness(3, (1, 200), 0.99, 1.0, [5.0], True)),
        *triton_kernels.mutants(lambda kernel: [Mutant(
            "triton_block_drops_carry", kernel("scan", "linear_scan_dropping_carry"), "chunked",
            ("fp64", "fp32", "c64"), "Triton scan: a block boundary drops the carried state",
            _triton_witness)])],
    bad_inputs=_BAD,
)

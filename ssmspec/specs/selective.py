"""Mamba's selective scan `selective_scan` (S6) and Mamba-2's `ssd_scan` — spec, bound, references,
sweep, implementations (torch, triton), laws, mutants and bad inputs. The definitions, the formats,
the conj_half convention, the bounds' derivation, the laws, the mutants and the strategies:
docs/selective.md#selective_scan and docs/selective.md#ssd_scan.
"""

from __future__ import annotations

import math
from functools import partial

import numpy as np
import torch
import torch.nn.functional as F
from hypothesis import strategies as st

from ssmspec import triton as triton_kernels
from ssmspec.impl import selective as impl
from ssmspec.reference.mp import selective as ref_mp
from ssmspec.reference.np import selective as ref_np
from ssmspec.speckit import *  # noqa: F403 (the spec vocabulary)
from ssmspec.specs import _scan_kit as sk
from ssmspec.specs.kernels import DIAG, diag_bound_terms

METHODS = impl.METHODS
C_BOUND = 2.0
MP_MAX = 200  # batch·D·N·L up to which the mpmath tier is used
LAYOUTS = ("invariant", "step", "grouped")
DTYPES = ("fp64", "fp32", "fp16", "bf16", "c128", "c64")
ARGS = ("u", "delta", "A", "B", "C")
OPTIONAL = ("D", "z", "delta_bias", "initial_state")
REGIMES = ["uniform", "specials", "specials", "1e-6", "10"]


def _b_rank(rank: int):
    return lambda a: getattr(a.get("B"), "dim", lambda: 0)() == rank


FEATURES = {
    "initial_state": optional_argument("initial_state", "a state (b, D, N) before step 0"),
    "D": optional_argument("D", "the skip D (D,): y += D·u"),
    "z": optional_argument("z", "the gate z (b, D, L): y ·= silu(z)"),
    "delta_bias": optional_argument("delta_bias", "a bias (D,) added to delta"),
    "delta_softplus": flag("delta_softplus", True, "Δ = softplus(delta + delta_bias)"),
    "layout=invariant": Feature("B, C time-invariant (D, N)", _b_rank(2)),
    "layout=step": Feature("B, C per step (b, N, L)", _b_rank(3)),
    "layout=grouped": Feature("B, C per step and group (b, G, N, L)", _b_rank(4)),
}


def _a_el(cplx: bool, n: int):
    """An entry A[:, n]: S4D-Lin or random (complex), −exp(x) or S4D-Real −(n + 1) (real)."""
    if cplx:
        return sk.eigenvalues((-2.5, 2.5), 100.0)
    return st.one_of(st.floats(-2.5, 2.5).map(lambda x: -math.exp(x)), st.just(-(n + 1.0)))


@st.composite
def selective_cases(draw, fmt: str, method: str = "zoh_approx", length=None, layout=None,
                    optional=None, softplus=None, max_d: int = 4, max_n: int = 4) -> Case:
    """u, delta, A, B, C and the optional D, z, delta_bias, initial_state
    (docs/selective.md#selective_scan). `layout`, `optional` (a set of the optional arrays
    wanted, None: drawn) and `softplus` fix what a law needs."""
    cplx = dtype(fmt).is_complex
    b, Dn = draw(size("b", st.integers(1, 2), "batch")), draw(size("D", st.integers(1, max_d)))
    N = draw(size("N", st.integers(1, max_n)))
    L = draw(size("L", length if length is not None else sequence_lengths(129, 4097)))
    layout = layout or draw(st.sampled_from(in_scope("layout=", LAYOUTS)))
    sp = draw(feature("delta_softplus", st.booleans(), False)) if softplus is None else softplus
    regime = draw(st.sampled_from(REGIMES))
    opts = optional if optional is not None else {
        k for k in OPTIONAL if draw(feature(k, st.booleans(), False))}
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    # realistic widths: a few drawn rows spread over the D channels (entry by entry, 10⁵ draws
    # would overrun hypothesis' buffer)
    wide = Dn * N > ARRAY_DRAW_MAX
    A = np.array([[draw(_a_el(cplx, n)) for n in range(N)]
                  for _ in range(max(1, ARRAY_DRAW_MAX // N) if wide else Dn)])
    if wide:
        A = A[rng.integers(0, len(A), Dn)]
    arrs = {"u": rng.normal(size=(b, Dn, L)), "A": A}
    if layout == "invariant":
        el = st.builds(complex, real_normals(2.0), real_normals(2.0)) if cplx else real_normals(2.0)
        arrs["B"], arrs["C"] = draw(arrays((Dn, N), el)), draw(arrays((Dn, N), el))
    else:
        divisors = [g for g in range(1, Dn + 1) if Dn % g == 0]  # G of the grouped layout
        shape = (b, N, L) if layout == "step" else (b, draw(st.sampled_from(divisors)), N, L)
        arrs["B"], arrs["C"] = sk.normals(rng, shape, cplx), sk.normals(rng, shape, cplx)
    dt = sk.step_sizes(rng, (b, Dn, L), regime)
    if sp and "delta_bias" in opts:
        arrs["delta_bias"] = draw(arrays((Dn,), st.floats(-2.0, 2.0)))
    # softplus⁻¹(Δ) = Δ + log(−expm1(−Δ)), accurate for small and large Δ
    bias = arrs.get("delta_bias", np.zeros(Dn))[:, None]
    arrs["delta"] = dt + np.log(-np.expm1(-dt)) - bias if sp else dt
    if "D" in opts:
        arrs["D"] = draw(arrays((Dn,), real_normals(2.0)))
    if "z" in opts:
        arrs["z"] = rng.normal(0, 2.0, (b, Dn, L))
    if "initial_state" in opts:
        arrs["initial_state"] = sk.normals(rng, (b, Dn, N), cplx)
    conj = draw(st.sampled_from([None, True, False])) if cplx else None
    return case_of(fmt, arrs, delta_softplus=sp, conj_half=conj)


def _kwargs(case: Case, get) -> dict:
    return {**{k: (get(k) if k in case.arrays else None) for k in OPTIONAL},
            "delta_softplus": case.params["delta_softplus"], "conj_half": case.params["conj_half"]}


def _ref(fn, case: Case, method: str):
    """`fn` (a reference) on the case's float64 arrays."""
    return fn(*(case.arrays[k] for k in ARGS), **_kwargs(case, case.arrays.get), method=method)


# (y, h, M_y, G_y, M_h, G_h) from the float64 reference
terms = last_case(partial(_ref, ref_np.selective_scan_with_bound))
_terms = sk.scan_terms(terms, "last_state")


def _bench(fmt: str) -> Case:
    """batch = 2, D = 256, N = 16, L = 2048; per-step B, C; D, z, delta_bias, softplus (Mamba's
    block); A S4D-Real (real formats) or S4D-Lin (complex)."""
    rng = np.random.default_rng(0)
    b, Dn, N, L = 2, 256, 16, 2048
    cplx = dtype(fmt).is_complex
    arrs = {"u": rng.normal(size=(b, Dn, L)), "delta": rng.normal(-4, 1, (b, Dn, L)),
            "A": sk.s4d(cplx, Dn, N), "B": sk.normals(rng, (b, N, L), cplx),
            "C": sk.normals(rng, (b, N, L), cplx), "D": rng.normal(size=Dn),
            "z": rng.normal(size=(b, Dn, L)),
            "delta_bias": np.log(np.expm1(10.0 ** rng.uniform(-3, -1, Dn)))}
    return case_of(fmt, arrs, delta_softplus=True, conj_half=None)


def sweep_problem(fmt: str, L: int) -> Case:
    """The sweep along L: batch 1, D = 4, N = 8, per-step B, C, Δ ~ 10^U[-3, -1]."""
    rng = problem_rng()
    cplx = dtype(fmt).is_complex
    arrs = {"u": rng.normal(size=(1, 4, L)), "delta": 10.0 ** rng.uniform(-3, -1, (1, 4, L)),
            "A": sk.s4d(cplx, 4, 8), "B": sk.normals(rng, (1, 8, L), cplx),
            "C": sk.normals(rng, (1, 8, L), cplx)}
    return case_of(fmt, arrs, delta_softplus=False, conj_half=None)


def _witness(fmt: str, L: int = 6, seed: int = 3, re_A=((-1.0, -2.0), (-0.5, -3.0)),
             freq: float = math.pi) -> Case:
    """batch 1, D 2, N 2, L steps, per-step B, C, softplus with a bias, D and z; A = re_A, plus
    i·[[freq, 0.5], [2, 0]] for a complex format (the defaults: the mutants' witness, L = 6)."""
    rng = np.random.default_rng(seed)
    cplx = dtype(fmt).is_complex
    A = np.array(re_A) + (1j * np.array([[freq, 0.5], [2.0, 0.0]]) if cplx else 0)
    B, C = rng.normal(size=(1, 2, L)), rng.normal(size=(1, 2, L))
    if cplx:
        B, C = B + 0.5j, C - 0.25j
    arrs = {"u": rng.normal(size=(1, 2, L)), "delta": rng.normal(-1, 1, (1, 2, L)), "A": A,
            "B": B, "C": C, "D": np.array([0.5, -1.0]), "z": rng.normal(size=(1, 2, L)),
            "delta_bias": np.array([1.0, -0.5])}
    return case_of(fmt, arrs, delta_softplus=True, conj_half=None)


def _triton_witness(fmt: str) -> Case:
    """L = 2·BLOCK_T + 3 (two block boundaries), slow decay."""
    from ssmspec.impl.triton.selective import BLOCK_T

    return _witness(fmt, 2 * BLOCK_T + 3, 5, [[-0.1, -0.2], [-0.05, -0.3]], 1.0)


# --- bad input (docs/bad-input.md) ----------------------------------------------------------------
_r = partial(full, fill=-0.5)
# a valid call: batch 2, D 4, N 3, L 5, per-step B/C; and the generic rows
# (docs/bad-input.md#the-generic-rows)
_BAD = bad_calls(dict(u=_r(2, 4, 5), delta=_r(2, 4, 5).abs(), A=_r(4, 3), B=_r(2, 3, 5),
                      C=_r(2, 3, 5)), [
    ("B per step, C grouped", "C", ValueError, dict(C=_r(2, 2, 3, 5))),
    ("B grouped, C per step", "C", ValueError, dict(B=_r(2, 2, 3, 5))),
    ("B time-invariant, C per step", "C", ValueError, dict(B=_r(4, 3))),
    ("G does not divide D", "B", ValueError, dict(B=_r(2, 3, 3, 5), C=_r(2, 3, 3, 5))),
    ("B of the wrong length", "B", ValueError, dict(B=_r(2, 3, 6))),
    ("delta of another shape", "delta", ValueError, dict(delta=_r(2, 4, 6).abs())),
    ("A of another D", "A", ValueError, dict(A=_r(3, 3))),
    ("A of another precision", "A", TypeError, dict(A=_r(4, 3, dt=torch.complex64))),
    ("B real, A complex", "B", TypeError, dict(A=_r(4, 3, dt=torch.complex128))),
    ("D of another shape", "D", ValueError, dict(D=_r(5))),
    ("z of another shape", "z", ValueError, dict(z=_r(2, 4, 4))),
    ("delta_bias of another shape", "delta_bias", ValueError, dict(delta_bias=_r(2))),
    ("initial_state of another shape", "initial_state", ValueError,
     dict(initial_state=_r(2, 4, 2))),
    ("delta_softplus not a bool", "delta_softplus", TypeError, dict(delta_softplus=1)),
], generic=dict(method="discretization", real=("u", "delta")))
# --- ssd_scan (Mamba-2; the bound and strategies: docs/selective.md#ssd_scan) ------------------
SSD_DTYPES = ("fp64", "fp32", "bf16")
SSD_MP_MAX = 200
SSD_ARGS = ("x", "dt", "A", "B", "C")


@st.composite
def ssd_cases(draw, fmt: str, method: str = "chunked", length=None, chunk=None,
              initial=None) -> Case:
    b, H = draw(size("b", st.integers(1, 2), "batch")), draw(size("H", st.sampled_from([1, 2, 4])))
    P, N = draw(size("P", st.integers(1, 3))), draw(size("N", st.integers(1, 4)))
    L = draw(size("L", length if length is not None else sequence_lengths(129, 4097)))
    G = draw(st.sampled_from([g for g in (1, 2, 4) if H % g == 0]))
    regime = draw(st.sampled_from(REGIMES))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    arrs = {"x": rng.normal(size=(b, L, H, P)), "dt": sk.step_sizes(rng, (b, L, H), regime),
            "A": -np.exp(draw(arrays((H,), st.floats(-2.5, 2.5)))),
            "B": rng.normal(size=(b, L, G, N)), "C": rng.normal(size=(b, L, G, N))}
    if draw(feature("initial_states", st.booleans(), False)) if initial is None else initial:
        arrs["initial_states"] = rng.normal(size=(b, H, P, N))
    Q = draw(size("chunk_size", st.sampled_from([1, 4, 16, 64]), kind="chunk")) if chunk is None \
        else chunk
    return case_of(fmt, arrs, chunk_size=Q)


_ssd_args = arguments(*SSD_ARGS)


@last_case
def ssd_terms(case: Case, method: str = "chunked"):
    """(y, final_states, M_y, G_y, M_h, G_h) from the float64 reference."""
    return ref_np.ssd_scan_with_bound(*_ssd_args(case), case.params["chunk_size"],
                                      case.arrays.get("initial_states"))


def _ssd_bench(fmt: str) -> Case:
    """batch = 2, L = 2048, 8 heads of headdim 32 (D = 256), one group, N = 16, chunk 64."""
    rng = np.random.default_rng(0)
    b, L, H, P, N = 2, 2048, 8, 32, 16
    arrs = {"x": rng.normal(size=(b, L, H, P)), "dt": 10.0 ** rng.uniform(-3, -1, (b, L, H)),
            "A": -np.arange(1.0, H + 1), "B": rng.normal(size=(b, L, 1, N)),
            "C": rng.normal(size=(b, L, 1, N))}
    return case_of(fmt, arrs, chunk_size=64)


_s = partial(full, fill=0.5)
_SSD_BAD = bad_calls(dict(x=_s(2, 5, 4, 3), dt=_s(2, 5, 4), A=-_s(4), B=_s(2, 5, 2, 3),
                          C=_s(2, 5, 2, 3), chunk_size=4), [
    ("chunk_size zero", "chunk_size", ValueError, dict(chunk_size=0)),
    ("x 3-d", "x", ValueError, dict(x=_s(2, 5, 4))),
    ("dt of another shape", "dt", ValueError, dict(dt=_s(2, 5, 3))),
    ("A per channel", "A", ValueError, dict(A=-_s(4, 3))),
    ("groups not dividing nheads", "B", ValueError, dict(B=_s(2, 5, 3, 3), C=_s(2, 5, 3, 3))),
    ("C of another shape", "C", ValueError, dict(C=_s(2, 5, 2, 4))),
    ("initial_states of another shape", "initial_states", ValueError,
     dict(initial_states=_s(2, 4, 3, 2))),
], keywords=("chunk_size",), generic=dict(real=True))


LAW_DTYPES = ("fp64", "fp32", "c128", "c64")
SHORT = st.sampled_from([1, 2, 3, 7, 8, 9, 31, 32, 33, 65])


# --- selective_scan: laws (docs/selective.md#selective_scan) --------------------------------------
def lti_equals_convolution(ctx: LawContext) -> None:
    fmt, draw = ctx.dtype, ctx.draw
    method = draw(ctx.methods(METHODS))
    case = draw(selective_cases(fmt, method, length=SHORT, layout="invariant",
                                optional={"D"} if draw(st.booleans()) else set(), softplus=False))
    b, Dn, L = case.arrays["u"].shape
    log_dt = representable(np.log([draw(log_uniform(1e-4, 1.0)) for _ in range(Dn)]), fmt)
    delta = representable(np.broadcast_to(np.exp(log_dt)[None, :, None], (b, Dn, L)), fmt)
    conj = dtype(fmt).is_complex
    case = case.with_(delta=delta, conj_half=conj)
    y, _ = run(SELECTIVE, ctx.fn, case, method, ctx.device)
    kcase = Case({"Lambda": case.arrays["A"], "B": case.arrays["B"], "C": case.arrays["C"],
                  "log_dt": log_dt}, fmt, {"L": L, "conj_half": conj})
    K = DIAG.call(ctx.impl_of("diag_kernel"), kcase, method, ctx.device)
    Dv = case.tensor("D", ctx.device) if "D" in case.arrays else None
    got = to_numpy(ctx.impl_of("causal_conv")(case.tensor("u", ctx.device),
                                              K.real if K.is_complex() else K, Dv, method="direct"))
    uf = dtype(fmt).u
    # the kernel's error + the direct sum's roundings, convolved with |u|
    Kerr = DIAG.bound(kcase, method)["K"] + 2 * uf * (np.arange(L) + 1) * diag_bound_terms(
        kcase, method)[0]
    au = np.abs(case.arrays["u"])
    tol = 2 * SELECTIVE.bound(case, method)["y"] + np.array(
        [[np.convolve(Kerr[d], au[i, d])[:L] for d in range(Dn)] for i in range(b)])
    if Dv is not None:
        tol = tol + 2 * uf * np.abs(case.arrays["D"][None, :, None] * au)
    assert_within(got, y, tol, f"{method}: selective scan (LTI) vs causal_conv(diag_kernel)")


def layouts_agree(ctx: LawContext) -> None:
    method = ctx.draw(ctx.methods(METHODS))
    layout = ctx.draw(st.sampled_from(["invariant", "step"]))
    case = ctx.draw(selective_cases(ctx.dtype, method, length=SHORT, layout=layout))
    b, Dn, L = case.arrays["u"].shape
    grow = ((lambda X: np.broadcast_to(X[None, :, :, None], (b, Dn, X.shape[1], L)))
            if layout == "invariant" else (lambda X: X[:, None]))
    other = case.with_(B=grow(case.arrays["B"]), C=grow(case.arrays["C"]))
    agree(SELECTIVE, ctx, (case, method), (other, method), f"{method}, {layout} vs grouped")


def zoh_is_exact_recurrence(ctx: LawContext) -> None:
    ctx.require("zoh")
    case = ctx.draw(selective_cases(ctx.dtype, "zoh", length=SHORT, layout="invariant"))
    a = case.arrays
    b, Dn, L = a["u"].shape
    dt, _ = ref_np.step_sizes(a["delta"], a.get("delta_bias"), case.params["delta_softplus"])
    wide = torch.complex128 if np.iscomplexobj(a["A"]) else torch.float64
    # Δ rounded to the format as the implementation forms it: the law compares the recurrence,
    # not the softplus
    dt_fmt = representable(dt, ctx.dtype)
    full = (b, Dn, L, a["A"].shape[1])
    A64, B64 = (torch.as_tensor(np.array(np.broadcast_to(a[k][None, :, None], full)), dtype=wide)
                for k in ("A", "B"))
    abar, bbar = (to_numpy(t) for t in ctx.impl_of("discretize_diag")(
        A64, B64, torch.as_tensor(dt_fmt, dtype=torch.float64), method="zoh"))
    f = 2.0 if (np.iscomplexobj(a["A"]) if case.params["conj_half"] is None
                else case.params["conj_half"]) else 1.0
    want = ref_np.given_recurrence(abar, bbar, a["u"], a["C"], a.get("initial_state"), f,
                                   a.get("D"), a.get("z"))
    y, _ = run(SELECTIVE, ctx.fn, case, "zoh", ctx.device)
    G, M = _terms(case, "zoh", dtype(ctx.dtype))["y"]
    tol = 2 * SELECTIVE.bound(case, "zoh")["y"] + higham_bound(8.0, "fp64", G, M)
    assert_within(y, want, tol, "zoh vs the recurrence of discretize_diag(zoh)")


# --- selective_scan: mutants ------------------------------------------------------------------
def softplus_twice(u, delta, A, B, C, D=None, z=None, delta_bias=None, delta_softplus=False,
                   **kw):
    if delta_softplus:
        x = delta if delta_bias is None else delta + delta_bias[:, None]
        delta, delta_bias = F.softplus(x.float()).to(delta.dtype), None
    return impl.selective_scan(u, delta, A, B, C, D, z, delta_bias, delta_softplus, **kw)


def bias_after_softplus(u, delta, A, B, C, D=None, z=None, delta_bias=None,
                        delta_softplus=False, **kw):
    if delta_softplus and delta_bias is not None:
        delta = (F.softplus(delta.float()) + delta_bias.float()[:, None]).to(delta.dtype)
        delta_bias, delta_softplus = None, False
    return impl.selective_scan(u, delta, A, B, C, D, z, delta_bias, delta_softplus, **kw)


# --- ssd_scan: laws and mutant ---------------------------------------------------------------
def ssd_chunk_invariance(ctx: LawContext) -> None:
    case = ctx.draw(ssd_cases(ctx.dtype, chunk=16))
    for Q in (32, 64):
        agree(SSD, ctx, (case.with_(chunk_size=Q), "chunked"),
              (case.with_(chunk_size=16), "chunked"), f"chunk {Q} vs 16")


def ssd_is_selective_scan(ctx: LawContext) -> None:
    """SSD with heads of headdim P = the selective scan over D = H·P channels with A constant
    per head, Δ repeated over the head's P channels, B, C grouped (G groups of H·P/G channels:
    channel h·P + p falls in group h // (H/G), SSD's head-to-group map), zoh_approx."""
    case = ctx.draw(ssd_cases(ctx.dtype, initial=False))
    a = case.arrays
    b, L, H, P = a["x"].shape
    N = a["B"].shape[-1]
    sel = Case({"u": a["x"].reshape(b, L, H * P).transpose(0, 2, 1),
                "delta": np.repeat(a["dt"], P, axis=2).transpose(0, 2, 1),
                "A": np.repeat(a["A"], P)[:, None] * np.ones((1, N)),
                "B": a["B"].transpose(0, 2, 3, 1), "C": a["C"].transpose(0, 2, 3, 1)},
               case.dtype, {"delta_softplus": False, "conj_half": None})
    versus(SSD, ctx, (case, "chunked"), SELECTIVE, (sel, "zoh_approx"), "ssd vs selective scan",
           lambda k, x: (x.transpose(0, 2, 1).reshape(b, L, H, P) if k == "y"
                         else x.reshape(b, H, P, N)))


def _factorised_segsum(a):
    """The mutant's segment sums, exp(cumsum_i)·exp(−cumsum_j) written as a log: each factor is
    exponentiated on its own (the low-rank form), so exp(−cumsum_j) overflows to inf and
    exp(cumsum_i) underflows to 0 once |cumsum| > ~88 (fp32) / ~709 (fp64): 0·inf = NaN."""
    cs = torch.cumsum(a, dim=-1)
    prod = torch.exp(cs)[..., :, None] * torch.exp(-cs)[..., None, :]
    Q = a.shape[-1]
    lower = torch.tril(torch.ones(Q, Q, dtype=torch.bool, device=a.device))
    return torch.log(prod).masked_fill(~lower, -torch.inf)


def ssd_cumsum_decay(x, dt, A, B, C, chunk_size=64, initial_states=None,
                     return_final_states=False, method="chunked"):
    y, final = impl.ssd_chunks(x, dt, A, B, C, chunk_size, initial_states, _factorised_segsum)
    return (y, final) if return_final_states else y


def _ssd_witness(fmt: str) -> Case:
    """chunk 256, L = 256, Δ = 10, a = −1 (cumsum to −2560 within one chunk)."""
    rng = np.random.default_rng(5)
    arrs = {"x": rng.normal(size=(1, 256, 2, 2)), "dt": np.full((1, 256, 2), 10.0),
            "A": np.array([-1.0, -0.5]), "B": rng.normal(size=(1, 256, 1, 2)),
            "C": rng.normal(size=(1, 256, 1, 2))}
    return case_of(fmt, arrs, chunk_size=256)


SELECTIVE = registry.register_spec(
    Spec(
        name="selective_scan", family="selective", methods=METHODS, dtypes=DTYPES,
        sizes=("b", "D", "N", "L"), outputs=("y", "last_state"), method_arg="discretization",
        summary="Mamba's S6: h_t = exp(Δ_t A) h_{t−1} + B̄_t u_t, y_t = (2·)Re(C_t·h_t) + D u_t, "
                "·silu(z)",
        signature="selective_scan(u (b, D, L), delta (b, D, L), A (D, N), B, C ((D, N) | (b, N, L) "
                  "| (b, G, N, L)), D=None, z=None, delta_bias=None, delta_softplus=False, "
                  "discretization, return_last_state=False, conj_half=None, initial_state=None) -> "
                  "y (b, D, L)[, last_state (b, D, N)]",
        strategy=lambda fmt, method: selective_cases(fmt, method),
        references=sk.references(
            partial(_ref, ref_mp.selective_scan), terms, ("y", "last_state"), MP_MAX,
            lambda case: case.arrays["u"].size * case.arrays["A"].shape[1]),
        bound=Bound(c=C_BOUND, terms=_terms,
                    reasoning="elementwise; running-error bound of the recurrence on absolute "
                              "values, + N + 6 roundings of the output; fp16/bf16: 1 + (u32/u)·G"),
        call=caller(*ARGS, keywords=(*OPTIONAL, "delta_softplus", "conj_half"),
                    method="discretization", real_out="y", of="u", return_last_state=True),
        bench_case=_bench,
        bench_shape="batch=2, D=256, N=16, L=2048, per-step B/C, D, z, delta_bias, softplus",
        sweep=Sweep("L", QUADRATIC, sweep_problem, QUADRATIC_HEAVY,
                    "D=4, N=8, per-step B, C, Δ in [1e-3, 1e-1]"),
        features=FEATURES,),
    implementations=[
        Implementation("selective_scan", "torch", impl.selective_scan),
        triton_kernels.implementation("selective_scan", "selective", "selective_scan")],
    laws=[Law(name, statement, check, LAW_DTYPES) for name, statement, check in [
        ("lti_equals_convolution", "constant Δ, time-invariant B, C: the "
         "scan is causal_conv(u, diag_kernel(A, B, C, log Δ)) + D·u", lti_equals_convolution),
        ("layouts_agree", "time-invariant = grouped (G = D), per step = grouped (G = 1)",
         layouts_agree),
        ("split", "scan(x[:k]) then scan(x[k:], h0 = last state) = scan(x)",
         sk.split_law("selective_scan", selective_cases, SHORT, -1,
                      # the parts: steps lo..hi-1 of u, delta, z and per-step B, C
                      sk.parted("initial_state", -1, lambda k, x: k in ("u", "delta", "z")
                             or (k in ("B", "C") and x.ndim >= 3)),
                      sk.carried(terms, "initial_state", "A"))),
        ("zoh_is_exact_recurrence", "zoh = the recurrence of "
         "discretize_diag(zoh) per step", zoh_is_exact_recurrence)]],
    mutants=[
        Mutant("softplus_twice", softplus_twice, "zoh_approx", ("fp32", "c64"),
               "Δ = softplus(softplus(Δ + bias))", _witness),
        Mutant("bias_after_softplus", bias_after_softplus, "zoh_approx", ("fp32", "bf16"),
               "Δ = softplus(Δ) + bias instead of softplus(Δ + bias)", _witness),
        Mutant("no_factor_two", lambda *args, conj_half=None, **kw: impl.selective_scan(
            *args, conj_half=False, **kw), "zoh_approx", ("c64", "c128"),
               "complex A: Re(C·h) without the factor 2 of the conjugate-half convention",
               _witness),
        *triton_kernels.mutants(lambda kernel: [Mutant(
            "triton_block_drops_carry", kernel("selective", "selective_scan_dropping_carry"),
            "zoh_approx", ("fp32", "c64"),
            "Triton selective scan: each block starts from a zero state", _triton_witness)])],
    bad_inputs=_BAD,
)


SSD = registry.register_spec(
    Spec(
        name="ssd_scan", family="selective", methods=impl.SSD_METHODS, dtypes=SSD_DTYPES,
        sizes=("b", "L", "H", "P", "N", "chunk_size"), outputs=("y", "final_states"),
        summary="Mamba-2's SSD: h_t = exp(Δ_t a) h_{t−1} + Δ_t x_t ⊗ B_t, y_t = h_t C_t (chunked)",
        signature="ssd_scan(x (b, L, H, P), dt (b, L, H), A (H,), B (b, L, G, N), C (b, L, G, N), "
                  "chunk_size=64, initial_states=None, return_final_states=False) -> y (b, L, H, P)"
                  "[, final_states (b, H, P, N)]",
        strategy=lambda fmt, method: ssd_cases(fmt, method),
        references=sk.references(
            lambda case, method: ref_mp.ssd_scan(*_ssd_args(case),
                                                 case.arrays.get("initial_states")),
            ssd_terms, ("y", "final_states"), SSD_MP_MAX,
            lambda case: case.arrays["x"].size * case.arrays["B"].shape[-1]),
        bound=Bound(c={"chunked": C_BOUND},
                    terms=sk.scan_terms(ssd_terms, "final_states"),
                    reasoning="elementwise; Σ_n |C|((Q + N + n_c + 6)·m + Q·w), w the segment "
                              "sums' term"),
        call=caller(*SSD_ARGS, keywords=("chunk_size", "initial_states"), method=None,
                    return_final_states=True), bench_case=_ssd_bench,
        bench_shape="batch=2, L=2048, 8 heads × headdim 32, N=16, G=1, chunk 64",
        features={"initial_states": optional_argument("initial_states",
                                                      "states (b, H, P, N) before step 0")},),
    implementations={"torch": impl.ssd_scan},
    laws=[Law(name, statement, check, ("fp64", "fp32")) for name, statement, check in [
        ("chunk_invariance", "chunk sizes 16, 32, 64 agree", ssd_chunk_invariance),
        ("is_selective_scan", "SSD = selective scan (zoh_approx) with A constant per head and B, "
         "C grouped per head", ssd_is_selective_scan)]],
    mutants=[Mutant("cumsum_decay", ssd_cumsum_decay, "chunked", ("fp32", "fp64"),
                    "decay exp(cumsum_i)·exp(−cumsum_j) instead of exp(segsum): overflow at long "
                    "chunks with large Δ·|a|", _ssd_witness)],
    bad_inputs=_SSD_BAD,
)

"""Spec of Mamba's selective scan (S6), `selective_scan` (SPEC-NOTES §2, §7). Definitions, shapes
and the conj_half convention are in `ssmspec.impl.selective` and `ssmspec.reference.mp.selective`.

Formats. Real A: fp64, fp32, and fp16/bf16 (all arguments in the format; the built-in computes in
fp32 and rounds once, as Mamba's kernels do). Complex A: c128/c64 (A, B, C complex; u, Δ, D, z,
delta_bias real of the same precision). y is real: for a complex run the adapter checks that the
implementation returned exactly u's real dtype, then hands it back in the complex format (exact),
as the diag_kernel spec does; the last state is complex (A's dtype).

Bound, elementwise on y and on the last state (`ssmspec.reference.np.selective` computes M, G):

    |ŷ − y| ≤ c·u·G·M + G·η

with M the recurrence run on absolute values (|Ā|, |B̄·u|, |C|, |D·u|, |silu(z)|) and G·M a
running-error bound: the sequential accumulation (each step adds 2 roundings of |Ā|m + |b̄| and
propagates the earlier ones by |Ā|: ~t·M for slow decay), the discretisation's own terms (the
rounding of Δ, conditioned by softplus, and of z = ΔA, moving exp(z) by a relative u|z| — the
phase error for complex A — and zoh's φ₁ by u(1 + |z|), as discretize_diag's bound; bilinear's Ā
by an absolute 2u), and the N + 6 roundings of the C-contraction, D·u and silu(z). fp16/bf16: the
computation is in fp32 and rounded once, so G = 1 + (u_fp32/u_fmt)·G_fp32 (the final rounding,
≤ u_fmt·M, plus the fp32 work); an implementation computing in fp16 exceeds it, on purpose.
c = 2 for every method (the running error already counts roundings one by one; c absorbs complex
multiplication's √2 and the chunked scan's carries, one product per level).
Measured (the report's 20 derandomized inputs per target): the built-in at err/bound ≤ 0.18
(fp32), 0.22 (c64), 0.19 (fp64), 0.35 (c128), 0.48 (bf16), the largest on short problems (a
1.5-ulp error at L = 8 is 0.18 of a bound that has had few steps to grow); the Triton kernel at
the same level (`ssmspec.impl.triton.selective`). The float64 reference within the fp64 bound of
mpmath at ≤ 0.05 (tests/test_reference_selective.py).

Strategies: batch ≤ 2, D ≤ 4, N ≤ 4, L from {1, 2, 3, 2^k ± 1, 2^k} up to 129 (4097 under the
nightly profile); Δ log-uniform in [1e-4, 1] with the specials 1e-6 and 10 scattered in (under
delta_softplus the pre-activation softplus⁻¹(Δ) − bias is drawn, bias in [−2, 2]); A real
−exp(N(0,1)-like), S4D-Real −(n + 1), or complex S4D-Lin −½ + iπk (k < 64) and random stable;
B/C in each layout (time-invariant, per step, grouped with G | D); optional D, z, initial state.
Long arrays come from a drawn seed (numpy), small ones from hypothesis. Reference tier: mpmath
while batch·D·N·L ≤ 200, float64 above (certified in tests/test_reference_selective.py).
"""

from __future__ import annotations

import math

import numpy as np
import torch
from hypothesis import strategies as st

from ssmspec import registry
from ssmspec import triton as triton_kernels
from ssmspec.dtypes import dtype, real_of
from ssmspec.impl import selective as impl
from ssmspec.reference.mp import selective as ref_mp
from ssmspec.reference.np import selective as ref_np
from ssmspec.spec import (
    BadInput,
    Bound,
    Case,
    Feature,
    Implementation,
    Mutant,
    Spec,
    Sweep,
    flag,
    last_case,
    optional_argument,
)
from ssmspec.strategies import (
    ARRAY_DRAW_MAX,
    arrays,
    feature,
    in_scope,
    real_normals,
    representable,
    sequence_lengths,
    size,
)
from ssmspec.sweeps import QUADRATIC, QUADRATIC_HEAVY, problem_rng

METHODS = impl.METHODS
C_BOUND = 2.0
MP_MAX = 200  # batch·D·N·L up to which the mpmath tier is used
LAYOUTS = ("invariant", "step", "grouped")
DTYPES = ("fp64", "fp32", "fp16", "bf16", "c128", "c64")
OPTIONAL = ("D", "z", "delta_bias", "initial_state")


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

def lengths() -> st.SearchStrategy[int]:
    return sequence_lengths(129, 4097)


def _a_el(cplx: bool, n: int):
    if cplx:
        return st.one_of(
            st.integers(0, 63).map(lambda k: complex(-0.5, math.pi * k)),  # S4D-Lin
            st.builds(complex, st.floats(-2.5, 2.5).map(lambda x: -math.exp(x)),
                      st.floats(-100.0, 100.0)))
    return st.one_of(st.floats(-2.5, 2.5).map(lambda x: -math.exp(x)),
                     st.just(-(n + 1.0)))  # S4D-Real


def _step_sizes(rng, shape, regime: str) -> np.ndarray:
    dt = 10.0 ** rng.uniform(-4, 0, shape)
    if regime == "specials":
        pick = rng.uniform(size=shape)
        dt = np.where(pick < 0.05, 1e-6, np.where(pick > 0.95, 10.0, dt))
    elif regime in ("1e-6", "10"):
        dt = np.full(shape, float(regime))
    return dt


def _coefs(rng, shape, cplx: bool, scale: float = 1.0) -> np.ndarray:
    x = rng.normal(0, scale, shape)
    return x + 1j * rng.normal(0, scale, shape) if cplx else x


@st.composite
def selective_cases(draw, fmt: str, method: str = "zoh_approx", length=None, layout=None,
                    optional=None, softplus=None, max_d: int = 4, max_n: int = 4) -> Case:
    """u, delta, A, B, C and the optional D, z, delta_bias, initial_state; see the module
    docstring. `layout`, `optional` (a set of the optional arrays wanted, None: drawn) and
    `softplus` fix what a law needs."""
    cplx = dtype(fmt).is_complex
    b, Dn = draw(size("b", st.integers(1, 2), "batch")), draw(size("D", st.integers(1, max_d)))
    N = draw(size("N", st.integers(1, max_n)))
    L = draw(size("L", length if length is not None else lengths()))
    layout = layout or draw(st.sampled_from(in_scope("layout=", LAYOUTS)))
    sp = draw(feature("delta_softplus", st.booleans(), False)) if softplus is None else softplus
    regime = draw(st.sampled_from(["uniform", "specials", "specials", "1e-6", "10"]))
    opts = optional if optional is not None else {
        k for k in OPTIONAL if draw(feature(k, st.booleans(), False))}
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    if Dn * N <= ARRAY_DRAW_MAX:
        A = np.array([[draw(_a_el(cplx, n)) for n in range(N)] for _ in range(Dn)])
    else:  # realistic widths: a few drawn rows spread over the D channels (entry by entry,
        # 10⁵ draws would overrun hypothesis' buffer)
        pool = np.array([[draw(_a_el(cplx, n)) for n in range(N)]
                         for _ in range(max(1, ARRAY_DRAW_MAX // N))])
        A = pool[rng.integers(0, len(pool), Dn)]
    arrs = {"u": rng.normal(size=(b, Dn, L)), "A": A}
    if layout == "invariant":
        el = st.builds(complex, real_normals(2.0), real_normals(2.0)) if cplx else real_normals(2.0)
        arrs["B"], arrs["C"] = draw(arrays((Dn, N), el)), draw(arrays((Dn, N), el))
    else:
        G = 1
        if layout == "grouped":
            G = draw(st.sampled_from([g for g in range(1, Dn + 1) if Dn % g == 0]))
        shape = (b, N, L) if layout == "step" else (b, G, N, L)
        arrs["B"], arrs["C"] = _coefs(rng, shape, cplx), _coefs(rng, shape, cplx)
    dt = _step_sizes(rng, (b, Dn, L), regime)
    if sp:
        if "delta_bias" in opts:
            arrs["delta_bias"] = draw(arrays((Dn,), st.floats(-2.0, 2.0)))
        bias = arrs.get("delta_bias", np.zeros(Dn))
        # softplus⁻¹(Δ) = Δ + log(−expm1(−Δ)), accurate for small and large Δ
        arrs["delta"] = dt + np.log(-np.expm1(-dt)) - bias[:, None]
    else:
        arrs["delta"] = dt
    if "D" in opts:
        arrs["D"] = draw(arrays((Dn,), real_normals(2.0)))
    if "z" in opts:
        arrs["z"] = rng.normal(0, 2.0, (b, Dn, L))
    if "initial_state" in opts:
        arrs["initial_state"] = _coefs(rng, (b, Dn, N), cplx)
    conj = draw(st.sampled_from([None, True, False])) if cplx else None
    return Case({k: representable(x, fmt) for k, x in arrs.items()}, fmt,
                {"delta_softplus": sp, "conj_half": conj})


def _kwargs(case: Case, get) -> dict:
    kw = {k: (get(k) if k in case.arrays else None) for k in OPTIONAL}
    kw.update(delta_softplus=case.params["delta_softplus"], conj_half=case.params["conj_half"])
    return kw


def call_selective(fn, case: Case, method: str, device: str):
    t = lambda k: case.tensor(k, device)  # noqa: E731
    y, h = fn(t("u"), t("delta"), t("A"), t("B"), t("C"), discretization=method,
              return_last_state=True, **_kwargs(case, t))
    d = dtype(case.dtype)
    want = real_of(d).torch
    if not isinstance(y, torch.Tensor) or y.dtype != want:
        got = y.dtype if isinstance(y, torch.Tensor) else type(y).__name__
        raise TypeError(f"y: expected u's real dtype {want}, got {got}")
    return (y.to(d.torch) if d.is_complex else y), h


def _args(case: Case):
    a = case.arrays
    return (a["u"], a["delta"], a["A"], a["B"], a["C"])


def _np_kwargs(case: Case, method: str) -> dict:
    kw = _kwargs(case, lambda k: case.arrays[k])
    kw["method"] = method
    return kw


@last_case
def terms(case: Case, method: str):
    """(y, h, M_y, G_y, M_h, G_h) from the float64 reference."""
    return ref_np.selective_scan_with_bound(*_args(case), **_np_kwargs(case, method))


def _reference(tier: str):
    def reference(case: Case, method: str):
        if tier == "mp":
            y, h = ref_mp.selective_scan(*_args(case), **_np_kwargs(case, method))
        else:
            y, h = terms(case, method)[:2]
        return {"y": y, "last_state": h}

    return reference


def _tier(case: Case) -> str:
    b, Dn, L = case.arrays["u"].shape
    return "mp" if b * Dn * case.arrays["A"].shape[1] * L <= MP_MAX else "np"


def low_precision_growth(case: Case, G):
    """fp16/bf16 computed in fp32 and rounded once: 1 + (u_fp32/u_fmt)·G."""
    d = dtype(case.dtype)
    if d.name in ("fp16", "bf16"):
        return 1.0 + (dtype("fp32").u / d.u) * G
    return G


def magnitude(case: Case, method: str):
    t = terms(case, method)
    return {"y": t[2], "last_state": t[4]}


def growth(case: Case, method: str):
    t = terms(case, method)
    return {"y": low_precision_growth(case, t[3]), "last_state": low_precision_growth(case, t[5])}


def _bench(fmt: str) -> Case:
    """batch = 2, D = 256, N = 16, L = 2048; per-step B, C; D, z, delta_bias, softplus (Mamba's
    block); A S4D-Real (real formats) or S4D-Lin (complex)."""
    rng = np.random.default_rng(0)
    b, Dn, N, L = 2, 256, 16, 2048
    cplx = dtype(fmt).is_complex
    A = np.broadcast_to(-(np.arange(N) + 1.0), (Dn, N))
    if cplx:
        A = np.broadcast_to(-0.5 + 1j * np.pi * np.arange(N), (Dn, N))
    arrs = {"u": rng.normal(size=(b, Dn, L)), "delta": rng.normal(-4, 1, (b, Dn, L)), "A": A,
            "B": _coefs(rng, (b, N, L), cplx), "C": _coefs(rng, (b, N, L), cplx),
            "D": rng.normal(size=Dn), "z": rng.normal(size=(b, Dn, L)),
            "delta_bias": np.log(np.expm1(10.0 ** rng.uniform(-3, -1, Dn)))}
    return Case({k: representable(x, fmt) for k, x in arrs.items()}, fmt,
                {"delta_softplus": True, "conj_half": None})


def sweep_problem(fmt: str, L: int) -> Case:
    """The sweep along L: batch 1, D = 4, N = 8, per-step B, C, Δ ~ 10^U[-3, -1]."""
    rng = problem_rng()
    b, Dn, N = 1, 4, 8
    cplx = dtype(fmt).is_complex
    A = np.broadcast_to(-(np.arange(N) + 1.0), (Dn, N))
    if cplx:
        A = np.broadcast_to(-0.5 + 1j * np.pi * np.arange(N), (Dn, N))
    arrs = {"u": rng.normal(size=(b, Dn, L)), "delta": 10.0 ** rng.uniform(-3, -1, (b, Dn, L)),
            "A": A, "B": _coefs(rng, (b, N, L), cplx), "C": _coefs(rng, (b, N, L), cplx)}
    return Case({k: representable(x, fmt) for k, x in arrs.items()}, fmt,
                {"delta_softplus": False, "conj_half": None})


SELECTIVE = registry.register_spec(Spec(
    name="selective_scan",
    family="selective",
    summary="Mamba's S6: h_t = exp(Δ_t A) h_{t−1} + B̄_t u_t, y_t = (2·)Re(C_t·h_t) + D u_t, "
            "·silu(z)",
    signature="selective_scan(u (b, D, L), delta (b, D, L), A (D, N), B, C ((D, N) | (b, N, L) | "
              "(b, G, N, L)), D=None, z=None, delta_bias=None, delta_softplus=False, "
              "discretization, return_last_state=False, conj_half=None, initial_state=None) "
              "-> y (b, D, L)[, last_state (b, D, N)]",
    methods=METHODS,
    dtypes=DTYPES,
    sizes=("b", "D", "N", "L"),
    outputs=("y", "last_state"),
    strategy=lambda fmt, method: selective_cases(fmt, method),
    references={"mp": _reference("mp"), "np": _reference("np")},
    reference_tier=_tier,
    bound=Bound(
        c={m: C_BOUND for m in METHODS},
        magnitude=magnitude,
        growth=growth,
        reasoning="elementwise; running-error bound of the recurrence on absolute values, "
                  "+ N + 6 roundings of the output; fp16/bf16: 1 + (u32/u)·G",
    ),
    call=call_selective,
    bench_case=_bench,
    bench_shape="batch=2, D=256, N=16, L=2048, per-step B/C, D, z, delta_bias, softplus",
    sweep=Sweep("L", QUADRATIC, sweep_problem, QUADRATIC_HEAVY,
                "D=4, N=8, per-step B, C, Δ in [1e-3, 1e-1]"),
    features=FEATURES,
    method_arg="discretization",
))

registry.register_implementation(Implementation("selective_scan", "torch",
                                                impl.selective_scan))
registry.register_implementation(triton_kernels.implementation(
    "selective_scan", "selective", "selective_scan"))


def _triton_witness(fmt: str) -> Case:
    """batch 1, D 2, N 2, L = 2·BLOCK_T + 3, slow decay, per-step B, C, softplus with bias, D, z."""
    from ssmspec.impl.triton.selective import BLOCK_T

    L = 2 * BLOCK_T + 3
    rng = np.random.default_rng(5)
    cplx = dtype(fmt).is_complex
    A = np.array([[-0.1, -0.2], [-0.05, -0.3]])
    if cplx:
        A = A + 1j * np.array([[1.0, 0.5], [2.0, 0.0]])
    B, C = rng.normal(size=(1, 2, L)), rng.normal(size=(1, 2, L))
    if cplx:
        B, C = B + 0.5j, C - 0.25j
    arrs = {"u": rng.normal(size=(1, 2, L)), "delta": rng.normal(-1, 1, (1, 2, L)), "A": A,
            "B": B, "C": C, "D": np.array([0.5, -1.0]), "z": rng.normal(size=(1, 2, L)),
            "delta_bias": np.array([1.0, -0.5])}
    return Case({k: representable(x, fmt) for k, x in arrs.items()}, fmt,
                {"delta_softplus": True, "conj_half": None})


for _m in triton_kernels.mutants(lambda kernel: [
        Mutant("selective_scan", "triton_block_drops_carry",
               kernel("selective", "selective_scan_dropping_carry"), "zoh_approx",
               ("fp32", "c64"), "Triton selective scan: each block starts from a zero state",
               _triton_witness)]):
    registry.register_mutant(_m)


# --- bad input (SPEC-NOTES §8) ----------------------------------------------------------------


def _r(*shape, dt=torch.float64):
    return torch.full(shape, -0.5, dtype=dt)


def _ok(**over):
    """A valid call (batch 2, D 4, N 3, L 5, per-step B/C) with some arguments replaced."""
    args = dict(u=_r(2, 4, 5), delta=_r(2, 4, 5).abs(), A=_r(4, 3), B=_r(2, 3, 5), C=_r(2, 3, 5))
    kw = {k: over.pop(k) for k in list(over) if k not in args}
    args.update(over)
    return lambda f: f(*args.values(), **kw)


_BAD = [
    ("B per step, C grouped", "C", ValueError, _ok(C=_r(2, 2, 3, 5))),
    ("B grouped, C per step", "C", ValueError, _ok(B=_r(2, 2, 3, 5))),
    ("B time-invariant, C per step", "C", ValueError, _ok(B=_r(4, 3))),
    ("G does not divide D", "B", ValueError, _ok(B=_r(2, 3, 3, 5), C=_r(2, 3, 3, 5))),
    ("B of the wrong length", "B", ValueError, _ok(B=_r(2, 3, 6))),
    ("u 2-d", "u", ValueError, _ok(u=_r(4, 5))),
    ("u complex", "u", TypeError, _ok(u=_r(2, 4, 5, dt=torch.complex128))),
    ("u integer", "u", TypeError, _ok(u=torch.ones(2, 4, 5, dtype=torch.int64))),
    ("delta of another shape", "delta", ValueError, _ok(delta=_r(2, 4, 6).abs())),
    ("delta of another dtype", "delta", TypeError, _ok(delta=_r(2, 4, 5, dt=torch.float32))),
    ("A of another D", "A", ValueError, _ok(A=_r(3, 3))),
    ("A of another precision", "A", TypeError, _ok(A=_r(4, 3, dt=torch.complex64))),
    ("B real, A complex", "B", TypeError, _ok(A=_r(4, 3, dt=torch.complex128))),
    ("D of another shape", "D", ValueError, _ok(D=_r(5))),
    ("z of another shape", "z", ValueError, _ok(z=_r(2, 4, 4))),
    ("delta_bias of another shape", "delta_bias", ValueError, _ok(delta_bias=_r(2))),
    ("initial_state of another shape", "initial_state", ValueError,
     _ok(initial_state=_r(2, 4, 2))),
    ("unknown discretization", "discretization", ValueError, _ok(discretization="euler")),
    ("delta_softplus not a bool", "delta_softplus", TypeError, _ok(delta_softplus=1)),
]
for _name, _arg, _err, _call in _BAD:
    registry.register_bad_input(BadInput("selective_scan", _name, _arg, _err, _call))


# --- ssd_scan (Mamba-2) -----------------------------------------------------------------------
#
# Bound, elementwise on y and the final states (reference.np.selective.ssd_scan_with_bound):
# M = the recurrence on absolute values read by |C|, G·M = Σ_n |C|·((Q + N + n_c + 6)·m + Q·w)
# with Q the chunk size, n_c the number of chunks and w the segment-sum term (each exp(segsum)
# carries a relative ≤ Q·u·|segment|). c = 2. fp16/bf16 (bf16 here): computed in fp32, rounded
# once (as selective_scan). Strategy: batch ≤ 2, L as above, nheads ∈ {1, 2, 4}, headdim ≤ 3,
# N ≤ 4, G | nheads, chunk ∈ {1, 4, 16, 64}, Δ as above, A = −exp(U(−2.5, 2.5)) per head,
# optional initial states. mpmath tier while batch·L·H·P·N ≤ 200.

SSD_DTYPES = ("fp64", "fp32", "bf16")
SSD_MP_MAX = 200


@st.composite
def ssd_cases(draw, fmt: str, method: str = "chunked", length=None, chunk=None,
              initial=None) -> Case:
    b, H = draw(size("b", st.integers(1, 2), "batch")), draw(size("H", st.sampled_from([1, 2, 4])))
    P, N = draw(size("P", st.integers(1, 3))), draw(size("N", st.integers(1, 4)))
    L = draw(size("L", length if length is not None else lengths()))
    G = draw(st.sampled_from([g for g in (1, 2, 4) if H % g == 0]))
    regime = draw(st.sampled_from(["uniform", "specials", "specials", "1e-6", "10"]))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    arrs = {"x": rng.normal(size=(b, L, H, P)), "dt": _step_sizes(rng, (b, L, H), regime),
            "A": -np.exp(draw(arrays((H,), st.floats(-2.5, 2.5)))),
            "B": rng.normal(size=(b, L, G, N)), "C": rng.normal(size=(b, L, G, N))}
    if draw(feature("initial_states", st.booleans(), False)) if initial is None else initial:
        arrs["initial_states"] = rng.normal(size=(b, H, P, N))
    Q = draw(size("chunk_size", st.sampled_from([1, 4, 16, 64]), kind="chunk")) if chunk is None \
        else chunk
    return Case({k: representable(x, fmt) for k, x in arrs.items()}, fmt, {"chunk_size": Q})


def call_ssd(fn, case: Case, method: str, device: str):
    t = lambda k: case.tensor(k, device)  # noqa: E731
    h0 = t("initial_states") if "initial_states" in case.arrays else None
    return fn(t("x"), t("dt"), t("A"), t("B"), t("C"), chunk_size=case.params["chunk_size"],
              initial_states=h0, return_final_states=True)


def _ssd_args(case: Case):
    return tuple(case.arrays[k] for k in ("x", "dt", "A", "B", "C"))


@last_case
def ssd_terms(case: Case):
    return ref_np.ssd_scan_with_bound(*_ssd_args(case), case.params["chunk_size"],
                                      case.arrays.get("initial_states"))


def _ssd_reference(tier: str):
    def reference(case: Case, method: str):
        if tier == "mp":
            y, f = ref_mp.ssd_scan(*_ssd_args(case), case.arrays.get("initial_states"))
        else:
            y, f = ssd_terms(case)[:2]
        return {"y": y, "final_states": f}

    return reference


def _ssd_tier(case: Case) -> str:
    return "mp" if case.arrays["x"].size * case.arrays["B"].shape[-1] <= SSD_MP_MAX else "np"


def _ssd_bench(fmt: str) -> Case:
    """batch = 2, L = 2048, 8 heads of headdim 32 (D = 256), one group, N = 16, chunk 64."""
    rng = np.random.default_rng(0)
    b, L, H, P, N = 2, 2048, 8, 32, 16
    arrs = {"x": rng.normal(size=(b, L, H, P)), "dt": 10.0 ** rng.uniform(-3, -1, (b, L, H)),
            "A": -np.arange(1.0, H + 1), "B": rng.normal(size=(b, L, 1, N)),
            "C": rng.normal(size=(b, L, 1, N))}
    return Case({k: representable(x, fmt) for k, x in arrs.items()}, fmt, {"chunk_size": 64})


SSD = registry.register_spec(Spec(
    name="ssd_scan",
    family="selective",
    summary="Mamba-2's SSD: h_t = exp(Δ_t a) h_{t−1} + Δ_t x_t ⊗ B_t, y_t = h_t C_t (chunked)",
    signature="ssd_scan(x (b, L, H, P), dt (b, L, H), A (H,), B (b, L, G, N), C (b, L, G, N), "
              "chunk_size=64, initial_states=None, return_final_states=False) -> y (b, L, H, P)"
              "[, final_states (b, H, P, N)]",
    methods=impl.SSD_METHODS,
    dtypes=SSD_DTYPES,
    sizes=("b", "L", "H", "P", "N", "chunk_size"),
    outputs=("y", "final_states"),
    strategy=lambda fmt, method: ssd_cases(fmt, method),
    references={"mp": _ssd_reference("mp"), "np": _ssd_reference("np")},
    reference_tier=_ssd_tier,
    bound=Bound(
        c={"chunked": C_BOUND},
        magnitude=lambda case, method: {"y": ssd_terms(case)[2],
                                        "final_states": ssd_terms(case)[4]},
        growth=lambda case, method: {
            "y": low_precision_growth(case, ssd_terms(case)[3]),
            "final_states": low_precision_growth(case, ssd_terms(case)[5])},
        reasoning="elementwise; Σ_n |C|((Q + N + n_c + 6)·m + Q·w), w the segment sums' term",
    ),
    call=call_ssd,
    bench_case=_ssd_bench,
    bench_shape="batch=2, L=2048, 8 heads × headdim 32, N=16, G=1, chunk 64",
    features={"initial_states": optional_argument("initial_states",
                                                  "states (b, H, P, N) before step 0")},
))

registry.register_implementation(Implementation("ssd_scan", "torch", impl.ssd_scan))


def _s(*shape):
    return torch.full(shape, 0.5, dtype=torch.float64)


def _ssd_ok(**over):
    args = dict(x=_s(2, 5, 4, 3), dt=_s(2, 5, 4), A=-_s(4), B=_s(2, 5, 2, 3), C=_s(2, 5, 2, 3))
    kw = {k: over.pop(k) for k in list(over) if k not in args}
    args.update(over)
    return lambda f: f(*args.values(), **kw)


_SSD_BAD = [
    ("chunk_size zero", "chunk_size", ValueError, _ssd_ok(chunk_size=0)),
    ("chunk_size a float", "chunk_size", TypeError, _ssd_ok(chunk_size=16.0)),
    ("x 3-d", "x", ValueError, _ssd_ok(x=_s(2, 5, 4))),
    ("x complex", "x", TypeError, _ssd_ok(x=_s(2, 5, 4, 3).to(torch.complex128))),
    ("dt of another shape", "dt", ValueError, _ssd_ok(dt=_s(2, 5, 3))),
    ("A per channel", "A", ValueError, _ssd_ok(A=-_s(4, 3))),
    ("groups not dividing nheads", "B", ValueError, _ssd_ok(B=_s(2, 5, 3, 3), C=_s(2, 5, 3, 3))),
    ("C of another shape", "C", ValueError, _ssd_ok(C=_s(2, 5, 2, 4))),
    ("B of another dtype", "B", TypeError, _ssd_ok(B=_s(2, 5, 2, 3).float())),
    ("initial_states of another shape", "initial_states", ValueError,
     _ssd_ok(initial_states=_s(2, 4, 3, 2))),
]
for _name, _arg, _err, _call in _SSD_BAD:
    registry.register_bad_input(BadInput("ssd_scan", _name, _arg, _err, _call))

"""Spec of the first-order linear scan (SPEC-NOTES §7, first part): `linear_scan`.

    h_t = a_t ⊙ h_{t−1} + b_t,   h_{−1} = h0 (0 if None),   over the last axis (reverse: t from L−1)

Definitions and the four methods are in `ssmspec.impl.scans`. Formats: fp64, fp32, fp16, bf16
(worked in fp32, rounded once), c128, c64; `logspace` is real only (a ≥ 0), so it covers the
real formats (`Spec.method_dtypes`).

Bounds, elementwise per h_t, with τ the step's position in the scan's order (τ = t, or L−1−t
under reverse), M the scan of (|a|, |b|, |h0|) (`ssmspec.reference.np.scans.magnitude`) and
c = 2 for every method:

    |ĥ_t − h_t| ≤ 2·u·G_t·M_t + G_t·η

- sequential: G = τ + 1. Every term b_s·Π_{s<r≤t} a_r (and h0·Π a_r) reaches h_t through t − s
  multiplications and t − s + 1 additions, each one rounding: ≤ 2(τ + 1)·u relative per term.
- associative: G = τ + 2⌈log₂L⌉ + 2. The tree changes the order of the *sums* (≤ 2 per level,
  two visits per level: ~4·log₂L roundings) but not the count of the *products*: a product of
  t − s factors has t − s roundings whichever tree forms it. So the tree's error is not
  log₂L·u: the products keep the τ term; the depth adds 2⌈log₂L⌉ + 1 (×2u), and the final
  A_t·h0 + B_t one more.
- chunked (T = 64): G = τ + 2⌈log₂⌈L/T⌉⌉ + 2: the sequential roundings inside and across the
  chunks (pass 1 and pass 2 together cover every step once: τ + 1 products and sums), plus the
  tree over the ⌈L/T⌉ chunk summaries.
- logspace: G = τ + 1 + 2Λ_τ + β_τ, Λ_τ = Σ_{σ≤τ, a≠0} |log a_σ|, β_τ = the largest |log|x||
  over the nonzero b_σ (σ ≤ τ) and h0 (`scan_log_terms`). The method forms A = Σ log a and
  log|b| − A in the working format: their absolute roundings u·|A| and u·|log|b|| become
  relative errors of every term after exp (and A_t + r_t cancels by |A_t|), so its error grows
  with Λ, i.e. linearly in L for a bounded away from 1 — SPEC-NOTES §7's measured weakness. The
  τ + 1 is the running log-sum-exp's accumulation.
The low-precision formats use their own u (the fp32 work is far below it). Measured maxima of
err/bound over 30 strategy cases per method and format (harness.sample): sequential 0.50,
associative 0.12, chunked 0.25, logspace 0.61 (fp64, where the float64 cumulative log is at the
bound's scale). On the sweep's problem (a ∈ [0.99, 1], fp32, 4 rows, L = 2^6 … 2^14,
`ssmspec.sweeps`): err/bound ≤ 0.19 (sequential), 0.02 (associative), 0.035 (chunked), 0.26
(logspace); max |error|/M of logspace grows 1.8e-7 → 4.2e-6 (23×), sequential's 8.2e-8 → 1.3e-7.
What the bound does not admit: a tree padded with (0, 0) instead of (1, 0), a = 0 clamped to an
eps in log space, the unguarded exp(−Σ log a), a chunk boundary that drops h0 (the mutants in
`ssmspec.specs.scans_laws`).

Strategy: leading shape (), (n,), (n, m) with sides ≤ 3; L from {1, 2, 3, 2^k − 1, 2^k, 2^k + 1}
up to 1025 (16385 under nightly); values drawn from a seeded numpy generator (hypothesis draws
the seed and a profile, so a large array costs one draw): |a| uniform in (0, 1), in the hard
range [0.99, 1], or mixed, with exact 0 and exact 1 sprinkled at drawn rates; negative a half
the time for the real non-logspace methods; complex a = |a|·e^{iθ} (θ in [−π, π] or small);
b standard normal (complex normal for complex formats); h0 None or normal; reverse either.
Reference tier: mpmath while numel ≤ 300, else the float64 reference accumulated in longdouble
(certified in tests/test_reference_scans.py).
"""

from __future__ import annotations

import math

import numpy as np
import torch
from hypothesis import strategies as st

from ssmspec import registry
from ssmspec import triton as triton_kernels
from ssmspec.dtypes import REAL_DTYPES, dtype
from ssmspec.impl import cpu_scan
from ssmspec.impl import scans as impl
from ssmspec.reference.mp import scans as ref_mp
from ssmspec.reference.np import scans as ref_np
from ssmspec.spec import (
    BadInput,
    Bound,
    Case,
    Implementation,
    Mutant,
    Spec,
    Sweep,
    flag,
    optional_argument,
)
from ssmspec.strategies import (
    batch_shapes,
    boundary_lengths,
    feature,
    representable,
    sequence_lengths,
    size,
)
from ssmspec.sweeps import LONG, LONG_HEAVY, problem_rng

METHODS = impl.METHODS
CHUNK = impl.CHUNK
C_BOUND = 2.0
MP_MAX = 300  # numel up to which the mpmath tier is used
DTYPES = ("fp64", "fp32", "fp16", "bf16", "c128", "c64")


def lengths() -> st.SearchStrategy[int]:
    """`sequence_lengths(1025, 16385)`, with the long ones (≥ 255) also drawn on their own:
    hypothesis favours the first of equal choices, and a scan's error shows at long L."""
    from ssmspec.profiles import heavy

    long = [n for n in boundary_lengths(16385 if heavy() else 1025) if n >= 255]
    return st.one_of(sequence_lengths(1025, 16385), st.sampled_from(long))


def draw_a(rng, shape, profile: str, zero_rate: float, one_rate: float, negative: bool,
           cplx: bool, phase: str = "full") -> np.ndarray:
    """a of `shape` from a numpy generator; see the module docstring."""
    unit = rng.uniform(0.0, 1.0, shape)
    hard = rng.uniform(0.99, 1.0, shape)
    if profile == "unit":
        mag = unit
    elif profile == "hard":
        mag = hard
    else:
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
    cplx = dtype(fmt).is_complex
    conv = (lambda x: np.asarray(x, dtype=np.complex128)) if cplx else (
        lambda x: np.asarray(x, dtype=np.float64))
    arrays = {"a": representable(conv(a), fmt), "b": representable(conv(b), fmt)}
    if h0 is not None:
        arrays["h0"] = representable(conv(h0), fmt)
    return Case(arrays, fmt, {"reverse": bool(reverse)})


@st.composite
def scan_cases(draw, fmt: str, method: str = "sequential", length=None, lead=None) -> Case:
    """a, b (..., L), h0 (...,) or None, reverse; see the module docstring."""
    cplx = dtype(fmt).is_complex
    shape = (*draw(lead if lead is not None else batch_shapes(2, 3)),
             draw(size("L", length if length is not None else lengths())))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1), label="seed"))
    a = draw_a(rng, shape, draw(st.sampled_from(["unit", "hard", "mixed"])),
               draw(st.sampled_from([0.0, 0.02, 0.2])), draw(st.sampled_from([0.0, 0.05, 0.3])),
               method != "logspace" and not cplx and draw(st.booleans()), cplx,
               draw(st.sampled_from(["full", "small"])))
    if cplx:
        b = rng.normal(size=shape) + 1j * rng.normal(size=shape)
        h0 = rng.normal(size=shape[:-1]) + 1j * rng.normal(size=shape[:-1])
    else:
        b, h0 = rng.normal(size=shape), rng.normal(size=shape[:-1])
    return make_case(fmt, a, b, h0 if draw(feature("h0", st.booleans(), False)) else None,
                     draw(feature("reverse", st.booleans(), False)))


def h0_of(case: Case):
    return case.arrays.get("h0")


def call_scan(fn, case: Case, method: str, device: str):
    h0 = case.tensor("h0", device) if "h0" in case.arrays else None
    return fn(case.tensor("a", device), case.tensor("b", device), h0,
              reverse=case.params["reverse"], method=method)


def _args(case: Case):
    return case.arrays["a"], case.arrays["b"], h0_of(case), case.params["reverse"]


def _reference(tier):
    mod = ref_mp if tier == "mp" else ref_np
    return lambda case, method: {"h": mod.linear_scan(*_args(case))}


def _tier(case: Case) -> str:
    return "mp" if np.asarray(case.arrays["a"]).size <= MP_MAX else "np"


def scan_magnitude(case: Case, method: str = "sequential") -> np.ndarray:
    return ref_np.magnitude(*_args(case))


def scan_growth(case: Case, method: str) -> np.ndarray:
    """G (..., L) of the module docstring."""
    a = np.asarray(case.arrays["a"])
    L = a.shape[-1]
    tau = ref_np.step_index(a.shape, case.params["reverse"])
    log2 = lambda n: math.ceil(math.log2(n)) if n > 1 else 0  # noqa: E731
    if method == "sequential":
        return tau + 1.0
    if method == "associative":
        return tau + 2.0 * log2(L) + 2.0
    if method == "chunked":
        return tau + 2.0 * log2(-(-L // CHUNK)) + 2.0
    if method == "logspace":
        lam, beta = ref_np.scan_log_terms(*_args(case))
        return tau + 1.0 + 2.0 * lam + beta
    raise ValueError(f"method: expected one of {METHODS}, got {method!r}")


def _bench(fmt: str) -> Case:
    """B = 4, D = 256, L = 4096; a mixed uniform (0, 1) / [0.99, 1], b normal, no h0."""
    rng = np.random.default_rng(0)
    shape = (4, 256, 4096)
    cplx = dtype(fmt).is_complex
    a = draw_a(rng, shape, "mixed", 0.0, 0.0, False, cplx, "small")
    b = rng.normal(size=shape) + (1j * rng.normal(size=shape) if cplx else 0)
    return make_case(fmt, a, b)


def sweep_problem(fmt: str, L: int, rows: int = 32) -> Case:
    """The sweep along L: a ~ U[0.99, 1] (long memory: where the log-space scan's u·Σ|log a|
    shows), b normal, 32 rows."""
    rng = problem_rng()
    a, b = rng.uniform(0.99, 1.0, (rows, L)), rng.normal(size=(rows, L))
    if dtype(fmt).is_complex:
        a = a * np.exp(1j * rng.uniform(-0.1, 0.1, (rows, L)))
        b = b + 1j * rng.normal(size=(rows, L))
    return make_case(fmt, a, b)


SCAN = registry.register_spec(Spec(
    name="linear_scan",
    family="scans",
    summary="first-order linear recurrence h_t = a_t ⊙ h_{t−1} + b_t over the last axis",
    signature="linear_scan(a (..., L), b (..., L), h0 (...,) = None, reverse=False, method) "
              "-> h (..., L)",
    methods=METHODS,
    dtypes=DTYPES,
    sizes=("L",),
    outputs=("h",),
    strategy=lambda fmt, method: scan_cases(fmt, method),
    references={"mp": _reference("mp"), "np": _reference("np")},
    reference_tier=_tier,
    bound=Bound(
        c={m: C_BOUND for m in METHODS},
        magnitude=lambda case, method: {"h": scan_magnitude(case, method)},
        growth=lambda case, method: {"h": scan_growth(case, method)},
        reasoning="elementwise; M = scan of (|a|, |b|, |h0|); G = τ + 1 (sequential), "
                  "τ + 2⌈log₂L⌉ + 2 (associative), τ + 2⌈log₂(L/64)⌉ + 2 (chunked), "
                  "τ + 1 + 2Σ|log a| + max|log|b|| (logspace)",
    ),
    call=call_scan,
    bench_case=_bench,
    bench_shape="B=4, D=256, L=4096",
    sweep=Sweep("L", LONG, sweep_problem, LONG_HEAVY, "a in [0.99, 1], 32 rows"),
    method_dtypes={"logspace": REAL_DTYPES},
    features={"h0": optional_argument("h0", "an initial state h0 (..., ) before a_0, b_0"),
              "reverse": flag("reverse", True, "the scan run from t = L−1 down to 0")},
))

registry.register_implementation(Implementation("linear_scan", "torch", impl.linear_scan))
# the sequential method compiled for the CPU (C++, built on first use): the fast CPU path
registry.register_implementation(Implementation(
    "linear_scan", "cpp", cpu_scan.linear_scan, methods=("sequential",), devices=("cpu",),
    source="builtin (C++, compiled on first use)", unavailable=cpu_scan.available()))
registry.register_implementation(triton_kernels.implementation(
    "linear_scan", "scan", "linear_scan", methods=("sequential", "chunked")))


def _triton_witness(fmt: str) -> Case:
    """2 rows, L = 2·BLOCK_T + 5 steps, a in [0.9, 1] (the carry matters), h0 given."""
    from ssmspec.impl.triton.scan import BLOCK_T

    rng = np.random.default_rng(8)
    shape = (2, 2 * BLOCK_T + 5)
    a = rng.uniform(0.9, 1.0, shape)
    b = rng.normal(size=shape)
    h0 = rng.normal(size=shape[:1])
    if dtype(fmt).is_complex:
        a = a * np.exp(1j * rng.uniform(-0.1, 0.1, shape))
        b = b + 1j * rng.normal(size=shape)
        h0 = h0 + 1j
    return make_case(fmt, a, b, h0)


for _m in triton_kernels.mutants(lambda kernel: [
        Mutant("linear_scan", "triton_block_drops_carry",
               kernel("scan", "linear_scan_dropping_carry"), "chunked", ("fp64", "fp32", "c64"),
               "Triton scan: a block boundary drops the carried state", _triton_witness)]):
    registry.register_mutant(_m)


# --- bad input (SPEC-NOTES §8) ----------------------------------------------------------------


def _t(*shape, dt=torch.float64, fill=0.5):
    return torch.full(shape, fill, dtype=dt)


_BAD = [
    ("b of another shape", "b", ValueError, lambda f: f(_t(2, 5), _t(2, 4))),
    ("h0 of another shape", "h0", ValueError, lambda f: f(_t(2, 5), _t(2, 5), _t(3))),
    ("h0 with the L axis", "h0", ValueError, lambda f: f(_t(2, 5), _t(2, 5), _t(2, 5))),
    ("a integer", "a", TypeError,
     lambda f: f(torch.ones(2, 5, dtype=torch.int64), _t(2, 5))),
    ("b integer", "b", TypeError,
     lambda f: f(_t(2, 5), torch.ones(2, 5, dtype=torch.int32))),
    ("a real, b complex", "b", TypeError, lambda f: f(_t(2, 5), _t(2, 5, dt=torch.complex128))),
    ("a complex, b real", "b", TypeError, lambda f: f(_t(2, 5, dt=torch.complex128), _t(2, 5))),
    ("b of another precision", "b", TypeError,
     lambda f: f(_t(2, 5), _t(2, 5, dt=torch.float32))),
    ("unknown method", "method", ValueError, lambda f: f(_t(2, 5), _t(2, 5), method="parallel")),
    ("logspace with complex a", "a", ValueError,
     lambda f: f(_t(2, 5, dt=torch.complex128), _t(2, 5, dt=torch.complex128),
                 method="logspace")),
    ("logspace with negative a", "a", ValueError,
     lambda f: f(_t(2, 5, fill=-0.5), _t(2, 5), method="logspace")),
    ("reverse not a bool", "reverse", TypeError, lambda f: f(_t(2, 5), _t(2, 5), reverse=1)),
    ("L = 0", "a", ValueError, lambda f: f(_t(2, 0), _t(2, 0))),
    ("a 0-d", "a", ValueError, lambda f: f(torch.tensor(0.5), torch.tensor(1.0))),
]
for _name, _arg, _err, _call in _BAD:
    registry.register_bad_input(BadInput("linear_scan", _name, _arg, _err, _call))

"""Specs of the diagonal-SSM convolution kernels (SPEC-NOTES §4, §5): `diag_kernel` (S4D) and
`ema_kernel` (Mega's damped EMA). Definitions and the conj_half convention are in
`ssmspec.impl.kernels` and `ssmspec.reference.mp.kernels`.

Formats. `diag_kernel` runs in c128/c64 (complex Λ) and fp64/fp32 (real Λ, S4D-Real). Its output
is real (Λ's real dtype). For a complex run the spec's adapter first checks that the
implementation returned exactly that real dtype (a promotion or a complex output is a TypeError,
so a conformance failure), then hands the output back in the run's complex format, an exact
conversion (zero imaginary part): the generic output-dtype property compares against the case's
format and every value is measured as the real output it is. `ema_kernel` runs in fp64, fp32 and
fp16/bf16 (computed in fp32 by the built-in, inputs rounded to the format, SPEC-NOTES §1).

Bounds, elementwise per K[h, l] (`ssmspec.reference.np.kernels` computes M and G):

    |K̂ − K| ≤ c·u·G·M + G·η,   G·M = f·Σ_n (N + 1 + g0_n + l·|w_n|)·|W_n|·|Ā_n|^l

with W_n = C_n·B̄_n (EMA: γ√(1/ndim)·p·β), w_n = log Ā_n (zoh, zoh_approx: ΔΛ; bilinear:
2·atanh(ΔΛ/2); EMA: log q = log1p(−p·a)), f = 2 under conj_half. Justification: each term
W_n·Ā_n^l is formed with a few roundings (Δ = exp(log_dt), z = ΔΛ, B̄, the product), and the sum
over N states adds N more (the N + 1); zoh's B̄ = Δ·φ₁(z)·B moves by u|z| with the rounding of z
(g0 = |z| for zoh, 0 otherwise, as discretize_diag's bound); a power computed as exp(l·w) from a
w with relative error ~u moves by l·|w|·u (the honest growth `1 + l·|ΔΛ|` of SPEC-NOTES §5: the
phase error of exp(l·ΔΛ) for complex Λ, the decay error for real Λ and the EMA). The EMA's w
is computed from p·a (two sigmoids and a product), so its l·|w| term carries the factor 1 + κ_n
of `ema_log_q_condition` (κ ≤ 1.45: log1p's conditioning, or log q's absolute error). c = 4 for
every method. Measured: on 20 strategy cases at L = 1025, the built-in at err/bound ≤ 0.15 in
c64/fp32 and ≤ 0.83 in c128/fp64; on the benchmark inputs (diag H = 256, N = 64, L = 4096; EMA
D = 256, ndim = 16, L = 8192) ≤ 0.04 in c64/fp32, 0.11–0.19 in c128, 0.33–0.41 in fp64, and
0.44 for the fp64 EMA, against the long-double reference. An S4-style c64 exp(l·ΔΛ)
Vandermonde passes at L = 4096 and fails without the l·|ΔΛ| term
(tests/test_reference_kernels.py).
What the bound does not admit, on purpose: raising a *rounded* Ā (or q = 1 − p·a) to the l-th
power, whose error grows like l·u whatever |log Ā| is, and the cancellation of 1 − p·a as q → 0.
The EMA's long-L mutant `rounded_q_power` (registered here: q rounded to fp32, then q^l) on a
slowly decaying witness (p·a ≈ 1e-3 … 1e-6): err/bound 1.8 at L = 1025, 50 at 4096, 116 at 8192,
the built-in 0.12–0.13; `mega_official` (kernels_laws: q = 1 − p·a and exp(l·log q) in fp32)
fails that witness alike, so the class was already covered there by its saturation witness.

Strategies: H ≤ 3 channels (D ≤ 3), N ≤ 8 states (ndim ≤ 8), L from {1, 2, 3, 2^k − 1, 2^k, 2^k +
1} up to 1025 (16385 under the nightly profile); Δ log-uniform in [1e-4, 1] with the special values
1e-6 and 10; Λ: S4D-Lin −½ + iπn (n < 128: |Im Λ| up to ~400, N = 256's spectrum), S4D-Real −(n +
1), random stable with |Re Λ| ≤ 10, |Im Λ| ≤ 400, exactly 0; the EMA's δ, α moderate or special
(−30: q → 1; 20, 40: p·a rounds to 1 in fp32/fp64; 800: q = 0 in float64). Reference tier: mpmath
while H·N·L ≤ 512, float64 above (certified in tests/test_reference_kernels.py).
"""

from __future__ import annotations

import math

import numpy as np
import torch
from hypothesis import strategies as st

from ssmspec import registry
from ssmspec import triton as triton_kernels
from ssmspec.dtypes import dtype, real_of
from ssmspec.impl import kernels as impl
from ssmspec.reference.mp import kernels as ref_mp
from ssmspec.reference.np import kernels as ref_np
from ssmspec.reference.np import precision
from ssmspec.spec import (
    BadInput,
    Bound,
    Case,
    Implementation,
    Mutant,
    Spec,
    Sweep,
    flag,
    last_case,
)
from ssmspec.strategies import (
    arrays,
    boundary_lengths,
    feature,
    log_uniform,
    real_normals,
    representable,
    sequence_lengths,
    size,
)
from ssmspec.sweeps import LONG, LONG_HEAVY, problem_rng

METHODS = impl.METHODS
C_BOUND = 4.0
MP_MAX = 512  # H·N·L up to which the mpmath tier is used
LENGTHS = boundary_lengths(1025)


def lengths() -> st.SearchStrategy[int]:
    """L from {1, 2, 3, 2^k − 1, 2^k, 2^k + 1} up to 1025 (16385 under the nightly profile),
    small ones more often."""
    return sequence_lengths(1025, 16385)


def log_dts() -> st.SearchStrategy[float]:
    """log Δ: Δ log-uniform in [1e-4, 1], or the special 1e-6 and 10."""
    return st.one_of(log_uniform(1e-4, 1.0), st.sampled_from([1e-6, 10.0])).map(math.log)


def lambda_elements(is_complex: bool):
    n = st.integers(0, 127)
    if not is_complex:
        return st.one_of(n.map(lambda k: -(k + 1.0)), st.just(0.0),
                         log_uniform(1e-4, 100.0).map(lambda x: -x))
    return st.one_of(
        n.map(lambda k: complex(-0.5, math.pi * k)),  # S4D-Lin
        st.builds(complex, st.one_of(st.just(0.0), log_uniform(1e-4, 10.0).map(lambda x: -x)),
                  # |Im Λ| < 1e-12 flushed to 0: complex division at ~1e-308 overflows in numpy
                  st.floats(-400.0, 400.0).map(lambda x: x if abs(x) >= 1e-12 else 0.0)),
    )


def coef_elements(is_complex: bool):
    if is_complex:
        return st.builds(complex, real_normals(2.0), real_normals(2.0))
    return real_normals(2.0)


# --- diag_kernel ------------------------------------------------------------------------------


@st.composite
def diag_cases(draw, fmt: str, method: str = "zoh", max_n: int = 8, max_h: int = 3,
               length=None) -> Case:
    """Λ, B, C (H, N), log Δ (H,), L and conj_half; see the module docstring."""
    cplx = dtype(fmt).is_complex
    H, N = draw(size("H", st.integers(1, max_h))), draw(size("N", st.integers(1, max_n)))
    L = draw(size("L", length if length is not None else lengths()))
    lam = draw(arrays((H, N), lambda_elements(cplx)))
    B = draw(arrays((H, N), coef_elements(cplx)))
    C = draw(arrays((H, N), coef_elements(cplx)))
    log_dt = draw(arrays((H,), log_dts()))
    return Case({"Lambda": representable(lam, fmt), "B": representable(B, fmt),
                 "C": representable(C, fmt), "log_dt": representable(log_dt, fmt)},
                fmt, {"L": L, "conj_half": draw(feature("conj_half=False", st.booleans(), True))})


def call_diag(fn, case: Case, method: str, device: str):
    K = fn(case.tensor("Lambda", device), case.tensor("B", device), case.tensor("C", device),
           case.tensor("log_dt", device, real=True), case.params["L"], method=method,
           conj_half=case.params["conj_half"])
    d = dtype(case.dtype)
    want = real_of(d).torch
    if not isinstance(K, torch.Tensor) or K.dtype != want:
        got = K.dtype if isinstance(K, torch.Tensor) else type(K).__name__
        raise TypeError(f"K: expected the real dtype {want} of Lambda, got {got}")
    return K.to(d.torch) if d.is_complex else K


def _diag_args(case: Case):
    a = case.arrays
    return a["Lambda"], a["B"], a["C"], a["log_dt"], case.params["L"]


@last_case
def _np_diag(case: Case, method: str, extended: bool):
    """(K, M, G) of the float64 tier, computed once per case for the reference and the bound."""
    return ref_np.diag_kernel_with_bound(*_diag_args(case), method, case.params["conj_half"])


def _ref_diag(tier):
    def reference(case: Case, method: str):
        if tier == "mp":
            K = ref_mp.diag_kernel(*_diag_args(case), method, case.params["conj_half"])
        else:
            K = _np_diag(case, method, precision.is_extended())[0]
        return {"K": K}

    return reference


def diag_bound_terms(case: Case, method: str):
    """(M, G) of the bound, from the float64 reference."""
    _, M, G = _np_diag(case, method, precision.is_extended())
    return M, G


def _diag_tier(case: Case) -> str:
    H, N = np.asarray(case.arrays["Lambda"]).shape
    return "mp" if H * N * case.params["L"] <= MP_MAX else "np"


def s4d_bench_arrays(fmt: str, H: int, N: int):
    """(rng, arrays) of the S4D benchmark system: Λ S4D-Lin (complex formats) or S4D-Real
    (real), B = 1, C normal, Δ log-uniform in [1e-3, 1e-1]; the rng is returned for more draws."""
    rng = np.random.default_rng(0)
    if dtype(fmt).is_complex:
        lam = np.broadcast_to(-0.5 + 1j * np.pi * np.arange(N), (H, N))
        C = rng.normal(size=(H, N)) + 1j * rng.normal(size=(H, N))
    else:
        lam = np.broadcast_to(-(np.arange(N) + 1.0), (H, N))
        C = rng.normal(size=(H, N))
    log_dt = np.log(10.0 ** rng.uniform(-3, -1, H))
    return rng, {"Lambda": representable(lam, fmt), "B": representable(np.ones_like(lam), fmt),
                 "C": representable(C, fmt), "log_dt": representable(log_dt, fmt)}


def _bench_diag(fmt: str) -> Case:
    """H = 256, N = 64 (S4D-Lin, Δ log-uniform in [1e-3, 1e-1]), L = 4096."""
    return Case(s4d_bench_arrays(fmt, 256, 64)[1], fmt, {"L": 4096, "conj_half": True})


def diag_sweep_problem(fmt: str, L: int) -> Case:
    """The sweep along L: the S4D benchmark system at H = 4, N = 16 with Δ = 10^-3 … 10^-1
    evenly in log: the exp(l·ΔΛ) phase growth."""
    arrs = s4d_bench_arrays(fmt, 4, 16)[1]
    log_dt = representable(np.log(np.logspace(-3, -1, 4)), fmt)
    return Case({**arrs, "log_dt": log_dt}, fmt, {"L": L, "conj_half": True})


DIAG = registry.register_spec(Spec(
    name="diag_kernel",
    family="kernels",
    summary="S4D kernel K[h, l] = (2·)Re Σ_n C_n B̄_n Ā_n^l of a diagonal SSM",
    signature="diag_kernel(Lambda (H, N), B (H, N), C (H, N), log_dt (H,), L, method, "
              "conj_half=True) -> K (H, L) real",
    methods=METHODS,
    dtypes=("c128", "c64", "fp64", "fp32"),
    sizes=("H", "N", "L"),
    outputs=("K",),
    strategy=lambda fmt, method: diag_cases(fmt, method),
    references={"mp": _ref_diag("mp"), "np": _ref_diag("np")},
    reference_tier=_diag_tier,
    bound=Bound(
        c={m: C_BOUND for m in METHODS},
        magnitude=lambda case, method: {"K": diag_bound_terms(case, method)[0]},
        growth=lambda case, method: {"K": diag_bound_terms(case, method)[1]},
        reasoning="elementwise; G·M = f·Σ_n (N + 1 + l·|log Ā_n|)·|C_n B̄_n|·|Ā_n|^l",
    ),
    call=call_diag,
    bench_case=_bench_diag,
    bench_shape="H=256, N=64, L=4096, S4D-Lin",
    sweep=Sweep("L", LONG, diag_sweep_problem, LONG_HEAVY,
                "H=4, N=16, S4D-Lin / S4D-Real, Δ in [1e-3, 1e-1]"),
    features={"conj_half=False": flag("conj_half", False, "the full system (both members of "
                                      "each conjugate pair) rather than one of each pair")},
))


# --- ema_kernel -------------------------------------------------------------------------------

EMA_SPECIAL = (-30.0, 20.0, 40.0, 800.0)


def ema_param():
    return st.one_of(st.floats(-6.0, 6.0), st.sampled_from(EMA_SPECIAL))


@st.composite
def ema_cases(draw, fmt: str, method: str = "mega", max_n: int = 8, max_d: int = 3,
              length=None) -> Case:
    """δ, α, β (D, ndim, 1), γ (D, ndim) and L; see the module docstring."""
    D, n = draw(size("D", st.integers(1, max_d))), draw(size("ndim", st.integers(1, max_n)))
    L = draw(size("L", length if length is not None else lengths()))
    arrs = {"delta": draw(arrays((D, n, 1), ema_param())),
            "alpha": draw(arrays((D, n, 1), ema_param())),
            "beta": draw(arrays((D, n, 1), real_normals(2.0))),
            "gamma": draw(arrays((D, n), real_normals(2.0)))}
    return Case({k: representable(x, fmt) for k, x in arrs.items()}, fmt, {"L": L})


def call_ema(fn, case: Case, method: str, device: str):
    return fn(*(case.tensor(k, device) for k in ("delta", "alpha", "beta", "gamma")),
              case.params["L"])


def _ema_args(case: Case):
    a = case.arrays
    return a["delta"], a["alpha"], a["beta"], a["gamma"], case.params["L"]


def _ref_ema(tier):
    mod = ref_mp if tier == "mp" else ref_np
    return lambda case, method: {"K": mod.ema_kernel(*_ema_args(case))}


def ema_bound_terms(case: Case, method: str):
    _, M, G = ref_np.ema_kernel_with_bound(*_ema_args(case))
    return M, G


def _ema_tier(case: Case) -> str:
    return "mp" if np.asarray(case.arrays["gamma"]).size * case.params["L"] <= MP_MAX else "np"


def _bench_ema(fmt: str) -> Case:
    """D = 256, ndim = 16, L = 8192, Mega's initialisation (δ, α ~ N(0, 0.2), β ±1 + N(0, 0.02),
    γ ~ N(0, 1))."""
    rng = np.random.default_rng(0)
    D, n, L = 256, 16, 8192
    sign = np.where(np.arange(n) % 2 == 0, -1.0, 1.0)[None, :, None]
    beta = sign + rng.normal(0, 0.02, (D, n, 1))
    arrs = {"delta": rng.normal(0, 0.2, (D, n, 1)), "alpha": rng.normal(0, 0.2, (D, n, 1)),
            "beta": beta, "gamma": rng.normal(size=(D, n))}
    return Case({k: representable(x, fmt) for k, x in arrs.items()}, fmt, {"L": L})


def ema_sweep_problem(fmt: str, L: int) -> Case:
    """The sweep along L: D = 4, ndim = 16, Mega's initialisation."""
    rng = problem_rng()
    D, n = 4, 16
    sign = np.where(np.arange(n) % 2 == 0, -1.0, 1.0)[None, :, None]
    arrs = {"delta": rng.normal(0, 0.2, (D, n, 1)), "alpha": rng.normal(0, 0.2, (D, n, 1)),
            "beta": sign + rng.normal(0, 0.02, (D, n, 1)), "gamma": rng.normal(size=(D, n))}
    return Case({k: representable(x, fmt) for k, x in arrs.items()}, fmt, {"L": L})


EMA = registry.register_spec(Spec(
    name="ema_kernel",
    family="kernels",
    summary="Mega's damped EMA kernel K[d, l] = Σ_n γ √(1/ndim) p β q^l, q = 1 − p·a",
    signature="ema_kernel(delta (D, ndim, 1), alpha (D, ndim, 1), beta (D, ndim, 1), "
              "gamma (D, ndim), L) -> K (D, L)",
    methods=impl.EMA_METHODS,
    dtypes=("fp64", "fp32", "fp16", "bf16"),
    sizes=("D", "ndim", "L"),
    outputs=("K",),
    strategy=lambda fmt, method: ema_cases(fmt, method),
    references={"mp": _ref_ema("mp"), "np": _ref_ema("np")},
    reference_tier=_ema_tier,
    bound=Bound(
        c={"mega": C_BOUND},
        magnitude=lambda case, method: {"K": ema_bound_terms(case, method)[0]},
        growth=lambda case, method: {"K": ema_bound_terms(case, method)[1]},
        reasoning="elementwise; G·M = Σ_n (ndim + 1 + (1 + κ_n)·l·|log q_n|)·"
                  "|γ_n √(1/ndim) p_n β_n| q_n^l",
    ),
    call=call_ema,
    bench_case=_bench_ema,
    bench_shape="D=256, ndim=16, L=8192, Mega init",
    sweep=Sweep("L", LONG, ema_sweep_problem, LONG_HEAVY, "D=4, ndim=16, Mega init"),
))


registry.register_implementation(Implementation("diag_kernel", "torch", impl.diag_kernel))
registry.register_implementation(Implementation("ema_kernel", "torch", impl.ema_kernel))
registry.register_implementation(triton_kernels.implementation(
    "diag_kernel", "kernels", "diag_kernel"))
registry.register_implementation(triton_kernels.implementation(
    "ema_kernel", "kernels", "ema_kernel"))


def _triton_tail_witness(fmt: str) -> Case:
    """One channel, N = BLOCK_N + 3 states (a partial last block), L = 33."""
    from ssmspec.impl.triton.kernels import BLOCK_N

    rng = np.random.default_rng(4)
    N = BLOCK_N + 3
    lam = -rng.uniform(0.1, 1.0, (1, N))
    B, C = rng.normal(size=(1, N)), rng.normal(size=(1, N))
    if dtype(fmt).is_complex:
        lam, B, C = lam + 1j * rng.uniform(-3, 3, (1, N)), B + 0.5j, C - 0.25j
    return Case({"Lambda": representable(lam, fmt), "B": representable(B, fmt),
                 "C": representable(C, fmt), "log_dt": representable(np.array([-1.0]), fmt)},
                fmt, {"L": 33, "conj_half": True})


# (A phase l·Im w formed in fp32 is not a mutant: its l·u·|w| error is what the c64 bound
# admits.) The strategy's N ≤ 8 never has a partial block: witness only.
for _m in triton_kernels.mutants(lambda kernel: [
        Mutant("diag_kernel", "triton_drops_state_tail",
               kernel("kernels", "diag_kernel_dropping_tail"), "zoh", ("c64", "fp32"),
               "Triton S4D kernel: the loop over states drops the partial last block",
               _triton_tail_witness, search=False)]):
    registry.register_mutant(_m)


# --- ema_kernel mutant at long L ----------------------------------------------------------------


def rounded_q_power(delta, alpha, beta, gamma, L, method="mega"):
    """Mega's EMA kernel with q = 1 − p·a rounded to fp32 and then raised to the l-th power (the
    powers and the sum exact, in float64): the rounding's relative error u in q becomes l·u in
    q^l, so the error grows with L where the decay is slow (|log q| ≪ 1) and the bound's
    l·|log q|·(1 + κ) term stays small."""
    W, logq = impl.ema_weights(delta, alpha, beta, gamma)
    q = torch.exp(logq).to(torch.float32).to(torch.float64)
    K = torch.einsum("dn,dnl->dl", W, q[..., None] ** torch.arange(L, dtype=torch.float64))
    return K.to(delta.dtype)


def _slow_ema_witness(fmt: str, L: int = 8192) -> Case:
    """D = 1, ndim = 4, p·a ≈ 1e-3 … 1e-6 (δ = α, slow decay: q^8191 ≥ e^-8), β = γ = 1."""
    logit = np.log(np.array([3.07e-2, 1e-2, 3.16e-3, 1e-3]) / (1 - np.array(
        [3.07e-2, 1e-2, 3.16e-3, 1e-3])))[None, :, None]
    arrs = {"delta": logit, "alpha": logit, "beta": np.ones_like(logit),
            "gamma": np.ones((1, 4))}
    return Case({k: representable(x, fmt) for k, x in arrs.items()}, fmt, {"L": L})


registry.register_mutant(Mutant(
    "ema_kernel", "rounded_q_power", rounded_q_power, "mega", ("fp32",),
    "q = 1 − p·a rounded to fp32, then q^l: an l·u error where the decay is slow",
    _slow_ema_witness))


# --- bad input (SPEC-NOTES §8) ----------------------------------------------------------------


def _c(*shape, dt=torch.complex128):
    return -torch.ones(shape, dtype=dt)


def _ldt(h=2, dt=torch.float64):
    return torch.full((h,), -2.0, dtype=dt)


_DIAG_BAD = [
    ("Lambda 1-d", "Lambda", ValueError, lambda f: f(_c(3), _c(3), _c(3), _ldt(1), 4)),
    ("Lambda 3-d", "Lambda", ValueError,
     lambda f: f(_c(2, 2, 3), _c(2, 2, 3), _c(2, 2, 3), _ldt(), 4)),
    ("Lambda integer", "Lambda", TypeError,
     lambda f: f(torch.ones(2, 3, dtype=torch.int64), _c(2, 3), _c(2, 3), _ldt(), 4)),
    ("B of another shape", "B", ValueError, lambda f: f(_c(2, 3), _c(2, 4), _c(2, 3), _ldt(), 4)),
    ("C of another shape", "C", ValueError, lambda f: f(_c(2, 3), _c(2, 3), _c(3, 3), _ldt(), 4)),
    ("B of another dtype", "B", TypeError,
     lambda f: f(_c(2, 3), _c(2, 3, dt=torch.complex64), _c(2, 3), _ldt(), 4)),
    ("C real, Lambda complex", "C", TypeError,
     lambda f: f(_c(2, 3), _c(2, 3), _c(2, 3, dt=torch.float64), _ldt(), 4)),
    ("log_dt of another shape", "log_dt", ValueError,
     lambda f: f(_c(2, 3), _c(2, 3), _c(2, 3), _ldt(3), 4)),
    ("log_dt complex", "log_dt", TypeError,
     lambda f: f(_c(2, 3), _c(2, 3), _c(2, 3), _ldt(dt=torch.complex128), 4)),
    ("log_dt of another precision", "log_dt", TypeError,
     lambda f: f(_c(2, 3), _c(2, 3), _c(2, 3), _ldt(dt=torch.float32), 4)),
    ("L zero", "L", ValueError, lambda f: f(_c(2, 3), _c(2, 3), _c(2, 3), _ldt(), 0)),
    ("L a float", "L", TypeError, lambda f: f(_c(2, 3), _c(2, 3), _c(2, 3), _ldt(), 4.0)),
    ("unknown method", "method", ValueError,
     lambda f: f(_c(2, 3), _c(2, 3), _c(2, 3), _ldt(), 4, method="euler")),
    ("conj_half not a bool", "conj_half", TypeError,
     lambda f: f(_c(2, 3), _c(2, 3), _c(2, 3), _ldt(), 4, conj_half="yes")),
]


def _r(*shape, dt=torch.float64):
    return torch.zeros(shape, dtype=dt)


_EMA_BAD = [
    ("delta 2-d", "delta", ValueError, lambda f: f(_r(2, 3), _r(2, 3), _r(2, 3), _r(2, 3), 4)),
    ("delta without the trailing 1", "delta", ValueError,
     lambda f: f(_r(2, 3, 2), _r(2, 3, 2), _r(2, 3, 2), _r(2, 3), 4)),
    ("delta complex", "delta", TypeError,
     lambda f: f(*(_r(2, 3, 1, dt=torch.complex128),) * 3, _r(2, 3, dt=torch.complex128), 4)),
    ("alpha of another shape", "alpha", ValueError,
     lambda f: f(_r(2, 3, 1), _r(2, 4, 1), _r(2, 3, 1), _r(2, 3), 4)),
    ("beta of another dtype", "beta", TypeError,
     lambda f: f(_r(2, 3, 1), _r(2, 3, 1), _r(2, 3, 1, dt=torch.float32), _r(2, 3), 4)),
    ("gamma 3-d", "gamma", ValueError,
     lambda f: f(_r(2, 3, 1), _r(2, 3, 1), _r(2, 3, 1), _r(2, 3, 1), 4)),
    ("L negative", "L", ValueError,
     lambda f: f(_r(2, 3, 1), _r(2, 3, 1), _r(2, 3, 1), _r(2, 3), -1)),
    ("unknown method", "method", ValueError,
     lambda f: f(_r(2, 3, 1), _r(2, 3, 1), _r(2, 3, 1), _r(2, 3), 4, method="lucidrains")),
]
for _prim, _rows in (("diag_kernel", _DIAG_BAD), ("ema_kernel", _EMA_BAD)):
    for _name, _arg, _err, _call in _rows:
        registry.register_bad_input(BadInput(_prim, _name, _arg, _err, _call))

"""Spec, laws and mutants of H3's shift SSM kernel (issue 9, item 5): `shift_ssm_kernel`.
Definition, convention and sources in `ssmspec.impl.h3` (HazyResearch/H3 `ss_kernel_shift.py`
@70d87926; arXiv 2212.14052 §3.1). H3's diagonal SSM is `diag_kernel` (S4D), already specified.

Bound, elementwise: |K̂ − K| ≤ c·u·G·M + G·η with M[h, l] = Σ_m |B[h, m]|·|C[h, m + l]| and
G = N − l + 1 (a dot product of N − l terms, recursive summation's growth, plus the final
rounding of fp16/bf16); c = 1. Taps l ≥ N are exact zeros. Measured (built-in, CPU):
err/bound ≤ 0.13 (fp64), 0.08 (fp32, bf16), 0.04 (fp16) on 30 strategy cases per format;
0.65 (fp64), 0.48 (fp32, fp16), 0.49 (bf16) on the benchmark (H = 1024, N = 64, L = 2048).

Strategies: H ≤ 3; N ≤ 64 (H3's default d_state); L from the boundary lengths up to 1025 (16385
under the nightly profile); B = e₀ (H3's initialisation) half the time, else N(0, 1)-like with
exact zeros; C N(0, 1)-like. Reference tier: mpmath while H·N·min(N, L) ≤ 4096, long double
above (certified in tests/test_reference_h3.py).

Laws: `e0_is_C` (B = e₀ gives K = C on the first N taps, exactly, and 0 after: the paper's "the
kernel is C"); `recurrence` (K is the impulse response of x_t = shift(x_{t−1}) + B·u_t,
y_t = C·x_t, H3's `step`, run in float64). Mutant: `b_off_by_one` (the filter read one tap late,
K[l] = Σ_m B[m]·C[m + l + 1]: the e₀ / e₁ index convention confused).
"""

from __future__ import annotations

import numpy as np
import torch
from hypothesis import strategies as st

from ssmspec import registry
from ssmspec.dtypes import REAL_DTYPES
from ssmspec.errors import abs_error, higham_bound, ratio
from ssmspec.harness import to_numpy
from ssmspec.impl import h3 as impl
from ssmspec.reference.mp import h3 as ref_mp
from ssmspec.reference.np import h3 as ref_np
from ssmspec.spec import BadInput, Bound, Case, Implementation, Law, LawContext, Mutant, Spec
from ssmspec.strategies import real_normals, representable, sequence_lengths

MP_MAX = 4096


@st.composite
def shift_cases(draw, fmt: str, method: str = "direct", e0=None) -> Case:
    H, N = draw(st.integers(1, 3)), draw(st.integers(1, 64))
    L = draw(sequence_lengths(1025, 16385))
    el = st.one_of(real_normals(2.0), st.just(0.0))
    C = np.array(draw(st.lists(real_normals(2.0), min_size=H * N, max_size=H * N))).reshape(H, N)
    if e0 if e0 is not None else draw(st.booleans()):
        B = np.zeros((H, N))
        B[:, 0] = 1.0
    else:
        B = np.array(draw(st.lists(el, min_size=H * N, max_size=H * N))).reshape(H, N)
    return Case({"B": representable(B, fmt), "C": representable(C, fmt)}, fmt, {"L": L})


def call_shift(fn, case: Case, method: str, device: str):
    return fn(case.tensor("B", device), case.tensor("C", device), case.params["L"],
              method=method)


def _args(case: Case):
    return case.arrays["B"], case.arrays["C"], case.params["L"]


def bound_terms(case: Case, method: str):
    _, M, G = ref_np.shift_ssm_kernel_with_bound(*_args(case))
    return M, G


def _tier(case: Case) -> str:
    H, N = case.arrays["B"].shape
    return "mp" if H * N * min(N, case.params["L"]) <= MP_MAX else "np"


def _bench(fmt: str) -> Case:
    """H = 1024 channels (H3-125M's d_model 768 rounded up), N = 64, L = 2048, random B, C."""
    rng = np.random.default_rng(0)
    H, N = 1024, 64
    return Case({"B": representable(rng.normal(size=(H, N)), fmt),
                 "C": representable(rng.normal(size=(H, N)), fmt)}, fmt, {"L": 2048})


SHIFT = registry.register_spec(Spec(
    name="shift_ssm_kernel",
    family="kernels",
    summary="H3's shift SSM kernel K[l] = C·A^l·B, A the shift matrix: a length-N causal filter",
    signature="shift_ssm_kernel(B (H, N), C (H, N), L, method='direct') -> K (H, L)",
    methods=impl.METHODS,
    dtypes=REAL_DTYPES,
    outputs=("K",),
    strategy=lambda fmt, method: shift_cases(fmt, method),
    references={"mp": lambda case, m: {"K": ref_mp.shift_ssm_kernel(*_args(case))},
                "np": lambda case, m: {"K": ref_np.shift_ssm_kernel(*_args(case))}},
    reference_tier=_tier,
    bound=Bound(
        c={"direct": 1.0},
        magnitude=lambda case, method: {"K": bound_terms(case, method)[0]},
        growth=lambda case, method: {"K": bound_terms(case, method)[1]},
        reasoning="elementwise; M = Σ_m |B_m||C_(m+l)|, G = N − l + 1",
    ),
    call=call_shift,
    bench_case=_bench,
    bench_shape="H=1024, N=64, L=2048",
))
registry.register_implementation(Implementation("shift_ssm_kernel", "torch",
                                                impl.shift_ssm_kernel))


# --- laws -------------------------------------------------------------------------------------


def e0_is_C(ctx: LawContext) -> None:
    case = ctx.draw(shift_cases(ctx.dtype, e0=True))
    C, L = case.arrays["C"], case.params["L"]
    H, N = C.shape
    want = np.zeros((H, L))
    want[:, :min(N, L)] = C[:, :L]
    K = to_numpy(SHIFT.call(ctx.fn, case, "direct", ctx.device))
    assert np.array_equal(K, want), f"B = e0: K differs from C (max {np.abs(K - want).max():.3g})"


def recurrence(ctx: LawContext) -> None:
    case = ctx.draw(shift_cases(ctx.dtype))
    B, C = case.arrays["B"], case.arrays["C"]
    L = min(case.params["L"], 129)
    case = Case(case.arrays, case.dtype, {"L": L})
    x, y = np.zeros_like(B), np.empty((B.shape[0], L))
    for t in range(L):  # H3's step: F.pad(state, (1, −1)) + B·u_t, y = C·x
        x = np.pad(x, ((0, 0), (1, 0)))[:, :-1] + (B if t == 0 else 0)
        y[:, t] = np.sum(C * x, axis=-1)
    M, G = bound_terms(case, "direct")
    tol = SHIFT.bound(case, "direct")["K"] + higham_bound(1.0, "fp64", G, M)
    K = to_numpy(SHIFT.call(ctx.fn, case, "direct", ctx.device))
    r = ratio(abs_error(K, y), tol)
    assert np.all(r <= 1), f"kernel vs the shift recurrence: err/tol {r.max():.3g}"


for _law in (
    Law("shift_ssm_kernel", "e0_is_C", "B = e₀ (the paper's e₁): K = C on N taps, 0 after, "
        "exactly", e0_is_C, REAL_DTYPES),
    Law("shift_ssm_kernel", "recurrence", "K = impulse response of x_t = shift(x_(t−1)) + B u_t, "
        "y_t = C·x_t", recurrence, ("fp64", "fp32")),
):
    registry.register_law(_law)


# --- mutants ----------------------------------------------------------------------------------


def b_off_by_one(B, C, L, method="direct"):
    """The filter read one tap late: C shifted left by one before the correlation."""
    C1 = torch.nn.functional.pad(C[:, 1:], (0, 1))
    return impl.shift_ssm_kernel(B, C1, L, method=method)


def _witness(fmt: str) -> Case:
    B = np.array([[1.0, 0.0, 0.0, 0.0]])
    C = np.array([[0.5, -1.0, 2.0, 0.25]])
    return Case({"B": representable(B, fmt), "C": representable(C, fmt)}, fmt, {"L": 6})


registry.register_mutant(Mutant(
    "shift_ssm_kernel", "b_off_by_one", b_off_by_one, "direct", ("fp64", "fp32"),
    "K[l] = Σ B[m]·C[m + l + 1]: the e₀ / e₁ convention confused, the filter one tap late",
    _witness))


# --- bad input --------------------------------------------------------------------------------


def _x(*shape, dt=torch.float64):
    return torch.ones(shape, dtype=dt)


for _name, _arg, _err, _call in [
    ("B 1-d", "B", ValueError, lambda f: f(_x(4), _x(4), 8)),
    ("B integer", "B", TypeError,
     lambda f: f(torch.ones(2, 4, dtype=torch.int64), torch.ones(2, 4, dtype=torch.int64), 8)),
    ("B complex", "B", TypeError,
     lambda f: f(_x(2, 4, dt=torch.complex128), _x(2, 4, dt=torch.complex128), 8)),
    ("C of another shape", "C", ValueError, lambda f: f(_x(2, 4), _x(2, 5), 8)),
    ("C of another dtype", "C", TypeError, lambda f: f(_x(2, 4), _x(2, 4, dt=torch.float32), 8)),
    ("L zero", "L", ValueError, lambda f: f(_x(2, 4), _x(2, 4), 0)),
    ("L a float", "L", TypeError, lambda f: f(_x(2, 4), _x(2, 4), 8.0)),
    ("unknown method", "method", ValueError, lambda f: f(_x(2, 4), _x(2, 4), 8, method="fft")),
]:
    registry.register_bad_input(BadInput("shift_ssm_kernel", _name, _arg, _err, _call))

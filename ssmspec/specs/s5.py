"""Spec of S5's MIMO diagonal scan, `s5_scan` (SPEC-NOTES §2, §7). Definitions, shapes and the
conj_sym convention are in `ssmspec.impl.s5` and `ssmspec.reference.mp.s5`.

Formats: c128 and c64. Λ, B, C, h0 are complex in the format; u, D, log_step real in its real part
(fp64 / fp32), as S5 uses them (complex64 parameters, float32 inputs). y is real: the adapter
checks that the implementation returned exactly u's dtype, then hands it back in the complex
format (exact), as the selective_scan and diag_kernel specs do; the last state is complex.
(The built-in also accepts fp16/bf16 u with complex64 parameters, computed in fp32; the spec does
not measure that combination.)

Bound, elementwise on y and on the last state (`ssmspec.reference.np.s5` computes M and G):

    |ŷ − y| ≤ c·u·G·M + G·η,   c = 2 for both methods

with M the recurrence run on absolute values (|Λ̄|, |B̄|·|u|, |C|, |D·u|) and G·M a running-error
bound: each step adds the 2 roundings of the multiply-add and the H + 2 of the product B̄u_t, and
propagates the earlier ones by |Λ̄| (~t·M under slow decay, |Λ̄| → 1); the discretisation adds
the rounding of Δ = exp(log_step) (ρ = 2) and of z = ΔΛ, which move e^z by a relative u·|z|·(1 + ρ)
(the phase error, accumulated over t steps by the recurrence), zoh's φ₁ by u(1 + |z|)(1 + ρ) and
bilinear's Λ̄ by an absolute 2u(1 + ρ); the output adds the 2P + 4 roundings of Re(C x) (two real
P-term sums), the factor 2 and D·u. |B̄| in M is Δ·φmag·|B| with φmag ≥ |φ₁| that does not vanish
at e^z = 1 (reference.np.s5): φ₁'s absolute error does not vanish there either. c = 2 absorbs
complex multiplication's √2 and the chunked scan's carries (one product by an accumulated power
of Λ̄ per level, each within the sequential recurrence's own error).
Measured (30 strategy cases per method and format, ci profile): the built-in at err/bound
≤ 0.13 (median 0.04) in both c128 and c64, 0.002–0.003 on the benchmark case; the long-double
reference within the c128 bound of mpmath at ≤ 0.075 (the rounding of y to float64: G ≥ 2P + 4),
and at ~1e-5 on the last state of a slowly decaying L = 600 sequence where a complex128
recurrence is at ~4e-3 (tests/test_reference_s5.py). Mutants on their witnesses: s5_official_zoh
at err/bound 2.6e3 (c64) / 2.7e3 (c128), no_factor_two 5e4 (c64) / 3e13 (c128); hypothesis finds
both from the strategy within a few examples.

Strategies: batch ≤ 2, H ≤ 3, P ≤ 4, L from {1, 2, 3, 2^k ± 1, 2^k} up to 129 (16385 under the
nightly profile); Λ S4D-Lin −½ + iπk (k < 64), random stable (Re −e^U(−4, 2), Im U(−50, 50)),
pure imaginary, or 0; Δ per state log-uniform in [1e-4, 1], or small [1e-7, 1e-3], or with the
specials 1e-6 and 10 scattered in; B, C complex normal; D normal or 0; optional h0; conj_sym
drawn. Long arrays come from a drawn seed (numpy), Λ from hypothesis. Reference tier: mpmath while
batch·L·P·H ≤ 300, long double above (certified in tests/test_reference_s5.py).
"""

from __future__ import annotations

import math

import numpy as np
import torch
from hypothesis import strategies as st

from ssmspec import registry
from ssmspec.dtypes import dtype, real_of
from ssmspec.impl import s5 as impl
from ssmspec.reference.mp import s5 as ref_mp
from ssmspec.reference.np import s5 as ref_np
from ssmspec.spec import (
    BadInput,
    Bound,
    Case,
    Implementation,
    Spec,
    flag,
    last_case,
    optional_argument,
)
from ssmspec.strategies import feature, representable, sequence_lengths, size

METHODS = impl.METHODS
C_BOUND = 2.0
MP_MAX = 300  # batch·L·P·H up to which the mpmath tier is used
DTYPES = ("c128", "c64")
ARGS = ("u", "Lambda", "B", "C", "D", "log_step")


def lengths() -> st.SearchStrategy[int]:
    return sequence_lengths(129, 16385)


def lambdas() -> st.SearchStrategy[complex]:
    """Stable eigenvalues: S4D-Lin, random, pure imaginary, 0."""
    return st.one_of(
        st.integers(0, 63).map(lambda k: complex(-0.5, math.pi * k)),
        st.builds(complex, st.floats(-4.0, 2.0).map(lambda x: -math.exp(x)),
                  st.floats(-50.0, 50.0)),
        st.floats(-10.0, 10.0).map(lambda y: complex(0.0, y)),
        st.just(0j),
    )


def _step_sizes(rng, P: int, regime: str) -> np.ndarray:
    if regime == "small":
        return 10.0 ** rng.uniform(-7, -3, P)
    dt = 10.0 ** rng.uniform(-4, 0, P)
    if regime == "specials":
        pick = rng.uniform(size=P)
        dt = np.where(pick < 0.2, 1e-6, np.where(pick > 0.8, 10.0, dt))
    return dt


def _complex_normal(rng, shape, scale: float = 1.0) -> np.ndarray:
    return rng.normal(0, scale, shape) + 1j * rng.normal(0, scale, shape)


@st.composite
def s5_cases(draw, fmt: str, method: str = "zoh", length=None, conj_sym=None, initial=None,
             max_p: int = 4, max_h: int = 3) -> Case:
    """u, Lambda, B, C, D, log_step and optionally h0; see the module docstring. `conj_sym`,
    `initial` (whether h0 is given) fix what a law needs (None: drawn)."""
    b, H = draw(size("b", st.integers(1, 2), "batch")), draw(size("H", st.integers(1, max_h)))
    P = draw(size("P", st.integers(1, max_p), "N"))
    L = draw(size("L", length if length is not None else lengths()))
    regime = draw(st.sampled_from(["uniform", "small", "specials", "specials"]))
    lam = np.array([draw(lambdas()) for _ in range(P)])
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    arrs = {"u": rng.normal(size=(b, L, H)), "Lambda": lam,
            "B": _complex_normal(rng, (P, H)), "C": _complex_normal(rng, (H, P)),
            "D": rng.normal(size=H) if draw(st.booleans()) else np.zeros(H),
            "log_step": np.log(_step_sizes(rng, P, regime))}
    if draw(feature("h0", st.booleans(), False)) if initial is None else initial:
        arrs["h0"] = _complex_normal(rng, (b, P))
    cs = draw(feature("conj_sym=False", st.booleans(), True)) if conj_sym is None else conj_sym
    return Case({k: representable(x, fmt) for k, x in arrs.items()}, fmt, {"conj_sym": cs})


def call_s5(fn, case: Case, method: str, device: str):
    t = lambda k: case.tensor(k, device)  # noqa: E731
    y, x = fn(*(t(k) for k in ARGS), discretization=method, conj_sym=case.params["conj_sym"],
              h0=t("h0") if "h0" in case.arrays else None, return_state=True)
    d = dtype(case.dtype)
    want = real_of(d).torch
    if not isinstance(y, torch.Tensor) or y.dtype != want:
        got = y.dtype if isinstance(y, torch.Tensor) else type(y).__name__
        raise TypeError(f"y: expected u's real dtype {want}, got {got}")
    return y.to(d.torch), x


def args(case: Case) -> tuple:
    return tuple(case.arrays[k] for k in ARGS)


def np_kwargs(case: Case, method: str) -> dict:
    return {"method": method, "conj_sym": case.params["conj_sym"], "h0": case.arrays.get("h0")}


@last_case
def terms(case: Case, method: str):
    """(y, x_last, M_y, G_y, M_h, G_h) from the long-double reference."""
    return ref_np.s5_scan_with_bound(*args(case), **np_kwargs(case, method))


def _reference(tier: str):
    def reference(case: Case, method: str):
        if tier == "mp":
            y, x = ref_mp.s5_scan(*args(case), **np_kwargs(case, method))
        else:
            y, x = terms(case, method)[:2]
        return {"y": y, "last_state": x}

    return reference


def _tier(case: Case) -> str:
    b, L, H = case.arrays["u"].shape
    return "mp" if b * L * H * case.arrays["Lambda"].shape[0] <= MP_MAX else "np"


def magnitude(case: Case, method: str):
    t = terms(case, method)
    return {"y": t[2], "last_state": t[4]}


def growth(case: Case, method: str):
    t = terms(case, method)
    return {"y": t[3], "last_state": t[5]}


def _bench(fmt: str) -> Case:
    """batch = 2, L = 1024, H = 64, P = 32 (an S5 layer's size): S4D-Lin Λ, Δ log-uniform in
    [1e-3, 1e-1] (S5's default), B, C complex normal / √P, D normal, conj_sym, h0 = 0."""
    rng = np.random.default_rng(0)
    b, L, H, P = 2, 1024, 64, 32
    arrs = {"u": rng.normal(size=(b, L, H)), "Lambda": -0.5 + 1j * np.pi * np.arange(P),
            "B": _complex_normal(rng, (P, H), P**-0.5), "C": _complex_normal(rng, (H, P), P**-0.5),
            "D": rng.normal(size=H), "log_step": np.log(10.0 ** rng.uniform(-3, -1, P))}
    return Case({k: representable(x, fmt) for k, x in arrs.items()}, fmt, {"conj_sym": True})


S5 = registry.register_spec(Spec(
    name="s5_scan",
    method_arg="discretization",
    family="s5",
    summary="S5 (MIMO diagonal SSM): x_t = Λ̄ x_{t−1} + B̄ u_t, y_t = (2·)Re(C x_t) + D u_t, "
            "Δ = exp(log_step) per state",
    signature="s5_scan(u (b, L, H), Lambda (P,), B (P, H), C (H, P), D (H,), log_step (P,), "
              "discretization, conj_sym=True, h0=None (b, P), return_state=False) "
              "-> y (b, L, H)[, last state (b, P)]",
    methods=METHODS,
    dtypes=DTYPES,
    sizes=("b", "L", "H", "P"),
    outputs=("y", "last_state"),
    strategy=lambda fmt, method: s5_cases(fmt, method),
    references={"mp": _reference("mp"), "np": _reference("np")},
    reference_tier=_tier,
    bound=Bound(
        c={m: C_BOUND for m in METHODS},
        magnitude=magnitude,
        growth=growth,
        reasoning="elementwise; running-error bound of the recurrence on absolute values "
                  "(discretisation, H + 2 roundings of B̄u per step), + 2P + 4 roundings of "
                  "the output",
    ),
    call=call_s5,
    bench_case=_bench,
    bench_shape="batch=2, L=1024, H=64, P=32, conj_sym, S4D-Lin Λ",
    features={"h0": optional_argument("h0", "an initial state h0 (b, P) before step 0"),
              "conj_sym=False": flag("conj_sym", False, "all P states kept (no conjugate "
                                     "symmetry: y = Re(C x) rather than 2·Re)")},
))

registry.register_implementation(Implementation("s5_scan", "torch", impl.s5_scan))


# --- bad input (SPEC-NOTES §8) ----------------------------------------------------------------


def _t(*shape, dt=torch.float64, value=-0.5):
    return torch.full(shape, value, dtype=dt)


def _ok(**over):
    """A valid call (batch 2, L 5, H 3, P 4, c128 parameters) with some arguments replaced."""
    c = torch.complex128
    a = dict(u=_t(2, 5, 3), Lambda=_t(4, dt=c), B=_t(4, 3, dt=c), C=_t(3, 4, dt=c), D=_t(3),
             log_step=_t(4))
    kw = {k: over.pop(k) for k in list(over) if k not in a}
    a.update(over)
    return lambda f: f(*a.values(), **kw)


_C128, _C64 = torch.complex128, torch.complex64
_BAD = [
    ("u 2-d", "u", ValueError, _ok(u=_t(5, 3))),
    ("u of another H", "B", ValueError, _ok(u=_t(2, 5, 4))),
    ("u complex", "u", TypeError, _ok(u=_t(2, 5, 3, dt=_C128))),
    ("u integer", "u", TypeError, _ok(u=torch.ones(2, 5, 3, dtype=torch.int64))),
    ("u of another precision", "u", TypeError, _ok(u=_t(2, 5, 3, dt=torch.float32))),
    ("Lambda real", "Lambda", TypeError, _ok(Lambda=_t(4))),
    ("Lambda 2-d", "Lambda", ValueError, _ok(Lambda=_t(4, 1, dt=_C128))),
    ("B of shape (H, P)", "B", ValueError, _ok(B=_t(3, 4, dt=_C128))),
    ("B of another dtype", "B", TypeError, _ok(B=_t(4, 3, dt=_C64))),
    ("B real", "B", TypeError, _ok(B=_t(4, 3))),
    ("C of shape (P, H)", "C", ValueError, _ok(C=_t(4, 3, dt=_C128))),
    ("C of another dtype", "C", TypeError, _ok(C=_t(3, 4, dt=_C64))),
    ("D of shape (P,)", "D", ValueError, _ok(D=_t(4))),
    ("D complex", "D", TypeError, _ok(D=_t(3, dt=_C128))),
    ("log_step of shape (H,)", "log_step", ValueError, _ok(log_step=_t(3))),
    ("log_step of another precision", "log_step", TypeError,
     _ok(log_step=_t(4, dt=torch.float32))),
    ("h0 of shape (P,)", "h0", ValueError, _ok(h0=_t(4, dt=_C128))),
    ("h0 real", "h0", TypeError, _ok(h0=_t(2, 4))),
    ("unknown discretization", "discretization", ValueError, _ok(discretization="zoh_approx")),
    ("conj_sym not a bool", "conj_sym", TypeError, _ok(conj_sym=1)),
    ("return_state not a bool", "return_state", TypeError, _ok(return_state="yes")),
]
for _name, _arg, _err, _call in _BAD:
    registry.register_bad_input(BadInput("s5_scan", _name, _arg, _err, _call))

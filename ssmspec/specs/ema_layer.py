"""Spec of Mega's EMA layer forward (SPEC-NOTES §5): `ema`, y = silu(conv(x, K) + ω ⊙ x) with
K = ema_kernel(δ, α, β, γ, L), causal or bidirectional in Mega's or S4's convention. Facts and
their sources (facebookresearch/mega `MultiHeadEMA.forward`, both public versions) are in
`ssmspec.impl.ema`.

Methods: `causal` (bidirectional=None), `mega`, `s4` (the two bidirectional conventions).
Formats: fp64, fp32, fp16, bf16 (the built-in computes fp16/bf16 in fp32 and rounds once).

Reference: the recurrences of the definition, step by step (forward EMA, and the backward one
run from t = L−1 down, added at t for 'mega' and at t + 1 for 's4'), then SiLU — neither a
kernel nor an FFT enters it (float64 in `ssmspec.reference.np.recurrent`, mpmath while
batch·rows·ndim·L ≤ 1024).

Bound, norm-wise per signal (b, d) in the 2-norm (the convolution goes through an FFT, §6), c = 4:

    G·M = 1.1·[ Σ_k (1 + log₂n)(‖M_k‖₁‖x‖₂ + ‖M_k‖₂‖x‖₁) + ‖(G_k M_k) * |x|‖₂ + 2‖ω x‖₂ ]
          + 4·‖ Σ_k M_k * |x| + |ω x| ‖₂

for the kernels k (k_f; and k_b, one lag later for 's4'), (M_k, G_k) ema_kernel's bound terms,
n the power of two ≥ 2L. The bracket bounds the error of the pre-activation z = conv + ωx (the
FFT's norm-wise bound on the kernel's magnitude, the kernel's own elementwise error carried
through the convolution, the product and sum with ωx); |silu′| ≤ 1.0998 carries it through the
SiLU, and the last term is SiLU's own few roundings and fp16/bf16's final rounding, on |z|.

Measured (the built-in, 30 strategy cases per format and method): max err/bound 0.07 (fp64),
0.04 (fp32), 0.02 (fp16, bf16: the bound is stated at the format's u for an FFT in that format,
while the built-in works in fp32 and rounds once). The FFT bound is loose on random data
(SPEC-NOTES §6); the mutants still exceed it on their witnesses: s4_as_mega 1.4e5 (fp32), 17
(fp16), 2.1 (bf16); silu_before_residual 6.7e5 (fp32), 10 (bf16).

Strategies: δ, α, β, γ as the ema_kernel spec (moderate, or saturated: q → 1, q = 0), D ≤ 3
channels, ndim ≤ 8, batch 1–2, x normal, ω normal, L from {1, 2, 3, 2^k − 1, 2^k, 2^k + 1} up to
513 (16385 under the nightly profile).
"""

from __future__ import annotations

import numpy as np
import torch
from hypothesis import strategies as st

from ssmspec import registry
from ssmspec.dtypes import REAL_DTYPES
from ssmspec.impl import ema as impl
from ssmspec.reference.mp import recurrent as ref_mp
from ssmspec.reference.np import recurrent as ref_np
from ssmspec.spec import BadInput, Bound, Case, Implementation, Spec
from ssmspec.specs.kernels import ema_param
from ssmspec.strategies import arrays as arrays_of
from ssmspec.strategies import real_normals, representable, sequence_lengths, size

METHODS = ("causal", "mega", "s4")
C_BOUND = 4.0
MP_MAX = 1024
PARAMS = ("delta", "alpha", "beta", "gamma")


def bidirectional_of(method: str) -> str | None:
    return None if method == "causal" else method


def lengths() -> st.SearchStrategy[int]:
    return sequence_lengths(513, 16385)


@st.composite
def ema_layer_cases(draw, fmt: str, method: str = "causal", length=None) -> Case:
    """EMA parameters with D rows (2D bidirectional), x (batch, D, L) and ω (D,)."""
    D, n = draw(size("D", st.integers(1, 3))), draw(size("ndim", st.integers(1, 8)))
    rows = D if method == "causal" else 2 * D
    L = draw(size("L", length if length is not None else lengths()))
    arrays = {"delta": draw(arrays_of((rows, n, 1), ema_param())),
              "alpha": draw(arrays_of((rows, n, 1), ema_param())),
              "beta": draw(arrays_of((rows, n, 1), real_normals(2.0))),
              "gamma": draw(arrays_of((rows, n), real_normals(2.0)))}
    batch = draw(size("batch", st.integers(1, 2)))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    arrays["x"] = rng.normal(size=(batch, D, L))
    arrays["omega"] = rng.normal(size=D)
    return Case({k: representable(a, fmt) for k, a in arrays.items()}, fmt, {"L": L})


def _params(case: Case):
    return tuple(case.arrays[k] for k in PARAMS)


def call_ema(fn, case: Case, method: str, device: str):
    return fn(case.tensor("x", device), tuple(case.tensor(k, device) for k in PARAMS),
              case.tensor("omega", device), bidirectional=bidirectional_of(method))


def _reference(mod):
    def reference(case: Case, method: str):
        return {"y": mod.ema(case.arrays["x"], _params(case), case.arrays["omega"],
                             bidirectional_of(method))}

    return reference


def ema_terms(case: Case, method: str):
    return ref_np.ema_bound(case.arrays["x"], _params(case), case.arrays["omega"],
                            bidirectional_of(method))["y"]


def _tier(case: Case) -> str:
    """mpmath while batch·rows·ndim·L ≤ MP_MAX."""
    batch, _, L = case.arrays["x"].shape
    return "mp" if batch * case.arrays["gamma"].size * L <= MP_MAX else "np"


def bench_case(fmt: str, method: str = "causal") -> Case:
    """batch 4, D = 256, ndim = 16, L = 8192, Mega's initialisation (the perf test's shape)."""
    rng = np.random.default_rng(0)
    batch, D, n, L = 4, 256, 16, 8192
    rows = D if method == "causal" else 2 * D
    sign = np.where(np.arange(n) % 2 == 0, 1.0, -1.0)[None, :, None]
    arrays = {"delta": rng.normal(0, 0.2, (rows, n, 1)), "alpha": rng.normal(0, 0.2, (rows, n, 1)),
              "beta": sign + rng.normal(0, 0.02, (rows, n, 1)),
              "gamma": rng.normal(size=(rows, n)), "omega": rng.normal(size=D),
              "x": rng.normal(size=(batch, D, L))}
    return Case({k: representable(x, fmt) for k, x in arrays.items()}, fmt, {"L": L})


EMA_LAYER = registry.register_spec(Spec(
    name="ema",
    method_arg="bidirectional",
    method_values={"causal": None},
    family="recurrent",
    summary="Mega's EMA layer y = silu(conv(x, ema_kernel) + ω ⊙ x), causal or bidirectional",
    signature="ema(x (batch, D, L), params (delta, alpha, beta (R, ndim, 1), gamma (R, ndim)), "
              "omega (D,), bidirectional=None|'mega'|'s4') -> y (batch, D, L); R = D or 2D",
    methods=METHODS,
    dtypes=REAL_DTYPES,
    sizes=("batch", "D", "ndim", "L"),
    outputs=("y",),
    strategy=lambda fmt, method: ema_layer_cases(fmt, method),
    references={"mp": _reference(ref_mp), "np": _reference(ref_np)},
    reference_tier=_tier,
    bound=Bound(
        c={m: C_BOUND for m in METHODS},
        magnitude=lambda case, method: {"y": ema_terms(case, method)[0]},
        growth=lambda case, method: {"y": ema_terms(case, method)[1]},
        norms={"y": "row"},
        reasoning="per signal: 1.1·(FFT bound per kernel + kernel error * |x| + 2‖ωx‖) "
                  "+ 4‖|z|‖ (SiLU and the final rounding)",
    ),
    call=call_ema,
    bench_case=bench_case,
    bench_by_method=True,
    bench_shape="batch=4, D=256, ndim=16, L=8192, Mega init, causal",
))

registry.register_implementation(Implementation("ema", "torch", impl.ema))


# --- bad input (SPEC-NOTES §8) ----------------------------------------------------------------


def _r(*shape, dt=torch.float64):
    return torch.zeros(shape, dtype=dt)


def _p(rows=2, n=3, dt=torch.float64):
    return (_r(rows, n, 1, dt=dt), _r(rows, n, 1, dt=dt), _r(rows, n, 1, dt=dt),
            _r(rows, n, dt=dt))


_BAD = [
    ("unknown bidirectional", "bidirectional", ValueError,
     lambda f: f(_r(1, 2, 4), _p(4), _r(2), bidirectional="both")),
    ("bidirectional with D rows", "params", ValueError,
     lambda f: f(_r(1, 2, 4), _p(2), _r(2), bidirectional="mega")),
    ("unidirectional with 2D rows", "params", ValueError, lambda f: f(_r(1, 2, 4), _p(4), _r(2))),
    ("params of three items", "params", ValueError, lambda f: f(_r(1, 2, 4), _p()[:3], _r(2))),
    ("params not a tuple", "params", ValueError, lambda f: f(_r(1, 2, 4), _r(2, 3, 1), _r(2))),
    ("x 2-d", "x", ValueError, lambda f: f(_r(2, 4), _p(), _r(2))),
    ("x of length 0", "x", ValueError, lambda f: f(_r(1, 2, 0), _p(), _r(2))),
    ("x complex", "x", TypeError,
     lambda f: f(_r(1, 2, 4, dt=torch.complex128), _p(dt=torch.complex128),
                 _r(2, dt=torch.complex128))),
    ("x integer", "x", TypeError,
     lambda f: f(torch.zeros(1, 2, 4, dtype=torch.int64), _p(), _r(2))),
    ("omega of the wrong shape", "omega", ValueError, lambda f: f(_r(1, 2, 4), _p(), _r(3))),
    ("omega of another dtype", "omega", TypeError,
     lambda f: f(_r(1, 2, 4), _p(), _r(2, dt=torch.float32))),
    ("gamma of another dtype", "gamma", TypeError,
     lambda f: f(_r(1, 2, 4), _p()[:3] + (_r(2, 3, dt=torch.float32),), _r(2))),
    ("beta of another shape", "beta", ValueError,
     lambda f: f(_r(1, 2, 4), (_r(2, 3, 1), _r(2, 3, 1), _r(2, 4, 1), _r(2, 3)), _r(2))),
]
for _name, _arg, _err, _call in _BAD:
    registry.register_bad_input(BadInput("ema", _name, _arg, _err, _call))

"""Specs of long convolution (SPEC-NOTES §5, §6): `causal_conv`, `bidirectional_conv`.

Bounds, with M from `ssmspec.reference.np.convolution` (the sums on absolute values):

- `direct`, elementwise: |ŷ_t − y_t| ≤ c·u·g_t·M_t + g_t·η, g_t = 2 + min(t + 1, L_K) (a dot
  product of min(t+1, L_K) terms, the skip term, the final rounding of fp16/bf16), M = |K| * |u|
  + |D||u|; c = 2.
- `fft` (and both bidirectional conventions, which run on it), per signal (b, h) in the 2-norm:
  ‖ŷ − y‖₂ ≤ c·u·g·M + g·η with g = 1 + log₂n (n the FFT length), M = ‖K‖₁‖u‖₂ + ‖K‖₂‖u‖₁
  (+ |D|‖u‖₂), summed over both kernels for bidirectional; c = 2. An FFT's error is spread over
  the whole signal, so a small output next to large ones may have a large relative error: that
  is not a bug, and no elementwise bound holds.

Inputs: kernels that decay like an SSM's (c·aˡ, a ∈ [0.3, 0.999]) or are white noise, L_K equal
to L, shorter or longer; lengths at the edges that break FFT code (1, 2, 3, 2ᵏ ± 1, 2ᵏ) up to
1024 (4096 under the nightly profile); mpmath reference while B·H·L·L_K ≤ 20000, otherwise the
long-double direct sum (certified against mpmath in tests/test_reference_convolution.py).
"""

from __future__ import annotations

import numpy as np
import torch
from hypothesis import settings
from hypothesis import strategies as st

from ssmspec import registry
from ssmspec.dtypes import REAL_DTYPES
from ssmspec.impl import convolution as impl
from ssmspec.reference.mp import convolution as ref_mp
from ssmspec.reference.np import convolution as ref_np
from ssmspec.spec import BadInput, Bound, Case, Implementation, Spec, Sweep
from ssmspec.strategies import representable, size
from ssmspec.sweeps import QUADRATIC, QUADRATIC_HEAVY, problem_rng

MP_WORK = 20_000


def _max_log2() -> int:
    return 12 if settings.default.max_examples >= 200 else 10


def _lengths():
    k = _max_log2()
    edges = sorted({1, 2, 3} | {2**j + d for j in range(2, k + 1) for d in (-1, 0, 1)
                                if 2**j + d <= 2**k})
    return st.one_of(st.sampled_from(edges), st.integers(1, 2**k))


def _kernel(rng, H: int, L_K: int, kind: str) -> np.ndarray:
    if kind == "decay":
        a = rng.uniform(0.3, 0.999, (H, 1))
        return rng.normal(size=(H, 1)) * a ** np.arange(L_K)[None]
    return rng.normal(size=(H, L_K)) / np.sqrt(L_K)


@st.composite
def conv_cases(draw, fmt: str, method: str = "fft", bidirectional: bool = False) -> Case:
    L = draw(size("L", _lengths()))
    rel = draw(st.sampled_from(["same", "shorter", "longer"]))
    L_K = {"same": L, "shorter": draw(st.integers(1, L)), "longer": L + draw(st.integers(1, 8))}[
        rel]
    Bn, H = draw(size("B", st.integers(1, 2), "batch")), draw(size("H", st.integers(1, 3)))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    kind = draw(st.sampled_from(["decay", "noise"]))
    arrays = {"u": rng.normal(size=(Bn, H, L))}
    names = ("K_fwd", "K_bwd") if bidirectional else ("K",)
    for name in names:
        arrays[name] = _kernel(rng, H, L_K, kind)
    if draw(st.booleans()):
        arrays["D"] = rng.normal(size=H)
    return Case({k: representable(a, fmt) for k, a in arrays.items()}, fmt,
                {"L": L, "L_K": L_K, "kernel": kind})


def _work(case: Case) -> int:
    u = case.arrays["u"]
    L_K = case.params["L_K"]
    return int(np.prod(u.shape)) * L_K


def _tier(case: Case) -> str:
    return "mp" if _work(case) <= MP_WORK else "np"


def _D(case: Case):
    return case.arrays.get("D")


# --- causal_conv --------------------------------------------------------------------------------


def _causal_call(fn, case: Case, method: str, device: str):
    D = case.tensor("D", device) if "D" in case.arrays else None
    return fn(case.tensor("u", device), case.tensor("K", device), D, method=method)


def _causal_ref(mod):
    def reference(case: Case, method: str):
        return {"y": mod.causal_conv(case.arrays["u"], case.arrays["K"], _D(case))}

    return reference


def _causal_magnitude(case: Case, method: str):
    u, K = case.arrays["u"], case.arrays["K"]
    if method == "fft":
        return {"y": ref_np.fft_norm_magnitude(u, K, _D(case))}
    return {"y": ref_np.magnitude(u, K, _D(case))}


def _causal_growth(case: Case, method: str):
    u = case.arrays["u"]
    L, L_K = case.params["L"], case.params["L_K"]
    if method == "fft":
        return {"y": np.full(u.shape[:-1], 1.0 + np.log2(impl.fft_length(L, L_K)))}
    return {"y": np.broadcast_to(2.0 + np.minimum(np.arange(1, L + 1), L_K), u.shape)}


BENCH = {"B": 2, "H": 64, "L": 1024}


def _bench(fmt: str, bidirectional: bool = False) -> Case:
    """B = 2, H = 64, L = L_K = 1024: small enough that the O(L·L_K) direct sum times in
    milliseconds on a CPU, so the report stays quick; the crossover study belongs to perf/."""
    rng = np.random.default_rng(0)
    Bn, H, L = BENCH["B"], BENCH["H"], BENCH["L"]
    arrays = {"u": rng.normal(size=(Bn, H, L))}
    for name in ("K_fwd", "K_bwd") if bidirectional else ("K",):
        arrays[name] = _kernel(rng, H, L, "decay")
    return Case({k: representable(a, fmt) for k, a in arrays.items()}, fmt,
                {"L": L, "L_K": L, "kernel": "decay"})


def causal_sweep_problem(fmt: str, L: int) -> Case:
    """The sweep along L: B = 1, H = 4, decaying kernels, L_K = L (the direct sum and its
    reference are O(L²): up to 2^12, 2^14 nightly)."""
    rng = problem_rng()
    H = 4
    a = rng.uniform(0.9, 0.999, (H, 1))
    K = rng.normal(size=(H, 1)) * a ** np.arange(L)[None]
    u = rng.normal(size=(1, H, L))
    return Case({"u": representable(u, fmt), "K": representable(K, fmt)}, fmt,
                {"L": L, "L_K": L, "kernel": "decay"})


CAUSAL = registry.register_spec(Spec(
    name="causal_conv",
    family="convolution",
    summary="causal long convolution y = K * u (+ D·u), by FFT or directly",
    signature="causal_conv(u (B, H, L), K (H, L_K), D (H,) | None, method) -> y (B, H, L)",
    methods=impl.METHODS,
    dtypes=REAL_DTYPES,
    sizes=("B", "H", "L"),
    # the direct sum is O(L·L_K) per row: realistic lengths only at one or two channels
    realistic_work={"direct": 2**16},
    outputs=("y",),
    strategy=lambda fmt, method: conv_cases(fmt, method),
    references={"mp": _causal_ref(ref_mp), "np": _causal_ref(ref_np)},
    reference_tier=_tier,
    bound=Bound(
        c={"fft": 2.0, "direct": 2.0},
        magnitude=_causal_magnitude,
        growth=_causal_growth,
        method_norms={"fft": {"y": "row"}},
        reasoning="direct: elementwise, dot product of min(t+1, L_K) terms; fft: norm-wise per "
                  "signal, (1 + log2 n)(‖K‖₁‖u‖₂ + ‖K‖₂‖u‖₁)",
    ),
    call=_causal_call,
    bench_case=_bench,
    bench_shape="B=2, H=64, L=L_K=1024",
    sweep=Sweep("L", QUADRATIC, causal_sweep_problem, QUADRATIC_HEAVY,
                "H=4, L_K = L, decaying kernels"),
))


# --- bidirectional_conv -----------------------------------------------------------------------


def _bidir_call(fn, case: Case, method: str, device: str):
    D = case.tensor("D", device) if "D" in case.arrays else None
    return fn(case.tensor("u", device), case.tensor("K_fwd", device), case.tensor("K_bwd", device),
              D, convention=method)


def _bidir_ref(mod):
    def reference(case: Case, method: str):
        a = case.arrays
        return {"y": mod.bidirectional_conv(a["u"], a["K_fwd"], a["K_bwd"], _D(case), method)}

    return reference


def _bidir_magnitude(case: Case, method: str):
    a = case.arrays
    kb = ref_np.backward_kernel(a["K_bwd"], method)
    m = ref_np.fft_norm_magnitude(a["u"], a["K_fwd"], _D(case))
    return {"y": m + ref_np.fft_norm_magnitude(a["u"], kb)}


def _bidir_growth(case: Case, method: str):
    L, L_K = case.params["L"], case.params["L_K"]
    n = impl.fft_length(L, L_K + (method == "s4"))
    return {"y": np.full(case.arrays["u"].shape[:-1], 1.0 + np.log2(n))}


BIDIRECTIONAL = registry.register_spec(Spec(
    name="bidirectional_conv",
    method_arg="convention",
    family="convolution",
    summary="bidirectional convolution, Mega's (lag 0 twice) or S4's (k_b shifted one lag) sum",
    signature="bidirectional_conv(u (B, H, L), K_fwd (H, L_K), K_bwd (H, L_K), D | None, "
              "convention='mega'|'s4', method='fft'|'direct') -> y (B, H, L)",
    methods=impl.CONVENTIONS,
    dtypes=REAL_DTYPES,
    sizes=("B", "H", "L"),
    # the direct sum is O(L·L_K) per row: realistic lengths only at one or two channels
    realistic_work={"direct": 2**16},
    outputs=("y",),
    strategy=lambda fmt, method: conv_cases(fmt, "fft", bidirectional=True),
    references={"mp": _bidir_ref(ref_mp), "np": _bidir_ref(ref_np)},
    reference_tier=lambda case: "mp" if 2 * _work(case) <= MP_WORK else "np",
    bound=Bound(
        c={"mega": 2.0, "s4": 2.0},
        magnitude=_bidir_magnitude,
        growth=_bidir_growth,
        norms={"y": "row"},
        reasoning="norm-wise per signal: the FFT bound of each of the two causal parts",
    ),
    call=_bidir_call,
    bench_case=lambda fmt: _bench(fmt, bidirectional=True),
    bench_shape="B=2, H=64, L=L_K=1024, fft",
))


for _spec, _fn in ((CAUSAL, impl.causal_conv), (BIDIRECTIONAL, impl.bidirectional_conv)):
    registry.register_implementation(Implementation(_spec.name, "torch", _fn))


# --- bad input ----------------------------------------------------------------------------------


def _x(*shape, dt=torch.float64):
    return torch.ones(shape, dtype=dt)


_CAUSAL_BAD = [
    ("u of integer dtype", "u", TypeError,
     lambda f: f(torch.ones(1, 2, 4, dtype=torch.int64), torch.ones(2, 4, dtype=torch.int64))),
    ("u complex", "u", TypeError,
     lambda f: f(_x(1, 2, 4, dt=torch.complex128), _x(2, 4, dt=torch.complex128))),
    ("u 2-d", "u", ValueError, lambda f: f(_x(2, 4), _x(2, 4))),
    ("u of length 0", "u", ValueError, lambda f: f(_x(1, 2, 0), _x(2, 4))),
    ("K 1-d", "K", ValueError, lambda f: f(_x(1, 2, 4), _x(4))),
    ("K with another channel count", "K", ValueError, lambda f: f(_x(1, 2, 4), _x(3, 4))),
    ("K of length 0", "K", ValueError, lambda f: f(_x(1, 2, 4), _x(2, 0))),
    ("K of another dtype", "K", TypeError,
     lambda f: f(_x(1, 2, 4), _x(2, 4, dt=torch.float32))),
    ("D of the wrong shape", "D", ValueError, lambda f: f(_x(1, 2, 4), _x(2, 4), _x(3))),
    ("D of another dtype", "D", TypeError,
     lambda f: f(_x(1, 2, 4), _x(2, 4), _x(2, dt=torch.float32))),
    ("unknown method", "method", ValueError,
     lambda f: f(_x(1, 2, 4), _x(2, 4), method="winograd")),
]
_BIDIR_BAD = [
    ("u 2-d", "u", ValueError, lambda f: f(_x(2, 4), _x(2, 4), _x(2, 4))),
    ("K_fwd of another dtype", "K_fwd", TypeError,
     lambda f: f(_x(1, 2, 4), _x(2, 4, dt=torch.float32), _x(2, 4))),
    ("K_bwd with another channel count", "K_bwd", ValueError,
     lambda f: f(_x(1, 2, 4), _x(2, 4), _x(3, 4))),
    ("D of the wrong shape", "D", ValueError,
     lambda f: f(_x(1, 2, 4), _x(2, 4), _x(2, 4), _x(1))),
    ("unknown convention", "convention", ValueError,
     lambda f: f(_x(1, 2, 4), _x(2, 4), _x(2, 4), convention="h3")),
    ("unknown method", "method", ValueError,
     lambda f: f(_x(1, 2, 4), _x(2, 4), _x(2, 4), method="winograd")),
]
for _prim, _rows in (("causal_conv", _CAUSAL_BAD), ("bidirectional_conv", _BIDIR_BAD)):
    for _name, _arg, _err, _call in _rows:
        registry.register_bad_input(BadInput(_prim, _name, _arg, _err, _call))

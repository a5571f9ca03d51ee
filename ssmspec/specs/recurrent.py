"""Specs of the recurrent view (SPEC-NOTES §4, §5): `diag_step`, `diag_ssm` (chunked state
passing) and `ema_step`. Definitions in `ssmspec.impl.recurrent` and
`ssmspec.reference.mp.recurrent`; magnitudes from `ssmspec.reference.np.recurrent`.

Formats. diag_step/diag_ssm run in c128/c64 (complex Λ) and fp64/fp32 (real Λ, S4D-Real): the
state has Λ's dtype, u and y Λ's real dtype. For a complex run the adapter checks that y has
exactly the real dtype (else a TypeError, a conformance failure) and hands it back in the run's
complex format, an exact conversion, as the diag_kernel spec does. ema_step runs in fp64, fp32,
fp16 and bf16 (computed in fp32 by the built-in, rounded once).

Bounds (|err| ≤ c·u·G·M + G·η; M, G from the float64 reference on absolute values):

- diag_step, elementwise, c = 4. state': M = |Ā||h| + |B̄||u|, G = 3 + g0 (Ā·h, B̄·u, the add;
  g0 = |ΔΛ| for zoh, the rounding of z moving φ₁(z) in B̄); y: G·M = f·Σ_n (N + 3 + g0)|C_n|M_h
  (the products and the N-term sum).
- diag_ssm. final state, elementwise, c = 4: G·M = (4 + L|w|)|Ā|^L|h0| + Σ_s (L + 4 + g0 +
  (L−1−s)|w|)|Ā|^{L−1−s}|B̄||u_s| with w = log Ā: the growth of a sequential recurrence (t + a
  few) — any order of summation of L terms fits under it, the built-in's two-level √L split
  uses ~2√L of it — plus the `l·|log Ā|` of powers formed as exp(l·log Ā) (SPEC-NOTES §5).
  y, norm-wise per signal (b, h) in the 2-norm, c = 4, because y goes through an FFT (§6):
  G·M = (1 + log₂n)(‖M_K‖₁‖u‖₂ + ‖M_K‖₂‖u‖₁) + ‖(G_K M_K) * |u|‖₂ + ‖G_s·M_s‖₂ — the FFT's
  bound on the kernel's magnitude M_K, the kernel's own elementwise error (diag_kernel's bound
  G_K·M_K) carried through the convolution, and the free response's elementwise bound
  G_s·M_s = f·Σ_n (N + 4 + g0 + (t+1)|w|)|C_n h0_n||Ā_n|^{t+1}.
- ema_step, elementwise, c = 2: state': M = q|h| + |pβ||x|, G = 3; y: M = Σ_n |γ√(1/ndim)|M_h,
  G = ndim + 4 (the final rounding of fp16/bf16 included). p·β, q and γ√(1/ndim) are formed in
  float64 and rounded once, so their error is inside the "3".

Measured (the built-in, 30 strategy cases per format and method, ci profile's examples): max
err/bound diag_step 0.28 (c128), 0.20 (fp64), 0.16 (c64), 0.13 (fp32); diag_ssm 0.26 (c128), 0.11
(fp64), 0.07 (c64, fp32); ema_step 0.33 (fp64), 0.29 (fp32), 0.16 (fp16, bf16). The float64
reference (a long-double step loop) is within the fp64/c128 bound of mpmath
(tests/test_reference_recurrent.py). Mutants on their witnesses (recurrent_laws.py): 6e4–4e14.

Strategies: Λ, B, C, log Δ as the diag_kernel spec (S4D-Lin, S4D-Real, random stable, 0; Δ
log-uniform in [1e-4, 1] with 1e-6 and 10); batch 1–2; u normal; the initial state None, zeros,
or normal at a scale log-uniform in [1e-3, 1e3]; L from {1, 2, 3, 2^k − 1, 2^k, 2^k + 1} up to
513 (16385 under the nightly profile). EMA parameters as the ema_kernel spec (δ, α moderate or
saturated −30, 20, 40, 800: q → 1 and q = 0). Reference tier: mpmath while batch·H·N·L ≤ 1024.
"""

from __future__ import annotations

import numpy as np
import torch
from hypothesis import strategies as st

from ssmspec import registry
from ssmspec.dtypes import dtype, real_of
from ssmspec.impl import recurrent as impl
from ssmspec.reference.mp import recurrent as ref_mp
from ssmspec.reference.np import recurrent as ref_np
from ssmspec.spec import BadInput, Bound, Case, Implementation, Spec
from ssmspec.specs.kernels import diag_cases, ema_cases
from ssmspec.strategies import log_uniform, representable, sequence_lengths, size

METHODS = impl.METHODS
DIAG_DTYPES = ("c128", "c64", "fp64", "fp32")
EMA_DTYPES = ("fp64", "fp32", "fp16", "bf16")
MP_MAX = 1024  # batch·H·N·L up to which the mpmath tier is used
STEP_MP_MAX = 4096  # batch·H·N up to which diag_step's reference is mpmath
C_DIAG = 4.0
C_EMA = 2.0


def lengths() -> st.SearchStrategy[int]:
    return sequence_lengths(513, 16385)


def _normal(rng, shape, cplx: bool, scale: float = 1.0) -> np.ndarray:
    x = rng.normal(size=shape)
    if cplx:
        x = x + 1j * rng.normal(size=shape)
    return x * scale


def _real_out(y, case: Case, name: str):
    """y must have the real dtype of the run; for a complex run it comes back in that complex
    format (exactly), so the generic dtype property compares it with the case's format."""
    d = dtype(case.dtype)
    want = real_of(d).torch
    if not isinstance(y, torch.Tensor) or y.dtype != want:
        got = y.dtype if isinstance(y, torch.Tensor) else type(y).__name__
        raise TypeError(f"{name}: expected the real dtype {want} of Lambda, got {got}")
    return y.to(d.torch) if d.is_complex else y


# --- diag_step --------------------------------------------------------------------------------


@st.composite
def diag_step_cases(draw, fmt: str, method: str = "zoh") -> Case:
    """A diag_kernel case (Λ, B, C, log Δ, conj_half) plus state (batch, H, N) and u (batch, H)."""
    base = draw(diag_cases(fmt, method, length=st.just(1)))
    H, N = base.arrays["Lambda"].shape
    batch = draw(size("batch", st.integers(1, 2)))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    scale = draw(st.one_of(st.just(0.0), log_uniform(1e-3, 1e3)))
    cplx = dtype(fmt).is_complex
    arrays = {**base.arrays,
              "state": representable(_normal(rng, (batch, H, N), cplx, scale), fmt),
              "u": representable(rng.normal(size=(batch, H)), fmt)}
    return Case(arrays, fmt, {"conj_half": base.params["conj_half"]})


def _diag_params(case: Case):
    a = case.arrays
    return a["Lambda"], a["B"], a["C"], a["log_dt"]


def call_diag_step(fn, case: Case, method: str, device: str):
    h, y = fn(case.tensor("Lambda", device), case.tensor("B", device), case.tensor("C", device),
              case.tensor("log_dt", device, real=True), case.tensor("state", device),
              case.tensor("u", device, real=True), method=method,
              conj_half=case.params["conj_half"])
    return h, _real_out(y, case, "y")


def _ref_diag_step(mod):
    def reference(case: Case, method: str):
        h, y = mod.diag_step(*_diag_params(case), case.arrays["state"], case.arrays["u"], method,
                             case.params["conj_half"])
        return {"state": h, "y": y}

    return reference


def _diag_step_terms(case: Case, method: str):
    return ref_np.diag_step_bound(*_diag_params(case), case.arrays["state"], case.arrays["u"],
                                  method, case.params["conj_half"])


def _bench_diag(fmt: str, L: int | None = None) -> Case:
    """batch 4, H = 256, N = 64 (S4D-Lin, Δ log-uniform in [1e-3, 1e-1]); L for diag_ssm."""
    rng = np.random.default_rng(0)
    H, N, batch = 256, 64, 4
    cplx = dtype(fmt).is_complex
    lam = (np.broadcast_to(-0.5 + 1j * np.pi * np.arange(N), (H, N)) if cplx
           else np.broadcast_to(-(np.arange(N) + 1.0), (H, N)))
    arrays = {"Lambda": lam, "B": np.ones_like(lam), "C": _normal(rng, (H, N), cplx),
              "log_dt": np.log(10.0 ** rng.uniform(-3, -1, H)),
              "state": _normal(rng, (batch, H, N), cplx)}
    arrays["u"] = rng.normal(size=(batch, H) if L is None else (batch, H, L))
    return Case({k: representable(x, fmt) for k, x in arrays.items()}, fmt,
                {"conj_half": True, "state": "random", **({} if L is None else {"L": L})})


DIAG_STEP = registry.register_spec(Spec(
    name="diag_step",
    family="recurrent",
    summary="one step of the diagonal SSM: h' = Ā h + B̄ u, y = f·Re(C·h')",
    signature="diag_step(Lambda (H, N), B (H, N), C (H, N), log_dt (H,), state (batch, H, N), "
              "u (batch, H), method, conj_half=True) -> (state' (batch, H, N), y (batch, H))",
    methods=METHODS,
    dtypes=DIAG_DTYPES,
    sizes=("batch", "H", "N"),
    outputs=("state", "y"),
    strategy=lambda fmt, method: diag_step_cases(fmt, method),
    references={"mp": _ref_diag_step(ref_mp), "np": _ref_diag_step(ref_np)},
    # one step: mpmath is affordable at the strategy's sizes, not at a shipping size's 10⁴–10⁵
    # states (a minute): there the float64 tier (diag_ssm's loop at L = 1, certified in tests)
    reference_tier=lambda case: "mp" if case.arrays["state"].size <= STEP_MP_MAX else "np",
    bound=Bound(
        c={m: C_DIAG for m in METHODS},
        magnitude=lambda case, method: {k: v[0] for k, v in _diag_step_terms(case, method).items()},
        growth=lambda case, method: {k: v[1] for k, v in _diag_step_terms(case, method).items()},
        reasoning="elementwise; state: (3 + g0)(|Ā||h| + |B̄||u|); y: f·Σ_n (N + 3 + g0)|C| M_h",
    ),
    call=call_diag_step,
    bench_case=_bench_diag,
    bench_shape="batch=4, H=256, N=64, S4D-Lin",
))


# --- diag_ssm ---------------------------------------------------------------------------------


@st.composite
def diag_ssm_cases(draw, fmt: str, method: str = "zoh", length=None,
                   state_kinds=("none", "zeros", "random")) -> Case:
    """A diag_kernel case plus u (batch, H, L) and an initial state: None, zeros or random."""
    base = draw(diag_cases(fmt, method, length=length if length is not None else lengths()))
    H, N = base.arrays["Lambda"].shape
    L = base.params["L"]
    batch = draw(size("batch", st.integers(1, 2)))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    kind = draw(st.sampled_from(state_kinds))
    cplx = dtype(fmt).is_complex
    arrays = {**base.arrays, "u": representable(rng.normal(size=(batch, H, L)), fmt)}
    if kind != "none":
        scale = 0.0 if kind == "zeros" else draw(log_uniform(1e-3, 1e3))
        arrays["state"] = representable(_normal(rng, (batch, H, N), cplx, scale), fmt)
    return Case(arrays, fmt, {"L": L, "conj_half": base.params["conj_half"], "state": kind})


def _state(case: Case):
    return case.arrays.get("state")


def call_diag_ssm(fn, case: Case, method: str, device: str):
    h0 = case.tensor("state", device) if "state" in case.arrays else None
    y, h = fn(case.tensor("u", device, real=True), case.tensor("Lambda", device),
              case.tensor("B", device), case.tensor("C", device),
              case.tensor("log_dt", device, real=True), h0, method=method,
              conj_half=case.params["conj_half"])
    return _real_out(y, case, "y"), h


def _ref_diag_ssm(mod):
    def reference(case: Case, method: str):
        y, h = mod.diag_ssm(case.arrays["u"], *_diag_params(case), _state(case), method,
                            case.params["conj_half"])
        return {"y": y, "state": h}

    return reference


def diag_ssm_terms(case: Case, method: str):
    """{"y": (M, G) per signal, "state": (M, G) elementwise}, from the float64 reference."""
    return ref_np.diag_ssm_bound(case.arrays["u"], *_diag_params(case), _state(case), method,
                                 case.params["conj_half"])


def _diag_ssm_tier(case: Case) -> str:
    return "mp" if np.asarray(case.arrays["u"]).size * case.arrays["Lambda"].shape[1] <= MP_MAX \
        else "np"


DIAG_SSM = registry.register_spec(Spec(
    name="diag_ssm",
    family="recurrent",
    summary="the diagonal SSM over a chunk from an initial state: y = K * u + free response, "
            "and the final state (chunked state passing)",
    signature="diag_ssm(u (batch, H, L), Lambda (H, N), B (H, N), C (H, N), log_dt (H,), "
              "state=None (batch, H, N), method, conj_half=True) -> (y (batch, H, L), "
              "final_state (batch, H, N))",
    methods=METHODS,
    dtypes=DIAG_DTYPES,
    sizes=("batch", "H", "N", "L"),
    outputs=("y", "state"),
    strategy=lambda fmt, method: diag_ssm_cases(fmt, method),
    references={"mp": _ref_diag_ssm(ref_mp), "np": _ref_diag_ssm(ref_np)},
    reference_tier=_diag_ssm_tier,
    bound=Bound(
        c={m: C_DIAG for m in METHODS},
        magnitude=lambda case, method: {k: v[0] for k, v in diag_ssm_terms(case, method).items()},
        growth=lambda case, method: {k: v[1] for k, v in diag_ssm_terms(case, method).items()},
        norms={"y": "row"},
        reasoning="y per signal: FFT bound on M_K + kernel error * |u| + free response; "
                  "final state elementwise: (L + 4 + l|log Ā|)-weighted sum on absolute values",
    ),
    call=call_diag_ssm,
    bench_case=lambda fmt: _bench_diag(fmt, L=4096),
    bench_shape="batch=4, H=256, N=64, L=4096, S4D-Lin, random initial state",
))


# --- ema_step ---------------------------------------------------------------------------------


@st.composite
def ema_step_cases(draw, fmt: str, method: str = "mega") -> Case:
    """An ema_kernel case (δ, α, β, γ) plus state (batch, D, ndim) and x (batch, D)."""
    base = draw(ema_cases(fmt, length=st.just(1)))
    D, n = base.arrays["gamma"].shape
    batch = draw(size("batch", st.integers(1, 2)))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    scale = draw(st.one_of(st.just(0.0), log_uniform(1e-2, 1e2)))
    arrays = {**base.arrays,
              "state": representable(rng.normal(size=(batch, D, n)) * scale, fmt),
              "x": representable(rng.normal(size=(batch, D)), fmt)}
    return Case(arrays, fmt, {})


def _ema_params(case: Case):
    return tuple(case.arrays[k] for k in ("delta", "alpha", "beta", "gamma"))


def call_ema_step(fn, case: Case, method: str, device: str):
    return fn(*(case.tensor(k, device) for k in ("delta", "alpha", "beta", "gamma", "state",
                                                  "x")))


def _ref_ema_step(mod):
    def reference(case: Case, method: str):
        h, y = mod.ema_step(*_ema_params(case), case.arrays["state"], case.arrays["x"])
        return {"state": h, "y": y}

    return reference


def _ema_step_terms(case: Case, method: str):
    return ref_np.ema_step_bound(*_ema_params(case), case.arrays["state"], case.arrays["x"])


def _bench_ema_step(fmt: str) -> Case:
    """batch 4, D = 256, ndim = 16, Mega's initialisation."""
    rng = np.random.default_rng(0)
    D, n, batch = 256, 16, 4
    sign = np.where(np.arange(n) % 2 == 0, 1.0, -1.0)[None, :, None]
    arrays = {"delta": rng.normal(0, 0.2, (D, n, 1)), "alpha": rng.normal(0, 0.2, (D, n, 1)),
              "beta": sign + rng.normal(0, 0.02, (D, n, 1)), "gamma": rng.normal(size=(D, n)),
              "state": rng.normal(size=(batch, D, n)), "x": rng.normal(size=(batch, D))}
    return Case({k: representable(x, fmt) for k, x in arrays.items()}, fmt, {})


EMA_STEP = registry.register_spec(Spec(
    name="ema_step",
    family="recurrent",
    summary="one step of Mega's damped EMA: h' = q h + p·β·x, y = Σ_n γ√(1/ndim) h'",
    signature="ema_step(delta, alpha, beta (D, ndim, 1), gamma (D, ndim), state (batch, D, ndim), "
              "x (batch, D)) -> (state' (batch, D, ndim), y (batch, D))",
    methods=("mega",),
    dtypes=EMA_DTYPES,
    sizes=("batch", "D", "ndim"),
    outputs=("state", "y"),
    strategy=lambda fmt, method: ema_step_cases(fmt, method),
    references={"mp": _ref_ema_step(ref_mp), "np": _ref_ema_step(ref_np)},
    reference_tier=lambda case: "mp",
    bound=Bound(
        c={"mega": C_EMA},
        magnitude=lambda case, method: {k: v[0] for k, v in _ema_step_terms(case, method).items()},
        growth=lambda case, method: {k: v[1] for k, v in _ema_step_terms(case, method).items()},
        reasoning="elementwise; state: 3(q|h| + |pβ||x|); y: (ndim + 4)·Σ_n |γ√(1/ndim)| M_h",
    ),
    call=call_ema_step,
    bench_case=_bench_ema_step,
    bench_shape="batch=4, D=256, ndim=16, Mega init",
))


for _name, _fn in (("diag_step", impl.diag_step), ("diag_ssm", impl.diag_ssm),
                   ("ema_step", impl.ema_step)):
    registry.register_implementation(Implementation(_name, "torch", _fn))


# --- bad input (SPEC-NOTES §8) ----------------------------------------------------------------


def _c(*shape, dt=torch.complex128):
    return -torch.ones(shape, dtype=dt)


def _r(*shape, dt=torch.float64):
    return torch.zeros(shape, dtype=dt)


def _sys(H=2, N=3, dt=torch.complex128):
    return _c(H, N, dt=dt), _c(H, N, dt=dt), _c(H, N, dt=dt), _r(H)


_STEP_BAD = [
    ("state 2-d", "state", ValueError, lambda f: f(*_sys(), _c(2, 3), _r(1, 2))),
    ("state with another N", "state", ValueError, lambda f: f(*_sys(), _c(1, 2, 4), _r(1, 2))),
    ("state real, Lambda complex", "state", TypeError,
     lambda f: f(*_sys(), _r(1, 2, 3), _r(1, 2))),
    ("u of another batch", "u", ValueError, lambda f: f(*_sys(), _c(1, 2, 3), _r(2, 2))),
    ("u complex", "u", TypeError,
     lambda f: f(*_sys(), _c(1, 2, 3), _r(1, 2, dt=torch.complex128))),
    ("u of another precision", "u", TypeError,
     lambda f: f(*_sys(), _c(1, 2, 3), _r(1, 2, dt=torch.float32))),
    ("B of another shape", "B", ValueError,
     lambda f: f(_c(2, 3), _c(2, 4), _c(2, 3), _r(2), _c(1, 2, 3), _r(1, 2))),
    ("unknown method", "method", ValueError,
     lambda f: f(*_sys(), _c(1, 2, 3), _r(1, 2), method="euler")),
]
_SSM_BAD = [
    ("u 2-d", "u", ValueError, lambda f: f(_r(2, 4), *_sys())),
    ("u with another channel count", "u", ValueError, lambda f: f(_r(1, 3, 4), *_sys())),
    ("u of length 0", "u", ValueError, lambda f: f(_r(1, 2, 0), *_sys())),
    ("u integer", "u", TypeError, lambda f: f(torch.zeros(1, 2, 4, dtype=torch.int64), *_sys())),
    ("u of another precision", "u", TypeError,
     lambda f: f(_r(1, 2, 4, dt=torch.float32), *_sys())),
    ("state of another batch", "state", ValueError,
     lambda f: f(_r(1, 2, 4), *_sys(), state=_c(2, 2, 3))),
    ("state of another dtype", "state", TypeError,
     lambda f: f(_r(1, 2, 4), *_sys(), state=_c(1, 2, 3, dt=torch.complex64))),
    ("log_dt of another shape", "log_dt", ValueError,
     lambda f: f(_r(1, 2, 4), _c(2, 3), _c(2, 3), _c(2, 3), _r(3))),
    ("unknown method", "method", ValueError, lambda f: f(_r(1, 2, 4), *_sys(), method="dplr")),
    ("conj_half not a bool", "conj_half", TypeError,
     lambda f: f(_r(1, 2, 4), *_sys(), conj_half=1)),
]


def _ema_p(D=2, n=3, dt=torch.float64):
    return _r(D, n, 1, dt=dt), _r(D, n, 1, dt=dt), _r(D, n, 1, dt=dt), _r(D, n, dt=dt)


_EMA_STEP_BAD = [
    ("state 2-d", "state", ValueError, lambda f: f(*_ema_p(), _r(2, 3), _r(1, 2))),
    ("state with another ndim", "state", ValueError,
     lambda f: f(*_ema_p(), _r(1, 2, 4), _r(1, 2))),
    ("state of another dtype", "state", TypeError,
     lambda f: f(*_ema_p(), _r(1, 2, 3, dt=torch.float32), _r(1, 2))),
    ("x of another shape", "x", ValueError, lambda f: f(*_ema_p(), _r(1, 2, 3), _r(1, 3))),
    ("x of another dtype", "x", TypeError,
     lambda f: f(*_ema_p(), _r(1, 2, 3), _r(1, 2, dt=torch.float16))),
    ("gamma 3-d", "gamma", ValueError,
     lambda f: f(*_ema_p()[:3], _r(2, 3, 1), _r(1, 2, 3), _r(1, 2))),
    ("delta complex", "delta", TypeError,
     lambda f: f(*_ema_p(dt=torch.complex128), _r(1, 2, 3, dt=torch.complex128),
                 _r(1, 2, dt=torch.complex128))),
]
for _prim, _rows in (("diag_step", _STEP_BAD), ("diag_ssm", _SSM_BAD),
                     ("ema_step", _EMA_STEP_BAD)):
    for _name, _arg, _err, _call in _rows:
        registry.register_bad_input(BadInput(_prim, _name, _arg, _err, _call))

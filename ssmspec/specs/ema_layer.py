"""`ema`: Mega's EMA layer y = silu(conv(x, K) + ω ⊙ x), K = ema_kernel(δ, α, β, γ, L), causal
or bidirectional in Mega's or S4's convention (methods `causal`, `mega`, `s4`). Formulas, the
norm-wise bound, strategies, sources: docs/recurrent.md#ema. The EMA conv helpers here also
serve ema_step's law in ssmspec/specs/recurrent.py.
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F
from hypothesis import strategies as st

from ssmspec.impl import ema as impl
from ssmspec.reference.mp import recurrent as ref_mp
from ssmspec.reference.np import recurrent as ref_np
from ssmspec.reference.np.kernels import ema_kernel_with_bound
from ssmspec.speckit import *  # noqa: F403 (the spec vocabulary)
from ssmspec.specs._layer_kit import tiers
from ssmspec.specs.kernels import ema_param

METHODS = ("causal", "mega", "s4")
C_BOUND = 4.0
MP_MAX = 1024
PARAMS = ("delta", "alpha", "beta", "gamma")
MEDIUM = st.sampled_from([n for n in boundary_lengths(257) if n >= 2])
BIDIRECTIONAL = {"causal": None, "mega": "mega", "s4": "s4"}  # a method's `bidirectional`


def ema_arrays(draw, rows: int, n: int) -> dict:
    """δ, α (rows, n, 1) from `ema_param`, β (rows, n, 1), γ (rows, n) N(0, 4): the EMA's
    parameters as drawn here and by `mega_block`."""
    return {"delta": draw(arrays((rows, n, 1), ema_param())),
            "alpha": draw(arrays((rows, n, 1), ema_param())),
            "beta": draw(arrays((rows, n, 1), real_normals(2.0))),
            "gamma": draw(arrays((rows, n), real_normals(2.0)))}


def mega_ema_init(rng, rows: int, n: int) -> dict:
    """Mega's initialisation of the EMA: δ, α N(0, 0.2), β ±1 + N(0, 0.02), γ N(0, 1)."""
    sign = np.where(np.arange(n) % 2 == 0, 1.0, -1.0)[None, :, None]
    return {"delta": rng.normal(0, 0.2, (rows, n, 1)), "alpha": rng.normal(0, 0.2, (rows, n, 1)),
            "beta": sign + rng.normal(0, 0.02, (rows, n, 1)), "gamma": rng.normal(size=(rows, n))}


@st.composite
def ema_layer_cases(draw, fmt: str, method: str = "causal", length=None) -> Case:
    """EMA parameters with D rows (2D bidirectional), x (batch, D, L) and ω (D,)."""
    D, n = draw(size("D", st.integers(1, 3))), draw(size("ndim", st.integers(1, 8)))
    L = draw(size("L", length if length is not None else sequence_lengths(513, 16385)))
    a = ema_arrays(draw, D if method == "causal" else 2 * D, n)
    batch = draw(size("batch", st.integers(1, 2)))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    a.update(x=rng.normal(size=(batch, D, L)), omega=rng.normal(size=D))
    return case_of(fmt, a, L=L)


def _args(case: Case, method: str) -> tuple:
    """The references' arguments: x, (δ, α, β, γ), ω, bidirectional."""
    return (case.arrays["x"], tuple(case.arrays[k] for k in PARAMS), case.arrays["omega"],
            BIDIRECTIONAL[method])


def call_ema(fn, case: Case, method: str, device: str):
    return fn(case.tensor("x", device), tuple(case.tensor(k, device) for k in PARAMS),
              case.tensor("omega", device), bidirectional=BIDIRECTIONAL[method])


def terms(case: Case, method: str, d=None) -> dict[str, Terms]:
    M, G = ref_np.ema_bound(*_args(case, method))["y"]
    return {"y": Terms(G, M)}


def bench_case(fmt: str, method: str = "causal") -> Case:
    """batch 4, D = 256, ndim = 16, L = 8192, Mega's initialisation (the perf test's shape)."""
    rng = np.random.default_rng(0)
    batch, D, n, L = 4, 256, 16, 8192
    arrays = mega_ema_init(rng, D if method == "causal" else 2 * D, n)
    arrays.update(omega=rng.normal(size=D), x=rng.normal(size=(batch, D, L)))
    return case_of(fmt, arrays, L=L)


# --- the law ----------------------------------------------------------------------------------
def kernel_rows(ctx: LawContext, case: Case, rows: slice, L: int):
    """ema_kernel of the implementation family, in float64 on the case's (exact) values."""
    ps = [torch.as_tensor(case.arrays[k][rows], dtype=torch.float64) for k in PARAMS]
    return ctx.impl_of("ema_kernel")(*ps, L)


def conv_fp64(ctx: LawContext, x: np.ndarray, K: torch.Tensor) -> np.ndarray:
    return to_numpy(ctx.impl_of("causal_conv")(torch.as_tensor(x, dtype=torch.float64), K))


def fp64_conv_tol(x, params, rows, L, shift=False, reverse=False):
    """The float64 bound (units of u₆₄ · c = 4) of one written-out kernel + FFT conv, per row."""
    _, MK, GK = ema_kernel_with_bound(*(p[rows] for p in params), L)
    if shift:
        MK = np.concatenate([np.zeros_like(MK[:, :1]), MK[:, :-1]], axis=1)
        GK = np.concatenate([np.ones_like(GK[:, :1]), GK[:, :-1]], axis=1)
    _, gm, _ = ref_np.conv_terms(np.abs(x), MK, GK, reverse)
    return higham_bound(4.0, "fp64", 1.0, gm)


def written_out(ctx: LawContext) -> None:
    method = ctx.draw(st.sampled_from(METHODS))
    case = ctx.draw(ema_layer_cases(ctx.dtype, method, length=MEDIUM))
    x, params, omega, _ = _args(case, method)
    D, L = x.shape[1:]
    conv = conv_fp64(ctx, x, kernel_rows(ctx, case, slice(0, D), L))
    tol64 = fp64_conv_tol(x, params, slice(0, D), L)
    if method != "causal":
        kb = kernel_rows(ctx, case, slice(D, 2 * D), L)
        if method == "s4":  # k_b one lag later, k_b[L−1] dropped: S4's sum as Mega's
            kb = F.pad(kb, (1, 0))[:, :L]
        conv = conv + conv_fp64(ctx, x[..., ::-1].copy(), kb)[..., ::-1]
        tol64 = tol64 + fp64_conv_tol(x, params, slice(D, 2 * D), L, method == "s4", True)
    z = conv + omega[None, :, None] * x
    want = z / (1 + np.exp(-z))
    got = run(EMA_LAYER, ctx.fn, case, method, ctx.device)[0]
    tol = EMA_LAYER.bound(case, method)["y"] + 1.1 * tol64 + norm_error(
        higham_bound(4.0, "fp64", 1.0, np.abs(z)), "row")
    within(got, want, tol, f"{method}: ema vs its written-out sum", rows=True)


# --- mutants ----------------------------------------------------------------------------------
def silu_before_residual(x, params, omega, bidirectional=None):
    pre = impl.ema(x, params, torch.zeros_like(omega), bidirectional)  # silu(conv)
    return (pre + omega[:, None] * x).to(x.dtype)


def _ema_witness(fmt: str, bidirectional: bool = True) -> Case:
    """One channel. Bidirectional: δ = α = 40 (q ≈ 0, so each kernel is ≈ β·γ at lag 0 only),
    ω = 0 and x = (1, −1, 1): Mega's sum gives z = 2x, S4's z_t = x_t + x_{t+1} = (0, 0, 1).
    Causal: β = 0 (conv = 0), ω = −3, x = (1, 2, 3): silu(ω x) ≈ 0 where silu(0) + ω x = ω x."""
    a = ({"delta": np.full((2, 1, 1), 40.0), "alpha": np.full((2, 1, 1), 40.0),
          "beta": np.ones((2, 1, 1)), "gamma": np.ones((2, 1)),
          "x": np.array([[[1.0, -1.0, 1.0]]]), "omega": np.zeros(1)} if bidirectional else
         {"delta": np.zeros((1, 1, 1)), "alpha": np.zeros((1, 1, 1)),
          "beta": np.zeros((1, 1, 1)), "gamma": np.ones((1, 1)),
          "x": np.arange(1.0, 4.0)[None, None], "omega": np.array([-3.0])})
    return case_of(fmt, a, L=a["x"].shape[-1])


def _p(rows=2, n=3, dt=torch.float64, **over):
    """(δ, α, β, γ) of zeros for `rows` rows and `n` states, any of them replaced by `over`."""
    p = {"delta": (rows, n, 1), "alpha": (rows, n, 1), "beta": (rows, n, 1), "gamma": (rows, n)}
    return tuple(over.get(k, zeros(*s, dt=dt)) for k, s in p.items())


EMA_LAYER = registry.register_spec(
    Spec(
        name="ema", method_arg="bidirectional", method_values={"causal": None}, family="recurrent",
        summary="Mega's EMA layer y = silu(conv(x, ema_kernel) + ω ⊙ x), causal or bidirectional",
        signature="ema(x (batch, D, L), params (delta, alpha, beta (R, ndim, 1), gamma (R, ndim)), "
                  "omega (D,), bidirectional=None|'mega'|'s4') -> y (batch, D, L); R = D or 2D",
        methods=METHODS, dtypes=REAL_DTYPES, sizes=("batch", "D", "ndim", "L"), outputs=("y",),
        strategy=ema_layer_cases,
        references=tiers("y", lambda mod, case, m: mod.ema(*_args(case, m)), ref_mp, ref_np,
                         MP_MAX, lambda case: case.arrays["x"].shape[0]  # batch·rows·ndim·L
                         * case.arrays["gamma"].size * case.arrays["x"].shape[2]),
        bound=Bound(
            c=C_BOUND, terms=terms, norms={"y": "row"},
            reasoning="per signal: 1.1·(FFT bound per kernel + kernel error * |x| + 2‖ωx‖) "
                      "+ 4‖|z|‖ (SiLU and the final rounding)",
        ),
        call=call_ema, bench_case=bench_case, bench_by_method=True,
        bench_shape="batch=4, D=256, ndim=16, L=8192, Mega init, causal",
    ),
    implementations={"torch": impl.ema},
    laws=[Law("written_out", "ema = silu(written-out conv + ω x); s4 = mega with k_b one "
              "lag later", written_out, REAL_DTYPES)],
    mutants=[
        Mutant("s4_as_mega", lambda x, params, omega, bidirectional=None: impl.ema(
            x, params, omega, "s4" if bidirectional == "mega" else bidirectional), "mega",
               REAL_DTYPES, "S4-convention bidirectional passed off as Mega's", _ema_witness),
        Mutant("silu_before_residual", silu_before_residual, "causal", REAL_DTYPES,
               "silu(conv) + ω x instead of silu(conv + ω x)",
               lambda fmt: _ema_witness(fmt, bidirectional=False)),
    ],
    bad_inputs=bad_calls({"x": zeros(1, 2, 4), "params": _p(), "omega": zeros(2)}, [
        ("unknown bidirectional", "bidirectional", ValueError,
         {"params": _p(4), "bidirectional": "both"}),
        ("bidirectional with D rows", "params", ValueError, {"bidirectional": "mega"}),
        ("unidirectional with 2D rows", "params", ValueError, {"params": _p(4)}),
        ("params of three items", "params", ValueError, {"params": _p()[:3]}),
        ("params not a tuple", "params", ValueError, {"params": zeros(2, 3, 1)}),
        ("x of length 0", "x", ValueError, {"x": zeros(1, 2, 0)}),
        ("omega of the wrong shape", "omega", ValueError, {"omega": zeros(3)}),
        ("gamma of another dtype", "gamma", TypeError,
         {"params": _p(gamma=zeros(2, 3, dt=torch.float32))}),
        ("beta of another shape", "beta", ValueError, {"params": _p(beta=zeros(2, 4, 1))}),
    ], generic=dict(method="bidirectional", real=True)),  # and the generic rows (docs/bad-input.md)
)

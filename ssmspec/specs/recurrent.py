"""The diagonal SSM run step by step and over a chunk (`diag_step`, `diag_ssm`) and Mega's EMA step
(`ema_step`) — spec, bound, references, implementations, laws, mutants and bad inputs. The
definitions, the bounds' derivation, the laws, the mutants and the strategies:
docs/recurrent.md.
"""

from __future__ import annotations

import math
from functools import partial

import numpy as np
import torch
from hypothesis import strategies as st

from ssmspec.impl import recurrent as impl
from ssmspec.reference.mp import recurrent as ref_mp
from ssmspec.reference.np import recurrent as ref_np
from ssmspec.reference.np.kernels import diag_kernel_with_bound
from ssmspec.speckit import *  # noqa: F403 (the spec vocabulary)
from ssmspec.specs import _scan_kit as sk
from ssmspec.specs.kernels import SHORT, diag_cases, ema_cases, s4d_bench_arrays

METHODS = impl.METHODS
MP_MAX = 1024  # batch·H·N·L up to which the mpmath tier is used
STEP_MP_MAX = 4096  # batch·H·N up to which diag_step's reference is mpmath
C_DIAG = 4.0
C_EMA = 2.0


# --- diag_step --------------------------------------------------------------------------------
def _step_case(draw, fmt: str, base: Case, shape: tuple, scales, inp: str, **params) -> Case:
    """`base` (a kernel's case) plus a state (batch, *shape), normal at a scale 0 or drawn from
    `scales`, and an input `inp` (batch, shape[0])."""
    batch = draw(size("batch", st.integers(1, 2)))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    scale = draw(st.one_of(st.just(0.0), scales))
    state = sk.normals(rng, (batch, *shape), dtype(fmt).is_complex, scale)
    return case_of(fmt, {**base.arrays, "state": state,
                            inp: rng.normal(size=(batch, shape[0]))}, **params)


@st.composite
def diag_step_cases(draw, fmt: str, method: str = "zoh") -> Case:
    """A diag_kernel case (Λ, B, C, log Δ, conj_half) plus state (batch, H, N) and u (batch, H)."""
    base = draw(diag_cases(fmt, method, length=st.just(1)))
    return _step_case(draw, fmt, base, base.arrays["Lambda"].shape, log_uniform(1e-3, 1e3), "u",
                      conj_half=base.params["conj_half"])


_diag_params = arguments("Lambda", "B", "C", "log_dt")


def _sys_tensors(case: Case, device: str):
    """(Λ, B, C, log Δ) as tensors on `device`, log Δ real."""
    return (*(case.tensor(k, device) for k in ("Lambda", "B", "C")),
            case.tensor("log_dt", device, real=True))


def _diag_step_args(case: Case, method: str):
    return (*_diag_params(case), case.arrays["state"], case.arrays["u"], method,
            case.params["conj_half"])


def _bench_diag(fmt: str, L: int | None = None) -> Case:
    """diag_kernel's benchmark system (S4D, Δ log-uniform in [1e-3, 1e-1]) at H = 256, N = 64,
    then a random state and u of batch 4; L for diag_ssm."""
    H, N, batch = 256, 64, 4
    rng, arrays = s4d_bench_arrays(fmt, H, N)
    arrays["state"] = sk.normals(rng, (batch, H, N), dtype(fmt).is_complex)
    arrays["u"] = rng.normal(size=(batch, H) if L is None else (batch, H, L))
    sizes = {} if L is None else {"L": L}
    return case_of(fmt, arrays, conj_half=True, state="random", **sizes)


# --- diag_ssm ---------------------------------------------------------------------------------
@st.composite
def diag_ssm_cases(draw, fmt: str, method: str = "zoh", length=None,
                   state_kinds=("none", "zeros", "random")) -> Case:
    """A diag_kernel case plus u (batch, H, L) and an initial state: None, zeros or random."""
    base = draw(diag_cases(fmt, method, length=length if length is not None
                           else sequence_lengths(513, 16385)))
    H, N = base.arrays["Lambda"].shape
    L = base.params["L"]
    batch = draw(size("batch", st.integers(1, 2)))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    kind = draw(st.sampled_from(state_kinds))
    arrays = {**base.arrays, "u": rng.normal(size=(batch, H, L))}
    if kind != "none":
        scale = 0.0 if kind == "zeros" else draw(log_uniform(1e-3, 1e3))
        arrays["state"] = sk.normals(rng, (batch, H, N), dtype(fmt).is_complex, scale)
    return case_of(fmt, arrays, L=L, conj_half=base.params["conj_half"], state=kind)


def call_diag_ssm(fn, case: Case, method: str, device: str):
    # the param "state" is the initial state's kind, the array "state" the state itself
    h0 = case.tensor("state", device) if "state" in case.arrays else None
    y, h = fn(case.tensor("u", device, True), *_sys_tensors(case, device), h0, method=method,
              conj_half=case.params["conj_half"])
    return real_output(y, case), h


def _diag_ssm_args(case: Case, method: str):
    return (case.arrays["u"], *_diag_params(case), case.arrays.get("state"), method,
            case.params["conj_half"])


def bound_terms(bound, args):
    """`terms(case, method, d)`: {output: Terms(G, M)} from `bound(*args(case, method))`, a
    float64 reference's {output: (M, G)} (diag_ssm's y per signal, the rest elementwise)."""
    return lambda case, method, d=None: sk.as_terms(bound(*args(case, method)))


# --- ema_step ---------------------------------------------------------------------------------
@st.composite
def ema_step_cases(draw, fmt: str, method: str = "mega") -> Case:
    """An ema_kernel case (δ, α, β, γ) plus state (batch, D, ndim) and x (batch, D)."""
    base = draw(ema_cases(fmt, length=st.just(1)))
    return _step_case(draw, fmt, base, base.arrays["gamma"].shape, log_uniform(1e-2, 1e2), "x")


EMA_ARGS = ("delta", "alpha", "beta", "gamma", "state", "x")


_ema_step_args = arguments(*EMA_ARGS)


def _bench_ema_step(fmt: str) -> Case:
    """batch 4, D = 256, ndim = 16, Mega's initialisation."""
    rng = np.random.default_rng(0)
    D, n, batch = 256, 16, 4
    sign = np.where(np.arange(n) % 2 == 0, 1.0, -1.0)[None, :, None]
    arrays = {"delta": rng.normal(0, 0.2, (D, n, 1)), "alpha": rng.normal(0, 0.2, (D, n, 1)),
              "beta": sign + rng.normal(0, 0.02, (D, n, 1)), "gamma": rng.normal(size=(D, n)),
              "state": rng.normal(size=(batch, D, n)), "x": rng.normal(size=(batch, D))}
    return case_of(fmt, arrays)


# --- bad input (docs/bad-input.md) ----------------------------------------------------------------
_c, _r = partial(full, fill=-1.0, dt=torch.complex128), partial(full, fill=0.0)
_sys = dict(Lambda=_c(2, 3), B=_c(2, 3), C=_c(2, 3), log_dt=_r(2))
# each with the generic rows (docs/bad-input.md#the-generic-rows), precisions matched against Λ's
_STEP_BAD = bad_calls({**_sys, "state": _c(1, 2, 3), "u": _r(1, 2)}, [
    ("state with another N", "state", ValueError, dict(state=_c(1, 2, 4))),
    ("state real, Lambda complex", "state", TypeError, dict(state=_r(1, 2, 3))),
    ("u of another batch", "u", ValueError, dict(u=_r(2, 2))),
    ("B of another shape", "B", ValueError, dict(B=_c(2, 4))),
], generic=dict(real=("log_dt", "u")))
_SSM_BAD = bad_calls({"u": _r(1, 2, 4), **_sys, "state": _c(1, 2, 3)}, [
    ("u with another channel count", "u", ValueError, dict(u=_r(1, 3, 4))),
    ("u of length 0", "u", ValueError, dict(u=_r(1, 2, 0))),
    ("state of another batch", "state", ValueError, dict(state=_c(2, 2, 3))),
    ("log_dt of another shape", "log_dt", ValueError, dict(log_dt=_r(3))),
    ("conj_half not a bool", "conj_half", TypeError, dict(conj_half=1)),
], generic=dict(anchor="Lambda", real=("u", "log_dt")))
_EMA_STEP_BAD = bad_calls({"delta": _r(2, 3, 1), "alpha": _r(2, 3, 1), "beta": _r(2, 3, 1),
                           "gamma": _r(2, 3), "state": _r(1, 2, 3), "x": _r(1, 2)}, [
    ("state with another ndim", "state", ValueError, dict(state=_r(1, 2, 4))),
    ("x of another shape", "x", ValueError, dict(x=_r(1, 3))),
], generic=dict(method=None, real=True))


# --- laws (docs/recurrent.md) ----------------------------------------------------------------
MEDIUM = st.sampled_from([n for n in boundary_lengths(257) if n >= 2])


def _rows(err_or_bound):
    return norm_error(np.asarray(err_or_bound, float), "row")


def run_steps(step, case: Case, method: str, device: str, u: np.ndarray, h0: np.ndarray):
    """The step called in a loop over u's last axis; (y (batch, H, L), final state) as numpy."""
    c = case.with_(u=u, state=h0)
    return sk.iterate(step, _sys_tensors(c, device), c.tensor("state", device),
                      c.tensor("u", device, real=True), method=method,
                      conj_half=case.params["conj_half"])


def steps_tolerance(fmt, case: Case, method: str, u, h0, c=2.0):
    """(tol_y, tol_state) of the step run over u: the running error in units of u, plus what
    underflow can lose: (t + 1)·η per state after t + 1 steps, f·Σ_n |C_n|·(t + 1)·η + (N + 1)·η
    in y_t (docs/recurrent.md#diag_step)."""
    Ey, Eh = ref_np.diag_sequential_error(u, *_diag_params(case), h0, method,
                                          case.params["conj_half"])
    L, N = np.shape(u)[-1], case.arrays["Lambda"].shape[-1]
    f = 2.0 if case.params["conj_half"] else 1.0
    steps = np.arange(1, L + 1)
    sum_c = f * np.abs(case.arrays["C"]).sum(-1)[:, None]  # (H, 1)
    eta = dtype(fmt).eta
    return (higham_bound(c, fmt, 1.0, Ey) + eta * (steps * sum_c + N + 1),
            higham_bound(c, fmt, 1.0, Eh) + eta * L)


# --- diag_step laws ---------------------------------------------------------------------------
def impulse_is_kernel(ctx: LawContext) -> None:
    method, kcase = draw_case(ctx, diag_cases, METHODS, length=SHORT)
    H, N = kcase.arrays["Lambda"].shape
    L = kcase.params["L"]
    u = np.zeros((1, H, L))
    u[..., 0] = 1.0
    h0 = np.zeros((1, H, N), dtype=kcase.arrays["Lambda"].dtype)
    y, _ = run_steps(ctx.fn, kcase, method, ctx.device, u, h0)
    K = to_numpy(ctx.impl_of("diag_kernel")(*_sys_tensors(kcase, ctx.device), L, method=method,
                                            conj_half=kcase.params["conj_half"])).real
    _, MK, GK = diag_kernel_with_bound(*_diag_params(kcase), L, method, kcase.params["conj_half"])
    tol = (higham_bound(4.0, ctx.dtype, GK, MK)
           + steps_tolerance(ctx.dtype, kcase, method, u, None)[0][0])
    assert_within(y[0], K, tol, f"{method}: impulse response of the step vs diag_kernel")


def steps_equal_ssm(ctx: LawContext) -> None:
    method, case = draw_case(ctx, diag_ssm_cases, METHODS, length=SHORT,
                                state_kinds=("zeros", "random"))
    u, h0 = case.arrays["u"], case.arrays["state"]
    y_steps, h_steps = run_steps(ctx.fn, case, method, ctx.device, u, h0)
    y, h = run(DIAG_SSM, ctx.impl_of("diag_ssm"), case, method, ctx.device)
    b = DIAG_SSM.bound(case, method)
    tol_y, tol_h = steps_tolerance(ctx.dtype, case, method, u, h0)
    assert_within(_rows(np.abs(y_steps - y)), 0, b["y"] + _rows(tol_y),
                  f"{method}: y, steps vs diag_ssm (2-norm per signal)")
    assert_within(h_steps, h, b["state"] + tol_h, f"{method}: final state, steps vs diag_ssm")


# --- diag_ssm laws ----------------------------------------------------------------------------
def _sub(case: Case, u: np.ndarray, state) -> Case:
    """The case's system on input u (batch, H, L') from `state` (None: no initial state)."""
    sub = case.without("u", "state").with_(u=np.ascontiguousarray(u), L=u.shape[-1],
                                          state="none" if state is None else "random")
    return sub if state is None else sub.with_(state=state)


def chunked_state_passing(ctx: LawContext) -> None:
    method, case = draw_case(ctx, diag_ssm_cases, METHODS, length=MEDIUM)
    L = case.params["L"]
    k = ctx.draw(st.integers(1, L - 1))
    u = case.arrays["u"]
    full = run(DIAG_SSM, ctx.fn, case, method, ctx.device)
    first_case = _sub(case, u[..., :k], case.arrays.get("state"))
    y1, h1 = run(DIAG_SSM, ctx.fn, first_case, method, ctx.device)
    second_case = _sub(case, u[..., k:], h1)
    y2, h2 = run(DIAG_SSM, ctx.fn, second_case, method, ctx.device)
    b, b1, b2 = (DIAG_SSM.bound(c, method) for c in (case, first_case, second_case))
    # the first part's final-state error reaches the second part through |Ā|^{t+1} (y) and
    # |Ā|^{L−k} (final state)
    carry_y, carry_h = ref_np.carried_error(*_diag_params(case), b1["state"], L - k, method,
                                            case.params["conj_half"])
    diff = _rows(np.abs(np.concatenate([y1, y2], axis=-1) - full[0]))
    tol = b["y"] + np.sqrt(b1["y"] ** 2 + b2["y"] ** 2) + _rows(carry_y)
    assert_within(diff, 0, tol,
                  f"{method}: y of two chunks (k = {k}) vs one call (2-norm per signal)")
    assert_within(h2, full[1], b["state"] + b2["state"] + carry_h,
                  f"{method}: final state of two chunks (k = {k}) vs one call")


def linearity(ctx: LawContext) -> None:
    method, c1 = draw_case(ctx, diag_ssm_cases, METHODS, length=MEDIUM, state_kinds=("random",))
    rng = np.random.default_rng(ctx.draw(st.integers(0, 2**32 - 1)))
    alpha, beta = (float(representable(x, ctx.dtype)) for x in rng.normal(size=2))
    u1, s1 = c1.arrays["u"], c1.arrays["state"]
    u2 = representable(rng.normal(size=u1.shape), ctx.dtype)
    s2 = representable(s1[..., ::-1] * 0.5, ctx.dtype)
    mixed = (alpha * u1 + beta * u2, alpha * s1 + beta * s2)
    u3, s3 = (representable(x, ctx.dtype) for x in mixed)
    cases = [_sub(c1, u, s) for u, s in ((u1, s1), (u2, s2), (u3, s3))]
    outs = [run(DIAG_SSM, ctx.fn, c, method, ctx.device) for c in cases]
    # the mixed inputs are themselves rounded: their residual's response, from the reference
    res = _sub(c1, u3 - mixed[0], s3 - mixed[1])
    ry, rh = DIAG_SSM.reference(res, method, "np").values()
    bounds = [DIAG_SSM.bound(c, method) for c in cases]
    wts = (abs(alpha), abs(beta), 1.0)
    eps = 4 * np.finfo(np.float64).eps
    y_lin = alpha * outs[0][0] + beta * outs[1][0] + ry
    h_lin = alpha * outs[0][1] + beta * outs[1][1] + rh
    tol_y = sum(w * b["y"] for w, b in zip(wts, bounds)) + eps * _rows(np.abs(y_lin))
    tol_h = sum(w * b["state"] for w, b in zip(wts, bounds)) + eps * np.abs(h_lin)
    assert_within(_rows(np.abs(outs[2][0] - y_lin)), 0, tol_y, f"{method}: y linear in (u, h0)")
    assert_within(outs[2][1], h_lin, tol_h, f"{method}: final state linear in (u, h0)")


# --- EMA laws ---------------------------------------------------------------------------------
def steps_equal_conv(ctx: LawContext) -> None:
    # imported here: a module-level import would register the ema layer before this module's
    # primitives and change the registry's (discovery) order
    from ssmspec.specs import ema_layer as layer

    case = ctx.draw(layer.ema_layer_cases(ctx.dtype, "causal", length=SHORT))
    a = case.arrays
    x, L = a["x"], a["x"].shape[-1]
    h = torch.zeros(x.shape[:2] + a["gamma"].shape[1:], dtype=dtype(ctx.dtype).torch,
                    device=ctx.device)
    y_steps, _ = sk.iterate(ctx.fn, tuple(case.tensor(k, ctx.device) for k in layer.PARAMS), h,
                            case.tensor("x", ctx.device))
    conv = layer.conv_fp64(ctx, x, layer.kernel_rows(ctx, case, slice(None), L))
    params = [a[k] for k in layer.PARAMS]
    seq = higham_bound(2.0, ctx.dtype, 1.0, ref_np.ema_sequential_error(x, *params))
    tol = _rows(seq) + layer.fp64_conv_tol(x, params, slice(None), L)
    assert_within(_rows(np.abs(y_steps - conv)), 0, tol,
                  "ema_step iterated vs causal_conv(x, ema_kernel) (2-norm per signal)")


# --- mutants ----------------------------------------------------------------------------------
def free_response_off_by_one(u, Lambda, B, C, log_dt, state=None, method="zoh",
                             conj_half=True):
    """y with the initial state's response f·Re Σ_n C_n Ā_n^t h0_n instead of Ā_n^{t+1}: the
    call from Ā⁻¹·h0 (formed wide, rounded to h0's format), the final state as it should be."""
    y, h = impl.diag_ssm(u, Lambda, B, C, log_dt, state, method=method, conj_half=conj_half)
    if state is None:
        return y, h
    abar = impl.discretize_wide(Lambda, B, log_dt, method)[0]
    early = (state.to(abar.dtype) / abar).to(state.dtype)
    y, _ = impl.diag_ssm(u, Lambda, B, C, log_dt, early, method=method, conj_half=conj_half)
    return y, h


def final_state_without_decay(u, Lambda, B, C, log_dt, state=None, method="zoh",
                              conj_half=True):
    y, _ = impl.diag_ssm(u, Lambda, B, C, log_dt, state, method=method, conj_half=conj_half)
    _, h = impl.diag_ssm(u, Lambda, B, C, log_dt, None, method=method, conj_half=conj_half)
    return y, h


def output_from_old_state(Lambda, B, C, log_dt, state, u, method="zoh", conj_half=True):
    h, _ = impl.diag_step(Lambda, B, C, log_dt, state, u, method=method, conj_half=conj_half)
    y = (C * state).sum(-1)
    y = y.real if y.is_complex() else y
    return h, (2 * y if conj_half else y)


def input_without_p(delta, alpha, beta, gamma, state, x):
    """The step is linear in (state, β·x): its input part with p = σ(δ) = 1 (δ = 1e4, state 0)
    plus its state part (β = 0) is q·h + β·x."""
    h_in, y_in = impl.ema_step(torch.full_like(delta, 1e4), alpha, beta, gamma,
                               torch.zeros_like(state), x)
    h_st, y_st = impl.ema_step(delta, alpha, torch.zeros_like(beta), gamma, state, x)
    return h_in + h_st, y_in + y_st


def _ssm_witness(fmt: str) -> Case:
    """One channel, a slowly decaying oscillating state (Δ = 0.5), h0 = 1, u = 0, L = 8."""
    cplx = dtype(fmt).is_complex
    lam = np.array([[-0.5 + 1j, -1.0 + 3j]]) if cplx else np.array([[-0.5, -1.0]])
    arrays = {"Lambda": lam, "B": np.ones_like(lam), "C": np.ones_like(lam),
              "log_dt": np.array([math.log(0.5)]), "u": np.zeros((1, 1, 8)),
              "state": np.ones((1, 1, 2), dtype=lam.dtype)}
    return case_of(fmt, arrays, L=8, conj_half=True, state="random")


def _step_witness(fmt: str) -> Case:
    """`_ssm_witness`'s system and state, one step with u = 1."""
    return case_of(fmt, {**_ssm_witness(fmt).arrays, "u": np.ones((1, 1))}, conj_half=True)


def _ema_step_witness(fmt: str) -> Case:
    """D = 1, ndim = 2, δ = α = 0 (p = ½, q = ¾), β = 1, γ = 1, state 0, x = 1: h' = ½, not 1."""
    arrays = {"delta": np.zeros((1, 2, 1)), "alpha": np.zeros((1, 2, 1)),
              "beta": np.ones((1, 2, 1)), "gamma": np.ones((1, 2)),
              "state": np.zeros((1, 1, 2)), "x": np.ones((1, 1))}
    return case_of(fmt, arrays)


DIAG_STEP = registry.register_spec(
    Spec(
        name="diag_step", family="recurrent", methods=METHODS, dtypes=S4D_DTYPES,
        sizes=("batch", "H", "N"), outputs=("state", "y"),
        summary="one step of the diagonal SSM: h' = Ā h + B̄ u, y = f·Re(C·h')",
        signature="diag_step(Lambda (H, N), B (H, N), C (H, N), log_dt (H,), state (batch, H, N), "
                  "u (batch, H), method, conj_half=True) -> (state' (batch, H, N), y (batch, H))",
        strategy=lambda fmt, method: diag_step_cases(fmt, method),
        # one step: mpmath is affordable at the strategy's sizes, not at a shipping size's
        # 10⁴–10⁵ states (a minute): there the float64 tier (diag_ssm's loop at L = 1, certified
        # in tests)
        references=sk.references(ref_mp.diag_step, ref_np.diag_step, ("state", "y"), STEP_MP_MAX,
                                 lambda case: case.arrays["state"].size, _diag_step_args),
        bound=Bound(c=C_DIAG, terms=bound_terms(ref_np.diag_step_bound, _diag_step_args),
                    reasoning="elementwise; state: (3 + g0)(|Ā||h| + |B̄||u|); y: f·Σ_n (N + 3 + "
                              "g0)|C| M_h"),
        call=caller("Lambda", "B", "C", "log_dt", "state", "u", keywords=("conj_half",),
                    real=("log_dt", "u"), real_out="y", real_at=1),
        bench_case=_bench_diag, bench_shape="batch=4, H=256, N=64, S4D-Lin"),
    implementations={"torch": impl.diag_step},
    laws=[Law(name, statement, check, S4D_DTYPES) for name, statement, check in [
        ("impulse_is_kernel", "the step iterated on an impulse from h = 0 gives diag_kernel's K",
         impulse_is_kernel),
        ("steps_equal_ssm", "the step iterated over u from h0 gives diag_ssm", steps_equal_ssm)]],
    mutants=[Mutant("output_from_old_state", output_from_old_state, "zoh", S4D_DTYPES,
                    "y = f·Re(C·h) from the state before the update", _step_witness)],
    bad_inputs=_STEP_BAD,
)


DIAG_SSM = registry.register_spec(
    Spec(
        name="diag_ssm", family="recurrent", methods=METHODS, dtypes=S4D_DTYPES,
        sizes=("batch", "H", "N", "L"), outputs=("y", "state"),
        summary="the diagonal SSM over a chunk from an initial state: y = K * u + free response, "
                "and the final state (chunked state passing)",
        signature="diag_ssm(u (batch, H, L), Lambda (H, N), B (H, N), C (H, N), log_dt (H,), "
                  "state=None (batch, H, N), method, conj_half=True) -> (y (batch, H, L), "
                  "final_state (batch, H, N))",
        strategy=lambda fmt, method: diag_ssm_cases(fmt, method),
        references=sk.references(
            ref_mp.diag_ssm, ref_np.diag_ssm, ("y", "state"), MP_MAX,
            lambda case: np.asarray(case.arrays["u"]).size * case.arrays["Lambda"].shape[1],
            _diag_ssm_args),
        bound=Bound(c=C_DIAG, terms=bound_terms(ref_np.diag_ssm_bound, _diag_ssm_args),
                    norms={"y": "row"},
                    reasoning="y per signal: FFT bound on M_K + kernel error * |u| + free "
                              "response; final state elementwise: (L + 4 + l(|log Ā| + s))-"
                              "weighted sum on absolute values (s: bilinear's, as diag_kernel's)"),
        call=call_diag_ssm, bench_case=lambda fmt: _bench_diag(fmt, L=4096),
        bench_shape="batch=4, H=256, N=64, L=4096, S4D-Lin, random initial state"),
    implementations={"torch": impl.diag_ssm},
    laws=[Law("chunked_state_passing", "diag_ssm(u[:k]) then diag_ssm(u[k:], state) = diag_ssm(u)",
              chunked_state_passing, S4D_DTYPES),
          Law("linearity", "y and final state linear in (u, h0)", linearity,
              ("c128", "fp64", "c64", "fp32"))],
    mutants=[Mutant(name, fn, "zoh", S4D_DTYPES, why, _ssm_witness) for name, fn, why in [
        ("free_response_off_by_one", free_response_off_by_one,
         "initial state's response with Ā^t instead of Ā^{t+1}"),
        ("final_state_without_decay", final_state_without_decay, "final state missing Ā^L h0")]],
    bad_inputs=_SSM_BAD,
)


EMA_STEP = registry.register_spec(
    Spec(
        name="ema_step", family="recurrent", methods=("mega",), dtypes=REAL_DTYPES,
        sizes=("batch", "D", "ndim"), outputs=("state", "y"),
        summary="one step of Mega's damped EMA: h' = q h + p·β·x, y = Σ_n γ√(1/ndim) h'",
        signature="ema_step(delta, alpha, beta (D, ndim, 1), gamma (D, ndim), "
                  "state (batch, D, ndim), x (batch, D)) -> (state' (batch, D, ndim), "
                  "y (batch, D))",
        strategy=lambda fmt, method: ema_step_cases(fmt, method),
        # one step of D·ndim states: mpmath is always affordable
        references=sk.references(ref_mp.ema_step, ref_np.ema_step, ("state", "y"), 1,
                                 lambda case: 0, _ema_step_args),
        bound=Bound(c={"mega": C_EMA}, terms=bound_terms(ref_np.ema_step_bound, _ema_step_args),
                    reasoning="elementwise; state: 3(q|h| + |pβ||x|); y: (ndim + 4)·Σ_n "
                              "|γ√(1/ndim)| M_h"),
        call=caller(*EMA_ARGS, method=None), bench_case=_bench_ema_step,
        bench_shape="batch=4, D=256, ndim=16, Mega init"),
    implementations={"torch": impl.ema_step},
    laws=[Law("steps_equal_conv", "ema_step iterated = causal_conv(x, ema_kernel)",
              steps_equal_conv, REAL_DTYPES)],
    mutants=[Mutant("input_without_p", input_without_p, "mega", REAL_DTYPES,
                    "h' = q·h + β·x: the input weight p = σ(δ) dropped", _ema_step_witness)],
    bad_inputs=_EMA_STEP_BAD,
)

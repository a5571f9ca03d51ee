"""Laws and mutants of the recurrent view (SPEC-NOTES §4, §5): diag_step, diag_ssm, ema_step, ema.

Laws (each comparison allows the sum of the bounds of the calls compared; a Python loop of steps
is allowed its running-error bound, `ssmspec.reference.np.recurrent.*_sequential_error`):
- diag_step/impulse_is_kernel: the step iterated from h = 0 on an impulse gives diag_kernel's K.
- diag_step/steps_equal_ssm: the step iterated over u from h0 gives diag_ssm's y and final state
  (and, with h0 = 0, causal_conv(u, K) — diag_ssm's y is that, checked by its conformance).
- diag_ssm/chunked_state_passing: diag_ssm on u[..., :k], then on u[..., k:] from the first final
  state, equals diag_ssm on u (y and final state), 0 < k < L; the first call's final-state error
  is carried into the second through |Ā|^{t+1}.
- diag_ssm/linearity: y and the final state are linear in (u, h0).
- ema_step/steps_equal_conv: ema_step iterated from 0 equals causal_conv(x, ema_kernel) (the
  conv = recurrence law of SPEC-NOTES §5; the conv part of ema).

Mutants:
- diag_ssm/free_response_off_by_one: the initial state's response with Ā^t instead of Ā^{t+1}.
- diag_ssm/final_state_without_decay: the final state missing Ā^L h0.
- diag_step/output_from_old_state: y = f·Re(C·h) before the update.
- ema_step/input_without_p: h' = q·h + β·x, the input weight p = σ(δ) dropped (Mega's code
  multiplies β by p before the recurrence; the kernel is p·β·q^l).
"""

from __future__ import annotations

import math

import numpy as np
import torch
from hypothesis import strategies as st

from ssmspec import registry
from ssmspec.dtypes import dtype
from ssmspec.errors import abs_error, higham_bound, norm_error, ratio
from ssmspec.harness import to_numpy
from ssmspec.impl import _validate as v
from ssmspec.impl import recurrent as impl
from ssmspec.impl.kernels import vandermonde
from ssmspec.reference.np import recurrent as ref_np
from ssmspec.reference.np.kernels import diag_kernel_with_bound
from ssmspec.spec import Case, Law, LawContext, Mutant
from ssmspec.specs.ema_layer import PARAMS, conv_fp64, ema_layer_cases, fp64_conv_tol, kernel_rows
from ssmspec.specs.kernels import diag_cases
from ssmspec.specs.recurrent import (
    DIAG_DTYPES,
    DIAG_SSM,
    EMA_DTYPES,
    METHODS,
    diag_ssm_cases,
)
from ssmspec.strategies import boundary_lengths, representable

SHORT = st.sampled_from([n for n in boundary_lengths(65)])
MEDIUM = st.sampled_from([n for n in boundary_lengths(257) if n >= 2])
WIDE = ("c128", "c64", "fp64", "fp32")


def _check(got, want, tol, what):
    got = np.asarray(got)
    r = ratio(abs_error(got, np.broadcast_to(np.asarray(want), got.shape)), tol)
    at = np.unravel_index(r.argmax(), r.shape) if r.size else ()
    assert np.all(r <= 1), f"{what}: err/tol {r.max():.3g} at {at}"


def _rows(err_or_bound):
    return norm_error(np.asarray(err_or_bound, float), "row")


def _t(a: np.ndarray, fmt: str, device: str, real: bool = False) -> torch.Tensor:
    return Case({"a": a}, fmt).tensor("a", device, real=real)


def _sys_tensors(case: Case, device: str):
    return (case.tensor("Lambda", device), case.tensor("B", device), case.tensor("C", device),
            case.tensor("log_dt", device, real=True))


def _run_steps(step, case: Case, method: str, device: str, u: np.ndarray, h0: np.ndarray):
    """The step called in a loop over u's last axis; (y (batch, H, L), final state) as numpy."""
    sys_ = _sys_tensors(case, device)
    h = _t(h0, case.dtype, device)
    ys = []
    for t in range(u.shape[-1]):
        h, y = step(*sys_, h, _t(np.ascontiguousarray(u[..., t]), case.dtype, device, real=True),
                    method=method, conj_half=case.params["conj_half"])
        ys.append(to_numpy(y).real)
    return np.stack(ys, axis=-1), to_numpy(h)


def _seq_tol(fmt, case: Case, method: str, u, h0, c=2.0):
    """(tol_y, tol_state) of the step run over u: the running error in units of u, plus what
    underflow can lose. Each step rounds a state's product and sum, ≤ η absolute each where they
    are subnormal, and |Ā| ≤ 1 carries it on, so the state after t + 1 steps is off by ≤ (t + 1)·η
    and y_t by f·Σ_n |C_n|·(t + 1)·η plus its own N + 1 roundings."""
    Ey, Eh = ref_np.diag_sequential_error(u, case.arrays["Lambda"], case.arrays["B"],
                                          case.arrays["C"], case.arrays["log_dt"], h0, method,
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
    fmt, method = ctx.dtype, ctx.draw(ctx.methods(METHODS))
    kcase = ctx.draw(diag_cases(fmt, method, length=SHORT))
    H, N = kcase.arrays["Lambda"].shape
    L = kcase.params["L"]
    u = np.zeros((1, H, L))
    u[..., 0] = 1.0
    h0 = np.zeros((1, H, N), dtype=kcase.arrays["Lambda"].dtype)
    y, _ = _run_steps(ctx.fn, kcase, method, ctx.device, u, h0)
    a = kcase.arrays
    K = to_numpy(ctx.impl_of("diag_kernel")(*_sys_tensors(kcase, ctx.device), L, method=method,
                                            conj_half=kcase.params["conj_half"])).real
    _, MK, GK = diag_kernel_with_bound(a["Lambda"], a["B"], a["C"], a["log_dt"], L, method,
                                       kcase.params["conj_half"])
    tol = higham_bound(4.0, fmt, GK, MK) + _seq_tol(fmt, kcase, method, u, None)[0][0]
    _check(y[0], K, tol, f"{method}: impulse response of the step vs diag_kernel")


def steps_equal_ssm(ctx: LawContext) -> None:
    fmt, method = ctx.dtype, ctx.draw(ctx.methods(METHODS))
    case = ctx.draw(diag_ssm_cases(fmt, method, length=SHORT, state_kinds=("zeros", "random")))
    u, h0 = case.arrays["u"], case.arrays["state"]
    y_steps, h_steps = _run_steps(ctx.fn, case, method, ctx.device, u, h0)
    y, h = (to_numpy(t) for t in DIAG_SSM.call(ctx.impl_of("diag_ssm"), case, method, ctx.device))
    b = DIAG_SSM.bound(case, method)
    tol_y, tol_h = _seq_tol(fmt, case, method, u, h0)
    _check(_rows(np.abs(y_steps - y.real)), 0, b["y"] + _rows(tol_y), f"{method}: y, steps vs "
           "diag_ssm (2-norm per signal)")
    _check(h_steps, h, b["state"] + tol_h, f"{method}: final state, steps vs diag_ssm")


# --- diag_ssm laws ----------------------------------------------------------------------------


def _sub(case: Case, u: np.ndarray, state) -> Case:
    arrays = {k: x for k, x in case.arrays.items() if k not in ("u", "state")}
    arrays["u"] = np.ascontiguousarray(u)
    if state is not None:
        arrays["state"] = state
    return Case(arrays, case.dtype, {**case.params, "L": u.shape[-1],
                                     "state": "random" if state is not None else "none"})


def chunked_state_passing(ctx: LawContext) -> None:
    fmt, method = ctx.dtype, ctx.draw(ctx.methods(METHODS))
    case = ctx.draw(diag_ssm_cases(fmt, method, length=MEDIUM))
    L = case.params["L"]
    k = ctx.draw(st.integers(1, L - 1))
    u = case.arrays["u"]
    full = [to_numpy(t) for t in DIAG_SSM.call(ctx.fn, case, method, ctx.device)]
    first_case = _sub(case, u[..., :k], case.arrays.get("state"))
    y1, h1 = (to_numpy(t) for t in DIAG_SSM.call(ctx.fn, first_case, method, ctx.device))
    second_case = _sub(case, u[..., k:], h1)
    y2, h2 = (to_numpy(t) for t in DIAG_SSM.call(ctx.fn, second_case, method, ctx.device))
    b, b1, b2 = (DIAG_SSM.bound(c, method) for c in (case, first_case, second_case))
    # the first part's final-state error δ reaches the second part through |Ā|^{t+1} (y) and
    # |Ā|^{L−k} (final state)
    a = case.arrays
    abar, _ = ref_np._disc(a["Lambda"], a["B"], a["log_dt"], method)
    powers = np.abs(abar)[..., None] ** np.arange(1, L - k + 1)  # (H, N, L − k)
    f = 2.0 if case.params["conj_half"] else 1.0
    carry_y = f * np.einsum("hn,bhn,hnl->bhl", np.abs(a["C"]), b1["state"], powers)
    carry_h = powers[..., -1] * b1["state"]
    y_split = np.concatenate([y1.real, y2.real], axis=-1)
    diff = _rows(np.abs(y_split - full[0].real))
    tol = b["y"] + np.sqrt(b1["y"] ** 2 + b2["y"] ** 2) + _rows(carry_y)
    _check(diff, 0, tol, f"{method}: y of two chunks (k = {k}) vs one call (2-norm per signal)")
    _check(h2, full[1], b["state"] + b2["state"] + carry_h,
           f"{method}: final state of two chunks (k = {k}) vs one call")


def linearity(ctx: LawContext) -> None:
    fmt, method = ctx.dtype, ctx.draw(ctx.methods(METHODS))
    c1 = ctx.draw(diag_ssm_cases(fmt, method, length=MEDIUM, state_kinds=("random",)))
    rng = np.random.default_rng(ctx.draw(st.integers(0, 2**32 - 1)))
    alpha, beta = (float(representable(x, fmt)) for x in rng.normal(size=2))
    u1, s1 = c1.arrays["u"], c1.arrays["state"]
    u2 = representable(rng.normal(size=u1.shape), fmt)
    s2 = representable(s1[..., ::-1] * 0.5, fmt)
    u3 = representable(alpha * u1 + beta * u2, fmt)
    s3 = representable(alpha * s1 + beta * s2, fmt)
    cases = [_sub(c1, u, s) for u, s in ((u1, s1), (u2, s2), (u3, s3))]
    outs = [[to_numpy(t) for t in DIAG_SSM.call(ctx.fn, c, method, ctx.device)] for c in cases]
    # the mixed inputs are themselves rounded: their residual's response, from the reference
    res = _sub(c1, u3 - (alpha * u1 + beta * u2), s3 - (alpha * s1 + beta * s2))
    ry, rh = DIAG_SSM.reference(res, method, "np").values()
    bounds = [DIAG_SSM.bound(c, method) for c in cases]
    wts = (abs(alpha), abs(beta), 1.0)
    eps = 4 * np.finfo(np.float64).eps
    y_lin = alpha * outs[0][0].real + beta * outs[1][0].real + ry
    h_lin = alpha * outs[0][1] + beta * outs[1][1] + rh
    tol_y = sum(w * b["y"] for w, b in zip(wts, bounds)) + eps * _rows(np.abs(y_lin))
    tol_h = sum(w * b["state"] for w, b in zip(wts, bounds)) + eps * np.abs(h_lin)
    _check(_rows(np.abs(outs[2][0].real - y_lin)), 0, tol_y, f"{method}: y linear in (u, h0)")
    _check(outs[2][1], h_lin, tol_h, f"{method}: final state linear in (u, h0)")


# --- EMA laws ---------------------------------------------------------------------------------

def steps_equal_conv(ctx: LawContext) -> None:
    fmt = ctx.dtype
    case = ctx.draw(ema_layer_cases(fmt, "causal", length=SHORT))
    a = case.arrays
    x = a["x"]
    L = x.shape[-1]
    ps = [case.tensor(k, ctx.device) for k in PARAMS]
    h = torch.zeros(x.shape[:2] + a["gamma"].shape[1:], dtype=dtype(fmt).torch,
                    device=ctx.device)
    xt = case.tensor("x", ctx.device)
    ys = []
    for t in range(L):
        h, y = ctx.fn(*ps, h, xt[..., t].contiguous())
        ys.append(to_numpy(y))
    y_steps = np.stack(ys, axis=-1)
    K = kernel_rows(ctx, case, slice(None), L)
    conv = conv_fp64(ctx, x, K)
    params = [a[k] for k in PARAMS]
    seq = higham_bound(2.0, fmt, 1.0, ref_np.ema_sequential_error(x, *params))
    tol = _rows(seq) + fp64_conv_tol(x, params, slice(None), L)
    _check(_rows(np.abs(y_steps - conv)), 0, tol,
           "ema_step iterated vs causal_conv(x, ema_kernel) (2-norm per signal)")


for _law in (
    Law("diag_step", "impulse_is_kernel", "the step iterated on an impulse from h = 0 gives "
        "diag_kernel's K", impulse_is_kernel, WIDE),
    Law("diag_step", "steps_equal_ssm", "the step iterated over u from h0 gives diag_ssm",
        steps_equal_ssm, WIDE),
    Law("diag_ssm", "chunked_state_passing", "diag_ssm(u[:k]) then diag_ssm(u[k:], state) = "
        "diag_ssm(u)", chunked_state_passing, DIAG_DTYPES),
    Law("diag_ssm", "linearity", "y and final state linear in (u, h0)", linearity,
        ("c128", "fp64", "c64", "fp32")),
    Law("ema_step", "steps_equal_conv", "ema_step iterated = causal_conv(x, ema_kernel)",
        steps_equal_conv, EMA_DTYPES),
):
    registry.register_law(_law)


# --- mutants ----------------------------------------------------------------------------------


def _free_response(Lambda, B, C, log_dt, state, L, method, conj_half, power_offset):
    """f·Re Σ_n C_n Ā_n^{t+offset} h0_n, t < L, in the working format (batch, H, L)."""
    abar, _, w, negative = impl.discretize_wide(Lambda, B, log_dt, method)
    h0 = state.to(abar.dtype)
    batch, H, N = h0.shape
    W = C.to(abar.dtype) * (abar if power_offset else 1) * h0
    free = vandermonde(W.reshape(batch * H, N), w.repeat(batch, 1), L,
                       v.work_dtype(Lambda.dtype),
                       negative.repeat(batch, 1) if negative is not None else None)
    free = free.reshape(batch, H, L)
    return free + free if conj_half else free


def free_response_off_by_one(u, Lambda, B, C, log_dt, state=None, method="zoh",
                             conj_half=True):
    y, h = impl.diag_ssm(u, Lambda, B, C, log_dt, state, method=method, conj_half=conj_half)
    if state is None:
        return y, h
    L = u.shape[-1]
    fix = (_free_response(Lambda, B, C, log_dt, state, L, method, conj_half, 0)
           - _free_response(Lambda, B, C, log_dt, state, L, method, conj_half, 1))
    return (y.to(fix.dtype) + fix).to(y.dtype), h


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
    return Case({k: representable(x, fmt) for k, x in arrays.items()}, fmt,
                {"L": 8, "conj_half": True, "state": "random"})


def _step_witness(fmt: str) -> Case:
    case = _ssm_witness(fmt)
    arrays = {k: x for k, x in case.arrays.items() if k != "u"}
    arrays["u"] = representable(np.ones((1, 1)), fmt)
    return Case(arrays, fmt, {"conj_half": True})


def _ema_step_witness(fmt: str) -> Case:
    """D = 1, ndim = 2, δ = α = 0 (p = ½, q = ¾), β = 1, γ = 1, state 0, x = 1: h' = ½, not 1."""
    arrays = {"delta": np.zeros((1, 2, 1)), "alpha": np.zeros((1, 2, 1)),
              "beta": np.ones((1, 2, 1)), "gamma": np.ones((1, 2)),
              "state": np.zeros((1, 1, 2)), "x": np.ones((1, 1))}
    return Case({k: representable(x, fmt) for k, x in arrays.items()}, fmt, {})


for _m in (
    Mutant("diag_ssm", "free_response_off_by_one", free_response_off_by_one, "zoh", DIAG_DTYPES,
           "initial state's response with Ā^t instead of Ā^{t+1}", _ssm_witness),
    Mutant("diag_ssm", "final_state_without_decay", final_state_without_decay, "zoh",
           DIAG_DTYPES, "final state missing Ā^L h0", _ssm_witness),
    Mutant("diag_step", "output_from_old_state", output_from_old_state, "zoh", DIAG_DTYPES,
           "y = f·Re(C·h) from the state before the update", _step_witness),
    Mutant("ema_step", "input_without_p", input_without_p, "mega", EMA_DTYPES,
           "h' = q·h + β·x: the input weight p = σ(δ) dropped", _ema_step_witness),
):
    registry.register_mutant(_m)

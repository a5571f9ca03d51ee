"""Laws and mutants of the NPLR/DPLR (S4) kernel and step (SPEC-NOTES §4, §5).

Laws (each compares within the sum of the bounds of the calls compared, row 2-norms):
- dplr_kernel/diagonal_when_p_zero: P = 0 gives diag_kernel(method='bilinear') of the same Λ, B,
  C, log_dt and conj_half (the structural law; the dense Krylov one is the reference itself).
- dplr_kernel/impulse_response: K equals the impulse response of dplr_step run from h = 0 (the
  step's own elementwise bound, accumulated over the steps, is added: l steps of a contraction).
- dplr_kernel/conj_half_full: conj_half=True on the stored half equals conj_half=False on the
  written-out full system ([Λ, Λ̄], [P, P̄], [Q, Q̄], [B, B̄], [C, C̄]).
- dplr_kernel/prefix: dplr_kernel(L)[:, :L'] equals dplr_kernel(L') (C̃ recomputed per call).
- dplr_kernel/linearity_in_C: K(C₁) + K(C₂) = K(C₁ + C₂) (C enters C̃ and K linearly).
- dplr_step/step_conj_half_full: under conj_half the step on the stored half equals the step of
  the written-out full system (conj_half=False on [Λ, Λ̄], …, state [h, h̄]): state' agrees on
  the stored half and y agrees (within the sum of the two steps' elementwise bounds). Pins the
  2·Re coupling of the low-rank term Q_f^H h_f over a conjugate pair.
- dplr_step/step_diagonal_when_p_zero: P = Q = 0 gives diag_step(method='bilinear') of the same
  Λ, B, C, log_dt, state and u (sum of the two steps' bounds).
Not a law here: "real for conjugate-symmetric inputs" — the output is real by signature, and
conj_half_full already checks the conjugate-symmetric full system against the half one.

Mutants (each with a witness; the built-in passes the same witness):
- roots_by_repeated_multiplication: ω_k = ω₁^k by a cumulative product in complex64 (drift ~k·u),
  the rest exact (complex128).
- stale_c_tilde: C̃ formed for L/2 (a kernel length changed between training and evaluation).
- no_omega_limit: ω from exact twiddles (ω_{L/2} = −1 exactly) and the raw 2/(1 + ω)·(…) at
  every k: 0·∞ = NaN at ω = −1 for even L.
- q_not_conjugated: the Woodbury with k(Q, P), k(Q, B) (Q entering unconjugated).
- dplr_step/step_q_not_conjugated: the step's Woodbury with Q unconjugated (Q^T h for Q^H h):
  the built-in step called with Q̄. Invisible where Q is real, caught on random complex Q.
- dplr_step/step_output_from_old_state: y = Re(C·h) of the state before the update.
"""

from __future__ import annotations

import math

import numpy as np
import torch
from hypothesis import strategies as st

from ssmspec import registry
from ssmspec.errors import abs_error, norm_error, ratio
from ssmspec.harness import to_numpy
from ssmspec.impl import dplr as impl
from ssmspec.spec import Case, Law, LawContext, Mutant
from ssmspec.specs.dplr import (
    FORMATS,
    KERNEL,
    STEP,
    SYSTEM,
    bench_system,
    kernel_cases,
    step_cases,
)
from ssmspec.specs.kernels import DIAG
from ssmspec.specs.recurrent import DIAG_STEP
from ssmspec.strategies import boundary_lengths, representable

SHORT = st.sampled_from([n for n in boundary_lengths(65)])
MEDIUM = st.sampled_from([n for n in boundary_lengths(257)])


def _k(fn, case: Case, device: str) -> np.ndarray:
    return to_numpy(KERNEL.call(fn, case, "bilinear", device)).real


def _row(case: Case) -> np.ndarray:
    return KERNEL.bound(case, "bilinear")["K"]


def _check_rows(got, want, tol_rows, what):
    r = ratio(norm_error(abs_error(got, want), "row"), tol_rows)
    assert np.all(r <= 1), f"{what}: row err/tol {r.max():.3g}"


def _with(case: Case, **changes) -> Case:
    arrays, params = dict(case.arrays), dict(case.params)
    for k, x in changes.items():
        (params if k in ("L", "conj_half", "kind") else arrays)[k] = x
    return Case(arrays, case.dtype, params)


# --- laws -------------------------------------------------------------------------------------


def diagonal_when_p_zero(ctx: LawContext) -> None:
    case = ctx.draw(kernel_cases(ctx.dtype, length=MEDIUM))
    case = _with(case, P=np.zeros_like(case.arrays["P"]), Q=np.zeros_like(case.arrays["Q"]))
    a = case.arrays
    dcase = Case({"Lambda": a["Lambda"], "B": a["B"], "C": a["C"], "log_dt": a["log_dt"]},
                 ctx.dtype, {"L": case.params["L"], "conj_half": case.params["conj_half"]})
    kd = to_numpy(DIAG.call(ctx.impl_of("diag_kernel"), dcase, "bilinear", ctx.device)).real
    tol = _row(case) + norm_error(np.broadcast_to(DIAG.bound(dcase, "bilinear")["K"], kd.shape),
                                  "row")
    _check_rows(_k(ctx.fn, case, ctx.device), kd, tol, "P = 0 vs diag_kernel bilinear")


def impulse_response(ctx: LawContext) -> None:
    case = ctx.draw(kernel_cases(ctx.dtype, length=SHORT))
    L, ch = case.params["L"], case.params["conj_half"]
    step = ctx.impl_of("dplr_step")
    H, N = case.arrays["Lambda"].shape
    sys_t = tuple(case.tensor(k, ctx.device, real=(k == "log_dt")) for k in SYSTEM)
    h = torch.zeros((1, H, N), dtype=sys_t[0].dtype, device=ctx.device)
    cnorm = np.sqrt(np.sum(np.abs(case.arrays["C"]) ** 2, -1) * (2 if ch else 1))
    ys, carried, tol_y = [], np.zeros(H), []
    for t in range(L):
        u = np.full((1, H), 1.0 if t == 0 else 0.0)
        scase = Case({**case.arrays, "state": to_numpy(h), "u": u}, ctx.dtype,
                     {"conj_half": ch, "kind": case.params["kind"]})
        # each step's own rounding, carried forward by a contraction (‖Ā‖₂ ≤ 1): the state
        # bounds summed in the 2-norm of the full state, seen through C_f, plus y's own bound
        sb = STEP.bound(scase, "bilinear")
        carried = carried + np.sqrt(np.sum(sb["state"][0] ** 2, axis=-1) * (2 if ch else 1))
        tol_y.append(carried * cnorm + sb["y"][0])
        h, y = step(*sys_t, h, torch.as_tensor(u, dtype=sys_t[5].dtype, device=ctx.device),
                    conj_half=ch)
        ys.append(to_numpy(y)[0])
    y = np.stack(ys, axis=-1)
    tol = np.sqrt(np.sum(np.stack(tol_y, -1) ** 2, axis=-1))
    _check_rows(_k(ctx.fn, case, ctx.device), y, _row(case) + tol,
                "kernel vs impulse response of dplr_step")


def conj_half_full(ctx: LawContext) -> None:
    case = ctx.draw(kernel_cases(ctx.dtype, length=MEDIUM, conj_half=True))
    full = _with(case, conj_half=False, **{
        k: np.concatenate([case.arrays[k], np.conj(case.arrays[k])], axis=-1)
        for k in ("Lambda", "P", "Q", "B", "C")})
    _check_rows(_k(ctx.fn, case, ctx.device), _k(ctx.fn, full, ctx.device),
                _row(case) + _row(full), "half (conj_half=True) vs full (conj_half=False)")


def prefix(ctx: LawContext) -> None:
    case = ctx.draw(kernel_cases(ctx.dtype, length=MEDIUM))
    L = case.params["L"]
    short = _with(case, L=ctx.draw(st.integers(1, L)))
    Ls = short.params["L"]
    # the long kernel's row bound covers its first Ls entries too (a sub-vector's 2-norm)
    _check_rows(_k(ctx.fn, case, ctx.device)[:, :Ls], _k(ctx.fn, short, ctx.device),
                _row(case) + _row(short), f"K(L)[:, :{Ls}] vs K({Ls})")


def linearity_in_C(ctx: LawContext) -> None:
    c1 = ctx.draw(kernel_cases(ctx.dtype, length=MEDIUM))
    c2 = _with(c1, C=np.flip(c1.arrays["C"], axis=1) * -0.75)
    c3 = _with(c1, C=representable(c1.arrays["C"] + c2.arrays["C"], ctx.dtype))
    k1, k2, k3 = (_k(ctx.fn, c, ctx.device) for c in (c1, c2, c3))
    # the rounding of C₁ + C₂ to the format moves K(C₃) by at most u·(bound of |C₁| + |C₂|)
    cabs = _with(c1, C=(np.abs(c1.arrays["C"]) + np.abs(c2.arrays["C"])).astype(complex))
    tol = _row(c1) + _row(c2) + _row(c3) + _row(cabs)
    _check_rows(k1 + k2, k3, tol, "K(C1) + K(C2) vs K(C1 + C2)")


def _step(fn, case: Case, device: str) -> dict:
    h, y = STEP.call(fn, case, "bilinear", device)
    return {"state": to_numpy(h), "y": to_numpy(y).real}


def _check_elementwise(got, want, tol, what):
    r = ratio(abs_error(got, want), tol)
    assert np.all(r <= 1), f"{what}: err/tol {r.max():.3g}"


def step_conj_half_full(ctx: LawContext) -> None:
    case = ctx.draw(step_cases(ctx.dtype).filter(lambda c: c.params["conj_half"]))
    N = case.arrays["Lambda"].shape[-1]
    full = _with(case, conj_half=False, **{
        k: np.concatenate([case.arrays[k], np.conj(case.arrays[k])], axis=-1)
        for k in ("Lambda", "P", "Q", "B", "C", "state")})
    half_out, full_out = _step(ctx.fn, case, ctx.device), _step(ctx.fn, full, ctx.device)
    bh, bf = STEP.bound(case, "bilinear"), STEP.bound(full, "bilinear")
    _check_elementwise(half_out["state"], full_out["state"][..., :N],
                       bh["state"] + bf["state"][..., :N], "state' of the half vs the full step")
    _check_elementwise(half_out["y"], full_out["y"], bh["y"] + bf["y"],
                       "y of the half vs the full step")


def step_diagonal_when_p_zero(ctx: LawContext) -> None:
    case = ctx.draw(step_cases(ctx.dtype))
    case = _with(case, P=np.zeros_like(case.arrays["P"]), Q=np.zeros_like(case.arrays["Q"]))
    a = case.arrays
    dcase = Case({k: a[k] for k in ("Lambda", "B", "C", "log_dt", "state", "u")}, ctx.dtype,
                 {"conj_half": case.params["conj_half"]})
    h, y = DIAG_STEP.call(ctx.impl_of("diag_step"), dcase, "bilinear", ctx.device)
    got = _step(ctx.fn, case, ctx.device)
    b, bd = STEP.bound(case, "bilinear"), DIAG_STEP.bound(dcase, "bilinear")
    _check_elementwise(got["state"], to_numpy(h), b["state"] + bd["state"],
                       "P = 0 step state' vs diag_step bilinear")
    _check_elementwise(got["y"], to_numpy(y).real, b["y"] + bd["y"],
                       "P = 0 step y vs diag_step bilinear")


for _law in (
    Law("dplr_kernel", "diagonal_when_p_zero", "P = 0 gives diag_kernel(method='bilinear')",
        diagonal_when_p_zero, FORMATS),
    Law("dplr_kernel", "impulse_response", "K = impulse response of dplr_step from h = 0",
        impulse_response, FORMATS),
    Law("dplr_kernel", "conj_half_full", "half (conj_half) = full system written out",
        conj_half_full, FORMATS),
    Law("dplr_kernel", "prefix", "K(L)[:, :L'] = K(L') with C̃ recomputed", prefix, FORMATS),
    Law("dplr_kernel", "linearity_in_C", "K(C₁) + K(C₂) = K(C₁ + C₂)", linearity_in_C, FORMATS),
    Law("dplr_step", "step_conj_half_full", "step on the stored half = step of the full system "
        "written out", step_conj_half_full, FORMATS),
    Law("dplr_step", "step_diagonal_when_p_zero", "P = Q = 0 gives diag_step(method='bilinear')",
        step_diagonal_when_p_zero, FORMATS),
):
    registry.register_law(_law)


# --- mutants ----------------------------------------------------------------------------------


def generic_kernel(Lambda, P, Q, B, C, log_dt, L, conj_half=True, omega=None, ct_length=None,
             conj_q=True, limit=True):
    """The §5 route with complex g(ω) in complex128, materialised (small sizes), with one knob per
    mutant: `omega` (L,) complex128 roots to use, `ct_length` the length C̃ is formed for,
    `conj_q` whether Q enters conjugated, `limit` whether ω = −1 takes the exact limit."""
    lam, p, q, b, c, dt = impl.widened(Lambda, P, Q, B, C, log_dt)
    Ct = impl.c_tilde(lam, p, q, c, dt, ct_length or L, conj_half)
    full = lambda x: impl.full_states(x, conj_half)  # noqa: E731
    lam_f, P_f, Q_f, B_f, C_f = full(lam), full(p), full(q), full(b), full(Ct)
    if omega is None:
        omega = torch.polar(torch.ones(L, dtype=torch.float64),
                            -2 * math.pi * torch.arange(L, dtype=torch.float64) / L)
    omega = omega.to(torch.complex128).to(lam.device)
    g = (2 / dt)[:, None] * (1 - omega) / (1 + omega)  # (H, L)
    r = 1 / (g[:, None, :] - lam_f[..., None])  # (H, n, L)
    Qx = Q_f.conj() if conj_q else Q_f

    def k(x, y):
        return torch.einsum("hn,hn,hnl->hl", x, y, r)

    R = P.shape[0]
    a = k(C_f, B_f)
    bvec = torch.stack([k(C_f, P_f[i]) for i in range(R)], 1)
    cvec = torch.stack([k(Qx[i], B_f) for i in range(R)], 1)
    D = torch.eye(R, dtype=a.dtype, device=a.device)[..., None] + torch.stack(
        [torch.stack([k(Qx[i], P_f[j]) for j in range(R)], 1) for i in range(R)], 1)
    x = torch.linalg.solve(D.permute(0, 3, 1, 2), cvec.permute(0, 2, 1)[..., None])[..., 0]
    Khat = 2 / (1 + omega) * (a - (bvec.permute(0, 2, 1) * x).sum(-1))
    if limit and L % 2 == 0:
        Khat[:, L // 2] = dt / 2 * (C_f * B_f).sum(-1)
    K = torch.fft.ifft(Khat, dim=-1).real
    return K.to(impl.v.real_dtype(Lambda.dtype))


def roots_by_repeated_multiplication(Lambda, P, Q, B, C, log_dt, L, conj_half=True):
    w1 = torch.polar(torch.ones((), dtype=torch.float32), torch.tensor(-2 * math.pi / L))
    w = torch.cat([torch.ones(1, dtype=torch.complex64), w1.to(torch.complex64).expand(L - 1)])
    return generic_kernel(Lambda, P, Q, B, C, log_dt, L, conj_half, omega=torch.cumprod(w, 0))


def stale_c_tilde(Lambda, P, Q, B, C, log_dt, L, conj_half=True):
    return generic_kernel(Lambda, P, Q, B, C, log_dt, L, conj_half, ct_length=max(1, L // 2))


def no_omega_limit(Lambda, P, Q, B, C, log_dt, L, conj_half=True):
    # exact twiddles: cos/sin snapped at the quarter points, so ω_{L/2} = −1 exactly
    th = -2 * math.pi * torch.arange(L, dtype=torch.float64) / L
    c, s = torch.cos(th), torch.sin(th)
    k = torch.arange(L)
    c = torch.where(4 * k == 2 * L, -1.0, c)
    s = torch.where((4 * k == 2 * L) | (k == 0), 0.0, s)
    return generic_kernel(Lambda, P, Q, B, C, log_dt, L, conj_half, omega=torch.complex(c, s),
                    limit=False)


def q_not_conjugated(Lambda, P, Q, B, C, log_dt, L, conj_half=True):
    return generic_kernel(Lambda, P, Q, B, C, log_dt, L, conj_half, conj_q=False)


def slow_witness(fmt: str, L: int, conj_half: bool = True) -> Case:
    """LegS NPLR, N = 4 stored, H = 2, Δ = 1e-3 and 2e-3: slow decay (K spread over all l)."""
    a = bench_system(fmt, H=2, N=4, seed=3)
    a["log_dt"] = representable(np.log([1e-3, 2e-3]), fmt)
    return Case(a, fmt, {"L": L, "conj_half": conj_half, "kind": "legs"})


def _random_witness(fmt: str) -> Case:
    """Random complex P, Q = P·(1 − ½i)·… (mixed, unconjugated ≠ conjugated), L = 16."""
    rng = np.random.default_rng(7)
    H, N = 1, 3
    lam = np.array([[-0.5 + 2j, -0.2 - 5j, -1.0 + 0.3j]])
    P = (rng.normal(size=(1, H, N)) + 1j * rng.normal(size=(1, H, N)))
    arrays = {"Lambda": lam, "P": P, "Q": P * 0.8,
              "B": rng.normal(size=(H, N)) + 1j * rng.normal(size=(H, N)),
              "C": rng.normal(size=(H, N)) + 1j * rng.normal(size=(H, N)),
              "log_dt": np.log([0.3])}
    return Case({k: representable(x, fmt) for k, x in arrays.items()}, fmt,
                {"L": 16, "conj_half": False, "kind": "random"})


def step_q_not_conjugated(Lambda, P, Q, B, C, log_dt, state, u, conj_half=True):
    return impl.dplr_step(Lambda, P, Q.conj(), B, C, log_dt, state, u, conj_half=conj_half)


def step_output_from_old_state(Lambda, P, Q, B, C, log_dt, state, u, conj_half=True):
    h, _ = impl.dplr_step(Lambda, P, Q, B, C, log_dt, state, u, conj_half=conj_half)
    y = (C * state).sum(-1).real
    return h, (2 * y if conj_half else y)


def _step_witness(fmt: str) -> Case:
    """The random complex system of `_random_witness` with a unit state and u = 1, batch 1."""
    case = _random_witness(fmt)
    H, N = case.arrays["Lambda"].shape
    arrays = {k: case.arrays[k] for k in SYSTEM}
    arrays["state"] = representable(np.full((1, H, N), 1.0 - 0.5j), fmt)
    arrays["u"] = representable(np.ones((1, H)), fmt)
    return Case(arrays, fmt, {"conj_half": False, "kind": "random"})


for _m in (
    Mutant("dplr_step", "step_q_not_conjugated", step_q_not_conjugated, "bilinear", FORMATS,
           "the step's Woodbury with Q^T h for Q^H h (Q unconjugated)", _step_witness),
    Mutant("dplr_step", "step_output_from_old_state", step_output_from_old_state, "bilinear",
           FORMATS, "y = Re(C·h) of the state before the update", _step_witness),
    Mutant("dplr_kernel", "roots_by_repeated_multiplication", roots_by_repeated_multiplication,
           "bilinear", ("c64",), "ω_k = ω₁^k by a complex64 cumulative product: k·u drift",
           lambda fmt: slow_witness(fmt, 4096), search=False),
    Mutant("dplr_kernel", "stale_c_tilde", stale_c_tilde, "bilinear", FORMATS,
           "C̃ formed for L/2 and reused at L", lambda fmt: slow_witness(fmt, 64)),
    Mutant("dplr_kernel", "no_omega_limit", no_omega_limit, "bilinear", FORMATS,
           "ω = −1 exactly and the raw 2/(1 + ω)·(…): 0·∞ = NaN at k = L/2",
           lambda fmt: slow_witness(fmt, 16)),
    Mutant("dplr_kernel", "q_not_conjugated", q_not_conjugated, "bilinear", FORMATS,
           "Woodbury with k(Q, P), k(Q, B): Q not conjugated", _random_witness),
):
    registry.register_mutant(_m)

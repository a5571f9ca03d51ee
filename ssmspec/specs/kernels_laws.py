"""Laws and mutants of the diagonal-SSM kernels (SPEC-NOTES §4, §5).

Laws (`ctx.fn` is the primitive's implementation, `ctx.impl_of` the same family's others):
- diag_kernel/impulse_response: K is the impulse response of h_l = Ā h_{l−1} + B̄ δ_l,
  y_l = f·Re(C·h_l), run in float64 with the implementation's own `discretize_diag`.
- diag_kernel/conj_half_full: the half representation under conj_half=True equals the full one
  ([Λ, Λ̄], [B, B̄], [C, C̄]) under conj_half=False (real Λ: each state written twice).
- diag_kernel/zoh_bilinear_small_dt: as Δ → 0 the zoh and bilinear kernels agree to O(Δ³)
  (B̄ differs by Δ·b·z²/12, Ā by z³/12), observed order 3 over four halvings of Δ.
- diag_kernel/linearity_in_C: K(C₁) + K(C₂) = K(C₁ + C₂).
- diag_kernel/prefix: K for length L' is the first L' columns of K for L > L'.
- ema_kernel/s4d_real: the EMA kernel is the real diagonal kernel with Δ = 1 (log_dt = 0),
  Λ = log q = log1p(−p·a), B = p·β, C = γ·√(1/ndim), method zoh_approx (Ā = e^Λ = q, B̄ = Δ·B),
  conj_half=False.
- diag_kernel/nan_propagation, ema_kernel/nan_propagation: a NaN in one entry of one input reaches
  exactly the outputs that depend on it: row h of K (a NaN in log_dt[h], B[h, n], C[h, n], or
  Λ[h, n] under zoh/bilinear); for Λ under zoh_approx (B̄ = Δ·B does not involve Λ) and for the
  EMA's α (q^0 = 1 whatever q is) K[h, 0] stays finite. No other row changes.
Every comparison allows the sum of the bounds of the calls compared (plus the rounding of any
input the law derives, and for impulse_response the float64 recurrence's own error).

Mutants:
- naive_phi1: zoh B̄ = Δ·(exp(z) − 1)/z·B, cancelling at small |ΔΛ|.
- phi1_zero_division: the same with no case for z = 0: 0/0 = NaN at Λ = 0 (an integrator).
- no_factor_two: conj_half ignored (Re instead of 2·Re).
- mega_official: Mega's `_compute_kernel` verbatim, q = 1 − p·a and exp(l·log q): NaN at l = 0
  when p·a rounds to 1 (q = 0), and 1 − p·a cancels as q → 0 and rounds q as q → 1.
- rounded_abar_log: bilinear powers as exp(l·log Ā) from a Ā rounded to the working format (s4's
  SSMKernelDiag bilinear path): an l·u error the bound does not admit, at small |ΔΛ| and large L.
Not a mutant: exp(l·ΔΛ) in fp32 at large l (SPEC-NOTES §5's phase error); the bound admits its
`l·|ΔΛ|` growth, so it cannot be caught (tests/test_reference_kernels.py measures it passing).
"""

from __future__ import annotations

import math

import numpy as np
import torch
from hypothesis import strategies as st

from ssmspec import registry
from ssmspec.dtypes import dtype
from ssmspec.errors import abs_error, higham_bound, ratio
from ssmspec.harness import to_numpy
from ssmspec.impl import _validate as v
from ssmspec.impl import kernels as impl
from ssmspec.reference.np import kernels as ref_np
from ssmspec.spec import Case, Law, LawContext, Mutant
from ssmspec.specs.kernels import (
    DIAG,
    EMA,
    LENGTHS,
    METHODS,
    diag_bound_terms,
    diag_cases,
    ema_bound_terms,
    ema_cases,
)
from ssmspec.strategies import representable

DIAG_DTYPES = ("c128", "c64", "fp64", "fp32")
SHORT = st.sampled_from([n for n in LENGTHS if n <= 65])
MEDIUM = st.sampled_from([n for n in LENGTHS if n <= 257])


def _k(fn, case: Case, method: str, device: str) -> np.ndarray:
    return to_numpy(DIAG.call(fn, case, method, device)).real


def _check(got, want, tol, what):
    err = abs_error(got, want)
    r = ratio(err, tol)
    at = np.unravel_index(r.argmax(), r.shape)
    assert np.all(r <= 1), f"{what}: err/tol {r.max():.3g} at {at}"


def _with(case: Case, **changes) -> Case:
    arrays = dict(case.arrays)
    params = dict(case.params)
    for k, x in changes.items():
        (params if k in ("L", "conj_half") else arrays)[k] = x
    return Case(arrays, case.dtype, params)


# --- laws -------------------------------------------------------------------------------------


def impulse_response(ctx: LawContext) -> None:
    method = ctx.draw(ctx.methods(METHODS))
    case = ctx.draw(diag_cases(ctx.dtype, method, length=SHORT))
    lam, B, C, log_dt = (case.arrays[k] for k in ("Lambda", "B", "C", "log_dt"))
    L, f = case.params["L"], 2.0 if case.params["conj_half"] else 1.0
    wide = torch.complex128 if np.iscomplexobj(lam) else torch.float64
    disc = ctx.impl_of("discretize_diag")
    dt = torch.exp(torch.as_tensor(log_dt, dtype=torch.float64))
    abar, bbar = (to_numpy(t) for t in disc(torch.as_tensor(lam, dtype=wide),
                                            torch.as_tensor(B, dtype=wide), dt, method=method))
    h, y = np.zeros_like(abar), np.empty((lam.shape[0], L))
    for t in range(L):
        h = abar * h + (bbar if t == 0 else 0)
        y[:, t] = f * np.real(np.sum(C * h, axis=-1))
    M, G = diag_bound_terms(case, method)
    # the float64 recurrence: l multiplications by a Ā carrying ~4u(1 + |z|) (its own bound)
    tol = DIAG.bound(case, method)["K"] + higham_bound(16.0, "fp64", G + np.arange(L), M)
    _check(_k(ctx.fn, case, method, ctx.device), y, tol, f"{method}: kernel vs recurrence")


def conj_half_full(ctx: LawContext) -> None:
    method = ctx.draw(ctx.methods(METHODS))
    case = _with(ctx.draw(diag_cases(ctx.dtype, method, length=MEDIUM)), conj_half=True)
    full = _with(case, conj_half=False, **{k: np.concatenate([case.arrays[k],
                                                              np.conj(case.arrays[k])], axis=1)
                                           for k in ("Lambda", "B", "C")})
    tol = DIAG.bound(case, method)["K"] + DIAG.bound(full, method)["K"]
    _check(_k(ctx.fn, case, method, ctx.device), _k(ctx.fn, full, method, ctx.device), tol,
           f"{method}: half (conj_half=True) vs full (conj_half=False)")


def zoh_bilinear_small_dt(ctx: LawContext) -> None:
    ctx.require("zoh", "bilinear")
    fmt, draw = ctx.dtype, ctx.draw
    H = draw(st.integers(1, 3))
    mags = [draw(st.floats(0.1, 10.0)) for _ in range(H)]
    if dtype(fmt).is_complex:
        lam = np.array([[m * complex(-math.cos(a), math.sin(a))]
                        for m, a in zip(mags, [draw(st.floats(0.0, 1.5)) for _ in range(H)])])
    else:
        lam = -np.array(mags)[:, None]
    # one state per channel and C = conj(λ)²: the O(Δ³) coefficient C·λ²/12 cannot cancel
    C, B = np.conj(lam) ** 2, np.ones_like(lam)
    h0 = 1e-2 / np.max(np.abs(lam))
    errs = []
    for k in range(4):
        log_dt = np.full(H, math.log(h0 * 2.0**-k))
        case = Case({"Lambda": lam, "B": B, "C": C, "log_dt": log_dt}, fmt,
                    {"L": 4, "conj_half": True})
        errs.append(np.max(np.abs(_k(ctx.fn, case, "zoh", ctx.device)
                                  - _k(ctx.fn, case, "bilinear", ctx.device))))
    e = np.array(errs)
    slopes = np.log2(e[:-1] / e[1:])
    assert np.all(np.abs(slopes - 3) < 0.15), f"zoh vs bilinear: orders {slopes} (|ΔK| = {e})"


def linearity_in_C(ctx: LawContext) -> None:
    method = ctx.draw(ctx.methods(METHODS))
    c1 = ctx.draw(diag_cases(ctx.dtype, method, length=MEDIUM))
    c2 = _with(c1, C=np.flip(c1.arrays["C"], axis=1) * -0.75)
    C3 = representable(c1.arrays["C"] + c2.arrays["C"], ctx.dtype)
    c3 = _with(c1, C=C3)
    k1, k2, k3 = (_k(ctx.fn, c, method, ctx.device) for c in (c1, c2, c3))
    absC = np.abs(c1.arrays["C"]) + np.abs(c2.arrays["C"])
    M, G = diag_bound_terms(_with(c1, C=absC.astype(c1.arrays["C"].dtype)), method)
    tol = sum(DIAG.bound(c, method)["K"] for c in (c1, c2, c3)) + higham_bound(
        1.0, ctx.dtype, G, M)
    _check(k1 + k2, k3, tol, f"{method}: K(C1) + K(C2) vs K(C1 + C2)")


def prefix(ctx: LawContext) -> None:
    method = ctx.draw(ctx.methods(METHODS))
    case = ctx.draw(diag_cases(ctx.dtype, method, length=MEDIUM))
    L = case.params["L"]
    short = _with(case, L=ctx.draw(st.integers(1, L)))
    Ls = short.params["L"]
    tol = DIAG.bound(case, method)["K"][:, :Ls] + DIAG.bound(short, method)["K"]
    _check(_k(ctx.fn, case, method, ctx.device)[:, :Ls], _k(ctx.fn, short, method, ctx.device),
           tol, f"{method}: K(L)[:, :{Ls}] vs K({Ls})")


def ema_s4d_real(ctx: LawContext) -> None:
    fmt = ctx.dtype
    case = ctx.draw(ema_cases(fmt, length=MEDIUM))
    d, a, b, g = (case.arrays[k] for k in ("delta", "alpha", "beta", "gamma"))
    p, logq = ref_np.ema_log_q(d[..., 0], a[..., 0])
    D, n = g.shape
    dcase = Case({"Lambda": representable(logq, fmt),
                  "B": representable(p * b[..., 0], fmt),
                  "C": representable(g * math.sqrt(1.0 / n), fmt),
                  "log_dt": np.zeros(D)}, fmt, {"L": case.params["L"], "conj_half": False})
    k_ema = to_numpy(EMA.call(ctx.fn, case, "mega", ctx.device))
    k_diag = _k(ctx.impl_of("diag_kernel"), dcase, "zoh_approx", ctx.device)
    M, G = ema_bound_terms(case, "mega")
    tol = (EMA.bound(case, "mega")["K"] + DIAG.bound(dcase, "zoh_approx")["K"]
           + higham_bound(3.0, fmt, G, M))  # the rounding of the derived Λ, B, C
    _check(k_ema, k_diag, tol, "EMA vs S4D-Real (zoh_approx, Δ = 1)")


def _poisoned(ctx: LawContext, case: Case, names) -> tuple[Case, str, int]:
    """`case` with one entry of one of `names` set to NaN: (case, the input, its channel)."""
    name = ctx.draw(st.sampled_from(names))
    x = np.array(case.arrays[name])
    k = ctx.draw(st.integers(0, x.size - 1))
    x.reshape(-1)[k] = np.nan
    return _with(case, **{name: x}), name, int(np.unravel_index(k, x.shape)[0])


def _check_nan_rows(K: np.ndarray, row: int, l0_finite: bool, what: str) -> None:
    bad = np.isnan(K)
    want = np.zeros_like(bad)
    want[row] = True
    if l0_finite:
        want[row, 0] = False
    assert np.array_equal(bad, want), (
        f"{what}: NaN at {np.argwhere(bad).tolist()[:8]}, expected row {row}"
        f"{' from l = 1' if l0_finite else ''}")


def diag_nan_propagation(ctx: LawContext) -> None:
    method = ctx.draw(ctx.methods(METHODS))
    case = ctx.draw(diag_cases(ctx.dtype, method, length=SHORT))
    bad, name, row = _poisoned(ctx, case, ("Lambda", "B", "C", "log_dt"))
    K = _k(ctx.fn, bad, method, ctx.device)
    _check_nan_rows(K, row, name == "Lambda" and method == "zoh_approx",
                    f"{method}, NaN in {name}")


def ema_nan_propagation(ctx: LawContext) -> None:
    case = ctx.draw(ema_cases(ctx.dtype, length=SHORT))
    bad, name, row = _poisoned(ctx, case, ("delta", "alpha", "beta", "gamma"))
    K = to_numpy(EMA.call(ctx.fn, bad, "mega", ctx.device)).astype(np.float64)
    _check_nan_rows(K, row, name == "alpha", f"NaN in {name}")


for _law in (
    Law("diag_kernel", "nan_propagation", "a NaN in one input entry reaches exactly the row of K "
        "that depends on it", diag_nan_propagation, DIAG_DTYPES),
    Law("ema_kernel", "nan_propagation", "a NaN in one input entry reaches exactly the row of K "
        "that depends on it", ema_nan_propagation, ("fp64", "fp32", "bf16")),
    Law("diag_kernel", "impulse_response", "K = impulse response of h_l = Ā h_{l−1} + B̄ δ_l",
        impulse_response, DIAG_DTYPES),
    Law("diag_kernel", "conj_half_full", "half (conj_half) = full representation, both members "
        "of each pair written out", conj_half_full, DIAG_DTYPES),
    Law("diag_kernel", "zoh_bilinear_small_dt", "zoh and bilinear kernels agree to O(Δ³)",
        zoh_bilinear_small_dt, ("fp64", "c128")),
    Law("diag_kernel", "linearity_in_C", "K(C₁) + K(C₂) = K(C₁ + C₂)", linearity_in_C,
        DIAG_DTYPES),
    Law("diag_kernel", "prefix", "K for L' is the prefix of K for L > L'", prefix, DIAG_DTYPES),
    Law("ema_kernel", "s4d_real", "EMA = real diagonal kernel with Λ = log1p(−p·a), Δ = 1, "
        "B = p·β, C = γ√(1/ndim), zoh_approx", ema_s4d_real, ("fp64", "fp32")),
):
    registry.register_law(_law)


# --- mutants ----------------------------------------------------------------------------------


def direct_kernel(Lambda, B, C, log_dt, L, method="zoh", conj_half=True, naive_phi=False,
            factor_two=True, rounded_log=False):
    """An S4-style kernel in the working format: Ā^l = exp(l·ΔΛ) by one Vandermonde product."""
    work = v.work_dtype(Lambda.dtype)
    lam, b, c = Lambda.to(work), B.to(work), C.to(work)
    dt = torch.exp(log_dt.to(v.real_dtype(work)))[:, None]
    z = dt * lam
    if method == "bilinear":
        abar = (1 + z / 2) / (1 - z / 2)
        bbar = dt * b / (1 - z / 2)
        w = torch.log(abar.to(torch.complex64 if work == torch.float32 else torch.complex128)
                      if not abar.is_complex() else abar) if rounded_log else None
    else:
        w = z
        if method == "zoh_approx":
            bbar = dt * b
        elif naive_phi:
            safe = torch.where(z == 0, torch.ones_like(z), z)
            bbar = dt * torch.where(z == 0, torch.ones_like(z), (torch.exp(safe) - 1) / safe) * b
        else:
            bbar = dt * torch.where(z == 0, torch.ones_like(z), torch.expm1(z) / z) * b
    ls = torch.arange(L, dtype=v.real_dtype(work), device=Lambda.device)
    if w is None:  # bilinear, computed right: powers of Ā by exp(l·2atanh(z/2))
        x = (z / 2).to(torch.complex64 if work == torch.float32 else torch.complex128) \
            if not z.is_complex() else z / 2
        w = torch.atanh(x)
        w = w + w
    V = torch.exp(w[..., None] * ls)
    K = torch.einsum("hn,hnl->hl", (c * bbar).to(V.dtype), V)
    K = K.real if K.is_complex() else K
    K = K * 2 if (conj_half and factor_two) else K
    return K.to(v.real_dtype(Lambda.dtype))


def naive_phi1(Lambda, B, C, log_dt, L, method="zoh", conj_half=True):
    return direct_kernel(Lambda, B, C, log_dt, L, method, conj_half, naive_phi=True)


def phi1_zero_division(Lambda, B, C, log_dt, L, method="zoh", conj_half=True):
    """zoh B̄ = Δ·(exp(z) − 1)/z·B with no case for z = 0: 0/0 = NaN at Λ = 0."""
    work = v.work_dtype(Lambda.dtype)
    dt = torch.exp(log_dt.to(v.real_dtype(work)))[:, None]
    z = dt * Lambda.to(work)
    bbar = dt * (torch.exp(z) - 1) / z * B.to(work)
    V = torch.exp(z[..., None] * torch.arange(L, dtype=v.real_dtype(work), device=z.device))
    K = torch.einsum("hn,hnl->hl", C.to(work) * bbar, V)
    K = K.real if K.is_complex() else K
    return (2 * K if conj_half else K).to(v.real_dtype(Lambda.dtype))


def no_factor_two(Lambda, B, C, log_dt, L, method="zoh", conj_half=True):
    return impl.diag_kernel(Lambda, B, C, log_dt, L, method=method, conj_half=False)


def rounded_abar_log(Lambda, B, C, log_dt, L, method="bilinear", conj_half=True):
    return direct_kernel(Lambda, B, C, log_dt, L, method, conj_half, rounded_log=True)


def mega_official(delta, alpha, beta, gamma, L, method="mega"):
    """facebookresearch/mega MultiHeadEMA._compute_kernel, in the working format."""
    p = torch.sigmoid(delta)
    alpha = torch.sigmoid(alpha)
    q = 1.0 - p * alpha
    vander = torch.arange(L).to(p).view(1, 1, L) * torch.log(q)
    kernel = (p * beta) * torch.exp(vander)
    return torch.einsum("dnl,dn->dl", kernel, gamma * math.sqrt(1.0 / delta.shape[1]))


def _small_z_witness(fmt: str) -> Case:
    """|ΔΛ| ~ 1e-7 … 1e-3 (Δ = 1e-4): where (eᶻ − 1)/z cancels."""
    lam = np.array([[-1e-3, -0.5, -10.0]])
    if dtype(fmt).is_complex:
        lam = lam + 1j * np.array([[1e-3, 3.0, 0.0]])
    one = np.ones_like(lam)
    return Case({"Lambda": representable(lam, fmt), "B": representable(one, fmt),
                 "C": representable(one, fmt),
                 "log_dt": representable(np.array([math.log(1e-4)]), fmt)},
                fmt, {"L": 8, "conj_half": True})


def _zero_lambda_witness(fmt: str) -> Case:
    """Λ = 0 in row 0 (a pure integrator: B̄ = Δ·B, Ā = 1), moderate Λ in row 1."""
    lam = np.array([[0.0, -0.5], [-0.5, -2.0]])
    one = np.ones_like(lam)
    return Case({"Lambda": representable(lam, fmt), "B": representable(one, fmt),
                 "C": representable(one, fmt),
                 "log_dt": representable(np.log(np.array([0.1, 0.1])), fmt)},
                fmt, {"L": 4, "conj_half": True})


def _long_small_z_witness(fmt: str) -> Case:
    case = _small_z_witness(fmt)
    return Case(case.arrays, fmt, {"L": 1025, "conj_half": True})


def _saturated_witness(fmt: str) -> Case:
    """δ = α = 40: p·a rounds to 1 in fp32 and fp64, so q = 1 − p·a = 0 and 0·log 0 = NaN."""
    arrs = {"delta": np.array([[[40.0], [0.3]]]), "alpha": np.array([[[40.0], [-0.2]]]),
            "beta": np.array([[[1.0], [-1.0]]]), "gamma": np.array([[0.5, 1.5]])}
    return Case({k: representable(x, fmt) for k, x in arrs.items()}, fmt, {"L": 4})


for _m in (
    # naive_phi1, no_factor_two: found by search too, but shrinking costs ~2 min (~10 s) a format
    Mutant("diag_kernel", "naive_phi1", naive_phi1, "zoh", DIAG_DTYPES,
           "zoh B̄ = Δ·(exp(z) − 1)/z·B: cancellation at small |ΔΛ|", _small_z_witness,
           search=False, fix="compute φ₁(z) = (exp(z) − 1)/z as expm1(z)/z with φ₁(0) = 1 "
           "(no cancellation at small |z|, no 0/0 at Λ = 0)"),
    Mutant("diag_kernel", "phi1_zero_division", phi1_zero_division, "zoh", DIAG_DTYPES,
           "zoh B̄ = Δ·(exp(z) − 1)/z·B with no case for z = 0: NaN at Λ = 0",
           _zero_lambda_witness, fix="take φ₁(0) = 1 where ΔΛ = 0 (torch.where, or "
           "expm1(z)/z with that case), so an integrator state (Λ = 0) gives B̄ = Δ·B"),
    Mutant("diag_kernel", "no_factor_two", no_factor_two, "zoh", DIAG_DTYPES,
           "conj_half ignored: Re(Σ) instead of 2·Re(Σ)", _small_z_witness,
           search=False, fix="under conj_half=True take 2·Re of the sum over the stored half"),
    Mutant("diag_kernel", "rounded_abar_log", rounded_abar_log, "bilinear", ("fp32",),
           "bilinear Ā rounded, then exp(l·log Ā): an l·u error at small |ΔΛ|",
           _long_small_z_witness, fix="take log Ā from ΔΛ (log1p(ΔΛ/2) − log1p(−ΔΛ/2)), "
           "not the log of the rounded Ā"),
    Mutant("ema_kernel", "mega_official", mega_official, "mega", ("fp64", "fp32"),
           "q = 1 − p·a and exp(l·log q): NaN at l = 0 when p·a rounds to 1, cancellation as "
           "q → 0", _saturated_witness),
):
    registry.register_mutant(_m)

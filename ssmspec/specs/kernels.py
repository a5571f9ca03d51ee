"""Specs of the diagonal-SSM convolution kernels: `diag_kernel` (S4D) and `ema_kernel` (Mega's
damped EMA), each with its laws, mutants and bad inputs. Definitions, conventions (conj_half, the
real output of a complex run), bounds, strategies and sources: docs/kernels.md#diag_kernel and
docs/kernels.md#ema_kernel.
"""

from __future__ import annotations

import functools
import math

import numpy as np
import torch
from hypothesis import strategies as st

from ssmspec import triton as triton_kernels
from ssmspec.impl import _validate as v
from ssmspec.impl import kernels as impl
from ssmspec.reference.mp import kernels as ref_mp
from ssmspec.reference.np import kernels as ref_np
from ssmspec.reference.np import precision
from ssmspec.speckit import *  # noqa: F403 (the spec vocabulary)
from ssmspec.specs import _layer_kit as lk
from ssmspec.specs import _scan_kit as sk
from ssmspec.specs._kernel_kit import MEDIUM, SHORT, kernel_laws, laws

METHODS = impl.METHODS
C_BOUND = 4.0
MP_MAX = 512  # H·N·L (D·ndim·L) up to which the mpmath tier is used
LENGTHS = boundary_lengths(1025)
DIAG_INPUTS = ("Lambda", "B", "C", "log_dt")
EMA_INPUTS = ("delta", "alpha", "beta", "gamma")


def log_dts() -> st.SearchStrategy[float]:
    """log Δ: Δ log-uniform in [1e-4, 1], or the special 1e-6 and 10."""
    return st.one_of(log_uniform(1e-4, 1.0), st.sampled_from([1e-6, 10.0])).map(math.log)


def lambda_elements(is_complex: bool):
    n = st.integers(0, 127)
    if not is_complex:
        return st.one_of(n.map(lambda k: -(k + 1.0)), st.just(0.0),
                         log_uniform(1e-4, 100.0).map(lambda x: -x))
    return st.one_of(
        n.map(lambda k: complex(-0.5, math.pi * k)),  # S4D-Lin
        st.builds(complex, st.one_of(st.just(0.0), log_uniform(1e-4, 10.0).map(lambda x: -x)),
                  # |Im Λ| < 1e-12 flushed to 0: complex division at ~1e-308 overflows in numpy
                  st.floats(-400.0, 400.0).map(lambda x: x if abs(x) >= 1e-12 else 0.0)),
    )


def coef_elements(is_complex: bool, sigma: float = 2.0):
    """Normal entries of scale `sigma` (complex: real and imaginary parts alike)."""
    if is_complex:
        return st.builds(complex, real_normals(sigma), real_normals(sigma))
    return real_normals(sigma)


# --- diag_kernel ------------------------------------------------------------------------------


@st.composite
def diag_cases(draw, fmt: str, method: str = "zoh", max_n: int = 8, max_h: int = 3,
               length=None) -> Case:
    """Λ, B, C (H, N), log Δ (H,), L and conj_half; docs/kernels.md#diag_kernel, "Strategies"."""
    cplx = dtype(fmt).is_complex
    H, N = draw(size("H", st.integers(1, max_h))), draw(size("N", st.integers(1, max_n)))
    L = draw(size("L", length if length is not None else sequence_lengths(1025, 16385)))
    lam = draw(arrays((H, N), lambda_elements(cplx)))
    B = draw(arrays((H, N), coef_elements(cplx)))
    C = draw(arrays((H, N), coef_elements(cplx)))
    log_dt = draw(arrays((H,), log_dts()))
    return case_of(fmt, {"Lambda": lam, "B": B, "C": C, "log_dt": log_dt},
                   L=L, conj_half=draw(feature("conj_half=False", st.booleans(), True)))


_args = arguments(*DIAG_INPUTS, "L")  # the references' arguments
_ema_args = arguments(*EMA_INPUTS, "L")


@last_case
def _np_diag(case: Case, method: str, extended: bool):
    """(K, M, G) of the float64 tier, computed once per case for the reference and the bound."""
    return ref_np.diag_kernel_with_bound(*_args(case), method, case.params["conj_half"])


DIAG_REFERENCES = TwoTier(
    mp=lambda case, method: {"K": ref_mp.diag_kernel(*_args(case), method,
                                                     case.params["conj_half"])},
    np=lambda case, method: {"K": _np_diag(case, method, precision.is_extended())[0]},
    mp_max_work=MP_MAX, work=lambda case: case.arrays["Lambda"].size * case.params["L"])


def diag_bound_terms(case: Case, method: str):
    """(M, G) of the bound, from the float64 reference."""
    return _np_diag(case, method, precision.is_extended())[1:]


def s4d_bench_arrays(fmt: str, H: int, N: int):
    """(rng, arrays) of the S4D benchmark system: Λ S4D-Lin (complex formats) or S4D-Real
    (real), B = 1, C normal, Δ log-uniform in [1e-3, 1e-1]; the rng is returned for more draws."""
    rng, cplx = np.random.default_rng(0), dtype(fmt).is_complex
    lam, C = sk.s4d(cplx, H, N), sk.normals(rng, (H, N), cplx)
    log_dt = np.log(10.0 ** rng.uniform(-3, -1, H))
    return rng, {"Lambda": representable(lam, fmt), "B": representable(np.ones_like(lam), fmt),
                 "C": representable(C, fmt), "log_dt": representable(log_dt, fmt)}


def diag_sweep_problem(fmt: str, L: int) -> Case:
    """The sweep along L: the S4D benchmark system at H = 4, N = 16 with Δ = 10^-3 … 10^-1
    evenly in log: the exp(l·ΔΛ) phase growth."""
    arrs = s4d_bench_arrays(fmt, 4, 16)[1]
    return case_of(fmt, {**arrs, "log_dt": np.log(np.logspace(-3, -1, 4))}, L=L, conj_half=True)


# --- ema_kernel -------------------------------------------------------------------------------

EMA_SPECIAL = (-30.0, 20.0, 40.0, 800.0)


def ema_param():
    return st.one_of(st.floats(-6.0, 6.0), st.sampled_from(EMA_SPECIAL))


@st.composite
def ema_cases(draw, fmt: str, method: str = "mega", max_n: int = 8, max_d: int = 3,
              length=None) -> Case:
    """δ, α, β (D, ndim, 1), γ (D, ndim) and L; docs/kernels.md#ema_kernel, "Strategies"."""
    D, n = draw(size("D", st.integers(1, max_d))), draw(size("ndim", st.integers(1, max_n)))
    L = draw(size("L", length if length is not None else sequence_lengths(1025, 16385)))
    return case_of(fmt, {"delta": draw(arrays((D, n, 1), ema_param())),
                         "alpha": draw(arrays((D, n, 1), ema_param())),
                         "beta": draw(arrays((D, n, 1), real_normals(2.0))),
                         "gamma": draw(arrays((D, n), real_normals(2.0)))}, L=L)


def mega_init_case(fmt: str, rng, D: int, n: int, L: int) -> Case:
    """Mega's initialisation: δ, α ~ N(0, 0.2), β ±1 + N(0, 0.02), γ ~ N(0, 1)."""
    sign = np.where(np.arange(n) % 2 == 0, -1.0, 1.0)[None, :, None]
    return case_of(fmt, {"delta": rng.normal(0, 0.2, (D, n, 1)),
                         "alpha": rng.normal(0, 0.2, (D, n, 1)),
                         "beta": sign + rng.normal(0, 0.02, (D, n, 1)),
                         "gamma": rng.normal(size=(D, n))}, L=L)


# --- laws -------------------------------------------------------------------------------------


def _k(fn, case: Case, method: str, device: str) -> np.ndarray:
    return to_numpy(DIAG.call(fn, case, method, device)).real


def _drawn(ctx: LawContext, length=MEDIUM, conj_half=None) -> tuple[str, Case]:
    """A method the implementation covers and a diag_kernel case of lengths `length` (and
    `conj_half` where given)."""
    method, case = draw_case(ctx, diag_cases, METHODS, length=length)
    return method, case if conj_half is None else case.with_(conj_half=conj_half)


def impulse_response(ctx: LawContext) -> None:
    method, case = _drawn(ctx, SHORT)
    lam, B, C, log_dt = (case.arrays[k] for k in DIAG_INPUTS)
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
    assert_within(_k(ctx.fn, case, method, ctx.device), y, tol,
                  f"{method}: kernel vs recurrence")


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
    C = np.conj(lam) ** 2
    h0 = 1e-2 / np.max(np.abs(lam))
    errs = []
    for k in range(4):
        # B = 1; float64 formats only, so rounding to the format changes nothing
        case = _diag_witness(fmt, lam, np.full(H, math.log(h0 * 2.0**-k)), 4, C=C)
        errs.append(np.max(np.abs(_k(ctx.fn, case, "zoh", ctx.device)
                                  - _k(ctx.fn, case, "bilinear", ctx.device))))
    e = np.array(errs)
    slopes = np.log2(e[:-1] / e[1:])
    assert np.all(np.abs(slopes - 3) < 0.15), f"zoh vs bilinear: orders {slopes} (|ΔK| = {e})"


def _c_rounding(case: Case, method: str) -> np.ndarray:
    """What rounding C₁ + C₂ moves K by: u·G·M of `case` (C = |C₁| + |C₂|)."""
    M, G = diag_bound_terms(case, method)
    return higham_bound(1.0, case.dtype, G, M)


DIAG_LAWS = kernel_laws(_drawn, lambda ctx, case, method: _k(ctx.fn, case, method, ctx.device),
                        lambda case, method: DIAG.bound(case, method)["K"],
                        ("Lambda", "B", "C"), _c_rounding)


def ema_s4d_real(ctx: LawContext) -> None:
    fmt = ctx.dtype
    case = ctx.draw(ema_cases(fmt, length=MEDIUM))
    d, a, b, g = (case.arrays[k] for k in EMA_INPUTS)
    p, logq = ref_np.ema_log_q(d[..., 0], a[..., 0])
    D, n = g.shape
    dcase = case_of(fmt, {"Lambda": logq, "B": p * b[..., 0], "C": g * math.sqrt(1.0 / n),
                          "log_dt": np.zeros(D)}, L=case.params["L"], conj_half=False)
    k_ema = to_numpy(EMA.call(ctx.fn, case, "mega", ctx.device))
    k_diag = _k(ctx.impl_of("diag_kernel"), dcase, "zoh_approx", ctx.device)
    _, M, G = ref_np.ema_kernel_with_bound(*_ema_args(case))
    tol = (EMA.bound(case, "mega")["K"] + DIAG.bound(dcase, "zoh_approx")["K"]
           + higham_bound(3.0, fmt, G, M))  # the rounding of the derived Λ, B, C
    assert_within(k_ema, k_diag, tol, "EMA vs S4D-Real (zoh_approx, Δ = 1)")


def _nan_rows(ctx: LawContext, case: Case, names, kernel, l0_finite, what: str = "") -> None:
    """One entry of one of `names` set to NaN must turn exactly its channel's row of
    `kernel(case)` to NaN (from l = 1 where `l0_finite(name)`)."""
    name = ctx.draw(st.sampled_from(names))
    x = np.array(case.arrays[name])
    k = ctx.draw(st.integers(0, x.size - 1))
    x.reshape(-1)[k] = np.nan
    row, l0 = int(np.unravel_index(k, x.shape)[0]), l0_finite(name)
    bad = np.isnan(kernel(case.with_(**{name: x})))
    want = np.zeros_like(bad)
    want[row, int(l0):] = True
    assert np.array_equal(bad, want), (
        f"{what}NaN in {name}: NaN at {np.argwhere(bad).tolist()[:8]}, expected row {row}"
        f"{' from l = 1' if l0 else ''}")


def diag_nan_propagation(ctx: LawContext) -> None:
    method, case = _drawn(ctx, SHORT)
    _nan_rows(ctx, case, DIAG_INPUTS, lambda c: _k(ctx.fn, c, method, ctx.device),
              lambda name: name == "Lambda" and method == "zoh_approx", f"{method}, ")


def ema_nan_propagation(ctx: LawContext) -> None:
    _nan_rows(ctx, ctx.draw(ema_cases(ctx.dtype, length=SHORT)), EMA_INPUTS,
              lambda c: to_numpy(EMA.call(ctx.fn, c, "mega", ctx.device)).astype(np.float64),
              lambda name: name == "alpha")


# --- mutants ----------------------------------------------------------------------------------


def direct_kernel(Lambda, B, C, log_dt, L, method="zoh", conj_half=True, phi=None,
                  rounded_log=False):
    """An S4-style kernel in the working format: Ā^l = exp(l·ΔΛ) by one Vandermonde product;
    a mutant's `phi(z)` replaces φ₁(z) = expm1(z)/z in zoh's B̄ = Δ·φ₁(z)·B, and `rounded_log`
    takes bilinear's log Ā from the rounded Ā."""
    work = v.work_dtype(Lambda.dtype)
    lam, b, c = Lambda.to(work), B.to(work), C.to(work)
    dt = torch.exp(log_dt.to(v.real_dtype(work)))[:, None]
    z = dt * lam
    cplx = torch.complex64 if work == torch.float32 else torch.complex128
    if method == "bilinear":
        abar = (1 + z / 2) / (1 - z / 2)
        b_bar = dt * b / (1 - z / 2)
        if rounded_log:
            w = torch.log(abar if abar.is_complex() else abar.to(cplx))
        else:  # computed right: powers of Ā by exp(l·2atanh(z/2))
            w = torch.atanh(z / 2 if z.is_complex() else (z / 2).to(cplx))
            w = w + w
    elif method == "zoh_approx":
        w, b_bar = z, dt * b
    else:
        phi1 = phi(z) if phi else torch.where(z == 0, torch.ones_like(z), torch.expm1(z) / z)
        w, b_bar = z, dt * phi1 * b
    V = torch.exp(w[..., None] * torch.arange(L, dtype=v.real_dtype(work), device=Lambda.device))
    K = torch.einsum("hn,hnl->hl", (c * b_bar).to(V.dtype), V)
    K = K.real if K.is_complex() else K
    return (K * 2 if conj_half else K).to(v.real_dtype(Lambda.dtype))


def naive_phi(z):
    """(exp(z) − 1)/z, guarded at z = 0 only: cancellation at small |z|."""
    safe = torch.where(z == 0, torch.ones_like(z), z)
    return torch.where(z == 0, torch.ones_like(z), (torch.exp(safe) - 1) / safe)


def phi1_zero_division(Lambda, B, C, log_dt, L, method="zoh", conj_half=True):
    """zoh's kernel whatever the method, B̄ = Δ·(exp(z) − 1)/z·B with no case for z = 0."""
    return direct_kernel(Lambda, B, C, log_dt, L, "zoh", conj_half,
                         phi=lambda z: (torch.exp(z) - 1) / z)


def no_factor_two(Lambda, B, C, log_dt, L, method="zoh", conj_half=True):
    return impl.diag_kernel(Lambda, B, C, log_dt, L, method=method, conj_half=False)


def mega_official(delta, alpha, beta, gamma, L, method="mega"):
    """facebookresearch/mega MultiHeadEMA._compute_kernel, in the working format."""
    p = torch.sigmoid(delta)
    q = 1.0 - p * torch.sigmoid(alpha)
    vander = torch.arange(L).to(p).view(1, 1, L) * torch.log(q)
    kernel = (p * beta) * torch.exp(vander)
    return torch.einsum("dnl,dn->dl", kernel, gamma * math.sqrt(1.0 / delta.shape[1]))


def rounded_q_power(delta, alpha, beta, gamma, L, method="mega"):
    """Mega's EMA kernel with q = 1 − p·a rounded to fp32, then q^l (exact, in float64): an l·u
    error where the decay is slow (docs/kernels.md#ema_kernel)."""
    W, logq = impl.ema_weights(delta, alpha, beta, gamma)
    q = torch.exp(logq).to(torch.float32).to(torch.float64)
    K = torch.einsum("dn,dnl->dl", W, q[..., None] ** torch.arange(L, dtype=torch.float64))
    return K.to(delta.dtype)


def _diag_witness(fmt: str, lam, log_dt, L: int, B=None, C=None) -> Case:
    """A diag_kernel case of Λ (H, N) with B = C = 1 unless given, conj_half."""
    one = np.ones_like(lam)
    return case_of(fmt, {"Lambda": lam, "B": one if B is None else B, "C": one if C is None else C,
                         "log_dt": log_dt}, L=L, conj_half=True)


def _small_z_witness(fmt: str, L: int = 8) -> Case:
    """|ΔΛ| ~ 1e-7 … 1e-3 (Δ = 1e-4): where (eᶻ − 1)/z cancels."""
    lam = np.array([[-1e-3, -0.5, -10.0]])
    if dtype(fmt).is_complex:
        lam = lam + 1j * np.array([[1e-3, 3.0, 0.0]])
    return _diag_witness(fmt, lam, np.array([math.log(1e-4)]), L)


def _zero_lambda_witness(fmt: str) -> Case:
    """Λ = 0 in row 0 (a pure integrator: B̄ = Δ·B, Ā = 1), moderate Λ in row 1."""
    return _diag_witness(fmt, np.array([[0.0, -0.5], [-0.5, -2.0]]),
                         np.log(np.array([0.1, 0.1])), 4)


def _triton_tail_witness(fmt: str) -> Case:
    """One channel, N = BLOCK_N + 3 states (a partial last block), L = 33."""
    from ssmspec.impl.triton.kernels import BLOCK_N

    rng = np.random.default_rng(4)
    N = BLOCK_N + 3
    lam = -rng.uniform(0.1, 1.0, (1, N))
    B, C = rng.normal(size=(1, N)), rng.normal(size=(1, N))
    if dtype(fmt).is_complex:
        lam, B, C = lam + 1j * rng.uniform(-3, 3, (1, N)), B + 0.5j, C - 0.25j
    return _diag_witness(fmt, lam, np.array([-1.0]), 33, B, C)


def _saturated_witness(fmt: str) -> Case:
    """δ = α = 40: p·a rounds to 1 in fp32 and fp64, so q = 1 − p·a = 0 and 0·log 0 = NaN."""
    return case_of(fmt, {"delta": [[[40.0], [0.3]]], "alpha": [[[40.0], [-0.2]]],
                         "beta": [[[1.0], [-1.0]]], "gamma": [[0.5, 1.5]]}, L=4)


def _slow_ema_witness(fmt: str, L: int = 8192) -> Case:
    """D = 1, ndim = 4, p·a ≈ 1e-3 … 1e-6 (δ = α, slow decay: q^8191 ≥ e^-8), β = γ = 1."""
    pa = np.array([3.07e-2, 1e-2, 3.16e-3, 1e-3])
    logit = np.log(pa / (1 - pa))[None, :, None]
    return case_of(fmt, {"delta": logit, "alpha": logit, "beta": np.ones_like(logit),
                         "gamma": np.ones((1, 4))}, L=L)


# --- bad input (docs/bad-input.md) ------------------------------------------------------------

_CPLX = torch.complex128
_cx = functools.partial(full, fill=-1.0, dt=_CPLX)  # a complex argument of a bad-input call
# each with the generic rows (docs/bad-input.md#the-generic-rows)
_DIAG_BAD = bad_calls({"Lambda": _cx(2, 3), "B": _cx(2, 3), "C": _cx(2, 3), "log_dt": full(2),
                      "L": 4}, [
    ("Lambda 1-d", "Lambda", ValueError, dict(Lambda=_cx(3), B=_cx(3), C=_cx(3), log_dt=full(1))),
    ("Lambda 3-d", "Lambda", ValueError, dict(Lambda=_cx(2, 2, 3), B=_cx(2, 2, 3), C=_cx(2, 2, 3))),
    ("B of another shape", "B", ValueError, dict(B=_cx(2, 4))),
    ("C of another shape", "C", ValueError, dict(C=_cx(3, 3))),
    ("C real, Lambda complex", "C", TypeError, dict(C=full(2, 3))),
    ("log_dt of another shape", "log_dt", ValueError, dict(log_dt=full(3))),
    ("L zero", "L", ValueError, dict(L=0)),
    ("conj_half not a bool", "conj_half", TypeError, dict(conj_half="yes")),
], generic=dict(real=("log_dt",)))

_EMA_BAD = bad_calls(
    {"delta": full(2, 3, 1), "alpha": full(2, 3, 1), "beta": full(2, 3, 1),
     "gamma": full(2, 3), "L": 4}, [
        ("delta 2-d", "delta", ValueError, dict.fromkeys(("delta", "alpha", "beta"), full(2, 3))),
        ("delta without the trailing 1", "delta", ValueError,
         dict.fromkeys(("delta", "alpha", "beta"), full(2, 3, 2))),
        ("alpha of another shape", "alpha", ValueError, dict(alpha=full(2, 4, 1))),
        ("L negative", "L", ValueError, dict(L=-1)),
    ], generic=dict(real=True))

# --- the primitives ---------------------------------------------------------------------------

DIAG = registry.register_spec(
    Spec(
        name="diag_kernel", family="kernels", methods=METHODS, dtypes=S4D_DTYPES,
        sizes=("H", "N", "L"), outputs=("K",),
        summary="S4D kernel K[h, l] = (2·)Re Σ_n C_n B̄_n Ā_n^l of a diagonal SSM",
        signature="diag_kernel(Lambda (H, N), B (H, N), C (H, N), log_dt (H,), L, method, "
                  "conj_half=True) -> K (H, L) real",
        strategy=lambda fmt, method: diag_cases(fmt, method),
        references=DIAG_REFERENCES,
        bound=Bound(c=C_BOUND, terms=lk.with_bound_terms("K", lambda case, method: _np_diag(
                        case, method, precision.is_extended())),
                    reasoning="elementwise; G·M = f·Σ_n (N + 1 + g0_n + l·(|log Ā_n| + s_n))·"
                              "|C_n B̄_n|·|Ā_n|^l, s_n = |z/(1 − z²/4)| bilinear, else 0"),
        call=caller(*DIAG_INPUTS, "L", keywords=("conj_half",), real=("log_dt",), real_out="K"),
        bench_shape="H=256, N=64, L=4096, S4D-Lin",
        # S4D-Lin (S4D-Real in real formats), Δ log-uniform in [1e-3, 1e-1]
        bench_case=lambda fmt: Case(s4d_bench_arrays(fmt, 256, 64)[1], fmt,
                                    {"L": 4096, "conj_half": True}),
        sweep=Sweep("L", LONG, diag_sweep_problem, LONG_HEAVY,
                    "H=4, N=16, S4D-Lin / S4D-Real, Δ in [1e-3, 1e-1]"),
        features={"conj_half=False": flag("conj_half", False, "the full system (both members "
                                          "of each conjugate pair) rather than one of each pair")},
    ),
    implementations=[Implementation("diag_kernel", "torch", impl.diag_kernel),
                     triton_kernels.implementation("diag_kernel", "kernels", "diag_kernel")],
    laws=laws(
        S4D_DTYPES,
        ("nan_propagation", "a NaN in one input entry reaches exactly the row of K that "
         "depends on it", diag_nan_propagation),
        ("impulse_response", "K = impulse response of h_l = Ā h_{l−1} + B̄ δ_l", impulse_response),
        ("conj_half_full", "half (conj_half) = full representation, both members of each pair "
         "written out", DIAG_LAWS["conj_half_full"]),
        ("zoh_bilinear_small_dt", "zoh and bilinear kernels agree to O(Δ³)",
         zoh_bilinear_small_dt, ("fp64", "c128")),
        ("linearity_in_C", "K(C₁) + K(C₂) = K(C₁ + C₂)", DIAG_LAWS["linearity_in_C"]),
        ("prefix", "K for L' is the prefix of K for L > L'", DIAG_LAWS["prefix"])),
    mutants=[
        # naive_phi1, no_factor_two: found by search too, but shrinking costs ~2 min a format
        Mutant("naive_phi1", functools.partial(direct_kernel, phi=naive_phi), "zoh", S4D_DTYPES,
               "zoh B̄ = Δ·(exp(z) − 1)/z·B: cancellation at small |ΔΛ|",
               _small_z_witness, search=False,
               fix="compute φ₁(z) = (exp(z) − 1)/z as expm1(z)/z with φ₁(0) = 1 (no "
               "cancellation at small |z|, no 0/0 at Λ = 0)"),
        Mutant("phi1_zero_division", phi1_zero_division, "zoh", S4D_DTYPES,
               "zoh B̄ = Δ·(exp(z) − 1)/z·B with no case for z = 0: NaN at Λ = 0",
               _zero_lambda_witness, fix="take φ₁(0) = 1 where ΔΛ = 0 (torch.where, or "
               "expm1(z)/z with that case), so an integrator state (Λ = 0) gives B̄ = Δ·B"),
        Mutant("no_factor_two", no_factor_two, "zoh", S4D_DTYPES,
               "conj_half ignored: Re(Σ) instead of 2·Re(Σ)", _small_z_witness,
               search=False, fix="under conj_half=True take 2·Re of the sum over the stored "
               "half"),
        Mutant("rounded_abar_log", functools.partial(direct_kernel, rounded_log=True), "bilinear",
               ("fp32",), "bilinear Ā rounded, then exp(l·log Ā): an l·u error at small |ΔΛ|",
               lambda fmt: _small_z_witness(fmt, 1025),
               fix="take log Ā from ΔΛ (log1p(ΔΛ/2) − log1p(−ΔΛ/2)), not the log of the "
               "rounded Ā"),
        # (A phase l·Im w formed in fp32 is not a mutant: its l·u·|w| error is what the c64
        # bound admits.) The strategy's N ≤ 8 never has a partial block: witness only.
        *triton_kernels.mutants(lambda kernel: [
            Mutant("triton_drops_state_tail",
                   kernel("kernels", "diag_kernel_dropping_tail"), "zoh", ("c64", "fp32"),
                   "Triton S4D kernel: the loop over states drops the partial last block",
                   _triton_tail_witness, search=False)]),
    ],
    bad_inputs=_DIAG_BAD,
)

EMA = registry.register_spec(
    Spec(
        name="ema_kernel", family="kernels", methods=impl.EMA_METHODS, dtypes=REAL_DTYPES,
        sizes=("D", "ndim", "L"), outputs=("K",),
        summary="Mega's damped EMA kernel K[d, l] = Σ_n γ √(1/ndim) p β q^l, q = 1 − p·a",
        signature="ema_kernel(delta (D, ndim, 1), alpha (D, ndim, 1), beta (D, ndim, 1), "
                  "gamma (D, ndim), L) -> K (D, L)",
        strategy=lambda fmt, method: ema_cases(fmt, method),
        **lk.referenced("K", "ema_kernel", _ema_args, ref_mp,
                        ref_np, MP_MAX, lambda case: case.arrays["gamma"].size * case.params["L"],
                        {"mega": C_BOUND}, "elementwise; G·M = Σ_n (ndim + 1 + (1 + κ_n)·l·"
                        "|log q_n|)·|γ_n √(1/ndim) p_n β_n| q_n^l"),
        call=caller(*EMA_INPUTS, "L", method=None), bench_shape="D=256, ndim=16, L=8192, Mega init",
        # D = 256, ndim = 16, L = 8192; the sweep D = 4, ndim = 16: Mega's initialisation
        bench_case=lambda fmt: mega_init_case(fmt, np.random.default_rng(0), 256, 16, 8192),
        sweep=Sweep("L", LONG, lambda fmt, L: mega_init_case(fmt, problem_rng(), 4, 16, L),
                    LONG_HEAVY, "D=4, ndim=16, Mega init"),
    ),
    implementations=[Implementation("ema_kernel", "torch", impl.ema_kernel),
                     triton_kernels.implementation("ema_kernel", "kernels", "ema_kernel")],
    laws=laws(
        ("fp64", "fp32"),
        ("nan_propagation", "a NaN in one input entry reaches exactly the row of K that "
         "depends on it", ema_nan_propagation, ("fp64", "fp32", "bf16")),
        ("s4d_real", "EMA = real diagonal kernel with Λ = log1p(−p·a), Δ = 1, B = p·β, "
         "C = γ√(1/ndim), zoh_approx", ema_s4d_real)),
    mutants=[
        Mutant("mega_official", mega_official, "mega", ("fp64", "fp32"),
               "q = 1 − p·a and exp(l·log q): NaN at l = 0 when p·a rounds to 1, cancellation "
               "as q → 0", _saturated_witness),
        Mutant("rounded_q_power", rounded_q_power, "mega", ("fp32",),
               "q = 1 − p·a rounded to fp32, then q^l: an l·u error where the decay is slow",
               _slow_ema_witness),
    ],
    bad_inputs=_EMA_BAD,
)

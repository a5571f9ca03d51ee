"""`dss_kernel`: K = Re Σ_n W_n·(e^z − 1)/Λ_n·e^{lz} (exp) or Re Σ_n W_n/Λ_n·softmax_l(l·z)
(softmax), z = ΔΛ, one Δ per channel or separate steps for Re Λ and Im Λ (`log_dt_im`, DSS's
code's `sep_dt_re_im=True`). The output is real, handed back in the run's complex format.
Formulas, code vs paper, bound, strategies, sources: docs/kernels.md#dss_kernel.
"""

from __future__ import annotations

import math
from functools import partial

import numpy as np
import torch
from hypothesis import strategies as st

from ssmspec.impl import dss as impl
from ssmspec.reference.mp import dss as ref_mp
from ssmspec.reference.np import dss as ref_np
from ssmspec.speckit import *  # noqa: F403 (the spec vocabulary)
from ssmspec.specs import _layer_kit as lk
from ssmspec.specs._kernel_kit import MEDIUM
from ssmspec.specs.kernels import DIAG, log_dts, s4d_bench_arrays

METHODS = impl.METHODS
DTYPES = ("c128", "c64")
C_BOUND = 4.0
MP_MAX = 256


def _lambda_el(method: str):
    re = log_uniform(1e-4, 10.0).map(lambda x: -x)
    if method == "softmax":
        re = st.one_of(re, log_uniform(1e-4, 10.0))
    return st.one_of(
        st.integers(0, 127).map(lambda k: complex(-0.5, math.pi * k)),  # S4D-Lin
        st.builds(complex, re, st.floats(-400.0, 400.0).map(lambda x: x if abs(x) >= 1e-12
                                                             else 0.0)),
    )


@st.composite
def dss_cases(draw, fmt: str, method: str = "exp", length=None, sep_dt=None) -> Case:
    """Λ, W (H, N), log Δ (H,) and L, and with separate steps (`sep_dt`, drawn when None) a
    second log Δ_im (H,): equal to log Δ, or drawn like it (docs/kernels.md#dss_kernel)."""
    H, N = draw(size("H", st.integers(1, 3))), draw(size("N", st.integers(1, 8)))
    L = draw(size("L", length if length is not None else sequence_lengths(1025, 16385)))
    lam = draw(arrays((H, N), _lambda_el(method)))
    W = draw(arrays((H, N), st.builds(complex, real_normals(2.0), real_normals(2.0))))
    log_dt = draw(arrays((H,), log_dts()))
    out = {"Lambda": lam, "W": W, "log_dt": log_dt}
    if draw(st.booleans()) if sep_dt is None else sep_dt:
        out["log_dt_im"] = log_dt if draw(st.integers(0, 3)) == 0 else draw(
            arrays((H,), log_dts()))
    return case_of(fmt, out, L=L)


_args = arguments("Lambda", "W", "log_dt", "L", "method", "log_dt_im")


def bench_case(fmt: str) -> Case:
    """H = 64, N = 64, L = 4096: DSS's 'lin' init Λ = −½ + iπn, W ~ CN(0, 1), Δ log-uniform in
    [1e-3, 1e-1] (ag1988/dss `DSSKernel.init`)."""
    # the S4D benchmark system's Λ, C (as W), log Δ: these draws; H: the long-double
    # reference's time bounds it
    a = s4d_bench_arrays(fmt, 64, 64)[1]
    return Case({"Lambda": a["Lambda"], "W": a["C"], "log_dt": a["log_dt"]}, fmt, {"L": 4096})


# --- laws -------------------------------------------------------------------------------------
def dss_exp_is_zoh(ctx: LawContext) -> None:
    """arXiv 2203.14343 Proposition 1: DSS-exp is the ZOH kernel of the diagonal system with
    B = 1 and C = W (no conjugate factor)."""
    case = ctx.draw(dss_cases(ctx.dtype, "exp", length=MEDIUM, sep_dt=False))
    W = case.arrays["W"]
    dcase = case.with_(B=np.ones_like(W), C=W, conj_half=False).without("W")
    k_zoh = run(DIAG, ctx.impl_of("diag_kernel"), dcase, "zoh", ctx.device)[0].real
    tol = DSS.bound(case, "exp")["K"] + DIAG.bound(dcase, "zoh")["K"]
    assert_within(run(DSS, ctx.fn, case, "exp", ctx.device)[0].real, k_zoh, tol,
                  "DSS-exp vs diag_kernel zoh")


def softmax_rows_normalised(ctx: LawContext) -> None:
    """With W = Λ each state's row is a softmax over l: Σ_l K[h, l] = Re Σ_n 1 = N."""
    case = ctx.draw(dss_cases(ctx.dtype, "softmax", length=MEDIUM))
    case = case.with_(W=case.arrays["Lambda"])
    K = run(DSS, ctx.fn, case, "softmax", ctx.device)[0].real
    H, N = case.arrays["Lambda"].shape
    _, M, _ = ref_np.dss_kernel_with_bound(*_args(case, "softmax"))
    # each K entry within its bound, and the float64 sum over l adds L roundings of ≤ Σ_l M
    tol = np.sum(DSS.bound(case, "softmax")["K"], axis=1) + higham_bound(
        1.0, "fp64", case.params["L"], np.sum(M, axis=1))
    assert_within(np.sum(K, axis=1), np.full(H, float(N)), tol, "Σ_l K with W = Λ vs N")


def _equal_dts(ctx: LawContext):
    """Separate steps with Δ_im = Δ_re give the one-step kernel (z = Δ·Λ, (e^z − 1)/Λ = Δ·φ₁(z)):
    DSS's code's sep_dt_re_im at its initialisation (both columns equal) is the paper's DSS."""
    method, one = draw_case(ctx, dss_cases, METHODS, length=MEDIUM, sep_dt=False)
    return method, one.with_(log_dt_im=one.arrays["log_dt"]), one


# --- mutants ----------------------------------------------------------------------------------
def _direct(Lambda, W, log_dt, L, method="exp", log_dt_im=None, *, kind, naive=False,
            wrong_axis=False):
    """The DSS kernel of method `kind` (whatever is asked for) as one Vandermonde product in the
    working format, ag1988-style; `naive`: e^z − 1 for expm1 (exp), else no max subtraction
    (softmax), `wrong_axis`: normalised over the states."""
    dt = torch.exp(log_dt)[:, None]
    dt_im = dt if log_dt_im is None else torch.exp(log_dt_im)[:, None]
    z = torch.complex(dt * Lambda.real, dt_im * Lambda.imag)
    P = torch.exp(z[..., None] * torch.arange(L, dtype=log_dt.dtype, device=log_dt.device))
    if kind == "exp":
        num = torch.exp(z) - 1 if naive else torch.expm1(z)
        K = torch.einsum("hn,hnl->hl", W * num / Lambda, P)
    else:
        K = torch.einsum("hn,hnl->hl", W / Lambda, P / P.sum(dim=1 if wrong_axis else -1,
                                                             keepdim=True))
    return K.real.contiguous()


def sep_dt_coefficient_from_z(Lambda, W, log_dt, L, method="exp", log_dt_im=None):
    """Separate steps in z, but the exp coefficient Δ_re·φ₁(z) (= (e^z − 1)/(z/Δ_re)) of the
    one-step formula instead of (e^z − 1)/Λ."""
    if log_dt_im is None or method != "exp":
        return impl.dss_kernel(Lambda, W, log_dt, L, method, log_dt_im)
    lam = Lambda.to(torch.complex128)
    z, ratio_ = impl.dss_z(lam, log_dt, log_dt_im)
    dt = torch.exp(log_dt.to(torch.float64))[:, None]
    # W2·(z/Λ)·φ₁(z), the built-in's coefficient, is then W·Δ_re·φ₁(z)
    W2 = (W.to(torch.complex128) * dt / ratio_).to(W.dtype)
    return impl.dss_kernel(Lambda, W2, log_dt, L, method, log_dt_im)


def _witness(lam, dt, L, fmt: str, dt_im=None) -> Case:
    """One channel: Λ = `lam`, W = 1 − ½i, Δ = `dt` (and Δ_im = `dt_im`); `partial` gives the
    mutants' witnesses (fmt last)."""
    lam = np.asarray(lam, dtype=complex)
    arrays = {"Lambda": lam, "W": np.ones_like(lam) * (1.0 - 0.5j),
              "log_dt": np.array([math.log(dt)])}
    if dt_im is not None:
        arrays["log_dt_im"] = np.array([math.log(dt_im)])
    return case_of(fmt, arrays, L=L)


# the bad inputs' Λ, W (complex −1) and log Δ (−2) of any shape
_cx, _ldt = partial(full, fill=-1.0, dt=torch.complex128), partial(full, fill=-2.0)


DSS = registry.register_spec(
    Spec(
        name="dss_kernel", family="kernels", methods=METHODS, dtypes=DTYPES,
        sizes=("H", "N", "L"), outputs=("K",), strategy=dss_cases,
        summary="DSS kernel K[h, l] = Re Σ_n W_n·(e^z − 1)/Λ_n·e^{lz} (exp) or "
                "Re Σ_n W_n/Λ_n·softmax_l(l·z) (softmax), z = ΔΛ",
        signature="dss_kernel(Lambda (H, N), W (H, N), log_dt (H,), L, method='exp'|'softmax', "
                  "log_dt_im=None | (H,)) -> K (H, L) real",
        **lk.referenced("K", "dss_kernel", _args, ref_mp, ref_np, MP_MAX,
                        lambda case: case.arrays["Lambda"].size * case.params["L"], C_BOUND,
                        "elementwise; G·M = Σ_n (N + 1 + g0_n + e_l·|ζ_n|)·|a_n e^{e_l ζ_n}|, "
                        "g0 = |z| (exp), 1 + κ(ζ) + κ(Lζ) (softmax)"),
        call=caller("Lambda", "W", "log_dt", "L", keywords=("log_dt_im",),
                    real=("log_dt", "log_dt_im"), real_out="K"),
        bench_case=bench_case, bench_shape="H=64, N=64, L=4096, DSS 'lin' init",
    ),
    implementations={"torch": impl.dss_kernel},
    laws=[
        lk.agreement("equal_dts_are_one_dt", "log_dt_im = log_dt (separate steps, equal) gives "
                     "the one-Δ kernel", DTYPES, "dss_kernel", _equal_dts,
                     "log_dt_im = log_dt vs one Δ"),
        Law("dss_exp_is_zoh", "DSS-exp = diag_kernel zoh with B = 1, C = W, "
            "conj_half=False (DSS paper, Proposition 1)", dss_exp_is_zoh, DTYPES),
        Law("softmax_rows_normalised", "DSS-softmax with W = Λ: Σ_l K[h, l] = N "
            "(each state's row is normalised over l)", softmax_rows_normalised, DTYPES),
    ],
    mutants=[
        Mutant("sep_dt_coefficient_from_z", sep_dt_coefficient_from_z, "exp", DTYPES,
               "separate steps with the one-step coefficient Δ_re·φ₁(z) for (e^z − 1)/Λ",
               partial(_witness, [[-0.5 + 3j, -0.2 + 10j]], 0.05, 16, dt_im=0.2)),
        Mutant("naive_expm1", partial(_direct, kind="exp", naive=True), "exp", DTYPES,
               "(exp(z) − 1)/Λ: cancellation at small |ΔΛ|",
               partial(_witness, [[-1e-3 + 1e-3j, -0.5 + 3j, -10.0]], 1e-4, 8), search=False),
        Mutant("softmax_wrong_axis", partial(_direct, kind="softmax", wrong_axis=True), "softmax",
               DTYPES, "softmax normalised over the states n instead of the length l",
               partial(_witness, [[-0.5 + 1j, -0.1 + 3j]], 0.1, 16)),
        Mutant("softmax_no_max_subtraction", partial(_direct, kind="softmax"), "softmax",
               DTYPES, "e^{lz}/Σ_r e^{rz} without the max subtraction: overflow (NaN) for Re Λ > 0 "
               "at large L·Re z", partial(_witness, [[1.0 + 2j, -0.5 + 1j]], 1.0, 1025),
               search=False),
    ],
    bad_inputs=bad_calls({"Lambda": _cx(2, 3), "W": _cx(2, 3), "log_dt": _ldt(2), "L": 4}, [
        ("Lambda 1-d", "Lambda", ValueError, {"Lambda": _cx(3), "W": _cx(3), "log_dt": _ldt(1)}),
        ("Lambda real", "Lambda", TypeError,
         {"Lambda": _cx(2, 3, dt=torch.float64), "W": _cx(2, 3, dt=torch.float64)}),
        ("W of another shape", "W", ValueError, {"W": _cx(2, 4)}),
        ("log_dt of another shape", "log_dt", ValueError, {"log_dt": _ldt(3)}),
        ("log_dt_im of another shape", "log_dt_im", ValueError, {"log_dt_im": _ldt(3)}),
        ("log_dt_im of another precision", "log_dt_im", TypeError,
         {"log_dt_im": _ldt(2, dt=torch.float32)}),
        ("L zero", "L", ValueError, {"L": 0}),
    ], generic=dict(real=("log_dt",))),  # and the generic rows (docs/bad-input.md)
)

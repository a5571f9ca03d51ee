"""Liquid-S4's `liquid_kernel` and `liquid_conv`. Definitions, the convention (where the public
code differs from the paper), the correlations (`runs`, the paper's; `binomial`, the code's),
bounds, strategies, sources: docs/kernels.md#liquid_kernel, docs/convolution.md#liquid_conv.
"""

from __future__ import annotations

import math
from functools import partial

import numpy as np
import torch
from hypothesis import strategies as st

from ssmspec.impl import convolution as conv_impl
from ssmspec.impl import kernels as kernels_impl
from ssmspec.impl import liquid as impl
from ssmspec.reference.mp import liquid as ref_mp
from ssmspec.reference.np import liquid as ref_np
from ssmspec.speckit import *  # noqa: F403 (the spec vocabulary)
from ssmspec.specs import _layer_kit as lk
from ssmspec.specs.kernels import diag_cases, s4d_bench_arrays

C_BOUND = 4.0
MP_MAX = 512
MP_CONV = 4000


@st.composite
def kernel_cases(draw, fmt: str, method: str = "pb", length=None, max_order: int = 3) -> Case:
    lengths = length if length is not None else sequence_lengths(1025, 16385)
    base = draw(diag_cases(fmt, "bilinear", length=lengths))
    return base.with_(order=draw(size("order", st.integers(1, max_order))))


@st.composite
def conv_cases(draw, fmt: str, method: str = "pb", length=None, max_order: int = 3,
               correlation=None) -> Case:
    """A kernel case plus u (batch ≤ 2, H, L) and the correlation products' kind (`runs`, or
    the code's `binomial` a quarter of the time when `correlation` is None)."""
    base = draw(kernel_cases(
        fmt, method, length if length is not None else sequence_lengths(257, 4097), max_order))
    H, L = base.arrays["log_dt"].shape[0], base.params["L"]
    u = draw(arrays((draw(size("B", st.integers(1, 2), "batch")), H, L),
                    st.one_of(real_normals(2.0), st.just(0.0))))
    if correlation is None:
        correlation = "binomial" if draw(st.integers(0, 3)) == 0 else "runs"
    return base.with_(u=representable(u, fmt), correlation=correlation)


def _params(case: Case, device: str):
    return (case.tensor("Lambda", device), case.tensor("B", device), case.tensor("C", device),
            case.tensor("log_dt", device, real=True))


def call_conv(fn, case: Case, method: str, device: str):
    p, kind = case.params, case.params.get("correlation", "runs")
    # the argument only for the code's variant: an implementation without it runs the paper's
    y = fn(case.tensor("u", device, real=True), *_params(case, device), p["order"], method=method,
           conj_half=p["conj_half"], **({} if kind == "runs" else {"correlation": kind}))
    return real_output(y, case, "y")


def _kargs(case: Case, method: str):
    a, p = case.arrays, case.params
    return a["Lambda"], a["B"], a["C"], a["log_dt"], p["L"], p["order"], method, p["conj_half"]


def _cargs(case: Case, method: str):
    a, p = case.arrays, case.params
    return (a["u"], a["Lambda"], a["B"], a["C"], a["log_dt"], p["order"], method,
            p["conj_half"], p.get("correlation", "runs"))


def conv_terms(case: Case, method: str):
    return ref_np.liquid_conv_with_bound(*_cargs(case, method))


# liquid_kernel's references (mpmath up to order·H·N·L = MP_MAX) and bound
KERNEL_REFERENCED = lk.referenced(
    "K", "liquid_kernel", _kargs, ref_mp, ref_np, MP_MAX,
    lambda case: case.params["order"] * case.arrays["Lambda"].size * case.params["L"],
    {m: C_BOUND for m in impl.METHODS},
    "elementwise; diag_kernel's bound with W_p = C·B̄^p and p + 2 more roundings")


def _conv_tier(case: Case) -> str:
    """mpmath while the kernels are (KERNEL_REFERENCED) and batch·H·order·L² ≤ MP_CONV."""
    Bn, H, L = case.arrays["u"].shape
    small = Bn * H * case.params["order"] * L * L <= MP_CONV
    return "mp" if small and KERNEL_REFERENCED["references"].tier(case) == "mp" else "np"


def _bench_conv(fmt: str) -> Case:
    """batch 2, H = 64, N = 64 (S4D-Lin), L = 2048, order 3."""
    rng, arrs = s4d_bench_arrays(fmt, 64, 64)
    u = rng.normal(size=(2, 64, 2048))
    return Case({**arrs, "u": representable(u, fmt)}, fmt,
                {"L": 2048, "order": 3, "conj_half": True})


# --- laws -------------------------------------------------------------------------------------
def _bilinear(case: Case, device: str):
    """The built-in diag_kernel (bilinear) of the case's SSM: the order-1 kernel K_1."""
    p = case.params
    return kernels_impl.diag_kernel(*_params(case, device), p["L"], "bilinear", p["conj_half"])


def order_one_is_s4d(ctx: LawContext) -> None:
    case = ctx.draw(conv_cases(ctx.dtype, max_order=1, correlation="runs"))
    u = case.tensor("u", ctx.device, real=True)
    y = ctx.fn(u, *_params(case, ctx.device), 1, conj_half=case.params["conj_half"])
    want = conv_impl.causal_conv(u, _bilinear(case, ctx.device))
    _, M, G = conv_terms(case, "pb")
    tol = 2 * higham_bound(C_BOUND, real_of(ctx.dtype), G, M)
    within(to_numpy(y), to_numpy(want), tol, "order 1 vs causal_conv(diag_kernel)", rows=True)


def kernel_order_one(ctx: LawContext) -> None:
    case = ctx.draw(kernel_cases(ctx.dtype, max_order=3))
    K = run(KERNEL, ctx.fn, case, "kb", ctx.device)[0].real
    _, M, G = ref_np.liquid_kernel_with_bound(*_kargs(case, "kb"))
    tol = 2 * higham_bound(C_BOUND, real_of(ctx.dtype), G[0], M[0])
    assert_within(K[0], to_numpy(_bilinear(case, ctx.device)), tol, "K_1 vs diag_kernel(bilinear)")


def _written_out(oracle, L: int, correlation, what: str, method=None):
    """The law "y = `oracle(*_cargs(case, method))`" (a written-out float64 sum of
    ssmspec.reference.np.liquid) on cases of length ≤ L, per signal within the bound plus
    4·C_BOUND·u₆₄·G·M (the oracle's own rounding); every method covered unless `method`."""
    def check(ctx: LawContext) -> None:
        m = method or ctx.draw(ctx.methods(impl.METHODS))
        case = ctx.draw(conv_cases(ctx.dtype, m, length=st.integers(1, L),
                                   correlation=correlation))
        y = run(CONV, ctx.fn, case, m, ctx.device)[0]
        _, M, G = conv_terms(case, m)
        tol = CONV.bound(case, m)["y"] + higham_bound(C_BOUND, "fp64", G, M) * 4
        within(y, oracle(*_cargs(case, m)), tol, what.format(method=m), rows=True)
    return check


def pb_is_kb_lag_zero(ctx: LawContext) -> None:
    case = ctx.draw(kernel_cases(ctx.dtype))
    pb, kb = (run(KERNEL, ctx.fn, case, m, ctx.device)[0].real for m in ("pb", "kb"))
    assert np.array_equal(pb[0], kb[0]), "order 1 differs between pb and kb"
    # the same sum, in another order (kb's runs through the Vandermonde matmul): both bounds
    tol = KERNEL.bound(case, "pb")["K"][1:, :, 0] + KERNEL.bound(case, "kb")["K"][1:, :, 0]
    assert_within(pb[1:, :, 0], kb[1:, :, 0], tol, "pb's K_p(0) vs kb's")
    assert not np.any(pb[1:, :, 1:]), "pb's K_p is not zero after lag 0"


def _runs_and_binomial(ctx: LawContext):
    """The code's binomial products c_(p−1)[t]·c_(p−1)[t−1] are the runs for p ≤ 2: at order
    ≤ 2 both correlations give the same y (within both bounds)."""
    method, runs = draw_case(ctx, conv_cases, impl.METHODS, max_order=2, correlation="runs")
    return method, runs, runs.with_(correlation="binomial")


# --- mutants ----------------------------------------------------------------------------------
def _powered(Lambda, B, C, log_dt, L, order, method="pb", conj_half=True, *, power):
    """liquid_kernel with B̄'s p-th power replaced by power(B̄, p, conj_half)
    (complex128/float64)."""
    c, bbar, w, negative = impl.bilinear_terms(Lambda, B, C, log_dt)
    work = torch.float32 if Lambda.dtype in (torch.float32, torch.complex64) else torch.float64
    out = []
    for p in range(1, order + 1):
        W = c * power(bbar, p, conj_half)
        if p == 1 or method == "kb":
            K = kernels_impl.vandermonde(W, w, L, work, negative)
        else:
            K = torch.zeros(W.shape[0], L, dtype=work, device=W.device)
            K[:, 0] = (W.real if W.is_complex() else W).sum(-1).to(work)
        out.append(2 * K if conj_half else K)
    return torch.stack(out)


def _code_power(bbar, p, conj_half):
    """raminmh/liquid-s4 06031dc `polyb`: p − 1 times dB ← dB ⊙ Σ dB, the sum over the code's
    2N conjugate-doubled states (`_conj(B)`, `_conj(w)`): 2·Re Σ over the stored half under
    conj_half (the stored states otherwise). Order p: B̄·(Σ B̄)^(2^(p−1) − 1)."""
    d = bbar
    for _ in range(p - 1):
        s = d.sum(-1, keepdim=True)
        if conj_half:
            s = 2 * (s.real if s.is_complex() else s)
        d = d * s
    return d


def _conv_variant(u, Lambda, B, C, log_dt, order, method="pb", conj_half=True,
                  correlation="runs", *, flip=False):
    """Orders ≥ 2 computed wrongly on top of the order-1 output: `flip`, the code's
    `torch.flip(u_corr, [-1])` (the time-reversed products scale pb's K_p(0)); else c_p = u_t^p
    (the lag of each factor dropped) through K_p."""
    y = impl.liquid_conv(u, Lambda, B, C, log_dt, 1, method, conj_half)
    K = impl.liquid_kernel(Lambda, B, C, log_dt, u.shape[-1], order,
                           "pb" if flip else method, conj_half)
    if flip:
        c = impl.correlations(u, order, correlation)
        return y + sum(K[p, :, :1] * c[p].flip(-1) for p in range(1, order))
    for p in range(1, order):
        y = y + conv_impl.causal_conv(u ** (p + 1), K[p])
    return y


def _witness(fmt: str, conv: bool = False) -> Case:
    """One channel, N = 2 (complex Λ for a complex format), Δ = ½, order 3; the kernel's of
    L = 6, the convolution's with u of L = 7."""
    lam, B, C = np.array([[-0.5, -2.0]]), np.array([[1.0, 1.5]]), np.array([[0.75, -1.25]])
    if dtype(fmt).is_complex:
        lam, B, C = lam + 1j * np.array([[math.pi, 0.0]]), B + 0.5j, C.astype(complex)
    arrays = {"Lambda": lam, "B": B, "C": C, "log_dt": np.array([math.log(0.5)])}
    if conv:
        arrays["u"] = np.array([[[1.0, -0.5, 2.0, 0.25, -1.5, 1.0, 0.5]]])
    return case_of(fmt, arrays, L=7 if conv else 6, order=3, conj_half=True)


_conv_witness = partial(_witness, conv=True)


_x = partial(full, dt=torch.complex128)
_SSM = {"Lambda": _x(2, 4, fill=-1.0), "B": _x(2, 4), "C": _x(2, 4), "log_dt": full(2, fill=0.0)}


KERNEL = registry.register_spec(
    Spec(
        name="liquid_kernel", family="kernels",
        summary="Liquid-S4 kernels K_p = (2·)Re Σ_n C_n B̄_n^p Ā_n^l (kb) or its l = 0 tap (pb)",
        signature="liquid_kernel(Lambda (H, N), B, C (H, N), log_dt (H,), L, order, method='pb', "
                  "conj_half=True) -> K (order, H, L) real",
        methods=impl.METHODS, dtypes=S4D_DTYPES, sizes=("H", "N", "L", "order"), outputs=("K",),
        strategy=kernel_cases, **KERNEL_REFERENCED,
        call=caller("Lambda", "B", "C", "log_dt", "L", "order", keywords=("conj_half",),
                    real=("log_dt",), real_out="K"),
        # H = 256, N = 64 (S4D-Lin), L = 4096, order 3, as `diag_kernel`'s benchmark
        bench_case=lambda fmt: Case(s4d_bench_arrays(fmt, 256, 64)[1], fmt,
                                    {"L": 4096, "order": 3, "conj_half": True}),
        bench_shape="H=256, N=64, L=4096, order 3, S4D-Lin",
    ),
    implementations={"torch": impl.liquid_kernel},
    laws=[
        Law("order_one_is_s4d", "K_1 = diag_kernel(…, 'bilinear')", kernel_order_one, S4D_DTYPES),
        Law("pb_is_kb_lag_zero", "pb's K_p = kb's K_p at l = 0 (within both bounds), "
            "exactly 0 after", pb_is_kb_lag_zero, S4D_DTYPES),
    ],
    mutants=[
        Mutant("code_sum_contraction", partial(_powered, power=_code_power), "pb",
               ("c128", "fp32"), "the public code's dB ← dB ⊙ Σ dB (over the 2N "
               "conjugate-doubled states) in place of B̄^p", _witness),
        Mutant("bbar_not_powered", partial(_powered, power=lambda b, p, ch: b), "kb",
               ("c128", "fp32"), "B̄ instead of B̄^p in the order-p kernel", _witness),
    ],
    bad_inputs=bad_calls({**_SSM, "L": 8, "order": 2}, [
        ("order zero", "order", ValueError, {"order": 0}),
        ("B of another shape", "B", ValueError, {"B": _x(2, 5)}),
        ("L zero", "L", ValueError, {"L": 0}),
    ], generic=dict(real=("log_dt",))),  # and the generic rows (docs/bad-input.md)
)

CONV = registry.register_spec(
    Spec(
        name="liquid_conv", family="convolution",
        summary="Liquid-S4 output y = Σ_p K_p ∗ c_p, c_p[t] = u_t·u_(t−1)···u_(t−p+1) (runs) or "
                "c_(p−1)[t]·c_(p−1)[t−1] (the code's binomial products)",
        signature="liquid_conv(u (B, H, L), Lambda (H, N), B, C (H, N), log_dt (H,), order, "
                  "method='pb', conj_half=True, correlation='runs'|'binomial') -> y (B, H, L)",
        methods=impl.METHODS, dtypes=S4D_DTYPES, sizes=("B", "H", "N", "L", "order"),
        outputs=("y",), strategy=conv_cases,
        references={"mp": lambda case, m: {"y": ref_mp.liquid_conv(*_cargs(case, m))},
                    "np": lambda case, m: {"y": conv_terms(case, m)[0]}},
        reference_tier=_conv_tier,
        bound=Bound(
            c={m: C_BOUND for m in impl.METHODS}, terms=lk.with_bound_terms("y", conv_terms),
            norms={"y": "row"},
            reasoning="per signal, 2-norm; FFT's ‖K‖₁‖c‖₂ + ‖K‖₂‖c‖₁ plus the kernels' errors",
        ),
        call=call_conv, bench_case=_bench_conv, bench_shape="B=2, H=64, N=64, L=2048, order 3",
    ),
    implementations={"torch": impl.liquid_conv},
    laws=[
        lk.agreement("binomial_is_runs_to_order_two",
                     "correlation='binomial' = 'runs' at order ≤ 2", S4D_DTYPES, "liquid_conv",
                     _runs_and_binomial, "binomial vs runs at order ≤ 2"),
        Law("order_one_is_s4d", "order 1: y = causal_conv(u, diag_kernel(bilinear))",
            order_one_is_s4d, S4D_DTYPES),
        Law("written_out_sums", "y = Σ_p Σ_m K_p[t − m]·Π_j u[m − j] written out (L ≤ 12)",
            _written_out(ref_np.liquid_conv_written_out, 12, None, "{method}: y vs the written-out "
                         "correlation sums"), ("c128", "fp64")),
        Law("liquid_recurrence_runs", "kb: y = the run terms of the unrolled "
            "x_k = (Ā + B̄u_k)x_(k−1) + B̄u_k (L ≤ 8)",
            _written_out(ref_np.liquid_recurrence_runs, 8, "runs", "kb vs the liquid recurrence's "
                         "run terms", method="kb"), ("c128", "fp64")),
    ],
    mutants=[
        Mutant("flipped_correlation", partial(_conv_variant, flip=True), "pb", ("c128", "fp32"),
               "the public code's flipped correlation sequence (not causal)", _conv_witness),
        Mutant("binomial_for_runs", lambda *args, correlation="runs", **kw: impl.liquid_conv(
            *args, **kw, correlation="binomial"), "kb", ("c128", "fp32"),
               "the code's binomial products c_(p−1)[t]·c_(p−1)[t−1] where the runs are asked for",
               _conv_witness),
        Mutant("correlation_unshifted", _conv_variant, "kb", ("c128", "fp32"),
               "c_p = u_t^p: the lags of the correlation factors dropped", _conv_witness),
    ],
    bad_inputs=bad_calls({"u": full(1, 2, 8), **_SSM, "order": 2}, [
        ("u of other channels", "u", ValueError, {"u": full(1, 3, 8)}),
        ("order zero", "order", ValueError, {"order": 0}),
    ], generic=dict(anchor="Lambda", real=("u", "log_dt"))),  # and the generic rows
)

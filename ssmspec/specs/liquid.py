"""Specs of Liquid-S4's liquid kernels: `liquid_kernel` and `liquid_conv`, each declared with
its laws, mutants and bad inputs in one `register_spec` call.

The definitions, the convention ssmspec implements and where the public code differs from the
paper, the two correlations (`runs`, the paper's; `binomial`, the code's), the bounds and their
growth terms, the strategies and the sources are in docs/kernels.md#liquid_kernel and
docs/convolution.md#liquid_conv.
"""

from __future__ import annotations

import math

import numpy as np
import torch
from hypothesis import strategies as st

from ssmspec.impl import convolution as conv_impl
from ssmspec.impl import kernels as kernels_impl
from ssmspec.impl import liquid as impl
from ssmspec.reference.mp import liquid as ref_mp
from ssmspec.reference.np import liquid as ref_np
from ssmspec.speckit import *  # noqa: F403 (the spec vocabulary)
from ssmspec.specs.kernels import diag_cases, s4d_bench_arrays

DTYPES = ("c128", "c64", "fp64", "fp32")
C_BOUND = 4.0
MP_MAX = 512
MP_CONV = 4000


@st.composite
def kernel_cases(draw, fmt: str, method: str = "pb", length=None, max_order: int = 3) -> Case:
    lengths = length if length is not None else sequence_lengths(1025, 16385)
    base = draw(diag_cases(fmt, "bilinear", length=lengths))
    return Case(base.arrays, fmt,
                {**base.params, "order": draw(size("order", st.integers(1, max_order)))})


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
    return Case({**base.arrays, "u": representable(u, fmt)}, fmt,
                {**base.params, "correlation": correlation})


def _correlation(case: Case) -> dict:
    """{'correlation': 'binomial'} for the code's variant, else {} (so an implementation without
    the option is called as before on the paper's runs)."""
    kind = case.params.get("correlation", "runs")
    return {} if kind == "runs" else {"correlation": kind}


def _params(case: Case, device: str):
    return (case.tensor("Lambda", device), case.tensor("B", device), case.tensor("C", device),
            case.tensor("log_dt", device, real=True))


def _as_format(out, case: Case, what: str):
    """The real output checked to be Λ's real dtype, handed back in the case's format (exact)."""
    d = dtype(case.dtype)
    want = real_of(d).torch
    if not isinstance(out, torch.Tensor) or out.dtype != want:
        got = out.dtype if isinstance(out, torch.Tensor) else type(out).__name__
        raise TypeError(f"{what}: expected the real dtype {want} of Lambda, got {got}")
    return out.to(d.torch) if d.is_complex else out


def call_kernel(fn, case: Case, method: str, device: str):
    p = case.params
    K = fn(*_params(case, device), p["L"], p["order"], method=method, conj_half=p["conj_half"])
    return _as_format(K, case, "K")


def call_conv(fn, case: Case, method: str, device: str):
    p = case.params
    y = fn(case.tensor("u", device, real=True), *_params(case, device), p["order"], method=method,
           conj_half=p["conj_half"], **_correlation(case))
    return _as_format(y, case, "y")


def _kargs(case: Case):
    a, p = case.arrays, case.params
    return a["Lambda"], a["B"], a["C"], a["log_dt"], p["L"], p["order"]


def _cargs(case: Case):
    a, p = case.arrays, case.params
    return a["u"], a["Lambda"], a["B"], a["C"], a["log_dt"], p["order"]


def kernel_terms(case: Case, method: str):
    return ref_np.liquid_kernel_with_bound(*_kargs(case), method, case.params["conj_half"])


def conv_terms(case: Case, method: str):
    return ref_np.liquid_conv_with_bound(*_cargs(case), method, case.params["conj_half"],
                                         case.params.get("correlation", "runs"))


def _kernel_terms(case: Case, method: str, d=None) -> dict[str, Terms]:
    _, M, G = kernel_terms(case, method)
    return {"K": Terms(G, M)}


def _conv_terms(case: Case, method: str, d=None) -> dict[str, Terms]:
    _, M, G = conv_terms(case, method)
    return {"y": Terms(G, M)}


KERNEL_REFERENCES = TwoTier(
    mp=lambda case, m: {"K": ref_mp.liquid_kernel(*_kargs(case), m, case.params["conj_half"])},
    np=lambda case, m: {"K": kernel_terms(case, m)[0]},
    mp_max_work=MP_MAX,
    work=lambda case: case.params["order"] * case.arrays["Lambda"].size * case.params["L"])


def _conv_tier(case: Case) -> str:
    """mpmath while the kernels are (KERNEL_REFERENCES) and batch·H·order·L² ≤ MP_CONV."""
    Bn, H, L = case.arrays["u"].shape
    small = Bn * H * case.params["order"] * L * L <= MP_CONV
    return "mp" if small and KERNEL_REFERENCES.tier(case) == "mp" else "np"


def _bench_kernel(fmt: str) -> Case:
    """H = 256, N = 64 (S4D-Lin), L = 4096, order 3, as `diag_kernel`'s benchmark."""
    _, arrs = s4d_bench_arrays(fmt, 256, 64)
    return Case(arrs, fmt, {"L": 4096, "order": 3, "conj_half": True})


def _bench_conv(fmt: str) -> Case:
    """batch 2, H = 64, N = 64 (S4D-Lin), L = 2048, order 3."""
    rng, arrs = s4d_bench_arrays(fmt, 64, 64)
    u = rng.normal(size=(2, 64, 2048))
    return Case({**arrs, "u": representable(u, fmt)}, fmt,
                {"L": 2048, "order": 3, "conj_half": True})




# --- laws -------------------------------------------------------------------------------------


def _np(x):
    return to_numpy(x)


def _real_fmt(fmt: str) -> str:
    return {"c128": "fp64", "c64": "fp32"}.get(fmt, fmt)


def order_one_is_s4d(ctx: LawContext) -> None:
    case = ctx.draw(conv_cases(ctx.dtype, max_order=1, correlation="runs"))
    Lam, B, C, log_dt = _params(case, ctx.device)
    p = case.params
    y = ctx.fn(case.tensor("u", ctx.device, real=True), Lam, B, C, log_dt, 1,
               conj_half=p["conj_half"])
    Kd = kernels_impl.diag_kernel(Lam, B, C, log_dt, p["L"], "bilinear", p["conj_half"])
    want = conv_impl.causal_conv(case.tensor("u", ctx.device, real=True), Kd)
    _, M, G = conv_terms(case, "pb")
    tol = 2 * higham_bound(C_BOUND, _real_fmt(ctx.dtype), G, M)
    err = np.sqrt((abs_error(_np(y), _np(want)) ** 2).sum(-1))
    assert_within(err, np.zeros_like(err), tol,
                  "order 1 vs causal_conv(diag_kernel) (2-norm per signal)")


def kernel_order_one(ctx: LawContext) -> None:
    case = ctx.draw(kernel_cases(ctx.dtype, max_order=3))
    Lam, B, C, log_dt = _params(case, ctx.device)
    p = case.params
    K = ctx.fn(Lam, B, C, log_dt, p["L"], p["order"], method="kb", conj_half=p["conj_half"])
    Kd = kernels_impl.diag_kernel(Lam, B, C, log_dt, p["L"], "bilinear", p["conj_half"])
    _, M, G = kernel_terms(case, "kb")
    tol = 2 * higham_bound(C_BOUND, _real_fmt(ctx.dtype), G[0], M[0])
    assert_within(_np(K[0]), _np(Kd), tol, "K_1 vs diag_kernel(bilinear)")


def _literal(case: Case, method: str):
    """y by the written-out sums in complex128: K_p[l] = f·Re Σ_n C B̄^p Ā^l with Ā^l by
    repeated multiplication, then Σ_p Σ_m K_p[t − m]·Π_(j<p) u[m − j]^e_j (e_j = 1 for runs,
    binom(p − 1, j) for the binomial products)."""
    a, prm = case.arrays, case.params
    u = a["u"]
    Bn, H, L = u.shape
    dt = np.exp(a["log_dt"])[:, None]
    z = dt * a["Lambda"].astype(complex)
    abar, bbar = (1 + z / 2) / (1 - z / 2), dt * a["B"] / (1 - z / 2)
    f = 2.0 if prm["conj_half"] else 1.0
    binomial = prm.get("correlation", "runs") == "binomial"
    y = np.zeros((Bn, H, L))
    for p in range(1, prm["order"] + 1):
        K = np.zeros((H, L))
        pw = np.ones_like(abar)
        for l in range(L):
            if p == 1 or method == "kb" or l == 0:
                K[:, l] = f * np.real(np.sum(a["C"] * bbar**p * pw, axis=-1))
            pw = pw * abar
        for t in range(L):
            for m in range(p - 1, t + 1):
                prod = np.prod([u[..., m - j] ** (1 if binomial is False else math.comb(p - 1, j))
                                for j in range(p)], axis=0)
                y[..., t] += K[:, t - m] * prod
    return y


def written_out_sums(ctx: LawContext) -> None:
    method = ctx.draw(ctx.methods(impl.METHODS))
    case = ctx.draw(conv_cases(ctx.dtype, method, length=st.integers(1, 12)))
    y = _np(CONV.call(ctx.fn, case, method, ctx.device)).real
    _, M, G = conv_terms(case, method)
    tol = CONV.bound(case, method)["y"] + higham_bound(C_BOUND, "fp64", G, M) * 4
    err = np.sqrt((abs_error(y, _literal(case, method)) ** 2).sum(-1))
    assert_within(err, np.zeros_like(err), tol,
                  f"{method}: y vs the written-out correlation sums (2-norm per signal)")


def _runs_of_recurrence(case: Case):
    """Σ over runs S = {m − p + 1 … m} ⊆ {0 … t} of the unrolled liquid recurrence's terms
    C·Ā^(t − min S + 1 − |S|)·B̄^|S|·Π_(s∈S) u_s, enumerated as subsets (float64)."""
    a, prm = case.arrays, case.params
    u = a["u"]
    Bn, H, L = u.shape
    dt = np.exp(a["log_dt"])[:, None]
    z = dt * a["Lambda"].astype(complex)
    abar, bbar = (1 + z / 2) / (1 - z / 2), dt * a["B"] / (1 - z / 2)
    f = 2.0 if prm["conj_half"] else 1.0
    y = np.zeros((Bn, H, L))
    for t in range(L):
        for lo in range(t + 1):
            for hi in range(lo, min(t, lo + prm["order"] - 1) + 1):
                S = range(lo, hi + 1)
                k = len(S)
                coef = f * np.real(np.sum(a["C"] * bbar**k * abar ** (t - lo + 1 - k), axis=-1))
                y[..., t] += coef * np.prod([u[..., s] for s in S], axis=0)
    return y


def liquid_recurrence_runs(ctx: LawContext) -> None:
    case = ctx.draw(conv_cases(ctx.dtype, "kb", length=st.integers(1, 8), correlation="runs"))
    y = _np(CONV.call(ctx.fn, case, "kb", ctx.device)).real
    _, M, G = conv_terms(case, "kb")
    tol = CONV.bound(case, "kb")["y"] + higham_bound(C_BOUND, "fp64", G, M) * 4
    err = np.sqrt((abs_error(y, _runs_of_recurrence(case)) ** 2).sum(-1))
    assert_within(err, np.zeros_like(err), tol,
                  "kb vs the liquid recurrence's run terms (2-norm per signal)")


def pb_is_kb_lag_zero(ctx: LawContext) -> None:
    case = ctx.draw(kernel_cases(ctx.dtype))
    pb = _np(KERNEL.call(ctx.fn, case, "pb", ctx.device)).real
    kb = _np(KERNEL.call(ctx.fn, case, "kb", ctx.device)).real
    assert np.array_equal(pb[0], kb[0]), "order 1 differs between pb and kb"
    # the same sum, in another order (kb's runs through the Vandermonde matmul): both bounds
    tol = KERNEL.bound(case, "pb")["K"][1:, :, 0] + KERNEL.bound(case, "kb")["K"][1:, :, 0]
    assert_within(pb[1:, :, 0], kb[1:, :, 0], tol, "pb's K_p(0) vs kb's")
    assert not np.any(pb[1:, :, 1:]), "pb's K_p is not zero after lag 0"


def binomial_is_runs_to_order_two(ctx: LawContext) -> None:
    """The code's binomial products c_(p−1)[t]·c_(p−1)[t−1] are the runs for p ≤ 2: at order
    ≤ 2 both correlations give the same y (within both bounds)."""
    method = ctx.draw(ctx.methods(impl.METHODS))
    runs = ctx.draw(conv_cases(ctx.dtype, method, max_order=2, correlation="runs"))
    binomial = Case(runs.arrays, ctx.dtype, {**runs.params, "correlation": "binomial"})
    y_r = _np(CONV.call(ctx.fn, runs, method, ctx.device)).real
    y_b = _np(CONV.call(ctx.fn, binomial, method, ctx.device)).real
    tol = CONV.bound(runs, method)["y"] + CONV.bound(binomial, method)["y"]
    err = np.sqrt((abs_error(y_b, y_r) ** 2).sum(-1))
    assert_within(err, np.zeros_like(err), tol,
                  "binomial vs runs at order ≤ 2 (2-norm per signal)")


KERNEL_LAWS = [
    Law("order_one_is_s4d", "K_1 = diag_kernel(…, 'bilinear')", kernel_order_one, DTYPES),
    Law("pb_is_kb_lag_zero", "pb's K_p = kb's K_p at l = 0 (within both bounds), exactly 0 after",
        pb_is_kb_lag_zero, DTYPES),
]
CONV_LAWS = [
    Law("binomial_is_runs_to_order_two", "correlation='binomial' = 'runs' at order ≤ 2",
        binomial_is_runs_to_order_two, DTYPES),
    Law("order_one_is_s4d", "order 1: y = causal_conv(u, diag_kernel(bilinear))",
        order_one_is_s4d, DTYPES),
    Law("written_out_sums", "y = Σ_p Σ_m K_p[t − m]·Π_j u[m − j] written out (L ≤ 12)",
        written_out_sums, ("c128", "fp64")),
    Law("liquid_recurrence_runs", "kb: y = the run terms of the unrolled "
        "x_k = (Ā + B̄u_k)x_(k−1) + B̄u_k (L ≤ 8)", liquid_recurrence_runs, ("c128", "fp64")),
]


# --- mutants ----------------------------------------------------------------------------------


def _powered(Lambda, B, C, log_dt, L, order, method, conj_half, power):
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


def code_sum_contraction(Lambda, B, C, log_dt, L, order, method="pb", conj_half=True):
    return _powered(Lambda, B, C, log_dt, L, order, method, conj_half, _code_power)


def bbar_not_powered(Lambda, B, C, log_dt, L, order, method="pb", conj_half=True):
    return _powered(Lambda, B, C, log_dt, L, order, method, conj_half, lambda b, p, ch: b)


def flipped_correlation(u, Lambda, B, C, log_dt, order, method="pb", conj_half=True,
                        correlation="runs"):
    """The code's `torch.flip(u_corr, [-1])`: orders ≥ 2 scale the time-reversed products."""
    y1 = impl.liquid_conv(u, Lambda, B, C, log_dt, 1, method, conj_half)
    K = impl.liquid_kernel(Lambda, B, C, log_dt, u.shape[-1], order, "pb", conj_half)
    c = impl.correlations(u, order, correlation)
    return y1 + sum(K[p, :, :1] * c[p].flip(-1) for p in range(1, order))


def binomial_for_runs(u, Lambda, B, C, log_dt, order, method="pb", conj_half=True,
                      correlation="runs"):
    """The code's binomial products where the paper's runs are asked for (order 3:
    u_t·u_(t−1)²·u_(t−2) for u_t·u_(t−1)·u_(t−2))."""
    return impl.liquid_conv(u, Lambda, B, C, log_dt, order, method, conj_half, "binomial")


def correlation_unshifted(u, Lambda, B, C, log_dt, order, method="pb", conj_half=True,
                          correlation="runs"):
    """c_p = u_t^p (the lag of each factor dropped)."""
    y1 = impl.liquid_conv(u, Lambda, B, C, log_dt, 1, method, conj_half)
    K = impl.liquid_kernel(Lambda, B, C, log_dt, u.shape[-1], order, method, conj_half)
    out = y1
    for p in range(1, order):
        out = out + conv_impl.causal_conv(u ** (p + 1), K[p])
    return out


def _witness_arrays(fmt: str):
    lam, B, C = np.array([[-0.5, -2.0]]), np.array([[1.0, 1.5]]), np.array([[0.75, -1.25]])
    if dtype(fmt).is_complex:
        lam, B, C = lam + 1j * np.array([[math.pi, 0.0]]), B + 0.5j, C.astype(complex)
    return {"Lambda": representable(lam, fmt), "B": representable(B, fmt),
            "C": representable(C, fmt),
            "log_dt": representable(np.array([math.log(0.5)]), fmt)}


def _kernel_witness(fmt: str) -> Case:
    return Case(_witness_arrays(fmt), fmt, {"L": 6, "order": 3, "conj_half": True})


def _conv_witness(fmt: str) -> Case:
    u = np.array([[[1.0, -0.5, 2.0, 0.25, -1.5, 1.0, 0.5]]])
    return Case({**_witness_arrays(fmt), "u": representable(u, fmt)}, fmt,
                {"L": 7, "order": 3, "conj_half": True})


KERNEL_MUTANTS = [
    Mutant("code_sum_contraction", code_sum_contraction, "pb", ("c128", "fp32"),
           "the public code's dB ← dB ⊙ Σ dB (over the 2N conjugate-doubled states) in place of "
           "B̄^p", _kernel_witness),
    Mutant("bbar_not_powered", bbar_not_powered, "kb", ("c128", "fp32"),
           "B̄ instead of B̄^p in the order-p kernel", _kernel_witness),
]
CONV_MUTANTS = [
    Mutant("flipped_correlation", flipped_correlation, "pb", ("c128", "fp32"),
           "the public code's flipped correlation sequence (not causal)", _conv_witness),
    Mutant("binomial_for_runs", binomial_for_runs, "kb", ("c128", "fp32"),
           "the code's binomial products c_(p−1)[t]·c_(p−1)[t−1] where the runs are asked for",
           _conv_witness),
    Mutant("correlation_unshifted", correlation_unshifted, "kb", ("c128", "fp32"),
           "c_p = u_t^p: the lags of the correlation factors dropped", _conv_witness),
]


# --- bad input --------------------------------------------------------------------------------


def _x(*shape, dt=torch.complex128):
    return torch.ones(shape, dtype=dt)


def _k(f, **kw):
    args = dict(Lambda=-_x(2, 4), B=_x(2, 4), C=_x(2, 4),
                log_dt=torch.zeros(2, dtype=torch.float64), L=8, order=2)
    args.update(kw)
    return f(args.pop("Lambda"), args.pop("B"), args.pop("C"), args.pop("log_dt"),
             args.pop("L"), args.pop("order"), **args)


def _c(f, **kw):
    args = dict(u=torch.ones(1, 2, 8, dtype=torch.float64), Lambda=-_x(2, 4), B=_x(2, 4),
                C=_x(2, 4), log_dt=torch.zeros(2, dtype=torch.float64), order=2)
    args.update(kw)
    return f(args.pop("u"), args.pop("Lambda"), args.pop("B"), args.pop("C"), args.pop("log_dt"),
             args.pop("order"), **args)


BAD_INPUTS = [  # (primitive, name, the argument named, the error, the call)
    ("liquid_kernel", "order zero", "order", ValueError, lambda f: _k(f, order=0)),
    ("liquid_kernel", "order a float", "order", TypeError, lambda f: _k(f, order=2.0)),
    ("liquid_kernel", "unknown method", "method", ValueError, lambda f: _k(f, method="zoh")),
    ("liquid_kernel", "B of another shape", "B", ValueError, lambda f: _k(f, B=_x(2, 5))),
    ("liquid_kernel", "log_dt complex", "log_dt", TypeError, lambda f: _k(f, log_dt=_x(2))),
    ("liquid_kernel", "L zero", "L", ValueError, lambda f: _k(f, L=0)),
    ("liquid_conv", "u 2-d", "u", ValueError,
     lambda f: _c(f, u=torch.ones(2, 8, dtype=torch.float64))),
    ("liquid_conv", "u complex", "u", TypeError, lambda f: _c(f, u=_x(1, 2, 8))),
    ("liquid_conv", "u float32 beside c128", "u", TypeError,
     lambda f: _c(f, u=torch.ones(1, 2, 8, dtype=torch.float32))),
    ("liquid_conv", "u of other channels", "u", ValueError,
     lambda f: _c(f, u=torch.ones(1, 3, 8, dtype=torch.float64))),
    ("liquid_conv", "order zero", "order", ValueError, lambda f: _c(f, order=0)),
    ("liquid_conv", "unknown method", "method", ValueError, lambda f: _c(f, method="polyb")),
]


# --- the primitives ---------------------------------------------------------------------------

KERNEL = registry.register_spec(
    Spec(
        name="liquid_kernel",
        family="kernels",
        summary="Liquid-S4 kernels K_p = (2·)Re Σ_n C_n B̄_n^p Ā_n^l (kb) or its l = 0 tap (pb)",
        signature="liquid_kernel(Lambda (H, N), B, C (H, N), log_dt (H,), L, order, method='pb', "
                  "conj_half=True) -> K (order, H, L) real",
        methods=impl.METHODS,
        dtypes=DTYPES,
        sizes=("H", "N", "L", "order"),
        outputs=("K",),
        strategy=lambda fmt, method: kernel_cases(fmt, method),
        references=KERNEL_REFERENCES,
        bound=Bound(
            c={m: C_BOUND for m in impl.METHODS}, terms=_kernel_terms,
            reasoning="elementwise; diag_kernel's bound with W_p = C·B̄^p and p + 2 more roundings",
        ),
        call=call_kernel,
        bench_case=_bench_kernel,
        bench_shape="H=256, N=64, L=4096, order 3, S4D-Lin",
    ),
    implementations={"torch": impl.liquid_kernel},
    laws=KERNEL_LAWS,
    mutants=KERNEL_MUTANTS,
    bad_inputs=[row[1:] for row in BAD_INPUTS if row[0] == "liquid_kernel"],
)

CONV = registry.register_spec(
    Spec(
        name="liquid_conv",
        family="convolution",
        summary="Liquid-S4 output y = Σ_p K_p ∗ c_p, c_p[t] = u_t·u_(t−1)···u_(t−p+1) (runs) or "
                "c_(p−1)[t]·c_(p−1)[t−1] (the code's binomial products)",
        signature="liquid_conv(u (B, H, L), Lambda (H, N), B, C (H, N), log_dt (H,), order, "
                  "method='pb', conj_half=True, correlation='runs'|'binomial') -> y (B, H, L)",
        methods=impl.METHODS,
        dtypes=DTYPES,
        sizes=("B", "H", "N", "L", "order"),
        outputs=("y",),
        strategy=lambda fmt, method: conv_cases(fmt, method),
        references={"mp": lambda case, m: {"y": ref_mp.liquid_conv(
            *_cargs(case), m, case.params["conj_half"], case.params.get("correlation", "runs"))},
                    "np": lambda case, m: {"y": conv_terms(case, m)[0]}},
        reference_tier=_conv_tier,
        bound=Bound(
            c={m: C_BOUND for m in impl.METHODS}, terms=_conv_terms,
            norms={"y": "row"},
            reasoning="per signal, 2-norm; FFT's ‖K‖₁‖c‖₂ + ‖K‖₂‖c‖₁ plus the kernels' errors",
        ),
        call=call_conv,
        bench_case=_bench_conv,
        bench_shape="B=2, H=64, N=64, L=2048, order 3",
    ),
    implementations={"torch": impl.liquid_conv},
    laws=CONV_LAWS,
    mutants=CONV_MUTANTS,
    bad_inputs=[row[1:] for row in BAD_INPUTS if row[0] == "liquid_conv"],
)

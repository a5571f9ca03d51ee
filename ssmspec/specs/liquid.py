"""Specs, laws and mutants of Liquid-S4's liquid kernels (issue 9, item 4): `liquid_kernel` and
`liquid_conv`. Definitions, the convention ssmspec implements and where the public code differs
from the paper are in `ssmspec.impl.liquid` (arXiv 2209.12951 §3; raminmh/liquid-s4
`src/models/sequence/ss/s4.py` at 06031dc, `liquid_kernel='polyb' | 'kb'`).

Bounds (`ssmspec.reference.np.liquid` computes M and G):
- `liquid_kernel`, elementwise per K_p[h, l]: the diagonal kernel's bound (`diag_kernel`,
  SPEC-NOTES §5) with W_p = C·B̄^p: G·M = f·Σ_n (N + 1 + (p + 2) + l·|log Ā_n|)·|W_p,n|·|Ā_n|^l,
  the p + 2 for B̄'s division and product and the p − 1 products of the power; c = 4 (as
  `diag_kernel`). 'pb' orders ≥ 2: the l = 0 tap, exact zeros after.
- `liquid_conv`, per signal (b, h) in the 2-norm (its convolutions are FFTs, SPEC-NOTES §6):
  M = Σ_p (‖K_p‖₁‖c_p‖₂ + ‖K_p‖₂‖c_p‖₁ + ‖M_p ∗ |c_p|‖₂), G = 1 + log₂n + max G_p + order; c = 4.
  The third term carries the kernels' own error through the convolution, G's `order` the
  roundings of the correlation products.
Measured (built-in, CPU, 20 strategy cases per method and format, CI lengths): kernels
err/bound ≤ 0.33 (c128), 0.20 (fp64), 0.055 (c64, fp32); output ≤ 0.026 (c128), 0.013 (fp64),
0.008 (c64, fp32). Benchmarks: kernels 0.41 (fp64), 0.013 (c64); output 1e-4 (fp64), 1e-6
(c64): the norm-wise FFT bound is loose on random data, as `causal_conv`'s.

Strategies: `diag_kernel`'s (H ≤ 3, N ≤ 8, S4D-Lin / random stable / real Λ, Δ in [1e-4, 1] with
1e-6 and 10), method bilinear, order 1 … 3; kernels L up to 1025 (16385 nightly); conv batch ≤
2, L up to 257 (4097 nightly: the long-double direct reference is O(L²)), u N(0, 1)-like with
exact zeros. Reference tier: mpmath while order·H·N·L ≤ 512 (conv: and batch·H·order·L² ≤ 4000),
long double above (certified in tests/test_reference_liquid.py).

Correlations: `liquid_conv` takes `correlation='runs'` (the paper's, the default) or
`'binomial'` (the code's `upgrade_degree`, c_p[t] = c_(p−1)[t]·c_(p−1)[t−1]), with its own
references (mpmath: the factors raised to binom(p − 1, j); long double: the same recursion) and
2^(p−1) − 1 product roundings in the bound; a quarter of the conv cases draw it.

Laws: `binomial_is_runs_to_order_two` (the two correlations agree at order ≤ 2);
`order_one_is_s4d` (K_1 = diag_kernel(…, 'bilinear'); liquid_conv at order 1 =
causal_conv(u, diag_kernel)); `written_out_sums` (order ≥ 2 on L ≤ 12: y equals the literal sums
Σ_p Σ_m K_p[t − m]·Π_j u[m − j] with K_p = C·Ā^l·B̄^p by repeated multiplication, float64);
`liquid_recurrence_runs` (kb: order-p output equals the run terms of the unrolled liquid
recurrence, enumerated in float64 on L ≤ 8); `pb_is_kb_lag_zero` (pb's K_p is kb's K_p at l = 0
within both bounds, exactly 0 after).
Mutants: `code_sum_contraction` (the public code's B̄ ⊙ ΣB̄ "power", the sum over the 2N
conjugate-doubled states as the code's `_conj(B)`), `binomial_for_runs` (the code's binomial
products where the runs are asked for), `bbar_not_powered` (B̄ instead of B̄^p),
`flipped_correlation` (the code's flipped correlation sequence), `correlation_unshifted`
(u_t^p instead of u_t·u_(t−1)···).
"""

from __future__ import annotations

import math

import numpy as np
import torch
from hypothesis import strategies as st

from ssmspec import registry
from ssmspec.dtypes import dtype, real_of
from ssmspec.errors import abs_error, higham_bound, ratio
from ssmspec.harness import to_numpy
from ssmspec.impl import convolution as conv_impl
from ssmspec.impl import kernels as kernels_impl
from ssmspec.impl import liquid as impl
from ssmspec.reference.mp import liquid as ref_mp
from ssmspec.reference.np import liquid as ref_np
from ssmspec.spec import BadInput, Bound, Case, Implementation, Law, LawContext, Mutant, Spec
from ssmspec.specs.kernels import diag_cases, s4d_bench_arrays
from ssmspec.strategies import arrays, real_normals, representable, sequence_lengths, size

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


def _kernel_tier(case: Case) -> str:
    H, N = case.arrays["Lambda"].shape
    return "mp" if case.params["order"] * H * N * case.params["L"] <= MP_MAX else "np"


def _conv_tier(case: Case) -> str:
    Bn, H, L = case.arrays["u"].shape
    small = Bn * H * case.params["order"] * L * L <= MP_CONV
    return "mp" if small and _kernel_tier(case) == "mp" else "np"


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


KERNEL = registry.register_spec(Spec(
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
    references={"mp": lambda case, m: {"K": ref_mp.liquid_kernel(*_kargs(case), m,
                                                                 case.params["conj_half"])},
                "np": lambda case, m: {"K": kernel_terms(case, m)[0]}},
    reference_tier=_kernel_tier,
    bound=Bound(
        c={m: C_BOUND for m in impl.METHODS},
        magnitude=lambda case, method: {"K": kernel_terms(case, method)[1]},
        growth=lambda case, method: {"K": kernel_terms(case, method)[2]},
        reasoning="elementwise; diag_kernel's bound with W_p = C·B̄^p and p + 2 more roundings",
    ),
    call=call_kernel,
    bench_case=_bench_kernel,
    bench_shape="H=256, N=64, L=4096, order 3, S4D-Lin",
))
CONV = registry.register_spec(Spec(
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
        c={m: C_BOUND for m in impl.METHODS},
        magnitude=lambda case, method: {"y": conv_terms(case, method)[1]},
        growth=lambda case, method: {"y": conv_terms(case, method)[2]},
        norms={"y": "row"},
        reasoning="per signal, 2-norm; FFT's ‖K‖₁‖c‖₂ + ‖K‖₂‖c‖₁ plus the kernels' errors",
    ),
    call=call_conv,
    bench_case=_bench_conv,
    bench_shape="B=2, H=64, N=64, L=2048, order 3",
))
registry.register_implementation(Implementation("liquid_kernel", "torch", impl.liquid_kernel))
registry.register_implementation(Implementation("liquid_conv", "torch", impl.liquid_conv))


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
    r = ratio(err, tol)
    assert np.all(r <= 1), f"order 1 vs causal_conv(diag_kernel): err/tol {r.max():.3g}"


def kernel_order_one(ctx: LawContext) -> None:
    case = ctx.draw(kernel_cases(ctx.dtype, max_order=3))
    Lam, B, C, log_dt = _params(case, ctx.device)
    p = case.params
    K = ctx.fn(Lam, B, C, log_dt, p["L"], p["order"], method="kb", conj_half=p["conj_half"])
    Kd = kernels_impl.diag_kernel(Lam, B, C, log_dt, p["L"], "bilinear", p["conj_half"])
    _, M, G = kernel_terms(case, "kb")
    tol = 2 * higham_bound(C_BOUND, _real_fmt(ctx.dtype), G[0], M[0])
    r = ratio(abs_error(_np(K[0]), _np(Kd)), tol)
    assert np.all(r <= 1), f"K_1 vs diag_kernel(bilinear): err/tol {r.max():.3g}"


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
    r = ratio(err, tol)
    assert np.all(r <= 1), f"{method}: y vs the written-out correlation sums, err/tol {r.max():.3g}"


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
    r = ratio(err, tol)
    assert np.all(r <= 1), f"kb vs the liquid recurrence's run terms: err/tol {r.max():.3g}"


def pb_is_kb_lag_zero(ctx: LawContext) -> None:
    case = ctx.draw(kernel_cases(ctx.dtype))
    pb = _np(KERNEL.call(ctx.fn, case, "pb", ctx.device)).real
    kb = _np(KERNEL.call(ctx.fn, case, "kb", ctx.device)).real
    assert np.array_equal(pb[0], kb[0]), "order 1 differs between pb and kb"
    # the same sum, in another order (kb's runs through the Vandermonde matmul): both bounds
    tol = KERNEL.bound(case, "pb")["K"][1:, :, 0] + KERNEL.bound(case, "kb")["K"][1:, :, 0]
    r = ratio(abs_error(pb[1:, :, 0], kb[1:, :, 0]), tol)
    assert np.all(r <= 1), f"pb's K_p(0) differs from kb's: err/tol {r.max():.3g}"
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
    r = ratio(np.sqrt((abs_error(y_b, y_r) ** 2).sum(-1)), tol)
    assert np.all(r <= 1), f"binomial vs runs at order ≤ 2: err/tol {r.max():.3g}"


for _law in (
    Law("liquid_conv", "binomial_is_runs_to_order_two", "correlation='binomial' = 'runs' at "
        "order ≤ 2", binomial_is_runs_to_order_two, DTYPES),
    Law("liquid_conv", "order_one_is_s4d", "order 1: y = causal_conv(u, diag_kernel(bilinear))",
        order_one_is_s4d, DTYPES),
    Law("liquid_kernel", "order_one_is_s4d", "K_1 = diag_kernel(…, 'bilinear')",
        kernel_order_one, DTYPES),
    Law("liquid_conv", "written_out_sums", "y = Σ_p Σ_m K_p[t − m]·Π_j u[m − j] written out "
        "(L ≤ 12)", written_out_sums, ("c128", "fp64")),
    Law("liquid_conv", "liquid_recurrence_runs", "kb: y = the run terms of the unrolled "
        "x_k = (Ā + B̄u_k)x_(k−1) + B̄u_k (L ≤ 8)", liquid_recurrence_runs, ("c128", "fp64")),
    Law("liquid_kernel", "pb_is_kb_lag_zero", "pb's K_p = kb's K_p at l = 0 "
        "(within both bounds), exactly 0 after",
        pb_is_kb_lag_zero, DTYPES),
):
    registry.register_law(_law)


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


for _m in (
    Mutant("liquid_kernel", "code_sum_contraction", code_sum_contraction, "pb", ("c128", "fp32"),
           "the public code's dB ← dB ⊙ Σ dB (over the 2N conjugate-doubled states) in place of "
           "B̄^p", _kernel_witness),
    Mutant("liquid_kernel", "bbar_not_powered", bbar_not_powered, "kb", ("c128", "fp32"),
           "B̄ instead of B̄^p in the order-p kernel", _kernel_witness),
    Mutant("liquid_conv", "flipped_correlation", flipped_correlation, "pb", ("c128", "fp32"),
           "the public code's flipped correlation sequence (not causal)", _conv_witness),
    Mutant("liquid_conv", "binomial_for_runs", binomial_for_runs, "kb", ("c128", "fp32"),
           "the code's binomial products c_(p−1)[t]·c_(p−1)[t−1] where the runs are asked for",
           _conv_witness),
    Mutant("liquid_conv", "correlation_unshifted", correlation_unshifted, "kb", ("c128", "fp32"),
           "c_p = u_t^p: the lags of the correlation factors dropped", _conv_witness),
):
    registry.register_mutant(_m)


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


for _prim, _name, _arg, _err, _call in [
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
]:
    registry.register_bad_input(BadInput(_prim, _name, _arg, _err, _call))

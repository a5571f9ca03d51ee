"""Laws and mutants of the selective scan (SPEC-NOTES §7).

Laws (`ctx.fn` the implementation, `ctx.impl_of` the same family's others):
- selective_scan/lti_equals_convolution: with Δ constant per channel, B, C time-invariant and no
  softplus/bias/z, the scan is the LTI system: y = causal_conv(u, diag_kernel(A, B, C, log Δ, L,
  method, conj_half), D) (direct convolution, method matched, conj_half passed explicitly to both).
  Tolerance: both scans' bounds (the second covers Δ = exp(log Δ) rounded once more) plus the
  kernel's bound and the direct sum's 2u(t + 1) rounding, convolved with |u|.
- selective_scan/layouts_agree: time-invariant B, C written out as grouped with G = D, and per-step
  B, C as grouped with G = 1, give the same y and last state (within the sum of the two bounds).
- selective_scan/split: scanning x[:k], then x[k:] from the last state (`initial_state`, an
  ssmspec extension), equals scanning x; tolerance: the three calls' bounds plus the first part's
  last-state bound propagated through the second part (the reference on absolute values with
  B = 0 and h0 = that bound).
- selective_scan/zoh_is_exact_recurrence: `zoh` equals the float64 recurrence h_t = Ā_t h_{t−1} +
  B̄_t u_t with (Ā_t, B̄_t) from the implementation's own `discretize_diag(method='zoh')` at each
  Δ_t (time-invariant B, C); tolerance: the scan's bound plus the per-step discretisation's
  (4u(1 + |z|) relative in Ā and B̄, propagated as the fp64 running error).

Mutants:
- softplus_twice: Δ = softplus(softplus(Δ + bias)).
- bias_after_softplus: Δ = softplus(Δ) + bias (Mamba adds it before).
- no_factor_two: complex A read as Re(C·h) without Mamba's factor 2 (conj_half ignored).
"""

from __future__ import annotations

import math

import numpy as np
import torch
import torch.nn.functional as F
from hypothesis import strategies as st

from ssmspec import registry
from ssmspec.dtypes import dtype
from ssmspec.errors import abs_error, higham_bound, ratio
from ssmspec.harness import to_numpy
from ssmspec.impl import selective as impl
from ssmspec.reference.np import selective as ref_np
from ssmspec.spec import Case, Law, LawContext, Mutant
from ssmspec.specs.kernels import DIAG, diag_bound_terms
from ssmspec.specs.selective import METHODS, SELECTIVE, SSD, selective_cases, ssd_cases
from ssmspec.strategies import log_uniform, representable

LAW_DTYPES = ("fp64", "fp32", "c128", "c64")
SHORT = st.sampled_from([1, 2, 3, 7, 8, 9, 31, 32, 33, 65])


def _run(fn, case: Case, method: str, device: str):
    y, h = SELECTIVE.call(fn, case, method, device)
    return to_numpy(y).real, to_numpy(h)


def _check(got, want, tol, what):
    r = ratio(abs_error(got, want), tol)
    at = np.unravel_index(r.argmax(), r.shape) if r.size else ()
    assert np.all(r <= 1), f"{what}: err/tol {r.max():.3g} at {at}"


def _with(case: Case, drop=(), **changes) -> Case:
    arrays = {k: x for k, x in case.arrays.items() if k not in drop}
    params = dict(case.params)
    for k, x in changes.items():
        (params if k in ("delta_softplus", "conj_half") else arrays)[k] = x
    return Case(arrays, case.dtype, params)


# --- laws -------------------------------------------------------------------------------------


def lti_equals_convolution(ctx: LawContext) -> None:
    fmt, draw = ctx.dtype, ctx.draw
    method = draw(ctx.methods(METHODS))
    case = draw(selective_cases(fmt, method, length=SHORT, layout="invariant",
                                optional={"D"} if draw(st.booleans()) else set(),
                                softplus=False))
    b, Dn, L = case.arrays["u"].shape
    log_dt = representable(np.log([draw(log_uniform(1e-4, 1.0)) for _ in range(Dn)]), fmt)
    delta = representable(np.broadcast_to(np.exp(log_dt)[None, :, None], (b, Dn, L)), fmt)
    conj = dtype(fmt).is_complex
    case = _with(case, delta=delta, conj_half=conj)
    y, _ = _run(ctx.fn, case, method, ctx.device)
    A = case.arrays["A"]
    kcase = Case({"Lambda": A, "B": case.arrays["B"], "C": case.arrays["C"], "log_dt": log_dt},
                 fmt, {"L": L, "conj_half": conj})
    K = DIAG.call(ctx.impl_of("diag_kernel"), kcase, method, ctx.device)
    rdt = K.real.dtype if K.is_complex() else K.dtype
    u = case.tensor("u", ctx.device)
    Dv = case.tensor("D", ctx.device) if "D" in case.arrays else None
    got = to_numpy(ctx.impl_of("causal_conv")(u, K.real.to(rdt) if K.is_complex() else K, Dv,
                                              method="direct"))
    Kb = DIAG.bound(kcase, method)["K"]
    MK = diag_bound_terms(kcase, method)[0]
    uf = dtype(fmt).u
    Kerr = Kb + 2 * uf * (np.arange(L) + 1) * MK  # kernel error + the direct sum's roundings
    au = np.abs(case.arrays["u"])
    tol = 2 * SELECTIVE.bound(case, method)["y"]
    for i in range(b):
        for d in range(Dn):
            tol[i, d] += np.convolve(Kerr[d], au[i, d])[:L]
    if Dv is not None:
        tol = tol + 2 * uf * np.abs(case.arrays["D"][None, :, None] * au)
    _check(got, y, tol, f"{method}: selective scan (LTI) vs causal_conv(diag_kernel)")


def layouts_agree(ctx: LawContext) -> None:
    method = ctx.draw(ctx.methods(METHODS))
    layout = ctx.draw(st.sampled_from(["invariant", "step"]))
    case = ctx.draw(selective_cases(ctx.dtype, method, length=SHORT, layout=layout))
    b, Dn, L = case.arrays["u"].shape
    if layout == "invariant":
        grow = lambda X: np.broadcast_to(X[None, :, :, None], (b, Dn, X.shape[1], L))  # noqa: E731
    else:
        grow = lambda X: X[:, None]  # noqa: E731
    other = _with(case, B=grow(case.arrays["B"]), C=grow(case.arrays["C"]))
    y1, h1 = _run(ctx.fn, case, method, ctx.device)
    y2, h2 = _run(ctx.fn, other, method, ctx.device)
    b1, b2 = SELECTIVE.bound(case, method), SELECTIVE.bound(other, method)
    _check(y1, y2, b1["y"] + b2["y"], f"{method}: y, {layout} vs grouped")
    _check(h1, h2, b1["last_state"] + b2["last_state"], f"{method}: last state, {layout} vs "
           "grouped")


def _slice(case: Case, lo: int, hi: int, h0=None) -> Case:
    arrays = {}
    for k, x in case.arrays.items():
        if k in ("u", "delta", "z") or (k in ("B", "C") and x.ndim >= 3):
            x = x[..., lo:hi]
        arrays[k] = x
    if h0 is not None:
        arrays["initial_state"] = h0
    return Case(arrays, case.dtype, case.params)


def split(ctx: LawContext) -> None:
    method = ctx.draw(ctx.methods(METHODS))
    case = ctx.draw(selective_cases(ctx.dtype, method, length=SHORT.filter(lambda n: n > 1)))
    L = case.arrays["u"].shape[-1]
    k = ctx.draw(st.integers(1, L - 1))
    first = _slice(case, 0, k)
    y1, h1 = _run(ctx.fn, first, method, ctx.device)
    second = _slice(case, k, L, h1.astype(case.arrays["A"].dtype))
    y2, h2 = _run(ctx.fn, second, method, ctx.device)
    y, h = _run(ctx.fn, case, method, ctx.device)
    bf, b1, b2 = (SELECTIVE.bound(c, method) for c in (case, first, second))
    # the first part's state error, carried through the second part by |Ā| and read by |C|
    prop = _with(second, drop=("D",), B=np.zeros_like(second.arrays["B"]),
                 initial_state=b1["last_state"].astype(case.arrays["A"].dtype))
    _, _, My, _, Mh, _ = ref_np.selective_scan_with_bound(
        *(prop.arrays[n] for n in ("u", "delta", "A", "B", "C")), None,
        prop.arrays.get("z"), prop.arrays.get("delta_bias"), prop.params["delta_softplus"],
        method, prop.params["conj_half"], prop.arrays["initial_state"])
    tol_y = bf["y"] + np.concatenate([b1["y"], b2["y"] + My * (1 + 2 * dtype(ctx.dtype).u)],
                                     axis=-1)
    _check(np.concatenate([y1, y2], axis=-1), y, tol_y, f"{method}: y split at {k} of {L}")
    _check(h2, h, bf["last_state"] + b2["last_state"] + Mh * (1 + 2 * dtype(ctx.dtype).u),
           f"{method}: last state split at {k} of {L}")


def zoh_is_exact_recurrence(ctx: LawContext) -> None:
    ctx.require("zoh")
    case = ctx.draw(selective_cases(ctx.dtype, "zoh", length=SHORT, layout="invariant"))
    a = case.arrays
    b, Dn, L = a["u"].shape
    dt, _ = ref_np.step_sizes(a["delta"], a.get("delta_bias"), case.params["delta_softplus"])
    wide = torch.complex128 if np.iscomplexobj(a["A"]) else torch.float64
    # Δ rounded to the format as the implementation forms it: the law compares the recurrence,
    # not the softplus
    dt_fmt = representable(dt, ctx.dtype)
    full = (b, Dn, L, a["A"].shape[1])
    A64 = torch.as_tensor(np.array(np.broadcast_to(a["A"][None, :, None], full)), dtype=wide)
    B64 = torch.as_tensor(np.array(np.broadcast_to(a["B"][None, :, None], A64.shape)),
                          dtype=wide)
    abar, bbar = (to_numpy(t) for t in ctx.impl_of("discretize_diag")(
        A64, B64, torch.as_tensor(dt_fmt, dtype=torch.float64), method="zoh"))
    f = 2.0 if (np.iscomplexobj(a["A"]) if case.params["conj_half"] is None
                else case.params["conj_half"]) else 1.0
    h = np.zeros((b, Dn, a["A"].shape[1]), dtype=abar.dtype)
    if "initial_state" in a:
        h = h + a["initial_state"]
    want = np.empty((b, Dn, L))
    for t in range(L):
        h = abar[:, :, t] * h + bbar[:, :, t] * a["u"][..., t, None]
        want[..., t] = f * np.real(np.sum(a["C"][None] * h, axis=-1))
    if "D" in a:
        want = want + a["D"][None, :, None] * a["u"]
    if "z" in a:
        want = want * ref_np.silu(a["z"])
    y, _ = _run(ctx.fn, case, "zoh", ctx.device)
    M, G = SELECTIVE.bound.magnitude(case, "zoh")["y"], SELECTIVE.bound.growth(case, "zoh")["y"]
    tol = 2 * SELECTIVE.bound(case, "zoh")["y"] + higham_bound(8.0, "fp64", G, M)
    _check(y, want, tol, "zoh vs the recurrence of discretize_diag(zoh)")


for _law in (
    Law("selective_scan", "lti_equals_convolution", "constant Δ, time-invariant B, C: the scan is "
        "causal_conv(u, diag_kernel(A, B, C, log Δ)) + D·u", lti_equals_convolution, LAW_DTYPES),
    Law("selective_scan", "layouts_agree", "time-invariant = grouped (G = D), per step = grouped "
        "(G = 1)", layouts_agree, LAW_DTYPES),
    Law("selective_scan", "split", "scan(x[:k]) then scan(x[k:], h0 = last state) = scan(x)",
        split, LAW_DTYPES),
    Law("selective_scan", "zoh_is_exact_recurrence", "zoh = the recurrence of "
        "discretize_diag(zoh) per step", zoh_is_exact_recurrence, LAW_DTYPES),
):
    registry.register_law(_law)


# --- mutants ----------------------------------------------------------------------------------


def softplus_twice(u, delta, A, B, C, D=None, z=None, delta_bias=None, delta_softplus=False,
                   **kw):
    if delta_softplus:
        x = delta if delta_bias is None else delta + delta_bias[:, None]
        delta, delta_bias = F.softplus(x.float()).to(delta.dtype), None
    return impl.selective_scan(u, delta, A, B, C, D, z, delta_bias, delta_softplus, **kw)


def bias_after_softplus(u, delta, A, B, C, D=None, z=None, delta_bias=None,
                        delta_softplus=False, **kw):
    if delta_softplus and delta_bias is not None:
        delta = (F.softplus(delta.float()) + delta_bias.float()[:, None]).to(delta.dtype)
        delta_bias, delta_softplus = None, False
    return impl.selective_scan(u, delta, A, B, C, D, z, delta_bias, delta_softplus, **kw)


def no_factor_two(*args, conj_half=None, **kw):
    return impl.selective_scan(*args, conj_half=False, **kw)


def _witness(fmt: str) -> Case:
    """batch 1, D 2, N 2, L 6, per-step B, C, softplus with a bias, D and z."""
    rng = np.random.default_rng(3)
    cplx = dtype(fmt).is_complex
    A = np.array([[-1.0, -2.0], [-0.5, -3.0]])
    if cplx:
        A = A + 1j * np.array([[math.pi, 0.5], [2.0, 0.0]])
    B, C = rng.normal(size=(1, 2, 6)), rng.normal(size=(1, 2, 6))
    if cplx:
        B, C = B + 0.5j, C - 0.25j
    arrs = {"u": rng.normal(size=(1, 2, 6)), "delta": rng.normal(-1, 1, (1, 2, 6)), "A": A,
            "B": B, "C": C, "D": np.array([0.5, -1.0]), "z": rng.normal(size=(1, 2, 6)),
            "delta_bias": np.array([1.0, -0.5])}
    return Case({k: representable(x, fmt) for k, x in arrs.items()}, fmt,
                {"delta_softplus": True, "conj_half": None})


for _m in (
    Mutant("selective_scan", "softplus_twice", softplus_twice, "zoh_approx", ("fp32", "c64"),
           "Δ = softplus(softplus(Δ + bias))", _witness),
    Mutant("selective_scan", "bias_after_softplus", bias_after_softplus, "zoh_approx",
           ("fp32", "bf16"), "Δ = softplus(Δ) + bias instead of softplus(Δ + bias)", _witness),
    Mutant("selective_scan", "no_factor_two", no_factor_two, "zoh_approx", ("c64", "c128"),
           "complex A: Re(C·h) without the factor 2 of the conjugate-half convention", _witness),
):
    registry.register_mutant(_m)


# --- ssd_scan ---------------------------------------------------------------------------------


def _ssd_run(fn, case: Case, device: str):
    return tuple(to_numpy(t) for t in SSD.call(fn, case, "chunked", device))


def ssd_chunk_invariance(ctx: LawContext) -> None:
    case = ctx.draw(ssd_cases(ctx.dtype, chunk=16))
    outs, bounds = [], []
    for Q in (16, 32, 64):
        c = Case(case.arrays, case.dtype, {"chunk_size": Q})
        outs.append(_ssd_run(ctx.fn, c, ctx.device))
        bounds.append(SSD.bound(c, "chunked"))
    for i, k in ((1, "y"), (2, "y")):
        _check(outs[i][0], outs[0][0], bounds[i][k] + bounds[0][k], f"y: chunk {16 * 2**i} vs 16")
        _check(outs[i][1], outs[0][1], bounds[i]["final_states"] + bounds[0]["final_states"],
               f"final states: chunk {16 * 2**i} vs 16")


def ssd_is_selective_scan(ctx: LawContext) -> None:
    """SSD with heads of headdim P = the selective scan over D = H·P channels with A constant
    per head, Δ repeated over the head's P channels, B, C grouped (G groups of H·P/G channels:
    channel h·P + p falls in group h // (H/G), SSD's head-to-group map), zoh_approx."""
    case = ctx.draw(ssd_cases(ctx.dtype, initial=False))
    a = case.arrays
    b, L, H, P = a["x"].shape
    N = a["B"].shape[-1]
    sel = Case({"u": a["x"].reshape(b, L, H * P).transpose(0, 2, 1),
                "delta": np.repeat(a["dt"], P, axis=2).transpose(0, 2, 1),
                "A": np.repeat(a["A"], P)[:, None] * np.ones((1, N)),
                "B": a["B"].transpose(0, 2, 3, 1), "C": a["C"].transpose(0, 2, 3, 1)},
               case.dtype, {"delta_softplus": False, "conj_half": None})
    y_ssd, f_ssd = _ssd_run(ctx.fn, case, ctx.device)
    y_sel, h_sel = _run(ctx.impl_of("selective_scan"), sel, "zoh_approx", ctx.device)
    tol = (SSD.bound(case, "chunked")["y"]
           + SELECTIVE.bound(sel, "zoh_approx")["y"].transpose(0, 2, 1).reshape(b, L, H, P))
    _check(y_ssd, y_sel.transpose(0, 2, 1).reshape(b, L, H, P), tol, "y: ssd vs selective scan")
    tolf = (SSD.bound(case, "chunked")["final_states"]
            + SELECTIVE.bound(sel, "zoh_approx")["last_state"].reshape(b, H, P, N))
    _check(f_ssd, h_sel.reshape(b, H, P, N), tolf, "final states: ssd vs selective scan")


for _law in (
    Law("ssd_scan", "chunk_invariance", "chunk sizes 16, 32, 64 agree", ssd_chunk_invariance,
        ("fp64", "fp32")),
    Law("ssd_scan", "is_selective_scan", "SSD = selective scan (zoh_approx) with A constant per "
        "head and B, C grouped per head", ssd_is_selective_scan, ("fp64", "fp32")),
):
    registry.register_law(_law)


def _factorised_segsum(a):
    """The mutant's segment sums, exp(cumsum_i)·exp(−cumsum_j) written as a log: each factor is
    exponentiated on its own (the low-rank form), so exp(−cumsum_j) overflows to inf and
    exp(cumsum_i) underflows to 0 once |cumsum| > ~88 (fp32) / ~709 (fp64): 0·inf = NaN."""
    cs = torch.cumsum(a, dim=-1)
    prod = torch.exp(cs)[..., :, None] * torch.exp(-cs)[..., None, :]
    Q = a.shape[-1]
    lower = torch.tril(torch.ones(Q, Q, dtype=torch.bool, device=a.device))
    return torch.log(prod).masked_fill(~lower, -torch.inf)


def ssd_cumsum_decay(x, dt, A, B, C, chunk_size=64, initial_states=None,
                     return_final_states=False, method="chunked"):
    y, final = impl._ssd(x, dt, A, B, C, chunk_size, initial_states, _factorised_segsum)
    return (y, final) if return_final_states else y


def _ssd_witness(fmt: str) -> Case:
    """chunk 256, L = 256, Δ = 10, a = −1 (cumsum to −2560 within one chunk)."""
    rng = np.random.default_rng(5)
    arrs = {"x": rng.normal(size=(1, 256, 2, 2)), "dt": np.full((1, 256, 2), 10.0),
            "A": np.array([-1.0, -0.5]), "B": rng.normal(size=(1, 256, 1, 2)),
            "C": rng.normal(size=(1, 256, 1, 2))}
    return Case({k: representable(v_, fmt) for k, v_ in arrs.items()}, fmt, {"chunk_size": 256})


registry.register_mutant(Mutant(
    "ssd_scan", "cumsum_decay", ssd_cumsum_decay, "chunked", ("fp32", "fp64"),
    "decay exp(cumsum_i)·exp(−cumsum_j) instead of exp(segsum): overflow at long chunks with "
    "large Δ·|a|", _ssd_witness))

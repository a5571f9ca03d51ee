"""Laws and mutants of S5's scan (SPEC-NOTES §2, §4, §7).

Laws (`ctx.fn` the implementation, `ctx.impl_of` the same family's others):
- s5_scan/conj_sym_equals_full: conj_sym=True on (Λ, B, C, h0) equals conj_sym=False on the full
  representation ([Λ, Λ*], [B; B*], [C, C*], [h0, h0*], log_step twice): Re(C x + C* x*) =
  2·Re(C x). Tolerance: the sum of the two calls' bounds (y, and the first P states).
- s5_scan/split: scanning u[:, :k], then u[:, k:] from the last state (`h0`, and `return_state`:
  ssmspec's extension, S5 has neither), equals scanning u. Tolerance: the three calls' bounds
  plus the first part's last-state bound carried through the second part (the reference on
  absolute values with B = 0, D = 0 and h0 = that bound).
- s5_scan/single_input_is_selective_scan: H = 1 and one Δ for every state: S5 is Mamba's
  selective scan with one channel, N = P states, A = Λ, time-invariant B = B[:, 0], C = C[0],
  Δ constant in time, the same method and conj_half = conj_sym. Tolerance: twice S5's bound
  (the second copy covers Δ = exp(log_step) rounded to the format for the selective scan's
  delta: S5's bound already admits a perturbation of Δ by ρ = 2 units) plus the selective scan's.
- s5_scan/zoh_bilinear_agree_small_step: with |ΔΛ| ≤ 1e-2, zoh and bilinear differ by at most the
  propagated Padé(1,1) error (O(|z|³) in Λ̄, O(Δ|z|²) in B̄ per step; constants in the function),
  plus both calls' bounds.

Mutants:
- s5_official_zoh: S5's `discretize_zoh`, B̄ = (Λ̄ − 1)/Λ·B after rounding Λ̄ = exp(ΔΛ):
  cancellation at small |ΔΛ| (relative error ~u/|ΔΛ| in B̄). Witness: Δ = 1e-4 … 1e-6.
- no_factor_two: Re(C x) without the factor 2 of conj_sym.
"""

from __future__ import annotations

import numpy as np
import torch
from hypothesis import strategies as st

from ssmspec import registry
from ssmspec.dtypes import dtype
from ssmspec.errors import abs_error, ratio
from ssmspec.harness import to_numpy
from ssmspec.impl import s5 as impl
from ssmspec.reference.np import s5 as ref_np
from ssmspec.spec import Case, Law, LawContext, Mutant
from ssmspec.specs.s5 import METHODS, S5, s5_cases
from ssmspec.specs.selective import SELECTIVE
from ssmspec.strategies import representable

LAW_DTYPES = ("c128", "c64")
SHORT = st.sampled_from([1, 2, 3, 7, 8, 31, 32, 33, 65])


def _run(fn, case: Case, method: str, device: str):
    y, x = S5.call(fn, case, method, device)
    return to_numpy(y).real, to_numpy(x)


def _check(got, want, tol, what):
    r = ratio(abs_error(got, want), tol)
    at = np.unravel_index(r.argmax(), r.shape) if r.size else ()
    assert np.all(r <= 1), f"{what}: err/tol {r.max():.3g} at {at}"


def conj_sym_equals_full(ctx: LawContext) -> None:
    method = ctx.draw(ctx.methods(METHODS))
    case = ctx.draw(s5_cases(ctx.dtype, method, length=SHORT, conj_sym=True))
    a = case.arrays
    P = a["Lambda"].shape[0]
    full = {"u": a["u"], "Lambda": np.concatenate([a["Lambda"], a["Lambda"].conj()]),
            "B": np.concatenate([a["B"], a["B"].conj()]),
            "C": np.concatenate([a["C"], a["C"].conj()], axis=1), "D": a["D"],
            "log_step": np.concatenate([a["log_step"], a["log_step"]])}
    if "h0" in a:
        full["h0"] = np.concatenate([a["h0"], a["h0"].conj()], axis=1)
    other = Case(full, case.dtype, {"conj_sym": False})
    y1, x1 = _run(ctx.fn, case, method, ctx.device)
    y2, x2 = _run(ctx.fn, other, method, ctx.device)
    b1, b2 = S5.bound(case, method), S5.bound(other, method)
    _check(y1, y2, b1["y"] + b2["y"], f"{method}: y, conj_sym vs the full representation")
    _check(x1, x2[:, :P], b1["last_state"] + b2["last_state"][:, :P],
           f"{method}: last state, conj_sym vs the full representation")


def _part(case: Case, lo: int, hi: int, h0=None) -> Case:
    arrays = dict(case.arrays, u=case.arrays["u"][:, lo:hi])
    if h0 is not None:
        arrays["h0"] = h0
    return Case(arrays, case.dtype, case.params)


def split(ctx: LawContext) -> None:
    method = ctx.draw(ctx.methods(METHODS))
    case = ctx.draw(s5_cases(ctx.dtype, method, length=SHORT.filter(lambda n: n > 1)))
    L = case.arrays["u"].shape[1]
    k = ctx.draw(st.integers(1, L - 1))
    first = _part(case, 0, k)
    y1, x1 = _run(ctx.fn, first, method, ctx.device)
    second = _part(case, k, L, x1)
    y2, x2 = _run(ctx.fn, second, method, ctx.device)
    y, x = _run(ctx.fn, case, method, ctx.device)
    bf, b1, b2 = (S5.bound(c, method) for c in (case, first, second))
    # the first part's state error, carried through the second part by |Λ̄| and read by |C|
    s = second.arrays
    _, _, My, _, Mx, _ = ref_np.s5_scan_with_bound(
        s["u"], s["Lambda"], np.zeros_like(s["B"]), s["C"], None, s["log_step"], method,
        case.params["conj_sym"], b1["last_state"].astype(np.complex128))
    grow = 1 + 2 * dtype(ctx.dtype).u
    tol_y = bf["y"] + np.concatenate([b1["y"], b2["y"] + My * grow], axis=1)
    _check(np.concatenate([y1, y2], axis=1), y, tol_y, f"{method}: y split at {k} of {L}")
    _check(x2, x, bf["last_state"] + b2["last_state"] + Mx * grow,
           f"{method}: last state split at {k} of {L}")


def single_input_is_selective_scan(ctx: LawContext) -> None:
    method = ctx.draw(ctx.methods(METHODS))
    case = ctx.draw(s5_cases(ctx.dtype, method, length=SHORT, max_h=1))
    a = case.arrays
    b, L, _ = a["u"].shape
    P = a["Lambda"].shape[0]
    log_step = np.full(P, a["log_step"][0])
    case = Case(dict(a, log_step=log_step), case.dtype, case.params)
    sel = {"u": a["u"].transpose(0, 2, 1),
           "delta": representable(np.full((b, 1, L), np.exp(log_step[0])), ctx.dtype),
           "A": a["Lambda"][None], "B": a["B"][:, 0][None], "C": a["C"][0][None], "D": a["D"]}
    if "h0" in a:
        sel["initial_state"] = a["h0"][:, None]
    sel = Case(sel, case.dtype, {"delta_softplus": False, "conj_half": case.params["conj_sym"]})
    y, x = _run(ctx.fn, case, method, ctx.device)
    ys, xs = SELECTIVE.call(ctx.impl_of("selective_scan"), sel, method, ctx.device)
    ys, xs = to_numpy(ys).real.transpose(0, 2, 1), to_numpy(xs)[:, 0]
    bs, bsel = S5.bound(case, method), SELECTIVE.bound(sel, method)
    _check(y, ys, 2 * bs["y"] + bsel["y"].transpose(0, 2, 1), f"{method}: y, s5 vs selective")
    _check(x, xs, 2 * bs["last_state"] + bsel["last_state"][:, 0],
           f"{method}: last state, s5 vs selective")


def zoh_bilinear_agree_small_step(ctx: LawContext) -> None:
    """|ΔΛ| ≤ 1e-2 for every state: per step, with r = |z|/(4(1 − |z|/2)) (the tails of the two
    series, whose coefficients differ from the third power on and are each ≤ 2^(1−k)),
    |Λ̄_zoh − Λ̄_bil| ≤ |z|²·r and |B̄_zoh − B̄_bil| ≤ Δ·|z|·r·|B|; the difference of the states
    follows d_t = |Λ̄_zoh|·d_{t−1} + |δΛ̄|·m_{t−1} + |δB̄|·|u_t| (m: bilinear's magnitude), read by
    f·|C|. Tolerance: that, plus both calls' bounds."""
    ctx.require(*METHODS)
    case = ctx.draw(s5_cases(ctx.dtype, "zoh", length=SHORT))
    a = case.arrays
    lam = np.abs(a["Lambda"])
    dt = np.minimum(np.exp(a["log_step"]), 1e-2 / np.where(lam > 0, lam, 1.0))
    case = Case(dict(a, log_step=representable(np.log(dt), ctx.dtype)), case.dtype, case.params)
    a = case.arrays
    z = np.exp(a["log_step"]) * lam * (1 + 1e-6)  # the rounding of Δ, generously
    r = z / (4 * (1 - z / 2))
    dA, dB = z**2 * r, (np.exp(a["log_step"]) * (1 + 1e-6) * z * r)[:, None] * np.abs(a["B"])
    (az, _, _, _), (ab, sb, _, _) = (ref_np.discretize(a["Lambda"], a["B"], a["log_step"], m)
                                     for m in METHODS)
    az, ab = np.abs(az).astype(float), np.abs(ab).astype(float)
    mB = np.abs(sb).astype(float)[:, None] * np.abs(a["B"])
    f = 2.0 if case.params["conj_sym"] else 1.0
    m = np.abs(a["h0"]) if "h0" in a else np.zeros((a["u"].shape[0], lam.shape[0]))
    d, ydiff = np.zeros_like(m), np.empty(a["u"].shape)
    for t in range(a["u"].shape[1]):
        au = np.abs(a["u"][:, t])
        d = az * d + dA * m + au @ dB.T
        m = ab * m + au @ mB.T
        ydiff[:, t] = f * (d @ np.abs(a["C"]).T)
    (yz, xz), (yb, xb) = (_run(ctx.fn, case, m_, ctx.device) for m_ in METHODS)
    bz, bb = (S5.bound(case, m_) for m_ in METHODS)
    slack = 1 + 1e-3  # the float64 evaluation of the difference bound itself
    _check(yz, yb, bz["y"] + bb["y"] + ydiff * slack, "y: zoh vs bilinear at |ΔΛ| ≤ 1e-2")
    _check(xz, xb, bz["last_state"] + bb["last_state"] + d * slack,
           "last state: zoh vs bilinear at |ΔΛ| ≤ 1e-2")


for _law in (
    Law("s5_scan", "conj_sym_equals_full", "conj_sym on (Λ, B, C, h0) = no conj_sym on "
        "([Λ, Λ*], [B; B*], [C, C*], [h0, h0*])", conj_sym_equals_full, LAW_DTYPES),
    Law("s5_scan", "split", "scan(u[:k]) then scan(u[k:], h0 = last state) = scan(u)", split,
        LAW_DTYPES),
    Law("s5_scan", "single_input_is_selective_scan", "H = 1, one Δ: S5 = selective_scan with "
        "A = Λ, B = B[:, 0], C = C[0], conj_half = conj_sym", single_input_is_selective_scan,
        LAW_DTYPES),
    Law("s5_scan", "zoh_bilinear_agree_small_step", "|ΔΛ| ≤ 1e-2: zoh and bilinear differ by "
        "O(|ΔΛ|³) per step in Λ̄ and O(Δ|ΔΛ|²) in B̄", zoh_bilinear_agree_small_step, LAW_DTYPES),
):
    registry.register_law(_law)


# --- mutants ----------------------------------------------------------------------------------


def s5_official_zoh(u, Lambda, B, C, D, log_step, discretization="zoh", conj_sym=True, h0=None,
                    return_state=False):
    """S5's discretize_zoh: B̄ = (Λ̄ − 1)/Λ·B with Λ̄ = exp(ΔΛ) already rounded."""
    impl._check(u, Lambda, B, C, D, log_step, h0)
    abar = torch.exp(torch.exp(log_step) * Lambda)
    Bbar = ((abar - 1) / Lambda)[:, None] * B
    return impl.apply_ssm(u, abar, Bbar, C, D, conj_sym, h0, return_state)


def no_factor_two(*args, conj_sym=True, **kw):
    return impl.s5_scan(*args, conj_sym=False, **kw)


def _witness(small_steps: bool):
    def witness(fmt: str) -> Case:
        """batch 1, L 8, H 2, P 3, conj_sym; D = 0, so y shows the states' error."""
        rng = np.random.default_rng(7)
        dt = [1e-4, 1e-5, 1e-6] if small_steps else [0.1, 0.01, 0.5]
        arrs = {"u": rng.normal(size=(1, 8, 2)),
                "Lambda": np.array([-0.5 + 1j, -1.0 + 3j, -0.1 + 0.5j]),
                "B": rng.normal(size=(3, 2)) + 1j * rng.normal(size=(3, 2)),
                "C": rng.normal(size=(2, 3)) + 1j * rng.normal(size=(2, 3)),
                "D": np.zeros(2), "log_step": np.log(dt)}
        return Case({k: representable(x, fmt) for k, x in arrs.items()}, fmt, {"conj_sym": True})

    return witness


for _m in (
    Mutant("s5_scan", "s5_official_zoh", s5_official_zoh, "zoh", ("c64", "c128"),
           "S5's zoh: B̄ = (Λ̄ − 1)/Λ·B, cancellation at small |ΔΛ|", _witness(True)),
    Mutant("s5_scan", "no_factor_two", no_factor_two, "zoh", ("c64", "c128"),
           "Re(C x) without the factor 2 of conj_sym", _witness(False)),
):
    registry.register_mutant(_m)

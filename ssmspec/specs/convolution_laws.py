"""Laws and mutants of long convolution (SPEC-NOTES §5, §6).

Laws:
- fft_equals_direct: the two methods agree within the sum of their bounds (norm-wise per signal).
- linearity: y(αu₁ + βu₂) = α·y(u₁) + β·y(u₂) within the bounds of the three calls.
- causality: changing u[s:] leaves y[:s] unchanged: exactly for `direct`, within the FFT's
  norm-wise bound for `fft` (an FFT mixes every sample into every output's rounding).
- skip: y with D equals y without D plus D·u.
- bidirectional_parts: Mega's bidirectional sum = causal(u, k_f) + flip(causal(flip(u), k_b)).
- s4_is_shifted_mega: S4's convention with k_b equals Mega's with [0, k_b] (one lag later).

Mutants:
- circular_fft: FFT length max(L, L_K) — the convolution wraps around.
- fft_one_short: FFT length L + L_K − 2: only y[0] wraps (picks up K[L_K−1]·u[L−1]).
- correlation: the direct sum without flipping K (a cross-correlation).
- s4_as_mega: S4's bidirectional sum returned for convention='mega'.
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F
from hypothesis import strategies as st

from ssmspec import registry
from ssmspec.dtypes import REAL_DTYPES
from ssmspec.errors import norm_error, ratio
from ssmspec.harness import to_numpy
from ssmspec.impl import _validate as v
from ssmspec.impl import convolution as impl
from ssmspec.spec import Case, Law, LawContext, Mutant
from ssmspec.specs.convolution import BIDIRECTIONAL, CAUSAL, conv_cases
from ssmspec.strategies import representable

WIDE = ("fp64", "fp32")


def _row_bound(case: Case, method: str) -> np.ndarray:
    """The causal bound of `method` as a 2-norm per signal."""
    b = CAUSAL.bound(case, method)["y"]
    return b if method == "fft" else norm_error(np.broadcast_to(b, case.arrays["u"].shape), "row")


def _y(ctx_fn, case: Case, method: str, device: str) -> np.ndarray:
    return to_numpy(CAUSAL.call(ctx_fn, case, method, device))


def _assert_rows(diff_rows, tol_rows, what: str) -> None:
    r = ratio(diff_rows, tol_rows)
    assert np.all(r <= 1), f"{what}: {r.max():.3g} of the tolerance (diff {np.max(diff_rows):.3g})"


def fft_equals_direct(ctx: LawContext) -> None:
    case = ctx.draw(conv_cases(ctx.dtype))
    a, b = (_y(ctx.fn, case, m, ctx.device) for m in ("fft", "direct"))
    _assert_rows(norm_error(np.abs(a - b), "row"), _row_bound(case, "fft") +
                 _row_bound(case, "direct"), "fft vs direct")


def linearity(ctx: LawContext) -> None:
    fmt = ctx.dtype
    c1 = ctx.draw(conv_cases(fmt))
    rng = np.random.default_rng(ctx.draw(st.integers(0, 2**32 - 1)))
    alpha, beta = (float(representable(x, fmt)) for x in rng.normal(size=2))
    u2 = representable(rng.normal(size=c1.arrays["u"].shape), fmt)
    arrays = {k: a for k, a in c1.arrays.items() if k != "D"}
    mix = representable(alpha * arrays["u"] + beta * u2, fmt)
    cases = [Case({**arrays, "u": x}, fmt, c1.params) for x in (arrays["u"], u2, mix)]
    for method in ctx.covered(impl.METHODS):
        y1, y2, y12 = (_y(ctx.fn, c, method, ctx.device) for c in cases)
        # the mixed input is itself rounded: its distance from αu₁ + βu₂ enters through K
        shift = CAUSAL.reference(Case({**arrays, "u": mix - (alpha * arrays["u"] + beta * u2)},
                                      "fp64", c1.params), method, "np")["y"]
        diff = norm_error(np.abs(y12 - (alpha * y1 + beta * y2) - shift), "row")
        tol = (_row_bound(cases[2], method) + abs(alpha) * _row_bound(cases[0], method)
               + abs(beta) * _row_bound(cases[1], method)
               + 4 * np.finfo(np.float64).eps * norm_error(np.abs(alpha * y1) + np.abs(beta * y2),
                                                            "row"))
        _assert_rows(diff, tol, f"{method}: linearity")


def causality(ctx: LawContext) -> None:
    fmt = ctx.dtype
    case = ctx.draw(conv_cases(fmt))
    L = case.params["L"]
    s = ctx.draw(st.integers(0, L - 1))
    rng = np.random.default_rng(ctx.draw(st.integers(0, 2**32 - 1)))
    u2 = case.arrays["u"].copy()
    u2[..., s:] = representable(rng.normal(size=u2[..., s:].shape) * 100, fmt)
    changed = Case({**case.arrays, "u": u2}, fmt, case.params)
    for method in ctx.covered(impl.METHODS):
        y, y2 = (_y(ctx.fn, c, method, ctx.device) for c in (case, changed))
        if method == "direct":
            assert np.array_equal(y[..., :s], y2[..., :s]), f"direct: y[:{s}] moved"
        else:
            diff = norm_error(np.abs(y[..., :s] - y2[..., :s]), "row")
            _assert_rows(diff, _row_bound(case, method) + _row_bound(changed, method),
                         f"fft: y[:{s}] moved beyond the rounding")


def skip(ctx: LawContext) -> None:
    fmt = ctx.dtype
    case = ctx.draw(conv_cases(fmt))
    rng = np.random.default_rng(ctx.draw(st.integers(0, 2**32 - 1)))
    D = representable(rng.normal(size=case.arrays["u"].shape[1]), fmt)
    with_d = Case({**case.arrays, "D": D}, fmt, case.params)
    without = Case({k: a for k, a in case.arrays.items() if k != "D"}, fmt, case.params)
    for method in ctx.covered(impl.METHODS):
        y_d, y = (_y(ctx.fn, c, method, ctx.device) for c in (with_d, without))
        diff = norm_error(np.abs(y_d - y - D[None, :, None] * case.arrays["u"]), "row")
        _assert_rows(diff, _row_bound(with_d, method) + _row_bound(without, method),
                     f"{method}: D·u skip")


def _bidir(ctx: LawContext, case: Case, convention: str) -> np.ndarray:
    return to_numpy(BIDIRECTIONAL.call(ctx.fn, case, convention, ctx.device))


def bidirectional_parts(ctx: LawContext) -> None:
    fmt = ctx.dtype
    case = ctx.draw(conv_cases(fmt, bidirectional=True))
    a = case.arrays
    causal = ctx.impl_of("causal_conv")
    fwd = Case({"u": a["u"], "K": a["K_fwd"]}, fmt, case.params)
    bwd = Case({"u": a["u"][..., ::-1].copy(), "K": a["K_bwd"]}, fmt, case.params)
    parts = _y(causal, fwd, "fft", ctx.device) + _y(causal, bwd, "fft", ctx.device)[..., ::-1]
    if "D" in a:
        parts = parts + a["D"][None, :, None] * a["u"]
    y = _bidir(ctx, case, "mega")
    tol = BIDIRECTIONAL.bound(case, "mega")["y"] + _row_bound(fwd, "fft") + _row_bound(bwd, "fft")
    _assert_rows(norm_error(np.abs(y - parts), "row"), tol, "mega = causal + flipped causal")


def s4_is_shifted_mega(ctx: LawContext) -> None:
    fmt = ctx.dtype
    case = ctx.draw(conv_cases(fmt, bidirectional=True))
    a = case.arrays
    shifted = np.concatenate([np.zeros_like(a["K_bwd"][:, :1]), a["K_bwd"]], axis=1)
    # the forward kernel padded too, so both kernels keep one length
    mega = Case({**a, "K_fwd": np.pad(a["K_fwd"], ((0, 0), (0, 1))), "K_bwd": shifted}, fmt,
                {**case.params, "L_K": case.params["L_K"] + 1})
    y_s4, y_mega = _bidir(ctx, case, "s4"), _bidir(ctx, mega, "mega")
    tol = BIDIRECTIONAL.bound(case, "s4")["y"] + BIDIRECTIONAL.bound(mega, "mega")["y"]
    _assert_rows(norm_error(np.abs(y_s4 - y_mega), "row"), tol, "s4 = mega with k_b one lag later")


for _law in (
    Law("causal_conv", "fft_equals_direct", "FFT and direct sum agree within their bounds",
        fft_equals_direct, REAL_DTYPES),
    Law("causal_conv", "linearity", "y(αu₁ + βu₂) = α·y(u₁) + β·y(u₂)", linearity, WIDE),
    Law("causal_conv", "causality", "changing u[s:] leaves y[:s] (exactly, for direct)",
        causality, REAL_DTYPES),
    Law("causal_conv", "skip", "y(D) = y(no D) + D·u", skip, REAL_DTYPES),
    Law("bidirectional_conv", "parts", "mega = causal(u, k_f) + flip(causal(flip(u), k_b))",
        bidirectional_parts, REAL_DTYPES),
    Law("bidirectional_conv", "s4_is_shifted_mega", "s4(k_b) = mega([0, k_b])",
        s4_is_shifted_mega, REAL_DTYPES),
):
    registry.register_law(_law)


# --- mutants ------------------------------------------------------------------------------------


def _fft_with_length(u, K, D, n_of):
    work = v.work_dtype(u.dtype)
    uw, Kw = u.to(work), K.to(work)
    L, L_K = u.shape[-1], K.shape[-1]
    n = max(n_of(L, L_K), 1)
    y = torch.fft.irfft(torch.fft.rfft(uw, n=n) * torch.fft.rfft(Kw, n=n), n=n)
    y = F.pad(y, (0, max(L - n, 0)))[..., :L]
    if D is not None:
        y = y + D.to(work)[:, None] * uw
    return y.to(u.dtype)


def circular_fft(u, K, D=None, method="fft"):
    return _fft_with_length(u, K, D, lambda L, L_K: max(L, L_K))


def fft_one_short(u, K, D=None, method="fft"):
    return _fft_with_length(u, K, D, lambda L, L_K: L + L_K - 2)


def correlation(u, K, D=None, method="direct"):
    work = v.work_dtype(u.dtype)
    uw = u.to(work)
    y = F.conv1d(F.pad(uw, (K.shape[-1] - 1, 0)), K.to(work).unsqueeze(1), groups=u.shape[1])
    if D is not None:
        y = y + D.to(work)[:, None] * uw
    return y.to(u.dtype)


def s4_as_mega(u, K_fwd, K_bwd, D=None, convention="mega", method="fft"):
    return impl.bidirectional_conv(u, K_fwd, K_bwd, D, convention="s4", method=method)


def _flat_witness(fmt: str, bidirectional: bool = False) -> Case:
    """A non-decaying kernel and input of ones, L = L_K = 5: every wrap-around is visible."""
    arrays = {"u": np.ones((1, 1, 5)) * np.arange(1, 6)}
    for name in ("K_fwd", "K_bwd") if bidirectional else ("K",):
        arrays[name] = np.ones((1, 5))
    return Case({k: representable(a, fmt) for k, a in arrays.items()}, fmt,
                {"L": 5, "L_K": 5, "kernel": "flat"})


def _ramp_kernel_witness(fmt: str) -> Case:
    """K = (1, 2, 3): a kernel that is not symmetric, so flipping it shows."""
    return Case({"u": representable(np.array([[[1.0, 0.0, 0.0, 0.0]]]), fmt),
                 "K": representable(np.array([[1.0, 2.0, 3.0]]), fmt)}, fmt,
                {"L": 4, "L_K": 3, "kernel": "ramp"})


for _m in (
    Mutant("causal_conv", "circular_fft", circular_fft, "fft", REAL_DTYPES,
           "FFT of length max(L, L_K): circular convolution, the tail wraps onto the head",
           _flat_witness),
    Mutant("causal_conv", "fft_one_short", fft_one_short, "fft", REAL_DTYPES,
           "FFT of length L + L_K − 2: only y[0] wraps, by K[L_K−1]·u[L−1]", _flat_witness),
    Mutant("causal_conv", "correlation", correlation, "direct", REAL_DTYPES,
           "conv1d without flipping K: a cross-correlation", _ramp_kernel_witness),
    Mutant("bidirectional_conv", "s4_as_mega", s4_as_mega, "mega", REAL_DTYPES,
           "S4's bidirectional sum (lag 0 once, k_b one lag later) passed off as Mega's",
           lambda fmt: _flat_witness(fmt, bidirectional=True)),
):
    registry.register_mutant(_m)

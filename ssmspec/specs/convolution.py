"""Long convolution: `causal_conv` and `bidirectional_conv` — spec, bound, references, sweep,
implementations, laws, mutants and bad inputs. The mathematics, the bounds' derivation and the
conventions: docs/convolution.md#causal_conv and docs/convolution.md#bidirectional_conv.
"""

from __future__ import annotations

import functools

import numpy as np
import torch
import torch.nn.functional as F
from hypothesis import strategies as st

from ssmspec import profiles
from ssmspec.impl import _validate as v
from ssmspec.impl import convolution as impl
from ssmspec.reference.mp import convolution as ref_mp
from ssmspec.reference.np import convolution as ref_np
from ssmspec.speckit import *  # noqa: F403 (the spec vocabulary)
from ssmspec.specs._kernel_kit import laws, seeded, two_tier

MP_WORK = 20_000  # B·H·L·L_K up to which mpmath is the reference


# --- inputs ---------------------------------------------------------------------------------------


def _lengths():
    """L: a boundary length (`boundary_lengths`) or any length, up to 2^12 under the nightly
    profile, 2^10 otherwise."""
    longest = 2**12 if profiles.heavy() else 2**10
    return st.one_of(st.sampled_from(boundary_lengths(longest)), st.integers(1, longest))


def _kernel(rng, H: int, L_K: int, kind: str, slowest: float = 0.3) -> np.ndarray:
    if kind == "decay":
        a = rng.uniform(slowest, 0.999, (H, 1))
        return rng.normal(size=(H, 1)) * a ** np.arange(L_K)[None]
    return rng.normal(size=(H, L_K)) / np.sqrt(L_K)


def _names(bidirectional: bool) -> tuple[str, ...]:
    """The kernel arguments: K, or K_fwd and K_bwd."""
    return ("K_fwd", "K_bwd") if bidirectional else ("K",)


@st.composite
def conv_cases(draw, fmt: str, method: str = "fft", bidirectional: bool = False) -> Case:
    """u (B ≤ 2, H ≤ 3, L), decaying or white-noise kernels with L_K equal to L, shorter or
    longer, D half the time (docs/convolution.md#causal_conv, "Strategies")."""
    L = draw(size("L", _lengths()))
    rel = draw(st.sampled_from(["same", "shorter", "longer"]))
    L_K = {"same": L, "shorter": draw(st.integers(1, L)), "longer": L + draw(st.integers(1, 8))}[
        rel]
    Bn, H = draw(size("B", st.integers(1, 2), "batch")), draw(size("H", st.integers(1, 3)))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    kind = draw(st.sampled_from(["decay", "noise"]))
    arrays = {"u": rng.normal(size=(Bn, H, L))}
    arrays.update({name: _kernel(rng, H, L_K, kind) for name in _names(bidirectional)})
    if draw(st.booleans()):
        arrays["D"] = rng.normal(size=H)
    return case_of(fmt, arrays, L=L, L_K=L_K, kernel=kind)


def _work(case: Case) -> int:
    return int(np.prod(case.arrays["u"].shape)) * case.params["L_K"]


def _D(case: Case):
    return case.arrays.get("D")


def _bench(fmt: str, bidirectional: bool = False) -> Case:
    """B = 2, H = 64, L = L_K = 1024: small enough that the O(L·L_K) direct sum times in
    milliseconds on a CPU, so the report stays quick; the crossover study belongs to perf/."""
    rng = np.random.default_rng(0)
    u = rng.normal(size=(2, 64, 1024))
    kernels = {name: _kernel(rng, 64, 1024, "decay") for name in _names(bidirectional)}
    return case_of(fmt, {"u": u, **kernels}, L=1024, L_K=1024, kernel="decay")


def causal_sweep_problem(fmt: str, L: int) -> Case:
    """The sweep along L: B = 1, H = 4, decaying kernels, L_K = L (the direct sum and its
    reference are O(L²): up to 2^12, 2^14 nightly)."""
    rng = problem_rng()
    K = _kernel(rng, 4, L, "decay", slowest=0.9)
    return case_of(fmt, {"u": rng.normal(size=(1, 4, L)), "K": K}, L=L, L_K=L, kernel="decay")


# --- causal_conv: references, bound -----------------------------------------------------------


def _causal_terms(case: Case, method: str, d) -> dict:
    """fft: per signal, G = 1 + log₂ n, M the sup-norm magnitude; direct: elementwise,
    G_t = 2 + min(t + 1, L_K), M = |K| ∗ |u| + |D||u| (docs/convolution.md#causal_conv)."""
    u, K = case.arrays["u"], case.arrays["K"]
    L, L_K = case.params["L"], case.params["L_K"]
    if method == "fft":
        g = np.full(u.shape[:-1], 1.0 + np.log2(impl.fft_length(L, L_K)))
        return {"y": Terms(g, ref_np.fft_norm_magnitude(u, K, _D(case)))}
    g = np.broadcast_to(2.0 + np.minimum(np.arange(1, L + 1), L_K), u.shape)
    return {"y": Terms(g, ref_np.magnitude(u, K, _D(case)))}


def causal_bound_rows(case: Case, method: str) -> np.ndarray:
    """causal_conv's bound of `method` on `case` as a 2-norm per signal (b, h)."""
    b = CAUSAL.bound(case, method)["y"]
    return b if method == "fft" else norm_error(np.broadcast_to(b, case.arrays["u"].shape), "row")


def _y(fn, case: Case, method: str, device: str) -> np.ndarray:
    return to_numpy(CAUSAL.call(fn, case, method, device))


def _within_rows(diff: np.ndarray, tol_rows, what: str) -> None:
    """The 2-norm per signal of `diff` within `tol_rows`."""
    assert_within(norm_error(np.abs(diff), "row"), 0.0, tol_rows, what)


# --- causal_conv: laws --------------------------------------------------------------------------


def fft_equals_direct(ctx: LawContext) -> None:
    case = ctx.draw(conv_cases(ctx.dtype))
    a, b = (_y(ctx.fn, case, m, ctx.device) for m in ("fft", "direct"))
    _within_rows(a - b, causal_bound_rows(case, "fft") + causal_bound_rows(case, "direct"),
                 "fft vs direct")


def linearity(ctx: LawContext) -> None:
    fmt = ctx.dtype
    c1 = ctx.draw(conv_cases(fmt)).without("D")
    rng = seeded(ctx)
    alpha, beta = (float(representable(x, fmt)) for x in rng.normal(size=2))
    u1 = c1.arrays["u"]
    u2 = representable(rng.normal(size=u1.shape), fmt)
    mix = representable(alpha * u1 + beta * u2, fmt)
    cases = [c1.with_(u=x) for x in (u1, u2, mix)]
    # the mixed input is itself rounded: its distance from αu₁ + βu₂ enters through K
    rounding = c1.with_(u=mix - (alpha * u1 + beta * u2), dtype="fp64")
    for method in ctx.covered(impl.METHODS):
        y1, y2, y12 = (_y(ctx.fn, c, method, ctx.device) for c in cases)
        shift = CAUSAL.reference(rounding, method, "np")["y"]
        b1, b2, b12 = (causal_bound_rows(c, method) for c in cases)
        tol = (b12 + abs(alpha) * b1 + abs(beta) * b2
               + 4 * np.finfo(np.float64).eps * norm_error(np.abs(alpha * y1) + np.abs(beta * y2),
                                                            "row"))
        _within_rows(y12 - (alpha * y1 + beta * y2) - shift, tol, f"{method}: linearity")


def causality(ctx: LawContext) -> None:
    fmt = ctx.dtype
    case = ctx.draw(conv_cases(fmt))
    s = ctx.draw(st.integers(0, case.params["L"] - 1))
    u2 = case.arrays["u"].copy()
    u2[..., s:] = representable(seeded(ctx).normal(size=u2[..., s:].shape) * 100, fmt)
    changed = case.with_(u=u2)
    for method in ctx.covered(impl.METHODS):
        y, y2 = (_y(ctx.fn, c, method, ctx.device) for c in (case, changed))
        if method == "direct":
            assert_within(y2[..., :s], y[..., :s], 0.0, f"direct: y[:{s}] moved")
        else:
            _within_rows(y[..., :s] - y2[..., :s], causal_bound_rows(case, method)
                         + causal_bound_rows(changed, method),
                         f"fft: y[:{s}] moved beyond the rounding")


def skip(ctx: LawContext) -> None:
    fmt = ctx.dtype
    case = ctx.draw(conv_cases(fmt))
    D = representable(seeded(ctx).normal(size=case.arrays["u"].shape[1]), fmt)
    with_d, without = case.with_(D=D), case.without("D")
    for method in ctx.covered(impl.METHODS):
        y_d, y = (_y(ctx.fn, c, method, ctx.device) for c in (with_d, without))
        _within_rows(y_d - y - D[None, :, None] * case.arrays["u"],
                     causal_bound_rows(with_d, method) + causal_bound_rows(without, method),
                     f"{method}: D·u skip")


# --- causal_conv: mutants -----------------------------------------------------------------------


def _fft_with_length(u, K, D=None, method="fft", *, n_of):
    """The FFT route with a (wrong) transform length `n_of(L, L_K)`."""
    work = v.work_dtype(u.dtype)
    uw, Kw = u.to(work), K.to(work)
    L, L_K = u.shape[-1], K.shape[-1]
    n = max(n_of(L, L_K), 1)
    y = torch.fft.irfft(torch.fft.rfft(uw, n=n) * torch.fft.rfft(Kw, n=n), n=n)
    y = F.pad(y, (0, max(L - n, 0)))[..., :L]
    if D is not None:
        y = y + D.to(work)[:, None] * uw
    return y.to(u.dtype)


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
    kernels = {name: np.ones((1, 5)) for name in _names(bidirectional)}
    return case_of(fmt, {"u": np.ones((1, 1, 5)) * np.arange(1, 6), **kernels},
                   L=5, L_K=5, kernel="flat")


def _ramp_kernel_witness(fmt: str) -> Case:
    """K = (1, 2, 3): a kernel that is not symmetric, so flipping it shows."""
    return case_of(fmt, {"u": [[[1.0, 0.0, 0.0, 0.0]]], "K": [[1.0, 2.0, 3.0]]},
                   L=4, L_K=3, kernel="ramp")


# --- bad input ----------------------------------------------------------------------------------

# and the generic rows (docs/bad-input.md#the-generic-rows)
_CAUSAL_BAD = bad_calls({"u": full(1, 2, 4), "K": full(2, 4), "D": full(2)}, [
    ("u 2-d", "u", ValueError, dict(u=full(2, 4))),
    ("u of length 0", "u", ValueError, dict(u=full(1, 2, 0))),
    ("K 1-d", "K", ValueError, dict(K=full(4))),
    ("K with another channel count", "K", ValueError, dict(K=full(3, 4))),
    ("K of length 0", "K", ValueError, dict(K=full(2, 0))),
    ("D of the wrong shape", "D", ValueError, dict(D=full(3))),
], generic=dict(real=True))

# what the two specs share; the direct sum is O(L·L_K) per row: realistic lengths only at one or
# two channels
_SHARED = dict(family="convolution", dtypes=REAL_DTYPES, sizes=("B", "H", "L"),
               realistic_work={"direct": 2**16}, outputs=("y",))


CAUSAL = registry.register_spec(
    Spec(
        name="causal_conv", methods=impl.METHODS, **_SHARED,
        summary="causal long convolution y = K * u (+ D·u), by FFT or directly",
        signature="causal_conv(u (B, H, L), K (H, L_K), D (H,) | None, method) -> y (B, H, L)",
        strategy=lambda fmt, method: conv_cases(fmt, method),
        references=two_tier(lambda mod, case, method: {"y": mod.causal_conv(
            case.arrays["u"], case.arrays["K"], _D(case))}, (ref_mp, ref_np), MP_WORK, _work),
        bound=Bound(c={"fft": 2.0, "direct": 2.0}, terms=_causal_terms,
                    method_norms={"fft": {"y": "row"}},
                    reasoning="direct: elementwise, dot product of min(t+1, L_K) terms; fft: "
                              "norm-wise per signal, (1 + log2 n)(‖K‖₁‖u‖₂ + ‖K‖₂‖u‖₁)"),
        call=caller("u", "K", "D"), bench_case=_bench, bench_shape="B=2, H=64, L=L_K=1024",
        sweep=Sweep("L", QUADRATIC, causal_sweep_problem, QUADRATIC_HEAVY,
                    "H=4, L_K = L, decaying kernels"),
    ),
    implementations={"torch": impl.causal_conv},
    laws=laws(REAL_DTYPES,
              ("fft_equals_direct", "FFT and direct sum agree within their bounds",
               fft_equals_direct),
              ("linearity", "y(αu₁ + βu₂) = α·y(u₁) + β·y(u₂)", linearity, WIDE_DTYPES),
              ("causality", "changing u[s:] leaves y[:s] (exactly, for direct)", causality),
              ("skip", "y(D) = y(no D) + D·u", skip)),
    mutants=[
        Mutant("circular_fft", functools.partial(_fft_with_length, n_of=max), "fft",
               REAL_DTYPES,
               "FFT of length max(L, L_K): circular convolution, the tail wraps onto the head",
               _flat_witness),
        Mutant("fft_one_short", functools.partial(_fft_with_length,
                                                  n_of=lambda L, L_K: L + L_K - 2), "fft",
               REAL_DTYPES, "FFT of length L + L_K − 2: only y[0] wraps, by K[L_K−1]·u[L−1]",
               _flat_witness),
        Mutant("correlation", correlation, "direct", REAL_DTYPES,
               "conv1d without flipping K: a cross-correlation", _ramp_kernel_witness),
    ],
    bad_inputs=_CAUSAL_BAD,
)


# --- bidirectional_conv -------------------------------------------------------------------------


def _bidir_terms(case: Case, method: str, d) -> dict:
    """The fft bound of each causal part, summed (docs/convolution.md#bidirectional_conv)."""
    a = case.arrays
    kb = ref_np.backward_kernel(a["K_bwd"], method)
    m = ref_np.fft_norm_magnitude(a["u"], a["K_fwd"], _D(case)) + ref_np.fft_norm_magnitude(
        a["u"], kb)
    n = impl.fft_length(case.params["L"], case.params["L_K"] + (method == "s4"))
    return {"y": Terms(np.full(a["u"].shape[:-1], 1.0 + np.log2(n)), m)}


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
    tol = (BIDIRECTIONAL.bound(case, "mega")["y"] + causal_bound_rows(fwd, "fft")
           + causal_bound_rows(bwd, "fft"))
    _within_rows(_bidir(ctx, case, "mega") - parts, tol, "mega = causal + flipped causal")


def s4_is_shifted_mega(ctx: LawContext) -> None:
    case = ctx.draw(conv_cases(ctx.dtype, bidirectional=True))
    a = case.arrays
    shifted = np.concatenate([np.zeros_like(a["K_bwd"][:, :1]), a["K_bwd"]], axis=1)
    # the forward kernel padded too, so both kernels keep one length
    mega = case.with_(K_fwd=np.pad(a["K_fwd"], ((0, 0), (0, 1))), K_bwd=shifted,
                      L_K=case.params["L_K"] + 1)
    tol = BIDIRECTIONAL.bound(case, "s4")["y"] + BIDIRECTIONAL.bound(mega, "mega")["y"]
    _within_rows(_bidir(ctx, case, "s4") - _bidir(ctx, mega, "mega"), tol,
                 "s4 = mega with k_b one lag later")


BIDIRECTIONAL = registry.register_spec(
    Spec(
        name="bidirectional_conv", method_arg="convention", methods=impl.CONVENTIONS, **_SHARED,
        summary="bidirectional convolution, Mega's (lag 0 twice) or S4's (k_b shifted one lag) "
                "sum",
        signature="bidirectional_conv(u (B, H, L), K_fwd (H, L_K), K_bwd (H, L_K), D | None, "
                  "convention='mega'|'s4', method='fft'|'direct') -> y (B, H, L)",
        strategy=lambda fmt, method: conv_cases(fmt, "fft", bidirectional=True),
        references=two_tier(lambda mod, case, method: {"y": mod.bidirectional_conv(
            case.arrays["u"], case.arrays["K_fwd"], case.arrays["K_bwd"], _D(case), method)},
            (ref_mp, ref_np), MP_WORK, lambda case: 2 * _work(case)),
        bound=Bound(c={"mega": 2.0, "s4": 2.0}, terms=_bidir_terms, norms={"y": "row"},
                    reasoning="norm-wise per signal: the FFT bound of each of the two causal "
                              "parts"),
        call=caller("u", "K_fwd", "K_bwd", "D", method="convention"),
        bench_case=lambda fmt: _bench(fmt, bidirectional=True),
        bench_shape="B=2, H=64, L=L_K=1024, fft",
    ),
    implementations={"torch": impl.bidirectional_conv},
    laws=laws(REAL_DTYPES,
              ("parts", "mega = causal(u, k_f) + flip(causal(flip(u), k_b))", bidirectional_parts),
              ("s4_is_shifted_mega", "s4(k_b) = mega([0, k_b])", s4_is_shifted_mega)),
    mutants=[
        Mutant("s4_as_mega", s4_as_mega, "mega", REAL_DTYPES,
               "S4's bidirectional sum (lag 0 once, k_b one lag later) passed off as Mega's",
               lambda fmt: _flat_witness(fmt, bidirectional=True)),
    ],
    bad_inputs=bad_calls({"u": full(1, 2, 4), "K_fwd": full(2, 4), "K_bwd": full(2, 4),
                         "D": full(2)}, [
        ("u 2-d", "u", ValueError, dict(u=full(2, 4))),
        ("K_bwd with another channel count", "K_bwd", ValueError, dict(K_bwd=full(3, 4))),
        ("D of the wrong shape", "D", ValueError, dict(D=full(1))),
        ("unknown method", "method", ValueError, dict(method="winograd")),
    ], generic=dict(method="convention", real=True)),
)

"""The HiPPO family: `hippo`, `nplr`, `diag_init` — spec, bound, references, implementations, laws,
mutants and bad inputs. The conventions (S4's sign, the Im Λ > 0 half), the phase-invariant
outputs `nplr` is compared through, the bounds' derivation and the laws: docs/hippo.md#hippo,
docs/hippo.md#nplr, docs/hippo.md#diag_init.
"""

from __future__ import annotations

import math

import numpy as np
import torch
from hypothesis import strategies as st

from ssmspec.impl import hippo as impl
from ssmspec.reference.mp import hippo as ref_mp
from ssmspec.reference.np import hippo as ref_np
from ssmspec.speckit import *  # noqa: F403 (the spec vocabulary)
from ssmspec.specs._kernel_kit import laws, two_tier

MEASURES = impl.MEASURES
INITS = impl.INITS
SIZES = (1, 2, 3, 4, 8, 16, 64, 256)
EVEN_SIZES = tuple(n for n in SIZES if n % 2 == 0)
MP_MAX = 64  # mpmath's eigh at N = 64 takes ~5 s (cached once per process)
COMPLEX = ("c128", "c64")
QUAD_MAX = 16  # mp.quad with mp.legendre: ~N²/2 quadratures of ~10 ms, cached per N
NPLR_OUTPUTS = ("Lambda", "A", "B", "P", "PB", "PP", "VV")
INIT_OUTPUTS = ("Lambda", "B", "C", "log_dt")


def _two_tier(of) -> TwoTier:
    """mpmath up to N = MP_MAX, float64 beyond; `of(module, case, method)` the reference."""
    return two_tier(of, (ref_mp, ref_np), MP_MAX, lambda case: case.params["N"])


def _size_case(fmt: str, N: int) -> Case:
    return Case({}, fmt, {"N": N})


def _sized(fmt: str, sizes) -> st.SearchStrategy[Case]:
    """Size-only cases in format `fmt`: N from `sizes`."""
    return size("N", st.sampled_from(sizes)).map(lambda N: _size_case(fmt, N))


# --- hippo, nplr, diag_init: calls, bounds ------------------------------------------------------


def _hippo_terms(case: Case, method: str, d) -> dict:
    """g = 1, M = |y|: one rounding of √(integer) or π·k per entry, then the cast."""
    N = case.params["N"]
    m = ref_np.hippo_magnitude(method, N)
    return {"A": Terms(np.ones((N, N)), m["A"]), "B": Terms(np.ones(N), m["B"])}


def nplr_invariants(lam, Pt, Bt, V, out_dtype: torch.dtype):
    """The nplr spec's outputs from an implementation's (Λ, P̃, B̃, V), in complex128 on their
    device, rounded once to `out_dtype` (docs/hippo.md#nplr)."""
    c128 = torch.complex128
    lam, Pt, Bt, V = (x.to(c128) for x in (lam, Pt, Bt, V))
    order = torch.argsort(lam.imag, stable=True)
    lam, Pt, Bt, V = lam[order], Pt[:, order], Bt[order], V[:, order]
    P = 2 * (Pt @ V.T).real
    A = 2 * ((V * lam) @ V.conj().T).real - P.T @ P
    B = 2 * (V @ Bt).real
    Vf = torch.cat([V, V.conj()], dim=1)
    outs = (lam, A, B, P, Pt * Bt.conj(), Pt[:, None, :] * Pt[None, :, :].conj(),
            Vf.conj().T @ Vf)
    return tuple(x.to(c128).to(out_dtype) for x in outs)


def _nplr_call(fn, case: Case, method: str, device: str):
    d = dtype(case.dtype).torch
    return nplr_invariants(*fn(method, case.params["N"], dtype=d, device=device), d)


def _nplr_terms(case: Case, method: str, d) -> dict:
    """g = N (eigh's backward error, the length-N sums); M from the float64 tier, 1 for VV
    (docs/hippo.md#nplr)."""
    N = case.params["N"]
    m = {**ref_np.nplr_magnitude(method, N), "VV": np.array(1.0)}
    return {k: Terms(np.array(float(N)), m[k]) for k in NPLR_OUTPUTS}


@st.composite
def init_cases(draw, fmt: str, name: str) -> Case:
    """N even from SIZES, H ≤ 3, dt_min ≤ dt_max log-uniform in [1e-4, 1] (equal at times),
    any seed."""
    N = draw(size("N", st.sampled_from(EVEN_SIZES)))
    H = draw(size("H", st.integers(1, 3)))
    a, b = sorted(draw(st.lists(st.floats(-4.0, 0.0), min_size=2, max_size=2)))
    if draw(st.integers(0, 9)) == 0:
        b = a
    return _init_case(fmt, N, H, float(10.0**a), float(10.0**b), draw(st.integers(0, 2**31 - 1)))


def _init_case(fmt: str, N: int, H: int, dt_min=1e-3, dt_max=1e-1, seed=0) -> Case:
    """A diag_init case of N, H, Δ in [dt_min, dt_max] (default [1e-3, 1e-1]) and a seed."""
    return Case({}, fmt, {"N": N, "H": H, "dt_min": dt_min, "dt_max": dt_max, "seed": seed})


_init_args = arguments("N", "H", "dt_min", "dt_max", "seed")


def _init_call(fn, case: Case, method: str, device: str):
    d = dtype(case.dtype).torch
    lam, B, C, log_dt = fn(method, *_init_args(case), dtype=d, device=device)
    # log Δ is real: carried in the complex format (exactly) so that every output has the run's
    # format, as the generic dtype property demands
    return lam, B, C, log_dt.to(d)


def _init_terms(case: Case, method: str, d) -> dict:
    """s4d-legs' Λ as nplr's (g = N), the closed forms g = 1; M from the float64 tier
    (docs/hippo.md#diag_init)."""
    N, H = case.params["N"], case.params["H"]
    m = ref_np.diag_init_magnitude(method, *_init_args(case))
    g = {"Lambda": np.full((H, N // 2), float(N) if method == "s4d-legs" else 1.0),
         "B": np.ones((H, N // 2)), "C": np.ones((H, N // 2)), "log_dt": np.ones(H)}
    return {k: Terms(g[k], m[k]) for k in g}


# --- bad input (docs/bad-input.md) -----------------------------------------------------------

# each with the generic rows (docs/bad-input.md#the-generic-rows): N (and H, seed) a float, an
# unknown measure (init)
_HIPPO_BAD = bad_calls({"measure": "legs", "N": 4}, [
    ("N = 0", "N", ValueError, {"N": 0}),
    ("N negative", "N", ValueError, {"N": -3}),
    ("fout with odd N", "N", ValueError, {"measure": "fout", "N": 5}),
    ("integer dtype", "dtype", TypeError, {"dtype": torch.int64}),
    ("complex dtype", "dtype", TypeError, {"dtype": torch.complex128}),
], generic=dict(method="measure"))
_NPLR_BAD = bad_calls({"measure": "legs", "N": 8}, [
    ("N = 0", "N", ValueError, {"N": 0}),
    ("odd N (conjugate half)", "N", ValueError, {"N": 7}),
    ("N = 1", "N", ValueError, {"N": 1}),
    ("real dtype", "dtype", TypeError, {"dtype": torch.float64}),
], generic=dict(method="measure"))
_INIT_BAD = bad_calls({"name": "s4d-lin", "N": 8, "H": 2, "dt_min": 0.001, "dt_max": 0.1,
                       "seed": 0}, [
    ("N = 0", "N", ValueError, {"N": 0}),
    ("odd N (conjugate half)", "N", ValueError, {"N": 5}),
    ("H = 0", "H", ValueError, {"H": 0}),
    ("dt_min > dt_max", "dt_min", ValueError, {"dt_min": 0.1, "dt_max": 0.01}),
    ("dt_min = 0", "dt_min", ValueError, {"dt_min": 0.0}),
    ("dt_max not a number", "dt_max", TypeError, {"dt_max": "0.1"}),
    ("real dtype", "dtype", TypeError, {"dtype": torch.float32}),
], generic=dict(method="name"))


# --- hippo laws (docs/hippo.md) ---------------------------------------------------------------


def _u(fmt: str) -> float:
    return real_of(fmt).u


def _numpy(ctx: LawContext, measure: str, N: int, fn=None, fmt=None) -> list:
    """The outputs of `fn` (default: the implementation under test) of `measure` and N in the
    format `fmt` (default: the run's) on the run's device, as numpy arrays."""
    out = (fn or ctx.fn)(measure, N, dtype=dtype(fmt or ctx.dtype).torch, device=ctx.device)
    return [to_numpy(t) for t in out]


def _AB(ctx: LawContext, measure: str, sizes=SIZES) -> tuple:
    """N drawn from `sizes` and the implementation's (A, B) of `measure` and N, as numpy."""
    N = ctx.draw(st.sampled_from(sizes))
    return N, *_numpy(ctx, measure, N)


def spectrum(ctx: LawContext) -> None:
    N = ctx.draw(st.sampled_from(SIZES))
    n = np.arange(N)
    for measure, diag in (("legs", -(n + 1.0)), ("lagt", np.full(N, -0.5))):
        A, _ = _numpy(ctx, measure, N)
        assert np.all(np.triu(A, 1) == 0), f"{measure}: A is not lower triangular"
        assert np.array_equal(np.diag(A), diag), f"{measure}: diag(A) = {np.diag(A)} ≠ {diag}"


def normal_plus_low_rank(ctx: LawContext) -> None:
    N = ctx.draw(st.sampled_from(SIZES))
    for measure in (m for m in impl.MEASURES if m != "fout" or N % 2 == 0):
        A, _ = _numpy(ctx, measure, N)
        P = ref_np.rank_correction(measure, N)
        S = A + P.T @ P
        sym = (S + S.T) / 2 - ref_np.shift(measure) * np.eye(N)
        tol = 4 * _u(ctx.dtype) * (np.abs(A) + np.abs(A.T) + 2 * np.abs(P).T @ np.abs(P))
        assert_within(np.abs(sym), 0.0, tol, f"{measure} N={N}: symmetric part of A + PᵀP − cI")


def legs_fixed_point(ctx: LawContext) -> None:
    N, A, B = _AB(ctx, "legs")
    assert_within(np.abs(A[:, 0] + B), 0.0, 4 * _u(ctx.dtype) * np.abs(B), f"N={N}: A[:, 0] + B")


def _triangular_solve_check(ctx: LawContext, T, rhs, exact, what) -> None:
    """Solve T x = rhs (lower triangular) in the run's format and compare with `exact` within
    Higham's componentwise bound γ_N·|T⁻¹|(|T||x| + |rhs|) (Thm 8.5), γ_N ≈ N·u; T and rhs carry
    the format's rounding too, a perturbation of the same form."""
    d = dtype(ctx.dtype).torch
    x = to_numpy(torch.linalg.solve_triangular(torch.as_tensor(T, dtype=d, device=ctx.device),
                                               torch.as_tensor(rhs, dtype=d, device=ctx.device),
                                               upper=False))
    Tinv = np.abs(np.linalg.inv(T))
    tol = 4 * T.shape[0] * _u(ctx.dtype) * (Tinv @ (np.abs(T) @ np.abs(exact) + np.abs(rhs)))
    assert_within(np.abs(x - exact), 0.0, tol, what)


def _ode_residual(ctx: LawContext, A, B, c, f, dc, what) -> None:
    """c' = A c + B f with exact c, f, c': the residual A c + B f − c' within 4·N·u times the
    same sum on absolute values."""
    resid = A @ c + np.outer(B, f) - dc
    tol = 4 * A.shape[0] * _u(ctx.dtype) * (np.abs(A) @ np.abs(c)
                                            + np.outer(np.abs(B), np.abs(f)) + np.abs(dc))
    assert_within(np.abs(resid), 0.0, tol, what)


def legs_projection(ctx: LawContext) -> None:
    N, A, B = _AB(ctx, "legs", (1, 2, 3, 4, 8, 16, 64))
    coef = to_float(ref_mp.legs_moments_closed(N) if N > QUAD_MAX else ref_mp.legs_moments_quad(N))
    for d in range(N):
        _triangular_solve_check(ctx, d * np.eye(N) - A, B[:, None], coef[:, d:d + 1],
                                f"N={N}, f = s^{d}: (dI − A)c = B vs quadrature")


def legt_projection(ctx: LawContext) -> None:
    N, A, B = _AB(ctx, "legt", (1, 2, 3, 4, 8, 16, 64))
    m = to_float(ref_mp.legt_moments_closed(N) if N > QUAD_MAX else ref_mp.legt_moments_quad(N))
    dm = np.zeros_like(m)
    dm[:, 1:] = m[:, :-1] * np.arange(1, N)  # coefficients of p' = d·x^{d−1}
    _ode_residual(ctx, A, B, m, np.ones(N), dm, f"N={N}: A·m(d) + B − d·m(d−1)")


def lagt_laplace(ctx: LawContext) -> None:
    N, A, B = _AB(ctx, "lagt")
    a = ctx.draw(st.sampled_from((0.0, 0.5, 1.0, 3.0)))  # a ≥ 0: |γ_n| ≤ 2, no overflow
    gamma = to_float(ref_mp.lagt_laplace(N, a))
    _triangular_solve_check(ctx, a * np.eye(N) - A, B[:, None], gamma[:, None],
                            f"N={N}, a={a}: (aI − A)γ = B")


def fout_exact_inputs(ctx: LawContext) -> None:
    N, A, B = _AB(ctx, "fout", EVEN_SIZES)
    t = ctx.draw(st.sampled_from((0.0, 0.3, 1.0, 2.5)))
    C, D, f = (to_float(x) for x in ref_mp.fout_coefficients(N, t))
    _ode_residual(ctx, A, B, C, f, D, f"N={N}, t={t}: A c + B f(t) − c'")


# --- nplr laws --------------------------------------------------------------------------------


def _nplr_drawn(ctx: LawContext):
    """A measure, an even N and the implementation's (Λ, P̃, B̃, V) of them as numpy arrays."""
    measure = ctx.draw(st.sampled_from(impl.MEASURES))
    N = ctx.draw(st.sampled_from(EVEN_SIZES))
    return measure, N, _numpy(ctx, measure, N)


def reconstruction(ctx: LawContext) -> None:
    measure, N, (lam, _, _, V) = _nplr_drawn(ctx)
    A = _numpy(ctx, measure, N, ctx.impl_of("hippo"), real_of(ctx.dtype))[0]
    P = ref_np.rank_correction(measure, N)
    rec = 2 * ((V * lam) @ V.conj().T).real - P.T @ P
    M = ref_np.nplr_magnitude(measure, N)["A"]
    err = np.linalg.norm(rec - A)
    assert_within(err, 0.0, 8 * _u(ctx.dtype) * N * M, f"{measure} N={N}: ‖2Re(VΛV*) − PᵀP − A‖_F")


def re_lambda(ctx: LawContext) -> None:
    measure, N, (lam, *_) = _nplr_drawn(ctx)
    A, _ = ref_np.hippo(measure, N)
    P = ref_np.rank_correction(measure, N)
    c = ref_np.shift(measure)
    # what reading c off S's diagonal may cost (S4 averages it); a generic eigensolver's drift of
    # O(u‖K‖₂) is far larger at large N
    tol = 4 * _u(ctx.dtype) * (abs(c) + np.mean(np.abs(np.diag(A)) + np.sum(P**2, axis=0)))
    assert_within(np.abs(lam.real - c), 0.0, tol, f"{measure} N={N}: Re Λ − c")


def unitary(ctx: LawContext) -> None:
    measure, N, (*_, V) = _nplr_drawn(ctx)
    Vf = np.concatenate([V, V.conj()], axis=1)
    err = np.linalg.norm(Vf.conj().T @ Vf - np.eye(N))
    assert_within(err, 0.0, 8 * _u(ctx.dtype) * N, f"{measure} N={N}: ‖V_full* V_full − I‖_F")


def half_by_sign(ctx: LawContext) -> None:
    measure, N, (lam, *_) = _nplr_drawn(ctx)
    assert lam.shape == (N // 2,), f"{measure} N={N}: {lam.shape} states kept, not N/2"
    mu = np.linalg.eigvalsh(-1j * ref_np.skew_part(measure, N))
    want = np.sort(mu)[N // 2:]  # the ± spectrum's upper half: μ > 0 and half of any zeros
    # the eigenvalue bound plus float64 eigvalsh's own error (the same bound at u = 2^-53)
    tol = (NPLR.bound(_size_case(ctx.dtype, N), measure)["Lambda"]
           + NPLR.bound(_size_case("c128", N), measure)["Lambda"])
    assert np.all(lam.imag >= -tol), f"{measure} N={N}: kept Im Λ < 0: {lam.imag.min()}"
    assert_within(np.abs(np.sort(lam.imag) - want), 0.0, tol, f"{measure} N={N}: kept Im Λ")


# --- diag_init laws ---------------------------------------------------------------------------


def _init_drawn(ctx: LawContext):
    """An init the implementation is asked for, a case of it and its outputs."""
    name = ctx.draw(st.sampled_from(impl.INITS))
    case = ctx.draw(init_cases(ctx.dtype, name))
    return name, case, run(DIAG_INIT, ctx.fn, case, name, ctx.device)


def legs_equals_nplr(ctx: LawContext) -> None:
    case = ctx.draw(init_cases(ctx.dtype, "s4d-legs"))
    N = case.params["N"]
    lam = run(DIAG_INIT, ctx.fn, case, "s4d-legs", ctx.device)[0]
    ref = _numpy(ctx, "legs", N, ctx.impl_of("nplr"))[0]
    ref = ref[np.argsort(ref.imag)]
    tol = NPLR.bound(_size_case(ctx.dtype, N), "legs")["Lambda"]
    for h in range(lam.shape[0]):
        got = lam[h][np.argsort(lam[h].imag)]
        assert_within(np.abs(got - ref), 0.0, tol, f"N={N} channel {h}: s4d-legs Λ vs nplr Λ")


def dt_in_range(ctx: LawContext) -> None:
    name, case, out = _init_drawn(ctx)
    log_dt = out[3].real
    lo, hi = case.params["dt_min"], case.params["dt_max"]
    dt = np.exp(log_dt)
    slack = 4 * _u(ctx.dtype) * (1 + np.abs(log_dt))  # relative: a rounding of log Δ by u|log Δ|
    assert np.all(dt >= lo * (1 - slack)) and np.all(dt <= hi * (1 + slack)), (
        f"{name}: Δ = {dt} outside [{lo}, {hi}]")


def seeded(ctx: LawContext) -> None:
    name, case, first = _init_drawn(ctx)
    again = run(DIAG_INIT, ctx.fn, case, name, ctx.device)
    for a, b, k in zip(first, again, DIAG_INIT.outputs):
        assert np.array_equal(a, b), f"{name}: {k} differs between two calls with one seed"
    reseeded = case.with_(seed=case.params["seed"] + 1)
    second = dict(zip(INIT_OUTPUTS, run(DIAG_INIT, ctx.fn, reseeded, name, ctx.device)))
    first = dict(zip(INIT_OUTPUTS, first))
    changed = ["C"] + (["log_dt"] if case.params["dt_min"] < case.params["dt_max"] else [])
    changed += ["Lambda"] if name == "random" else []
    for k in changed:
        assert not np.array_equal(first[k], second[k]), f"{name}: {k} ignores the seed"
    for k in ("B",) + (() if name == "random" else ("Lambda",)):
        assert np.array_equal(first[k], second[k]), f"{name}: {k} depends on the seed"


def structure(ctx: LawContext) -> None:
    name, case, (lam, B, C, log_dt) = _init_drawn(ctx)
    N, H = case.params["N"], case.params["H"]
    assert lam.shape == B.shape == C.shape == (H, N // 2) and log_dt.shape == (H,)
    assert all(np.all(np.isfinite(x)) for x in (lam, B, C, log_dt)), f"{name}: non-finite"
    assert np.all(B == 1), f"{name}: B ≠ 1"
    if name in ("s4d-legs", "s4d-lin", "s4d-inv"):
        assert np.all(lam.real == -0.5), f"{name}: Re Λ ≠ −½"
        assert np.all(lam.imag >= 0), f"{name}: Im Λ < 0"
    elif name == "s4d-real":
        want = -(np.arange(N // 2) + 1.0)
        assert np.all(lam.imag == 0) and np.all(lam.real == want), f"{name}: Λ ≠ −(n+1)"
    else:
        assert np.all(lam.real < 0) and np.all(lam.imag > 0), f"{name}: Re Λ < 0 < Im Λ fails"


# --- mutants ----------------------------------------------------------------------------------


def sign_flipped(measure, N, *, dtype=torch.float64, device=None):
    A, B = impl.hippo(measure, N, dtype=dtype, device=device)
    return -A, B


def sqrt_dropped(measure, N, *, dtype=torch.float64, device=None):
    """S4's legs construction A = T M T⁻¹, B = diag(T) with T = diag(2n+1), not its square root
    (the other measures as the built-in)."""
    if measure != "legs":
        return impl.hippo(measure, N, dtype=dtype, device=device)
    n = torch.arange(N, dtype=torch.float64, device=device)
    row, col = n[:, None], n[None, :]
    A = torch.where(row > col, -(2 * row + 1) ** 2 / (2 * col + 1), 0.0) - torch.diag(n + 1)
    return A.to(dtype), (2 * n + 1).to(dtype)


def _project(lam, V, measure, N, out, device):
    """nplr's outputs of the kept eigenpairs (Λ, V): P̃ = V*Pᵀ, B̃ = V*B."""
    _, B = impl.hippo64(measure, N, device)
    P = impl.correction64(measure, N, device)
    Vh = V.conj().T
    return lam.to(out), (Vh @ P.T.to(V.dtype)).T.to(out), (Vh @ B.to(V.dtype)).to(out), V.to(out)


def _skew64(measure, N, device):
    A, _ = impl.hippo64(measure, N, device)
    P = impl.correction64(measure, N, device)
    S = A + P.T @ P
    return S, (S - S.T) / 2


def half_by_position(measure, N, *, dtype=torch.complex128, device=None):
    _, K = _skew64(measure, N, device)
    mu, W = torch.linalg.eigh(-1j * K.to(torch.complex128))
    c = -0.5 if measure == "legs" else 0.0
    lam = torch.complex(torch.full_like(mu[N // 2:], c), mu[N // 2:])
    return _project(lam, W[:, N // 2:], measure, N, dtype, device)


def eig_not_eigh(measure, N, *, dtype=torch.complex128, device=None):
    S, _ = _skew64(measure, N, device)
    w, W = torch.linalg.eig(S)
    keep = torch.nonzero(w.imag > 0).flatten()
    keep = keep[torch.argsort(w.imag[keep])]
    return _project(w[keep], W[:, keep], measure, N, dtype, device)


def inv_half_count(name, N, H=1, dt_min=1e-3, dt_max=1e-1, seed=0, *,
                   dtype=torch.complex128, device=None):
    lam, B, C, log_dt = impl.diag_init(name, N, H, dt_min, dt_max, seed, dtype=dtype,
                                       device=device)
    if name != "s4d-inv":
        return lam, B, C, log_dt
    M = N // 2
    n = torch.arange(M, dtype=torch.float64, device=device)
    im = (M / math.pi) * (M / (2 * n + 1) - 1)
    return torch.complex(lam.real, im.to(lam.real.dtype).expand_as(lam.real)), B, C, log_dt


# what the two specs of a measure share
_BY_MEASURE = dict(method_arg="measure", family="hippo", methods=MEASURES, sizes=("N",),
                   bench_case=lambda fmt: _size_case(fmt, 256), bench_shape="N=256")


HIPPO = registry.register_spec(
    Spec(
        name="hippo", **_BY_MEASURE, dtypes=WIDE_DTYPES, outputs=("A", "B"),
        summary="HiPPO (A, B) of a measure, S4's sign convention (A stable)",
        signature="hippo(measure, N, *, dtype, device) -> (A (N, N), B (N,)); "
                  "rank_correction(measure, N) -> P (r, N)",
        strategy=lambda fmt, method: _sized(fmt, EVEN_SIZES if method == "fout" else SIZES),
        references=_two_tier(lambda mod, case, method: dict(zip(
            ("A", "B"), mod.hippo(method, case.params["N"])))),
        bound=Bound(c={m: 4.0 for m in MEASURES}, terms=_hippo_terms,
                    reasoning="elementwise; one rounding of √(integer) or π·k per entry, then "
                              "the cast"),
        call=lambda fn, case, method, device: fn(method, case.params["N"],
                                                 dtype=dtype(case.dtype).torch, device=device),
    ),
    implementations={"torch": impl.hippo},
    laws=laws(
        WIDE_DTYPES,
        ("spectrum", "legs eig(A) = {−1..−N}, lagt eig(A) = {−½} (triangular, exact)", spectrum),
        ("normal_plus_low_rank", "A + PᵀP = c·I + skew (c = −½ legs, 0 otherwise)",
         normal_plus_low_rank),
        ("legs_fixed_point", "legs: A[:, 0] + B = 0 (constant input is a fixed point)",
         legs_fixed_point),
        ("legs_projection", "legs: (dI − A)c = B gives the Legendre coefficients of s^d "
         "(mpmath quadrature)", legs_projection),
        ("legt_projection", "legt (θ = 2): A·m(x^d) + B = m(d·x^{d−1}) (Legendre moments on "
         "the window)", legt_projection),
        ("lagt_laplace", "lagt: (aI − A)γ(a) = B, γ_n = (a−½)^n/(a+½)^{n+1}", lagt_laplace),
        ("fout_exact_inputs", "fout: c' = Ac + Bf for f = s and cos/sin(πms), m < N/2",
         fout_exact_inputs)),
    mutants=[
        Mutant("sign_flipped", sign_flipped, "legs", WIDE_DTYPES,
               "A → −A: the HiPPO paper's c' = −Ac + Bf sign convention",
               lambda fmt: _size_case(fmt, 4)),
        Mutant("sqrt_dropped", sqrt_dropped, "legs", WIDE_DTYPES,
               "T = diag(2n+1) for √diag(2n+1): A[n,k] = −(2n+1)²/(2k+1), B = 2n+1 (same spectrum)",
               lambda fmt: _size_case(fmt, 4)),
    ],
    bad_inputs=_HIPPO_BAD,
)


NPLR = registry.register_spec(
    Spec(
        name="nplr", **_BY_MEASURE, dtypes=COMPLEX, outputs=NPLR_OUTPUTS,
        summary="NPLR form A = VΛV* − PPᵀ in the conjugate half (Im Λ > 0), by eigh of −i·skew",
        signature="nplr(measure, N, *, dtype, device) -> (Lambda (N/2,), P (r, N/2), B (N/2,), "
                  "V (N, N/2)); compared through phase-invariant outputs",
        strategy=lambda fmt, method: _sized(fmt, EVEN_SIZES),
        references=_two_tier(
            lambda mod, case, method: mod.exact_invariants(method, case.params["N"])),
        bound=Bound(c={m: 8.0 for m in MEASURES}, terms=_nplr_terms,
                    norms={"A": "fro", "VV": "fro"},
                    reasoning="g = N (eigh backward error, length-N sums); eigenvector products "
                              "amplified by ‖K‖/gap (Davis–Kahan)"),
        call=_nplr_call,
    ),
    implementations={"torch": impl.nplr},
    laws=laws(COMPLEX, ("reconstruction", "2Re(VΛV*) − PᵀP = A within 8·u·N·‖A‖", reconstruction),
              ("re_lambda", "Re Λ = c (−½ legs, 0 otherwise)", re_lambda),
              ("unitary", "V_full = [V, V̄] unitary within 8·u·N", unitary),
              ("half_by_sign", "the kept half is the Im Λ ≥ 0 half of the spectrum",
               half_by_sign)),
    mutants=[
        Mutant("half_by_position", half_by_position, "fout", COMPLEX,
               "eigh's upper half by position: keeps one real eigenvector of FouT's zero pair",
               lambda fmt: _size_case(fmt, 8)),
        Mutant("eig_not_eigh", eig_not_eigh, "legs", ("c128",),
               "torch.linalg.eig on the non-Hermitian A + PᵀP: V_full unitary only to u‖K‖/gap",
               lambda fmt: _size_case(fmt, 256)),
    ],
    bad_inputs=_NPLR_BAD,
)


DIAG_INIT = registry.register_spec(
    Spec(
        name="diag_init", method_arg="name", family="hippo", methods=INITS, dtypes=COMPLEX,
        sizes=("N", "H"), outputs=INIT_OUTPUTS,
        summary="S4D diagonal initialisations (Λ, B, C, log Δ), seeded",
        signature="diag_init(name, N, H, dt_min, dt_max, seed, *, dtype, device) -> "
                  "(Lambda (H, N/2), B (H, N/2), C (H, N/2), log_dt (H,))",
        strategy=lambda fmt, method: init_cases(fmt, method),
        references=_two_tier(
            lambda mod, case, method: mod.diag_init(method, *_init_args(case))),
        bound=Bound(c={m: 8.0 for m in INITS}, terms=_init_terms,
                    reasoning="elementwise; s4d-legs as nplr's Λ (g = N), closed forms a few "
                              "roundings"),
        call=_init_call, bench_case=lambda fmt: _init_case(fmt, 64, 1024),
        bench_shape="H=1024, N=64",
    ),
    implementations={"torch": impl.diag_init},
    laws=laws(COMPLEX, ("legs_equals_nplr", "s4d-legs Λ = nplr('legs', N) Λ", legs_equals_nplr),
              ("dt_in_range", "exp(log Δ) ∈ [dt_min, dt_max]", dt_in_range),
              ("seeded", "same seed → same values; another seed → other C, log Δ", seeded),
              ("structure", "B = 1; Re Λ = −½ (legs, lin, inv); s4d-real Λ = −(n+1)",
               structure)),
    mutants=[
        Mutant("inv_half_count", inv_half_count, "s4d-inv", COMPLEX,
               "S4D-Inv's (N/π)(N/(2n+1) − 1) with N/2 (the stored pairs) for N",
               lambda fmt: _init_case(fmt, 8, 2)),
    ],
    bad_inputs=_INIT_BAD,
)

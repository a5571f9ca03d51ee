"""Laws and mutants of the HiPPO family (SPEC-NOTES §3, §4).

Laws (each checks an implementation; `ctx.fn` is the primitive's, `ctx.impl_of` the others'):

hippo
- spectrum: legs A is lower triangular with A[n, n] = −(n+1), so eig(A) = {−1, …, −N}; lagt
  A is lower triangular with diagonal −½ (both checked exactly: the entries are integers/halves).
- normal_plus_low_rank: A + Pᵀ P = c·I + skew for every measure, P the rank correction
  (c = −½ for legs, 0 otherwise).
- legs_fixed_point: A[:, 0] + B = 0 (constant input is a fixed point of the LegS ODE).
- legs_projection: for f(s) = s^d, d = 0 … N−1, the solution of (d·I − A) c = B equals the
  Legendre coefficients ∫₀¹ s^d √(2n+1) P_n(2s − 1) ds (mp.quad with mp.legendre for N ≤ 16; the
  closed form (d!)²/((d−n)!(d+n+1)!) at N = 64, certified against the quadrature in
  tests/test_reference_hippo.py).
- legt_projection: on the window θ = 2, c' = A c + B f(t) for p(x) = x^d (d < N) in the window
  coordinate x ∈ [−1, 1] (newest point x = 1): A·m(d) + B = d·m(d−1), m(d) the coefficients
  ½∫₋₁¹ x^d √(2n+1) P_n(x) dx (quadrature / closed form as above). Pins θ = 2 (S4's halving)
  and the orientation of the basis.
- lagt_laplace: for f(s) = e^{as} the coefficients at t = 0 are the Laplace transforms
  γ_n(a) = (a − ½)^n/(a + ½)^{n+1} of the Laguerre functions, and (a·I − A) γ = B.
- fout_exact_inputs: c' = A c + B f(t) for f(s) = s (the sawtooth window, whose Fourier series
  meets the mean of its jump exactly) and cos/sin(πms), m < N/2; pins the frequencies πk, the
  window θ = 2 and the endpoint term −B Bᵀ.

nplr
- reconstruction: 2Re(VΛV*) − Pᵀ P = A (the implementation's own hippo A), ≤ 8·u·N·‖A‖-ish.
- re_lambda: Re Λ = c (−½ for legs) to the rounding of S's diagonal, 4u(|c| + mean|S_nn|).
- unitary: V_full = [V, V̄] is unitary, ‖V_full* V_full − I‖_F ≤ 8·u·N.
- half_by_sign: every kept Im Λ ≥ 0 and the kept Im Λ are the upper half of spec(−iK).

diag_init
- legs_equals_nplr: s4d-legs Λ equals nplr('legs', N)'s Λ, in every channel.
- dt_in_range: exp(log Δ) ∈ [dt_min, dt_max] (to the rounding of log Δ).
- seeded: the same arguments give bitwise the same outputs; another seed changes C, log Δ
  (unless dt_min = dt_max) and Λ (random only), and nothing else.
- structure: B = 1; Re Λ = −½ exactly for s4d-legs/lin/inv; s4d-real Λ = −(n+1) exactly, Im 0;
  random Re Λ < 0 < Im Λ; everything finite.

Mutants (each caught by the conformance bound against the reference on its witness):
- hippo sign_flipped: A → −A (the HiPPO paper's c' = −Ac + Bf sign), caught at any N (and by
  `spectrum`).
- hippo sqrt_dropped: S4's `T = sqrt(diag(2n+1))` written `diag(2n+1)`: A[n, k] = −(2n+1)²/(2k+1),
  B = 2n+1. A similarity, so eig(A) is unchanged and `spectrum` passes it; caught by the reference
  (N ≥ 2) and by `legs_fixed_point`, `legs_projection`.
- nplr half_by_position: eigh's upper N/2 eigenpairs by position (S4's slice, with ssmspec's
  sign), no null-space pairing. Right wherever no eigenvalue is 0; on fout (a zero pair sits in
  the middle of eigh's order) it keeps one real eigenvector v = v̄, which the full form counts
  twice: B, P, A and VV fail (and the law `unitary`; `half_by_sign` and `reconstruction` cannot
  see it: its eigenvalues are right and the zero pair adds nothing to VΛV*).
- nplr eig_not_eigh: torch.linalg.eig on the non-Hermitian S = A + PᵀP (S4's earlier code),
  the Im Λ > 0 half by sign. Its eigenvectors are orthogonal only to ~u‖K‖/gap and Re Λ drifts
  from −½: VV exceeds its bound 2.6× at N = 64 and 9× at N = 256 (legs); the laws `unitary` and
  `re_lambda` also fail at N = 256.
- diag_init inv_half_count: S4D-Inv's Im Λ_n = (N/π)(N/(2n+1) − 1) with N the number of
  stored pairs N/2 in place of the full state size N (S4's `dplr` and `SSMKernelDiag` use the full
  N): caught by the reference at every N (n = 0: (N/2π)(N/2 − 1) against (N/π)(N − 1)).
properties/test_hippo_laws.py swaps each mutant into the laws named here.
"""

from __future__ import annotations

import math

import numpy as np
import torch
from hypothesis import strategies as st

from ssmspec import registry
from ssmspec.dtypes import dtype, real_of
from ssmspec.errors import ratio, to_float
from ssmspec.harness import to_numpy
from ssmspec.impl import hippo as impl
from ssmspec.reference.mp import hippo as ref_mp
from ssmspec.reference.np import hippo as ref_np
from ssmspec.spec import Case, Law, LawContext, Mutant
from ssmspec.specs.hippo import DIAG_INIT, EVEN_SIZES, NPLR, SIZES, init_cases

REAL = ("fp64", "fp32")
COMPLEX = ("c128", "c64")
QUAD_MAX = 16  # mp.quad with mp.legendre: ~N²/2 quadratures of ~10 ms, cached per N


def _u(fmt: str) -> float:
    return real_of(fmt).u


def _hippo(ctx_fn, measure: str, N: int, fmt: str, device: str):
    A, B = ctx_fn(measure, N, dtype=dtype(fmt).torch, device=device)
    return A, B


def _assert_within(err, tol, what: str) -> None:
    r = ratio(np.asarray(err), np.asarray(tol))
    assert np.all(r <= 1), f"{what}: err/bound {r.max():.3g} (err {np.max(err):.3g})"


def _moments(kind: str, N: int) -> np.ndarray:
    if kind == "legs":
        m = ref_mp.legs_moments_quad(N) if N <= QUAD_MAX else ref_mp.legs_moments_closed(N)
    else:
        m = ref_mp.legt_moments_quad(N) if N <= QUAD_MAX else ref_mp.legt_moments_closed(N)
    return to_float(m)


# --- hippo laws -------------------------------------------------------------------------------


def spectrum(ctx: LawContext) -> None:
    N = ctx.draw(st.sampled_from(SIZES))
    n = np.arange(N)
    for measure, diag in (("legs", -(n + 1.0)), ("lagt", np.full(N, -0.5))):
        A = to_numpy(_hippo(ctx.fn, measure, N, ctx.dtype, ctx.device)[0])
        assert np.all(np.triu(A, 1) == 0), f"{measure}: A is not lower triangular"
        assert np.array_equal(np.diag(A), diag), f"{measure}: diag(A) = {np.diag(A)} ≠ {diag}"


def normal_plus_low_rank(ctx: LawContext) -> None:
    N = ctx.draw(st.sampled_from(SIZES))
    u = _u(ctx.dtype)
    for measure in impl.MEASURES:
        if measure == "fout" and N % 2:
            continue
        A = to_numpy(_hippo(ctx.fn, measure, N, ctx.dtype, ctx.device)[0])
        P = ref_np.rank_correction(measure, N)
        S = A + P.T @ P
        sym = (S + S.T) / 2 - ref_np.shift(measure) * np.eye(N)
        tol = 4 * u * (np.abs(A) + np.abs(A.T) + 2 * np.abs(P).T @ np.abs(P))
        _assert_within(np.abs(sym), tol, f"{measure} N={N}: symmetric part of A + PᵀP − cI")


def legs_fixed_point(ctx: LawContext) -> None:
    N = ctx.draw(st.sampled_from(SIZES))
    A, B = (to_numpy(t) for t in _hippo(ctx.fn, "legs", N, ctx.dtype, ctx.device))
    _assert_within(np.abs(A[:, 0] + B), 4 * _u(ctx.dtype) * np.abs(B), f"N={N}: A[:, 0] + B")


def _triangular_solve_check(T, rhs, exact, fmt, device, what):
    """Solve T x = rhs (lower triangular) in the run's format and compare with `exact` within
    Higham's componentwise bound γ_N·|T⁻¹|(|T||x| + |rhs|) (Thm 8.5), γ_N ≈ N·u; T and rhs carry
    the format's rounding too, a perturbation of the same form."""
    d = dtype(fmt).torch
    x = torch.linalg.solve_triangular(
        torch.as_tensor(T, dtype=d, device=device), torch.as_tensor(rhs, dtype=d, device=device),
        upper=False)
    x = to_numpy(x)
    n = T.shape[0]
    Tinv = np.abs(np.linalg.inv(T))
    tol = 4 * n * _u(fmt) * (Tinv @ (np.abs(T) @ np.abs(exact) + np.abs(rhs)))
    _assert_within(np.abs(x - exact), tol, what)
    return np.abs(x - exact)


def legs_projection(ctx: LawContext) -> None:
    N = ctx.draw(st.sampled_from((1, 2, 3, 4, 8, 16, 64)))
    A, B = (to_numpy(t) for t in _hippo(ctx.fn, "legs", N, ctx.dtype, ctx.device))
    coef = _moments("legs", N)
    for d in range(N):
        _triangular_solve_check(d * np.eye(N) - A, B[:, None], coef[:, d:d + 1], ctx.dtype,
                                ctx.device, f"N={N}, f = s^{d}: (dI − A)c = B vs quadrature")


def legt_projection(ctx: LawContext) -> None:
    N = ctx.draw(st.sampled_from((1, 2, 3, 4, 8, 16, 64)))
    A, B = (to_numpy(t) for t in _hippo(ctx.fn, "legt", N, ctx.dtype, ctx.device))
    m = _moments("legt", N)
    dm = np.zeros_like(m)
    dm[:, 1:] = m[:, :-1] * np.arange(1, N)  # coefficients of p' = d·x^{d−1}
    resid = A @ m + B[:, None] - dm
    tol = 4 * N * _u(ctx.dtype) * (np.abs(A) @ np.abs(m) + np.abs(B)[:, None] + np.abs(dm))
    _assert_within(np.abs(resid), tol, f"N={N}: A·m(d) + B − d·m(d−1)")


def lagt_laplace(ctx: LawContext) -> None:
    N = ctx.draw(st.sampled_from(SIZES))
    a = ctx.draw(st.sampled_from((0.0, 0.5, 1.0, 3.0)))  # a ≥ 0: |γ_n| ≤ 2, no overflow
    A, B = (to_numpy(t) for t in _hippo(ctx.fn, "lagt", N, ctx.dtype, ctx.device))
    gamma = to_float(ref_mp.lagt_laplace(N, a))
    _triangular_solve_check(a * np.eye(N) - A, B[:, None], gamma[:, None], ctx.dtype,
                            ctx.device, f"N={N}, a={a}: (aI − A)γ = B")


def fout_exact_inputs(ctx: LawContext) -> None:
    N = ctx.draw(st.sampled_from(EVEN_SIZES))
    t = ctx.draw(st.sampled_from((0.0, 0.3, 1.0, 2.5)))
    A, B = (to_numpy(x) for x in _hippo(ctx.fn, "fout", N, ctx.dtype, ctx.device))
    C, D, f = (to_float(x) for x in ref_mp.fout_coefficients(N, t))
    resid = A @ C + np.outer(B, f) - D
    tol = 4 * N * _u(ctx.dtype) * (np.abs(A) @ np.abs(C) + np.outer(np.abs(B), np.abs(f))
                                   + np.abs(D))
    _assert_within(np.abs(resid), tol, f"N={N}, t={t}: A c + B f(t) − c'")


# --- nplr laws --------------------------------------------------------------------------------


def _nplr64(ctx: LawContext, measure: str, N: int):
    out = ctx.fn(measure, N, dtype=dtype(ctx.dtype).torch, device=ctx.device)
    return [to_numpy(x) for x in out]


def reconstruction(ctx: LawContext) -> None:
    measure = ctx.draw(st.sampled_from(impl.MEASURES))
    N = ctx.draw(st.sampled_from(EVEN_SIZES))
    lam, _, _, V = _nplr64(ctx, measure, N)
    A = to_numpy(ctx.impl_of("hippo")(measure, N, dtype=dtype(real_of(ctx.dtype).name).torch,
                                      device=ctx.device)[0])
    P = ref_np.rank_correction(measure, N)
    rec = 2 * ((V * lam) @ V.conj().T).real - P.T @ P
    M = ref_np.nplr_magnitude(measure, N)["A"]
    err = np.linalg.norm(rec - A)
    _assert_within(err, 8 * _u(ctx.dtype) * N * M, f"{measure} N={N}: ‖2Re(VΛV*) − PᵀP − A‖_F")


def re_lambda(ctx: LawContext) -> None:
    measure = ctx.draw(st.sampled_from(impl.MEASURES))
    N = ctx.draw(st.sampled_from(EVEN_SIZES))
    lam = _nplr64(ctx, measure, N)[0]
    A, _ = ref_np.hippo(measure, N)
    P = ref_np.rank_correction(measure, N)
    c = ref_np.shift(measure)
    # what reading c off S's diagonal may cost (S4 averages it); a generic eigensolver's drift of
    # O(u‖K‖₂) is far larger at large N
    tol = 4 * _u(ctx.dtype) * (abs(c) + np.mean(np.abs(np.diag(A)) + np.sum(P**2, axis=0)))
    _assert_within(np.abs(lam.real - c), tol, f"{measure} N={N}: Re Λ − c")


def unitary(ctx: LawContext) -> None:
    measure = ctx.draw(st.sampled_from(impl.MEASURES))
    N = ctx.draw(st.sampled_from(EVEN_SIZES))
    V = _nplr64(ctx, measure, N)[3]
    Vf = np.concatenate([V, V.conj()], axis=1)
    err = np.linalg.norm(Vf.conj().T @ Vf - np.eye(N))
    _assert_within(err, 8 * _u(ctx.dtype) * N, f"{measure} N={N}: ‖V_full* V_full − I‖_F")


def half_by_sign(ctx: LawContext) -> None:
    measure = ctx.draw(st.sampled_from(impl.MEASURES))
    N = ctx.draw(st.sampled_from(EVEN_SIZES))
    lam = _nplr64(ctx, measure, N)[0]
    assert lam.shape == (N // 2,), f"{measure} N={N}: {lam.shape} states kept, not N/2"
    mu = np.linalg.eigvalsh(-1j * ref_np.skew_part(measure, N))
    want = np.sort(mu)[N // 2:]  # the ± spectrum's upper half: μ > 0 and half of any zeros
    bound = NPLR.bound(Case({}, ctx.dtype, {"N": N}), measure)["Lambda"]
    # the eigenvalue bound plus float64 eigvalsh's own error (the same bound at u = 2^-53)
    tol = bound + NPLR.bound(Case({}, "c128", {"N": N}), measure)["Lambda"]
    assert np.all(lam.imag >= -tol), f"{measure} N={N}: kept Im Λ < 0: {lam.imag.min()}"
    _assert_within(np.abs(np.sort(lam.imag) - want), tol, f"{measure} N={N}: kept Im Λ")


# --- diag_init laws ---------------------------------------------------------------------------


def _init(ctx, case: Case, name: str):
    return [to_numpy(x) for x in DIAG_INIT.call(ctx.fn, case, name, ctx.device)]


def legs_equals_nplr(ctx: LawContext) -> None:
    case = ctx.draw(init_cases(ctx.dtype, "s4d-legs"))
    N = case.params["N"]
    lam = _init(ctx, case, "s4d-legs")[0]
    ref = to_numpy(ctx.impl_of("nplr")("legs", N, dtype=dtype(ctx.dtype).torch,
                                       device=ctx.device)[0])
    ref = ref[np.argsort(ref.imag)]
    tol = NPLR.bound(Case({}, ctx.dtype, {"N": N}), "legs")["Lambda"]
    for h in range(lam.shape[0]):
        got = lam[h][np.argsort(lam[h].imag)]
        _assert_within(np.abs(got - ref), tol, f"N={N} channel {h}: s4d-legs Λ vs nplr Λ")


def dt_in_range(ctx: LawContext) -> None:
    name = ctx.draw(st.sampled_from(impl.INITS))
    case = ctx.draw(init_cases(ctx.dtype, name))
    log_dt = _init(ctx, case, name)[3].real
    lo, hi = case.params["dt_min"], case.params["dt_max"]
    u = _u(ctx.dtype)
    dt = np.exp(log_dt)
    slack = 4 * u * (1 + np.abs(log_dt))  # relative: a rounding of log Δ by u|log Δ|
    assert np.all(dt >= lo * (1 - slack)) and np.all(dt <= hi * (1 + slack)), (
        f"{name}: Δ = {dt} outside [{lo}, {hi}]")


def seeded(ctx: LawContext) -> None:
    name = ctx.draw(st.sampled_from(impl.INITS))
    case = ctx.draw(init_cases(ctx.dtype, name))
    first = _init(ctx, case, name)
    again = _init(ctx, case, name)
    for a, b, k in zip(first, again, DIAG_INIT.outputs):
        assert np.array_equal(a, b), f"{name}: {k} differs between two calls with one seed"
    other = Case({}, case.dtype, {**case.params, "seed": case.params["seed"] + 1})
    second = _init(ctx, other, name)
    changed = ["C"] + (["log_dt"] if case.params["dt_min"] < case.params["dt_max"] else [])
    changed += ["Lambda"] if name == "random" else []
    for k in changed:
        i = DIAG_INIT.outputs.index(k)
        assert not np.array_equal(first[i], second[i]), f"{name}: {k} ignores the seed"
    for k in ("B",) + (() if name == "random" else ("Lambda",)):
        i = DIAG_INIT.outputs.index(k)
        assert np.array_equal(first[i], second[i]), f"{name}: {k} depends on the seed"


def structure(ctx: LawContext) -> None:
    name = ctx.draw(st.sampled_from(impl.INITS))
    case = ctx.draw(init_cases(ctx.dtype, name))
    lam, B, C, log_dt = _init(ctx, case, name)
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


for _law in (
    Law("hippo", "spectrum", "legs eig(A) = {−1..−N}, lagt eig(A) = {−½} (triangular, exact)",
        spectrum, REAL),
    Law("hippo", "normal_plus_low_rank", "A + PᵀP = c·I + skew (c = −½ legs, 0 otherwise)",
        normal_plus_low_rank, REAL),
    Law("hippo", "legs_fixed_point", "legs: A[:, 0] + B = 0 (constant input is a fixed point)",
        legs_fixed_point, REAL),
    Law("hippo", "legs_projection", "legs: (dI − A)c = B gives the Legendre coefficients of s^d "
        "(mpmath quadrature)", legs_projection, REAL),
    Law("hippo", "legt_projection", "legt (θ = 2): A·m(x^d) + B = m(d·x^{d−1}) (Legendre "
        "moments on the window)", legt_projection, REAL),
    Law("hippo", "lagt_laplace", "lagt: (aI − A)γ(a) = B, γ_n = (a−½)^n/(a+½)^{n+1}",
        lagt_laplace, REAL),
    Law("hippo", "fout_exact_inputs", "fout: c' = Ac + Bf for f = s and cos/sin(πms), m < N/2",
        fout_exact_inputs, REAL),
    Law("nplr", "reconstruction", "2Re(VΛV*) − PᵀP = A within 8·u·N·‖A‖",
        reconstruction, COMPLEX),
    Law("nplr", "re_lambda", "Re Λ = c (−½ legs, 0 otherwise)", re_lambda, COMPLEX),
    Law("nplr", "unitary", "V_full = [V, V̄] unitary within 8·u·N", unitary, COMPLEX),
    Law("nplr", "half_by_sign", "the kept half is the Im Λ ≥ 0 half of the spectrum",
        half_by_sign, COMPLEX),
    Law("diag_init", "legs_equals_nplr", "s4d-legs Λ = nplr('legs', N) Λ", legs_equals_nplr,
        COMPLEX),
    Law("diag_init", "dt_in_range", "exp(log Δ) ∈ [dt_min, dt_max]", dt_in_range, COMPLEX),
    Law("diag_init", "seeded", "same seed → same values; another seed → other C, log Δ",
        seeded, COMPLEX),
    Law("diag_init", "structure", "B = 1; Re Λ = −½ (legs, lin, inv); s4d-real Λ = −(n+1)",
        structure, COMPLEX),
):
    registry.register_law(_law)


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
    A, B = impl._hippo64(measure, N, device)
    P = impl._correction64(measure, N, device)
    Vh = V.conj().T
    Pt = (Vh @ P.T.to(V.dtype)).T
    Bt = Vh @ B.to(V.dtype)
    return lam.to(out), Pt.to(out), Bt.to(out), V.to(out)


def _skew64(measure, N, device):
    A, _ = impl._hippo64(measure, N, device)
    P = impl._correction64(measure, N, device)
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


def _size(N):
    return lambda fmt: Case({}, fmt, {"N": N})


for _m in (
    Mutant("hippo", "sign_flipped", sign_flipped, "legs", REAL,
           "A → −A: the HiPPO paper's c' = −Ac + Bf sign convention", _size(4)),
    Mutant("hippo", "sqrt_dropped", sqrt_dropped, "legs", REAL,
           "T = diag(2n+1) for √diag(2n+1): A[n,k] = −(2n+1)²/(2k+1), B = 2n+1 (same spectrum)",
           _size(4)),
    Mutant("nplr", "half_by_position", half_by_position, "fout", COMPLEX,
           "eigh's upper half by position: keeps one real eigenvector of FouT's zero pair",
           _size(8)),
    Mutant("diag_init", "inv_half_count", inv_half_count, "s4d-inv", COMPLEX,
           "S4D-Inv's (N/π)(N/(2n+1) − 1) with N/2 (the stored pairs) for N",
           lambda fmt: Case({}, fmt, {"N": 8, "H": 2, "dt_min": 1e-3, "dt_max": 1e-1,
                                      "seed": 0})),
    Mutant("nplr", "eig_not_eigh", eig_not_eigh, "legs", ("c128",),
           "torch.linalg.eig on the non-Hermitian A + PᵀP: V_full unitary only to u‖K‖/gap",
           _size(256)),
):
    registry.register_mutant(_m)

"""Laws and mutants of the discretisation primitives (SPEC-NOTES §2).

Laws (each checks an implementation; `ctx.fn` is the primitive's, `ctx.impl_of` the others'):
- small_dt_orders: as Δ → 0 every method approaches zoh at its order: Euler, backward Euler and
  zoh_approx (B̄) to O(Δ²), bilinear to O(Δ³), zoh_approx's Ā equal to zoh's.
- zoh_exact: the zoh recurrence reproduces the continuous solution of x' = Ax + Bu for
  piecewise-constant u at the sample points (against mpmath's Taylor ODE solver, not a formula).
- stability: Re λ < 0 ⇒ |Ā| ≤ 1 for zoh, bilinear, backward Euler (strictly where the format can
  tell), spectral radius for dense A.
- diag_equals_dense: the dense path on diag(Λ) equals the diagonal path.
- dense_vs_scipy: the dense path equals scipy.signal.cont2discrete (zoh, bilinear, euler,
  backward_diff) and scipy.linalg.expm (zoh_approx's Ā), Ā and B̄ only.
- nan_propagation: a NaN in λ_n reaches exactly (Ā_n, B̄_n).

Mutants (known-bad variants each bound must catch):
- naive_phi1: B̄ = Δ·(exp(z) − 1)/z·B, which cancels at small |z|.
- s5_style: B̄ = (Ā − 1)/Λ·B after Ā = exp(ΔΛ) (S5's form): the same cancellation, 0/0 at Λ = 0.
- explicit_inverse: dense B̄ = A⁻¹(exp(ΔA) − I)B, wrong for singular or ill-conditioned A.
- torch_matrix_exp: Van Loan through torch.linalg.matrix_exp, whose degree-8 branch has a wrong
  coefficient for a single matrix (pytorch/pytorch#196592).
"""

from __future__ import annotations

import mpmath as mp
import numpy as np
import scipy.linalg
import scipy.signal
import torch
from hypothesis import strategies as st

from ssmspec import registry
from ssmspec.dtypes import COMPLEX_DTYPES, REAL_DTYPES, dtype
from ssmspec.errors import abs_error, higham_bound, ratio
from ssmspec.harness import to_numpy
from ssmspec.impl import discretization as impl
from ssmspec.reference.np import discretization as ref_np
from ssmspec.spec import Case, Law, LawContext, Mutant
from ssmspec.specs.discretization import DENSE, DIAG, dense_cases, diag_cases
from ssmspec.strategies import log_uniform, representable

ALL = REAL_DTYPES + COMPLEX_DTYPES
WIDE = ("fp64", "c128")


def _t(a, fmt, device, real=False):
    return Case({"x": np.asarray(a)}, fmt).tensor("x", device, real=real)


def _eig(draw, fmt: str, lo: float, hi: float) -> complex:
    """A λ with Re λ < 0, |λ| in [lo, hi], complex for complex formats."""
    r = draw(log_uniform(lo, hi))
    if dtype(fmt).is_complex:
        return complex(-r, draw(st.floats(-hi, hi)))
    return complex(-r, 0.0)


# --- laws -------------------------------------------------------------------------------------

ORDERS = {"euler": (2, 2), "backward_euler": (2, 2), "bilinear": (3, 3), "zoh_approx": (None, 2)}


def small_dt_orders(ctx: LawContext) -> None:
    ctx.require("zoh")  # every method is measured against zoh
    methods = ctx.covered(list(ORDERS))
    fmt, dev = ctx.dtype, ctx.device
    lam = np.array([_eig(ctx.draw, fmt, 0.1, 10.0) for _ in range(3)])
    lam = lam if dtype(fmt).is_complex else lam.real
    b = np.array([1.0, -0.5, 2.0], dtype=lam.dtype)
    h0 = 1e-2 / np.max(np.abs(lam))  # |z| ≤ 1e-2: truncation far above fp64 roundoff
    dts = h0 * 2.0 ** -np.arange(4)
    zoh = [ctx.fn(_t(lam, fmt, dev), _t(b, fmt, dev), float(h), method="zoh") for h in dts]
    for method, (pa, pb) in ((m, ORDERS[m]) for m in methods):
        got = [ctx.fn(_t(lam, fmt, dev), _t(b, fmt, dev), float(h), method=method) for h in dts]
        for which, p in ((0, pa), (1, pb)):
            e = np.array([np.max(np.abs(to_numpy(g[which]) - to_numpy(z[which])))
                          for g, z in zip(got, zoh)])
            if p is None:
                assert np.all(e == 0), f"{method}: Ā must equal zoh's exactly, differs by {e}"
                continue
            slopes = np.log2(e[:-1] / e[1:])
            assert np.all(np.abs(slopes - p) < 0.1), (
                f"{method} {'ĀB̄'[which]}̄: observed orders {slopes}, expected {p} "
                f"(Δ = {dts}, |m − zoh| = {e}, λ = {lam})"
            )


def zoh_exact(ctx: LawContext) -> None:
    """x_{k+1} = Ā x_k + B̄ u_k equals the ODE solution at t = (k+1)Δ (mpmath Taylor solver)."""
    ctx.require("zoh")
    fmt, dev, draw = ctx.dtype, ctx.device, ctx.draw
    n, steps = draw(st.integers(1, 3)), 4
    lam = np.array([_eig(draw, fmt, 0.05, 3.0) for _ in range(n)])
    lam = lam if dtype(fmt).is_complex else lam.real
    # values of order one (or 0): mpmath's ODE solver controls absolute, not relative, error
    el = st.one_of(st.just(0.0), st.floats(0.05, 2.0), st.floats(-2.0, -0.05))
    b = representable(draw(st.lists(el, min_size=n, max_size=n)), fmt)
    x0 = representable(draw(st.lists(el, min_size=n, max_size=n)), fmt)
    u = representable(draw(st.lists(el, min_size=steps, max_size=steps)), fmt)
    dt = float(representable(draw(st.floats(0.05, 1.0)), fmt))
    lam, b = representable(lam, fmt), b.astype(lam.dtype)
    case = Case({"Lambda": lam, "B": b, "dt": np.array(dt)}, fmt)
    abar, bbar = (to_numpy(t) for t in DIAG.call(ctx.fn, case, "zoh", dev))
    # (Ā, B̄) carry at most their own bound; the recurrence (run here in float64) propagates it:
    # E_{k+1} = |Ā| E_k + bound_Ā |x_k| + bound_B̄ |u_k|, plus float64 rounding of the recurrence.
    bnd = DIAG.bound(case, "zoh")
    x, xa, E = x0.astype(abar.dtype), np.abs(x0), np.zeros(n)
    with mp.workdps(30):
        lam_m = [mp.mpmathify(complex(v)) for v in lam]
        y = [mp.mpmathify(complex(v)) for v in x0]
        for k in range(steps):
            uk = mp.mpf(float(u[k]))
            f = mp.odefun(lambda t, yy, uk=uk: [lam_m[i] * yy[i] + mp.mpf(float(b[i].real)) * uk
                                               for i in range(n)], 0, y)
            y = f(mp.mpf(dt))
            E = np.abs(abar) * E + bnd["Abar"] * np.abs(x) + bnd["Bbar"] * abs(u[k])
            x = abar * x + bbar * u[k]
            xa = np.abs(abar) * xa + np.abs(bbar) * abs(u[k])
            exact = np.array([complex(v) for v in y])
            bound = E + higham_bound(4.0 * (k + 1), "fp64", 1.0, xa)
            err = np.abs(x - exact)
            assert np.all(ratio(err, bound) <= 1), (
                f"step {k + 1}: recurrence {x} vs ODE {exact}, err {err} > bound {bound}")


def stability(ctx: LawContext) -> None:
    fmt, dev, draw = ctx.dtype, ctx.device, ctx.draw
    n = draw(st.integers(1, 6))
    lam = np.array([_eig(draw, fmt, 1e-6, 1e4) for _ in range(n)])
    lam = representable(lam if dtype(fmt).is_complex else lam.real, fmt)
    lam = np.where(lam.real < 0, lam, -1.0)  # strictly stable after rounding
    dt = float(representable(draw(log_uniform(1e-6, 10.0)), fmt))
    case = Case({"Lambda": lam, "B": np.ones_like(lam), "dt": np.array(dt)}, fmt)
    for method in ctx.covered(("zoh", "bilinear", "backward_euler")):
        abar, _ = DIAG.call(ctx.fn, case, method, dev)
        mag = np.abs(to_numpy(abar))
        # finite precision: |Ā| may exceed 1 by its own rounding only, and must be < 1 wherever
        # the exact |Ā| is further than that below 1
        slack = DIAG.bound(case, method)["Abar"]
        assert np.all(mag <= 1.0 + slack), f"{method}: |Ā| = {mag} > 1 + {slack} (λ = {lam})"
        exact = np.abs(ref_np.discretize_diag(lam, np.ones_like(lam), dt, method)[0])
        tellable = exact < 1 - 2 * slack
        assert np.all(mag[tellable] < 1.0), f"{method}: |Ā| rounds to 1 where exactly {exact}"


def dense_stability(ctx: LawContext) -> None:
    """Normal A with Re λ ≤ 0 gives a normal Ā with ‖Ā‖₂ = ρ(Ā) ≤ 1 (non-normal A may have
    ‖Ā‖₂ > 1 legitimately, and its eigenvalues are too ill-conditioned to check ρ directly)."""
    fmt, dev = ctx.dtype, ctx.device
    case = ctx.draw(dense_cases(fmt, normal=True))
    for method in ctx.covered(("zoh", "bilinear", "backward_euler")):
        abar, _ = DENSE.call(ctx.fn, case, method, dev)
        norm = np.linalg.norm(to_numpy(abar), ord=2, axis=(-2, -1))
        slack = DENSE.bound(case, method)["Abar"]
        assert np.all(norm <= 1 + slack), f"{method}: ‖Ā‖₂ = {norm} > 1 + {slack}"


def diag_equals_dense(ctx: LawContext) -> None:
    fmt, dev = ctx.dtype, ctx.device
    case = ctx.draw(diag_cases(fmt, max_n=4))
    lam, b, dt = case.arrays["Lambda"], case.arrays["B"], case.arrays["dt"]
    if case.params["dt"] == "per state":  # the dense form has one Δ per matrix
        dt = dt[..., 0]
    dense = ctx.impl_of("discretize_dense")
    A = np.zeros(lam.shape + lam.shape[-1:], dtype=lam.dtype)
    idx = np.arange(lam.shape[-1])
    A[..., idx, idx] = lam
    dcase = Case({"A": A, "B": b[..., None], "dt": dt}, fmt)
    for method in ctx.covered(impl.METHODS):
        dc = Case({"Lambda": lam, "B": b, "dt": dt}, fmt)
        da, db = (to_numpy(t) for t in DIAG.call(ctx.fn, dc, method, dev))
        ma, mb = (to_numpy(t) for t in DENSE.call(dense, dcase, method, dev))
        bd, bm = DIAG.bound(dc, method), DENSE.bound(dcase, method)
        for name, diag_out, dense_out in (("Abar", np.vectorize(np.diag, signature="(n)->(n,n)")(
                da), ma), ("Bbar", db[..., None], mb)):
            diff = np.sqrt(np.sum(abs_error(dense_out, diag_out) ** 2, axis=(-2, -1)))
            tol = bm[name] + np.sqrt(np.sum(np.asarray(bd[name]) ** 2, axis=-1))
            assert np.all(ratio(diff, tol) <= 1), f"{method} {name}: diag vs dense {diff} > {tol}"


_SCIPY = {"zoh": "zoh", "bilinear": "bilinear", "euler": "euler",
          "backward_euler": "backward_diff"}


def dense_vs_scipy(ctx: LawContext) -> None:
    case = ctx.draw(dense_cases("fp64"))
    A, B, dt = case.arrays["A"], case.arrays["B"], case.arrays["dt"]
    batch = A.shape[:-2]
    dts = np.broadcast_to(dt, batch)
    for method in ctx.covered(impl.METHODS):
        got = [to_numpy(t) for t in DENSE.call(ctx.fn, case, method, ctx.device)]
        bound = DENSE.bound(case, method)
        for i in np.ndindex(batch):
            n, k = A[i].shape[0], B[i].shape[1]
            if method == "zoh_approx":
                want = (scipy.linalg.expm(dts[i] * A[i]), dts[i] * B[i])
            else:
                sysd = scipy.signal.cont2discrete(
                    (A[i], B[i], np.eye(n), np.zeros((n, k))), float(dts[i]),
                    method=_SCIPY[method])
                want = sysd[:2]
            exact = DENSE.reference(Case({"A": A[i], "B": B[i], "dt": dts[i]}, "fp64"), method,
                                    "mp")
            for name, g, w in (("Abar", got[0][i], want[0]), ("Bbar", got[1][i], want[1])):
                # scipy's result carries its own error, which for scipy.linalg.expm exceeds the
                # bound (see tests/test_reference_discretization.py): allow what mpmath measures.
                scipy_err = np.linalg.norm(abs_error(w, exact[name]))
                tol = np.asarray(bound[name])[i] + scipy_err
                diff = np.linalg.norm(g - w)
                assert diff <= tol, f"{method} {name}: vs scipy {diff:.3g} > {tol:.3g}"


def nan_propagation(ctx: LawContext) -> None:
    fmt, dev = ctx.dtype, ctx.device
    n = ctx.draw(st.integers(2, 5))
    k = ctx.draw(st.integers(0, n - 1))
    lam = -np.linspace(0.5, 2.0, n).astype(dtype(fmt).numpy)
    lam[k] = np.nan
    for method in ctx.covered(impl.METHODS):
        a, b = (to_numpy(t) for t in ctx.fn(_t(lam, fmt, dev), _t(np.ones_like(lam), fmt, dev),
                                             0.1, method=method))
        bad = np.isnan(a) | np.isnan(b)
        assert bad[k] and bad.sum() == 1, f"{method}: NaN at {k} reached {np.flatnonzero(bad)}"


for _law in (
    Law("discretize_diag", "small_dt_orders", "every method → zoh as Δ → 0 at its order",
        small_dt_orders, WIDE),
    Law("discretize_diag", "zoh_exact", "zoh is exact for piecewise-constant input (mpmath ODE)",
        zoh_exact, ALL),
    Law("discretize_diag", "stability", "Re λ < 0 ⇒ |Ā| ≤ 1 (zoh, bilinear, backward Euler)",
        stability, ALL),
    Law("discretize_diag", "diag_equals_dense", "dense path on diag(Λ) = diagonal path",
        diag_equals_dense, ALL),
    Law("discretize_diag", "nan_propagation", "a NaN in λ_n reaches exactly (Ā_n, B̄_n)",
        nan_propagation, ("fp64", "fp32", "c64")),
    Law("discretize_dense", "stability", "normal A, Re λ ≤ 0 ⇒ ‖Ā‖₂ ≤ 1",
        dense_stability, ALL),
    Law("discretize_dense", "dense_vs_scipy", "= scipy.signal.cont2discrete / scipy.linalg.expm",
        dense_vs_scipy, ("fp64",)),
):
    registry.register_law(_law)


# --- mutants ----------------------------------------------------------------------------------


def naive_phi1(Lambda, B, dt, method="zoh"):
    z, b, dt, out = impl.prepare_diag(Lambda, B, dt)
    safe = torch.where(z == 0, torch.ones_like(z), z)
    phi = torch.where(z == 0, torch.ones_like(z), (torch.exp(safe) - 1) / safe)
    return torch.exp(z).to(out), (dt * phi * b).to(out)


def s5_style(Lambda, B, dt, method="zoh"):
    z, b, dt, out = impl.prepare_diag(Lambda, B, dt)
    abar = torch.exp(z)
    lam = Lambda.to(z.dtype)
    return abar.to(out), ((abar - 1) / lam * b).to(out)


def explicit_inverse(A, B, dt, method="zoh"):
    A, B, dt, out = impl.prepare_dense(A, B, dt)
    abar = impl.expm(dt * A)
    eye = torch.eye(A.shape[-1], dtype=A.dtype, device=A.device)
    return abar.to(out), (torch.linalg.inv(A) @ (abar - eye) @ B).to(out)


def torch_matrix_exp(A, B, dt, method="zoh"):
    A, B, dt, out = impl.prepare_dense(A, B, dt)
    n, k = A.shape[-1], B.shape[-1]
    X = A.new_zeros(A.shape[:-2] + (n + k, n + k))
    X[..., :n, :n] = dt * A
    X[..., :n, n:] = dt * B
    E = torch.linalg.matrix_exp(X)
    return E[..., :n, :n].to(out), E[..., :n, n:].to(out)


def _small_z_witness(fmt: str) -> Case:
    """|ΔΛ| from 1e-9 to 1e-4 (and Λ = 0): where (eᶻ − 1)/z cancels."""
    lam = np.array([-1e-3, -2.5e-4, -3e-2, 0.0])
    if dtype(fmt).is_complex:
        lam = lam + 1j * np.array([1e-3, -2e-4, 0.0, 0.0])
    return Case({"Lambda": representable(lam, fmt),
                 "B": representable(np.ones_like(lam), fmt),
                 "dt": representable(np.array(1e-6 if dtype(fmt).bits > 11 else 2e-3), fmt)},
                fmt, {"dt": "scalar"})


def _singular_witness(fmt: str) -> Case:
    """A = Q·diag(0, −1, −2)·Qᴴ: singular, rotated so that no entry is structurally zero."""
    rng = np.random.default_rng(7)
    G = rng.normal(size=(3, 3))
    if dtype(fmt).is_complex:
        G = G + 1j * rng.normal(size=(3, 3))
    Q, _ = np.linalg.qr(G)
    A = Q @ np.diag([0.0, -1.0, -2.0]) @ Q.conj().T
    B = np.ones((3, 1), dtype=A.dtype)
    return Case({"A": representable(A, fmt), "B": representable(B, fmt),
                 "dt": representable(np.array(0.5), fmt)}, fmt, {"dt": "scalar"})


def _rotation_witness(fmt: str) -> Case:
    """One 2×2 generator of a small rotation: torch's degree-8 Taylor branch (#196592)."""
    theta = 0.04 if dtype(fmt).bits > 24 else 0.5
    A = np.array([[0.0, -theta], [theta, 0.0]])
    if dtype(fmt).is_complex:
        A = A.astype(np.complex128)
    return Case({"A": representable(A, fmt), "B": representable(np.zeros((2, 1), A.dtype), fmt),
                 "dt": representable(np.array(1.0), fmt)}, fmt, {"dt": "scalar"})


for _m in (
    Mutant("discretize_diag", "naive_phi1", naive_phi1, "zoh", ALL,
           "(exp(z) − 1)/z instead of expm1(z)/z: cancellation at small |z|", _small_z_witness),
    Mutant("discretize_diag", "s5_style", s5_style, "zoh", ALL,
           "(exp(ΔΛ) − 1)/Λ after Ā (S5's form): cancellation, 0/0 at Λ = 0", _small_z_witness),
    Mutant("discretize_dense", "explicit_inverse", explicit_inverse, "zoh",
           ("fp64", "fp32", "c64", "c128"),
           "A⁻¹(exp(ΔA) − I)B: wrong for singular A, cancels at small Δ", _singular_witness),
    Mutant("discretize_dense", "torch_matrix_exp", torch_matrix_exp, "zoh",
           ("fp64", "fp32", "c128"),
           "torch.linalg.matrix_exp's degree-8 branch has a wrong x⁷ coefficient for a batch of "
           "one (pytorch/pytorch#196592)", _rotation_witness, search=False),
):
    registry.register_mutant(_m)

"""Discretisation: `discretize_diag` and `discretize_dense` — spec, bound, references, sweep,
implementations, laws, mutants and bad inputs. The methods, the bounds' derivation (g = 1 + |ΔΛ|
for the exponentials, the matrix order for the dense paths) and the laws:
docs/discretization.md#discretize_diag, docs/discretization.md#discretize_dense and
docs/discretization.md#laws.
"""

from __future__ import annotations

import mpmath as mp
import numpy as np
import torch
from hypothesis import assume
from hypothesis import strategies as st

from ssmspec.impl import discretization as impl
from ssmspec.reference.mp import discretization as ref_mp
from ssmspec.reference.np import discretization as ref_np
from ssmspec.speckit import *  # noqa: F403 (the spec vocabulary)
from ssmspec.specs._kernel_kit import laws, two_tier
from ssmspec.specs._scan_kit import normals, s4d
from ssmspec.specs.kernels import coef_elements, naive_phi

METHODS = impl.METHODS
DT_RANGE = (1e-6, 10.0)
ALL_DTYPES = REAL_DTYPES + COMPLEX_DTYPES
WIDE = ("fp64", "c128")


def max_eig(fmt: str, dense: bool = False) -> float:
    """Largest |λ| drawn: keeps every method's outputs inside fp16's range (|1 + Δλ| < 65504)."""
    if fmt == "fp16":
        return 1e2 if dense else 1e3
    return 1e3 if dense else 1e4


# --- discretize_diag --------------------------------------------------------------------------


@st.composite
def diag_cases(draw, fmt: str, method: str = "zoh", max_n: int = 6) -> Case:
    """Λ with Re λ ≤ 0 from exactly 0 and ~1e-12 up to max_eig (complex: |Im λ| likewise), B of
    moderate size, Δ log-uniform over DT_RANGE given as a scalar, per channel or per state."""
    d = dtype(fmt)
    batch = draw(batch_shapes(2, 3))
    shape = batch + (draw(size("N", st.integers(1, max_n))),)
    lam_el = stable_complex(max_eig(fmt)) if d.is_complex else stable_reals(max_eig(fmt))
    lam = draw(arrays(shape, lam_el))
    b = draw(arrays(shape, coef_elements(dtype(fmt).is_complex, 4.0)))
    kind = draw(st.sampled_from(["scalar", "per channel", "per state"]))
    dt_shape = {"scalar": (), "per channel": batch, "per state": shape}[kind]
    dt = draw(arrays(dt_shape, log_uniform(*DT_RANGE)))
    return case_of(fmt, {"Lambda": lam, "B": b, "dt": dt}, dt=kind)


def _references(name: str, a: str, mp_max_work: int) -> TwoTier:
    """The two tiers of `name`(a, B, dt, method) -> (Abar, Bbar); work = the entries of `a`."""
    return two_tier(lambda mod, case, method: dict(zip(OUTPUTS, getattr(mod, name)(
        case.arrays[a], case.arrays["B"], case.arrays["dt"], method))), (ref_mp, ref_np),
        mp_max_work, lambda case: np.size(case.arrays[a]))


def _diag_terms(case: Case, method: str, d) -> dict:
    """M from the float64 reference; g = 1 + |ΔΛ| where an exponential of z = ΔΛ is taken (its
    rounding of z moves eᶻ by a relative u|z|), else 1 (docs/discretization.md#discretize_diag)."""
    lam = np.asarray(case.arrays["Lambda"])
    m_a, m_b = ref_np.magnitude_diag(lam, case.arrays["B"], case.arrays["dt"], method)
    z = np.abs(ref_mp.expand_dt(case.arrays["dt"], lam.shape) * lam)
    exp_g, one = 1 + z, np.ones_like(z)
    g_a = exp_g if method in ("zoh", "zoh_approx") else one
    g_b = exp_g if method == "zoh" else one
    return {"Abar": Terms(g_a, m_a), "Bbar": Terms(g_b, m_b)}


def diag_problem(fmt: str, lam, dt, kind: str) -> Case:
    """The discretize_diag case of Λ = `lam`, B = 1 and Δ = `dt` (`kind`: scalar, per channel):
    the bench, sweep and witness cases."""
    return case_of(fmt, {"Lambda": lam, "B": np.ones_like(lam), "dt": dt}, dt=kind)


def _bench_diag(fmt: str) -> Case:
    """H = 1024 channels, N = 64 states, Δ per channel (the S4D shape)."""
    rng = np.random.default_rng(0)
    H, N = 1024, 64
    lam = -rng.uniform(0.1, 10, (H, N))
    if dtype(fmt).is_complex:
        lam = lam + 1j * rng.uniform(-100, 100, (H, N))
    return diag_problem(fmt, lam, 10.0 ** rng.uniform(-3, -1, H), "per channel")


def sweep_problem(fmt: str, dt: float) -> Case:
    """The sweep along Δ: 16 states (S4D-Lin / S4D-Real and a stiff one, λ = −1000), where
    (e^z − 1)/z would cancel and where Δ·|λ| is large; ValueError where Δ rounds to 0."""
    if representable(np.array([dt]), fmt)[0] == 0:
        raise ValueError(f"dt: {dt:g} rounds to 0 in {fmt}")
    lam = np.concatenate([s4d(dtype(fmt).is_complex, 1, 15), [[-1e3]]], axis=1)
    return diag_problem(fmt, lam, [dt], "per channel")


# --- discretize_dense -------------------------------------------------------------------------


def _real_block(eigs: list[complex], n: int) -> np.ndarray:
    """A real n×n block-diagonal matrix with spectrum from `eigs`: one 2×2 block a ± ib per
    complex λ while it fits, the real part alone where it does not."""
    out = np.zeros((n, n))
    i = 0
    for lam in eigs:
        if i == n:
            break
        if lam.imag != 0 and i + 2 <= n:
            a, b = lam.real, abs(lam.imag)
            out[i:i + 2, i:i + 2] = [[a, b], [-b, a]]
            i += 2
        else:
            out[i, i] = lam.real
            i += 1
    return out


def _unitary(rng, shape: tuple, cplx: bool) -> np.ndarray:
    """Random orthogonal (unitary if `cplx`) matrices of `shape`: Q of normal entries' QR."""
    return np.linalg.qr(normals(rng, shape, cplx))[0]


@st.composite
def dense_matrices(draw, fmt: str, n: int, normal: bool = False) -> np.ndarray:
    """A stable n×n A: a spectrum with Re λ ≤ 0 (0 included: singular A) rotated by a random
    orthogonal/unitary Q, sometimes made non-normal by a strictly lower triangular term."""
    d = dtype(fmt)
    m = max_eig(fmt, dense=True)
    el = st.one_of(stable_reals(m).map(complex), stable_complex(m, 1e-3))
    eigs = draw(st.lists(el, min_size=n, max_size=n))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    nonnormal = 0.0 if normal else draw(st.sampled_from([0.0, 0.0, 0.5]))
    T = np.diag(np.array(eigs, dtype=np.complex128)) if d.is_complex else _real_block(eigs, n)
    Q = _unitary(rng, (n, n), d.is_complex)
    if nonnormal and np.allclose(T, np.tril(T)):
        scale = max(1.0, float(np.max(np.abs(T))))
        T = T + nonnormal * scale * np.tril(rng.normal(size=(n, n)), -1)
    return Q @ T @ Q.conj().T


# the methods that solve with I − h·Δ·A, and their h
SOLVED = {"bilinear": 0.5, "backward_euler": 1.0}


@st.composite
def dense_cases(draw, fmt: str, method: str = "zoh", max_n: int = 4, normal: bool = False) -> Case:
    """A batch of stable dense systems (see `dense_matrices`), B (N, K ≤ 2), Δ log-uniform over
    DT_RANGE, scalar or per batch entry."""
    batch = draw(batch_shapes(1, 2))
    # fixable, but not drawn from the realistic sizes: a dense solve's N is the matrix order (S4
    # uses N ≤ 64), and this strategy's spectra span decades that make N = 256 ill-posed
    n = draw(size("N", st.integers(1, max_n), kind="dense"))
    mats = [draw(dense_matrices(fmt, n, normal)) for _ in range(int(np.prod(batch)))]
    A = np.stack(mats).reshape(batch + (n, n))
    k = draw(st.integers(1, 2))
    B = draw(arrays(batch + (n, k), coef_elements(dtype(fmt).is_complex, 4.0)))
    per = batch != () and draw(st.booleans())
    dt = draw(arrays(batch if per else (), log_uniform(*DT_RANGE)))
    A, dt = representable(A, fmt), representable(dt, fmt)
    if method in SOLVED:
        # rounding a strongly non-normal A to the format can move an eigenvalue near 0 by
        # (u·‖A‖)^(1/k) to Re λ > 0, where I − h·Δ·A is singular (seen: λ = 2/Δ in c64): such an
        # input is no longer a stable system, the spec's domain
        solve = np.eye(n) - SOLVED[method] * np.asarray(dt)[..., None, None] * A
        assume(bool(np.all(np.linalg.cond(solve) < 0.01 / dtype(fmt).u)))
    return case_of(fmt, {"A": A, "B": B, "dt": dt}, dt="per batch" if per else "scalar")


def _dense_terms(case: Case, method: str, d) -> dict:
    """Per matrix: M from the float64 reference, g = the order of the matrix the method works
    on, N + K for Van Loan's block (zoh), N otherwise (docs/discretization.md#discretize_dense)."""
    A, B = np.asarray(case.arrays["A"]), np.asarray(case.arrays["B"])
    m_a, m_b = ref_np.magnitude_dense(A, B, case.arrays["dt"], method)
    g = np.full(A.shape[:-2], float(A.shape[-1] + (B.shape[-1] if method == "zoh" else 0)))
    return {"Abar": Terms(g, m_a), "Bbar": Terms(g, m_b)}


def dense_problem(fmt: str, A: np.ndarray, B: np.ndarray, dt, kind: str = "scalar") -> Case:
    """The discretize_dense case of A, B (complex in a complex format) and Δ = `dt` (`kind`:
    scalar, per batch): the bench and witness cases."""
    c = np.complex128 if dtype(fmt).is_complex else A.dtype
    return case_of(fmt, {"A": A.astype(c), "B": B.astype(c), "dt": dt}, dt=kind)


def _bench_dense(fmt: str) -> Case:
    """64 systems of order N = 16 with K = 1 input."""
    rng = np.random.default_rng(0)
    Q = _unitary(rng, (64, 16, 16), False)
    lam = -rng.uniform(0.1, 10, (64, 16))
    A = Q @ (lam[..., None] * np.swapaxes(Q, -1, -2))
    return dense_problem(fmt, A, np.ones((64, 16, 1)), np.full(64, 0.01), "per batch")


# --- bad input (docs/bad-input.md) -----------------------------------------------------------

# each with the generic rows (docs/bad-input.md#the-generic-rows); Λ and A take any leading axes
_DIAG_BAD = bad_calls({"Lambda": full(3, fill=-1.0), "B": full(3), "dt": 0.1}, [
    ("Lambda not a tensor", "Lambda", TypeError, dict(Lambda=[-1.0], B=full(1))),
    ("Lambda 0-d", "Lambda", ValueError, dict(Lambda=full(fill=-1.0), B=full())),
    ("Lambda with N = 0", "Lambda", ValueError, dict(Lambda=full(2, 0), B=full(2, 0))),
    ("B real, Lambda complex", "B", TypeError,
     dict(Lambda=full(3, fill=-1.0, dt=torch.complex128))),
    ("B of another shape", "B", ValueError, dict(Lambda=full(2, 3, fill=-1.0))),
    ("dt zero", "dt", ValueError, dict(dt=0.0)),
    ("dt negative entry", "dt", ValueError,
     dict(Lambda=full(2, 3, fill=-1.0), B=full(2, 3),
          dt=torch.tensor([0.1, -0.1], dtype=torch.float64))),
    ("dt of a broadcastable but unlisted shape", "dt", ValueError,
     dict(Lambda=full(2, 3, fill=-1.0), B=full(2, 3), dt=full(3, fill=0.1))),
    ("dt complex", "dt", TypeError, dict(dt=full(fill=0.1, dt=torch.complex128))),
    ("dt of another precision", "dt", TypeError, dict(dt=full(fill=0.1, dt=torch.float32))),
], generic=dict(batched=("Lambda",)))
_DENSE_BAD = bad_calls({"A": full(3, 3, fill=-1.0), "B": full(3, 1), "dt": 0.1}, [
    ("A 1-d", "A", ValueError, dict(A=full(3), B=full(3, 1))),
    ("A not square", "A", ValueError, dict(A=full(2, 3), B=full(2, 1))),
    ("B with the wrong number of rows", "B", ValueError, dict(B=full(2, 1))),
    ("B 1-d", "B", ValueError, dict(B=full(3))),
    ("dt per state (not allowed for dense A)", "dt", ValueError,
     dict(A=full(2, 3, 3, fill=-1.0), B=full(2, 3, 1), dt=full(2, 3, fill=0.1))),
    ("dt negative", "dt", ValueError, dict(dt=-1.0)),
], generic=dict(batched=("A",)))


# --- laws (docs/discretization.md#laws) ----------------------------------------------------


def _direct(ctx: LawContext, lam, b, dt: float, method: str) -> tuple:
    """(Ā, B̄) as numpy of the implementation called on Λ, B (fresh tensors per call: an
    implementation may write into its inputs) and a float Δ."""
    case = Case({"Lambda": np.asarray(lam), "B": np.asarray(b)}, ctx.dtype)
    return tuple(to_numpy(t) for t in ctx.fn(case.tensor("Lambda", ctx.device),
                                             case.tensor("B", ctx.device), dt, method=method))


def _eigs(draw, fmt: str, n: int, lo: float, hi: float) -> np.ndarray:
    """n λ with Re λ < 0, −Re λ log-uniform in [lo, hi]; complex formats: Im λ in [−hi, hi]."""
    cplx = dtype(fmt).is_complex
    lam = np.array([complex(-draw(log_uniform(lo, hi)), draw(st.floats(-hi, hi)) if cplx else 0)
                    for _ in range(n)])
    return lam if cplx else lam.real


ORDERS = {"euler": (2, 2), "backward_euler": (2, 2), "bilinear": (3, 3), "zoh_approx": (None, 2)}


def small_dt_orders(ctx: LawContext) -> None:
    ctx.require("zoh")  # every method is measured against zoh
    methods = ctx.covered(list(ORDERS))
    lam = _eigs(ctx.draw, ctx.dtype, 3, 0.1, 10.0)
    b = np.array([1.0, -0.5, 2.0], dtype=lam.dtype)
    h0 = 1e-2 / np.max(np.abs(lam))  # |z| ≤ 1e-2: truncation far above fp64 roundoff
    dts = h0 * 2.0 ** -np.arange(4)
    zoh = [_direct(ctx, lam, b, float(h), "zoh") for h in dts]
    for method, (pa, pb) in ((m, ORDERS[m]) for m in methods):
        got = [_direct(ctx, lam, b, float(h), method) for h in dts]
        for which, p in ((0, pa), (1, pb)):
            e = np.array([np.max(np.abs(g[which] - z[which])) for g, z in zip(got, zoh)])
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
    lam = _eigs(draw, fmt, n, 0.05, 3.0)
    # values of order one (or 0): mpmath's ODE solver controls absolute, not relative, error
    el = st.one_of(st.just(0.0), st.floats(0.05, 2.0), st.floats(-2.0, -0.05))
    b, x0, u = (representable(draw(arrays((k,), el)), fmt) for k in (n, n, steps))
    dt = float(representable(draw(st.floats(0.05, 1.0)), fmt))
    lam, b = representable(lam, fmt), b.astype(lam.dtype)
    case = Case({"Lambda": lam, "B": b, "dt": np.array(dt)}, fmt)
    abar, bbar = run(DIAG, ctx.fn, case, "zoh", dev)
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
            assert_within(x, exact, bound, f"step {k + 1}: recurrence {x} vs ODE {exact}")


def stability(ctx: LawContext) -> None:
    fmt, dev, draw = ctx.dtype, ctx.device, ctx.draw
    n = draw(st.integers(1, 6))
    lam = representable(_eigs(draw, fmt, n, 1e-6, 1e4), fmt)
    lam = np.where(lam.real < 0, lam, -1.0)  # strictly stable after rounding
    dt = float(representable(draw(log_uniform(1e-6, 10.0)), fmt))
    case = Case({"Lambda": lam, "B": np.ones_like(lam), "dt": np.array(dt)}, fmt)
    for method in ctx.covered(("zoh", "bilinear", "backward_euler")):
        mag = np.abs(run(DIAG, ctx.fn, case, method, dev)[0])
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
    case = ctx.draw(dense_cases(ctx.dtype, normal=True))
    for method in ctx.covered(("zoh", "bilinear", "backward_euler")):
        abar = run(DENSE, ctx.fn, case, method, ctx.device)[0]
        norm = np.linalg.norm(abar, ord=2, axis=(-2, -1))
        slack = DENSE.bound(case, method)["Abar"]
        assert np.all(norm <= 1 + slack), f"{method}: ‖Ā‖₂ = {norm} > 1 + {slack}"


def diag_equals_dense(ctx: LawContext) -> None:
    fmt, dev = ctx.dtype, ctx.device
    case = ctx.draw(diag_cases(fmt, max_n=4))
    lam, b, dt = case.arrays["Lambda"], case.arrays["B"], case.arrays["dt"]
    if case.params["dt"] == "per state":  # the dense form has one Δ per matrix
        dt = dt[..., 0]
    dense = ctx.impl_of("discretize_dense")
    diag_matrix = np.vectorize(np.diag, signature="(n)->(n,n)")  # (…, N) -> (…, N, N)
    dcase = Case({"A": diag_matrix(lam), "B": b[..., None], "dt": dt}, fmt)
    for method in ctx.covered(impl.METHODS):
        dc = Case({"Lambda": lam, "B": b, "dt": dt}, fmt)
        da, db = run(DIAG, ctx.fn, dc, method, dev)
        ma, mb = run(DENSE, dense, dcase, method, dev)
        bd, bm = DIAG.bound(dc, method), DENSE.bound(dcase, method)
        for name, diag_out, dense_out in (("Abar", diag_matrix(da), ma),
                                          ("Bbar", db[..., None], mb)):
            diff = np.sqrt(np.sum(abs_error(dense_out, diag_out) ** 2, axis=(-2, -1)))
            tol = bm[name] + np.sqrt(np.sum(np.asarray(bd[name]) ** 2, axis=-1))
            assert_within(diff, 0.0, tol, f"{method} {name}: diag vs dense")


_SCIPY = {"zoh": "zoh", "bilinear": "bilinear", "euler": "euler",
          "backward_euler": "backward_diff"}


def dense_vs_scipy(ctx: LawContext) -> None:
    # scipy.signal costs ~1.7 s to import: this law alone needs it, not every registry load
    import scipy.linalg
    import scipy.signal

    case = ctx.draw(dense_cases("fp64"))
    A, B, dt = case.arrays["A"], case.arrays["B"], case.arrays["dt"]
    batch = A.shape[:-2]
    dts = np.broadcast_to(dt, batch)
    for method in ctx.covered(impl.METHODS):
        got = run(DENSE, ctx.fn, case, method, ctx.device)
        bound = DENSE.bound(case, method)
        for i in np.ndindex(batch):
            n, k = A[i].shape[0], B[i].shape[1]
            if method == "zoh_approx":
                want = (scipy.linalg.expm(dts[i] * A[i]), dts[i] * B[i])
            else:
                want = scipy.signal.cont2discrete((A[i], B[i], np.eye(n), np.zeros((n, k))),
                                                  float(dts[i]), method=_SCIPY[method])[:2]
            exact = DENSE.reference(Case({"A": A[i], "B": B[i], "dt": dts[i]}, "fp64"), method,
                                    "mp")
            for name, g, w in (("Abar", got[0][i], want[0]), ("Bbar", got[1][i], want[1])):
                # scipy's result carries its own error, which for scipy.linalg.expm exceeds the
                # bound (tests/test_reference_discretization.py): allow what mpmath measures.
                scipy_err = np.linalg.norm(abs_error(w, exact[name]))
                tol = np.asarray(bound[name])[i] + scipy_err
                assert_within(np.linalg.norm(g - w), 0.0, tol, f"{method} {name}: vs scipy")


def nan_propagation(ctx: LawContext) -> None:
    n = ctx.draw(st.integers(2, 5))
    k = ctx.draw(st.integers(0, n - 1))
    lam = -np.linspace(0.5, 2.0, n).astype(dtype(ctx.dtype).numpy)
    lam[k] = np.nan
    for method in ctx.covered(impl.METHODS):
        a, b = _direct(ctx, lam, np.ones_like(lam), 0.1, method)
        bad = np.isnan(a) | np.isnan(b)
        assert bad[k] and bad.sum() == 1, f"{method}: NaN at {k} reached {np.flatnonzero(bad)}"


# --- mutants ----------------------------------------------------------------------------------


def naive_phi1(Lambda, B, dt, method="zoh"):
    z, b, dt, out = impl.prepare_diag(Lambda, B, dt)
    return torch.exp(z).to(out), (dt * naive_phi(z) * b).to(out)


def s5_style(Lambda, B, dt, method="zoh"):
    z, b, dt, out = impl.prepare_diag(Lambda, B, dt)
    abar = torch.exp(z)
    return abar.to(out), ((abar - 1) / Lambda.to(z.dtype) * b).to(out)


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
    return diag_problem(fmt, lam, 1e-6 if dtype(fmt).bits > 11 else 2e-3, "scalar")


def _singular_witness(fmt: str) -> Case:
    """A = Q·diag(0, −1, −2)·Qᴴ: singular, rotated so that no entry is structurally zero."""
    Q = _unitary(np.random.default_rng(7), (3, 3), dtype(fmt).is_complex)
    return dense_problem(fmt, Q @ np.diag([0.0, -1.0, -2.0]) @ Q.conj().T, np.ones((3, 1)), 0.5)


def _rotation_witness(fmt: str) -> Case:
    """One 2×2 generator of a small rotation: torch's degree-8 Taylor branch (#196592)."""
    theta = 0.04 if dtype(fmt).bits > 24 else 0.5
    return dense_problem(fmt, np.array([[0.0, -theta], [theta, 0.0]]), np.zeros((2, 1)), 1.0)


OUTPUTS = ("Abar", "Bbar")
C_BOUND = {m: 4.0 for m in METHODS}  # a handful of roundings (docs/discretization.md)
_SHARED = dict(family="discretization", methods=METHODS, dtypes=ALL_DTYPES, sizes=("N",),
               outputs=OUTPUTS)


DIAG = registry.register_spec(
    Spec(
        name="discretize_diag", **_SHARED,
        summary="(Ā, B̄) of a diagonal SSM, A = diag(Λ), real or complex Λ",
        signature="discretize_diag(Lambda (*batch, N), B (*batch, N), dt: () | (*batch,) | "
                  "(*batch, N), method) -> (Abar, Bbar) (*batch, N)",
        strategy=lambda fmt, method: diag_cases(fmt, method),
        references=_references("discretize_diag", "Lambda", 512),
        bound=Bound(c=C_BOUND, terms=_diag_terms,
                    reasoning="elementwise; g = 1 + |ΔΛ| for exp/expm1 (rounding of z), 1 for "
                              "rational maps"),
        call=caller("Lambda", "B", "dt", real=("dt",)), bench_case=_bench_diag,
        bench_shape="H=1024, N=64, dt per channel",
        sweep=Sweep("Δ", tuple(10.0**k for k in range(-8, 2)), sweep_problem,
                    tuple(10.0**(k / 4) for k in range(-32, 5)),
                    "16 states: S4D-Lin / S4D-Real and λ = −1000"),
    ),
    implementations={"torch": impl.discretize_diag},
    laws=laws(ALL_DTYPES,
              ("small_dt_orders", "every method → zoh as Δ → 0 at its order", small_dt_orders,
               WIDE),
              ("zoh_exact", "zoh is exact for piecewise-constant input (mpmath ODE)", zoh_exact),
              ("stability", "Re λ < 0 ⇒ |Ā| ≤ 1 (zoh, bilinear, backward Euler)", stability),
              ("diag_equals_dense", "dense path on diag(Λ) = diagonal path", diag_equals_dense),
              ("nan_propagation", "a NaN in λ_n reaches exactly (Ā_n, B̄_n)", nan_propagation,
               ("fp64", "fp32", "c64"))),
    mutants=[
        Mutant("naive_phi1", naive_phi1, "zoh", ALL_DTYPES,
               "(exp(z) − 1)/z instead of expm1(z)/z: cancellation at small |z|",
               _small_z_witness),
        Mutant("s5_style", s5_style, "zoh", ALL_DTYPES,
               "(exp(ΔΛ) − 1)/Λ after Ā (S5's form): cancellation, 0/0 at Λ = 0",
               _small_z_witness),
    ],
    bad_inputs=_DIAG_BAD,
)


DENSE = registry.register_spec(
    Spec(
        name="discretize_dense", **_SHARED,
        summary="(Ā, B̄) of a dense SSM; zoh by Van Loan's block exponential",
        signature="discretize_dense(A (*batch, N, N), B (*batch, N, K), dt: () | (*batch,), "
                  "method) -> (Abar (*batch, N, N), Bbar (*batch, N, K))",
        strategy=lambda fmt, method: dense_cases(fmt, method),
        references=_references("discretize_dense", "A", 256),
        bound=Bound(c=C_BOUND, terms=_dense_terms, norms={"Abar": "fro", "Bbar": "fro"},
                    reasoning="per matrix, Frobenius; exponentials through S = max‖e^{sΔA}‖, "
                              "solves through |M⁻¹|(|M||X| + |R|)"),
        call=caller("A", "B", "dt", real=("dt",)), bench_case=_bench_dense,
        bench_shape="64 systems, N=16, K=1",
    ),
    implementations={"torch": impl.discretize_dense},
    laws=laws(ALL_DTYPES,
              ("stability", "normal A, Re λ ≤ 0 ⇒ ‖Ā‖₂ ≤ 1", dense_stability),
              ("dense_vs_scipy", "= scipy.signal.cont2discrete / scipy.linalg.expm",
               dense_vs_scipy, ("fp64",))),
    mutants=[
        Mutant("explicit_inverse", explicit_inverse, "zoh", ("fp64", "fp32", "c64", "c128"),
               "A⁻¹(exp(ΔA) − I)B: wrong for singular A, cancels at small Δ", _singular_witness),
        Mutant("torch_matrix_exp", torch_matrix_exp, "zoh", ("fp64", "fp32", "c128"),
               "torch.linalg.matrix_exp's degree-8 branch has a wrong x⁷ coefficient for a batch "
               "of one (pytorch/pytorch#196592)", _rotation_witness, search=False),
    ],
    bad_inputs=_DENSE_BAD,
)

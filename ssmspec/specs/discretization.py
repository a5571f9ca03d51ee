"""Specs of the discretisation primitives (SPEC-NOTES §2): `discretize_diag`, `discretize_dense`.

Bounds (see `ssmspec.reference.np.discretization` for the magnitudes M):

- diagonal, elementwise: |ŷ − y| ≤ c·u·g·M + g·η with g = 1 + |ΔΛ| for the exponentials (a
  rounding of z = ΔΛ by u|z| moves eᶻ by a relative u|z|, the phase error for complex Λ included)
  and g = 1 for the rational methods; c = 4 (a handful of roundings: product, exp/expm1, division,
  the final rounding of fp16/bf16 outputs).
- dense, per matrix in the Frobenius norm: ‖Ŷ − Y‖_F ≤ c·u·n·M + n·η with n the order of the matrix
  the algorithm works on (N + K for Van Loan's block, N otherwise); c = 4.
"""

from __future__ import annotations

import numpy as np
import torch
from hypothesis import assume
from hypothesis import strategies as st

from ssmspec import registry
from ssmspec.dtypes import COMPLEX_DTYPES, REAL_DTYPES, dtype
from ssmspec.impl import discretization as impl
from ssmspec.reference.mp import discretization as ref_mp
from ssmspec.reference.np import discretization as ref_np
from ssmspec.spec import BadInput, Bound, Case, Implementation, Spec, Sweep
from ssmspec.strategies import (
    arrays,
    batch_shapes,
    log_uniform,
    real_normals,
    representable,
    size,
    stable_complex,
    stable_reals,
)

METHODS = impl.METHODS
DT_RANGE = (1e-6, 10.0)
ALL_DTYPES = REAL_DTYPES + COMPLEX_DTYPES


def max_eig(fmt: str, dense: bool = False) -> float:
    """Largest |λ| drawn: keeps every method's outputs inside fp16's range (|1 + Δλ| < 65504)."""
    if fmt == "fp16":
        return 1e2 if dense else 1e3
    return 1e3 if dense else 1e4


def _b_elements(fmt: str):
    if dtype(fmt).is_complex:
        return st.builds(complex, real_normals(4.0), real_normals(4.0))
    return real_normals(4.0)


def _dt_array(draw, shape):
    return draw(arrays(shape, log_uniform(*DT_RANGE)))


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
    b = draw(arrays(shape, _b_elements(fmt)))
    kind = draw(st.sampled_from(["scalar", "per channel", "per state"]))
    dt = _dt_array(draw, {"scalar": (), "per channel": batch, "per state": shape}[kind])
    return Case(
        {"Lambda": representable(lam, fmt), "B": representable(b, fmt),
         "dt": representable(dt, fmt)},
        fmt,
        {"dt": kind},
    )


def _call_diag(fn, case: Case, method: str, device: str):
    return fn(case.tensor("Lambda", device), case.tensor("B", device),
              case.tensor("dt", device, real=True), method=method)


def _ref_diag(tier):
    mod = ref_mp if tier == "mp" else ref_np

    def reference(case: Case, method: str):
        a, b = mod.discretize_diag(case.arrays["Lambda"], case.arrays["B"], case.arrays["dt"],
                                   method)
        return {"Abar": a, "Bbar": b}

    return reference


def _diag_magnitude(case: Case, method: str):
    a, b = ref_np.magnitude_diag(case.arrays["Lambda"], case.arrays["B"], case.arrays["dt"],
                                 method)
    return {"Abar": a, "Bbar": b}


def _diag_growth(case: Case, method: str):
    lam = np.asarray(case.arrays["Lambda"])
    z = np.abs(ref_mp.expand_dt(case.arrays["dt"], lam.shape) * lam)
    exp_g = 1 + z
    one = np.ones_like(z)
    if method == "zoh":
        return {"Abar": exp_g, "Bbar": exp_g}
    if method == "zoh_approx":
        return {"Abar": exp_g, "Bbar": one}
    return {"Abar": one, "Bbar": one}


def _bench_diag(fmt: str) -> Case:
    """H = 1024 channels, N = 64 states, Δ per channel (the S4D shape)."""
    rng = np.random.default_rng(0)
    H, N = 1024, 64
    lam = -rng.uniform(0.1, 10, (H, N))
    if dtype(fmt).is_complex:
        lam = lam + 1j * rng.uniform(-100, 100, (H, N))
    b = np.ones((H, N), dtype=lam.dtype)
    dt = 10.0 ** rng.uniform(-3, -1, H)
    return Case({"Lambda": representable(lam, fmt), "B": representable(b, fmt),
                 "dt": representable(dt, fmt)}, fmt, {"dt": "per channel"})


def sweep_problem(fmt: str, dt: float) -> Case:
    """The sweep along Δ: 16 states (S4D-Lin / S4D-Real and a stiff one, λ = −1000), where
    (e^z − 1)/z would cancel and where Δ·|λ| is large; ValueError where Δ rounds to 0."""
    N = 16
    if dtype(fmt).is_complex:
        lam = np.concatenate([-0.5 + 1j * np.pi * np.arange(N - 1), [-1e3 + 0j]])
    else:
        lam = np.concatenate([-(np.arange(N - 1) + 1.0), [-1e3]])
    lam = lam[None]
    if representable(np.array([dt]), fmt)[0] == 0:
        raise ValueError(f"dt: {dt:g} rounds to 0 in {fmt}")
    return Case({"Lambda": representable(lam, fmt), "B": representable(np.ones_like(lam), fmt),
                 "dt": representable(np.array([dt]), fmt)}, fmt, {"dt": "per channel"})


DIAG = registry.register_spec(Spec(
    name="discretize_diag",
    family="discretization",
    summary="(Ā, B̄) of a diagonal SSM, A = diag(Λ), real or complex Λ",
    signature="discretize_diag(Lambda (*batch, N), B (*batch, N), dt: () | (*batch,) | "
              "(*batch, N), method) -> (Abar, Bbar) (*batch, N)",
    methods=METHODS,
    dtypes=ALL_DTYPES,
    sizes=("N",),
    outputs=("Abar", "Bbar"),
    strategy=lambda fmt, method: diag_cases(fmt, method),
    references={"mp": _ref_diag("mp"), "np": _ref_diag("np")},
    reference_tier=lambda case: "mp" if np.asarray(case.arrays["Lambda"]).size <= 512 else "np",
    bound=Bound(
        c={m: 4.0 for m in METHODS},
        magnitude=_diag_magnitude,
        growth=_diag_growth,
        reasoning="elementwise; g = 1 + |ΔΛ| for exp/expm1 (rounding of z), 1 for rational maps",
    ),
    call=_call_diag,
    bench_case=_bench_diag,
    bench_shape="H=1024, N=64, dt per channel",
    sweep=Sweep("Δ", tuple(10.0**k for k in range(-8, 2)), sweep_problem,
                tuple(10.0**(k / 4) for k in range(-32, 5)),
                "16 states: S4D-Lin / S4D-Real and λ = −1000"),
))


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
    if d.is_complex:
        T = np.diag(np.array(eigs, dtype=np.complex128))
        G = rng.normal(size=(n, n)) + 1j * rng.normal(size=(n, n))
    else:
        T = _real_block(eigs, n)
        G = rng.normal(size=(n, n))
    Q, _ = np.linalg.qr(G)
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
    B = draw(arrays(batch + (n, k), _b_elements(fmt)))
    per = batch != () and draw(st.booleans())
    dt = _dt_array(draw, batch if per else ())
    A, dt = representable(A, fmt), representable(dt, fmt)
    if method in SOLVED:
        # rounding a strongly non-normal A to the format can move an eigenvalue near 0 by
        # (u·‖A‖)^(1/k) to Re λ > 0, where I − h·Δ·A is singular (seen: λ = 2/Δ in c64): such an
        # input is no longer a stable system, the spec's domain
        solve = np.eye(n) - SOLVED[method] * np.asarray(dt)[..., None, None] * A
        assume(bool(np.all(np.linalg.cond(solve) < 0.01 / dtype(fmt).u)))
    return Case({"A": A, "B": representable(B, fmt), "dt": dt}, fmt,
                {"dt": "per batch" if per else "scalar"})


def _call_dense(fn, case: Case, method: str, device: str):
    return fn(case.tensor("A", device), case.tensor("B", device),
              case.tensor("dt", device, real=True), method=method)


def _ref_dense(tier):
    mod = ref_mp if tier == "mp" else ref_np

    def reference(case: Case, method: str):
        a, b = mod.discretize_dense(case.arrays["A"], case.arrays["B"], case.arrays["dt"], method)
        return {"Abar": a, "Bbar": b}

    return reference


def _dense_magnitude(case: Case, method: str):
    a, b = ref_np.magnitude_dense(case.arrays["A"], case.arrays["B"], case.arrays["dt"], method)
    return {"Abar": a, "Bbar": b}


def _dense_growth(case: Case, method: str):
    A, B = np.asarray(case.arrays["A"]), np.asarray(case.arrays["B"])
    n = A.shape[-1] + (B.shape[-1] if method == "zoh" else 0)
    g = np.full(A.shape[:-2], float(n))
    return {"Abar": g, "Bbar": g}


def _bench_dense(fmt: str) -> Case:
    """64 systems of order N = 16 with K = 1 input."""
    rng = np.random.default_rng(0)
    n = 16
    Q, _ = np.linalg.qr(rng.normal(size=(64, n, n)))
    lam = -rng.uniform(0.1, 10, (64, n))
    A = Q @ (lam[..., None] * np.swapaxes(Q, -1, -2))
    if dtype(fmt).is_complex:
        A = A.astype(np.complex128)
    B = np.ones((64, n, 1), dtype=A.dtype)
    return Case({"A": representable(A, fmt), "B": representable(B, fmt),
                 "dt": representable(np.full(64, 0.01), fmt)}, fmt, {"dt": "per batch"})


DENSE = registry.register_spec(Spec(
    name="discretize_dense",
    family="discretization",
    summary="(Ā, B̄) of a dense SSM; zoh by Van Loan's block exponential",
    signature="discretize_dense(A (*batch, N, N), B (*batch, N, K), dt: () | (*batch,), method) "
              "-> (Abar (*batch, N, N), Bbar (*batch, N, K))",
    methods=METHODS,
    dtypes=ALL_DTYPES,
    sizes=("N",),
    outputs=("Abar", "Bbar"),
    strategy=lambda fmt, method: dense_cases(fmt, method),
    references={"mp": _ref_dense("mp"), "np": _ref_dense("np")},
    reference_tier=lambda case: "mp" if np.asarray(case.arrays["A"]).size <= 256 else "np",
    bound=Bound(
        c={m: 4.0 for m in METHODS},
        magnitude=_dense_magnitude,
        growth=_dense_growth,
        norms={"Abar": "fro", "Bbar": "fro"},
        reasoning="per matrix, Frobenius; exponentials through S = max‖e^{sΔA}‖, solves through "
                  "|M⁻¹|(|M||X| + |R|)",
    ),
    call=_call_dense,
    bench_case=_bench_dense,
    bench_shape="64 systems, N=16, K=1",
))


for _spec, _fn in ((DIAG, impl.discretize_diag), (DENSE, impl.discretize_dense)):
    registry.register_implementation(Implementation(_spec.name, "torch", _fn))


# --- bad input (SPEC-NOTES §8) ----------------------------------------------------------------

def _t(*shape, dt=torch.float64):
    return -torch.ones(shape, dtype=dt)


_DIAG_BAD = [
    ("Lambda of integer dtype", "Lambda", TypeError,
     lambda f: f(torch.ones(3, dtype=torch.int64), torch.ones(3, dtype=torch.int64), 0.1)),
    ("Lambda not a tensor", "Lambda", TypeError, lambda f: f([-1.0], _t(1), 0.1)),
    ("Lambda 0-d", "Lambda", ValueError, lambda f: f(_t(), _t(), 0.1)),
    ("Lambda with N = 0", "Lambda", ValueError, lambda f: f(_t(2, 0), _t(2, 0), 0.1)),
    ("B of another dtype", "B", TypeError, lambda f: f(_t(3), _t(3, dt=torch.float32), 0.1)),
    ("B real, Lambda complex", "B", TypeError,
     lambda f: f(_t(3, dt=torch.complex128), _t(3), 0.1)),
    ("B of another shape", "B", ValueError, lambda f: f(_t(2, 3), _t(3), 0.1)),
    ("dt zero", "dt", ValueError, lambda f: f(_t(3), _t(3), 0.0)),
    ("dt negative entry", "dt", ValueError,
     lambda f: f(_t(2, 3), _t(2, 3), torch.tensor([0.1, -0.1], dtype=torch.float64))),
    ("dt of a broadcastable but unlisted shape", "dt", ValueError,
     lambda f: f(_t(2, 3), _t(2, 3), torch.full((3,), 0.1, dtype=torch.float64))),
    ("dt complex", "dt", TypeError,
     lambda f: f(_t(3), _t(3), torch.tensor(0.1, dtype=torch.complex128))),
    ("dt of another precision", "dt", TypeError,
     lambda f: f(_t(3), _t(3), torch.tensor(0.1, dtype=torch.float32))),
    ("unknown method", "method", ValueError, lambda f: f(_t(3), _t(3), 0.1, method="rk4")),
]
_DENSE_BAD = [
    ("A of integer dtype", "A", TypeError,
     lambda f: f(torch.ones(2, 2, dtype=torch.int32), torch.ones(2, 1, dtype=torch.int32), 0.1)),
    ("A 1-d", "A", ValueError, lambda f: f(_t(3), _t(3, 1), 0.1)),
    ("A not square", "A", ValueError, lambda f: f(_t(2, 3), _t(2, 1), 0.1)),
    ("B with the wrong number of rows", "B", ValueError, lambda f: f(_t(3, 3), _t(2, 1), 0.1)),
    ("B 1-d", "B", ValueError, lambda f: f(_t(3, 3), _t(3), 0.1)),
    ("B of another dtype", "B", TypeError,
     lambda f: f(_t(3, 3), _t(3, 1, dt=torch.float32), 0.1)),
    ("dt per state (not allowed for dense A)", "dt", ValueError,
     lambda f: f(_t(2, 3, 3), _t(2, 3, 1), torch.full((2, 3), 0.1, dtype=torch.float64))),
    ("dt negative", "dt", ValueError, lambda f: f(_t(3, 3), _t(3, 1), -1.0)),
    ("unknown method", "method", ValueError, lambda f: f(_t(3, 3), _t(3, 1), 0.1, method="rk4")),
]
for _prim, _rows in (("discretize_diag", _DIAG_BAD), ("discretize_dense", _DENSE_BAD)):
    for _name, _arg, _err, _call in _rows:
        registry.register_bad_input(BadInput(_prim, _name, _arg, _err, _call))

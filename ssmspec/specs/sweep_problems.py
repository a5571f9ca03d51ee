"""The fixed problems of the precision/time sweeps (`ssmspec.sweeps`, `ssmspec report --plots`):
one per primitive, along the axis where its error is expected to move.

- linear_scan: a ~ U[0.99, 1] (long memory: where the log-space scan's u·Σ|log a| shows), b normal,
  32 rows; L = 2^6 … 2^14 (2^16 nightly).
- diag_kernel: H = 4, N = 16, S4D-Lin (complex formats) or S4D-Real (real), Δ = 10^-3 … 10^-1,
  C normal; L = 2^6 … 2^14 (2^16 nightly): the exp(l·ΔΛ) phase growth.
- ema_kernel: D = 4, ndim = 16, Mega's initialisation; L = 2^6 … 2^14 (2^16 nightly).
- causal_conv: B = 1, H = 4, decaying kernels, L_K = L = 2^6 … 2^12 (2^14 nightly; the direct
  sum and its reference are O(L²)).
- selective_scan: batch 1, D = 4, N = 8, per-step B, C, Δ ~ 10^U[-3, -1]; L = 2^6 … 2^12.
- discretize_diag: 16 states (S4D-Lin / S4D-Real and a stiff one), Δ = 10^-8 … 10^1: where
  (e^z − 1)/z would cancel and where Δ·|λ| is large.
"""

from __future__ import annotations

import numpy as np

from ssmspec import registry
from ssmspec.dtypes import dtype
from ssmspec.spec import Case, Sweep
from ssmspec.specs import (  # noqa: F401  (the specs this module attaches sweeps to)
    convolution,
    discretization,
    kernels,
    scans,
    selective,
)
from ssmspec.strategies import representable

LONG = tuple(2**k for k in range(6, 15))
LONG_HEAVY = tuple(2**k for k in range(6, 17))
QUADRATIC = tuple(2**k for k in range(6, 13))
QUADRATIC_HEAVY = tuple(2**k for k in range(6, 15))


def _rng(x) -> np.random.Generator:
    return np.random.default_rng(0)  # the same problem at every point, truncated or extended


def _cplx(fmt: str) -> bool:
    return dtype(fmt).is_complex


def scan_problem(fmt: str, L: int, rows: int = 32) -> Case:
    from ssmspec.specs.scans import make_case

    rng = _rng(L)
    a, b = rng.uniform(0.99, 1.0, (rows, L)), rng.normal(size=(rows, L))
    if _cplx(fmt):
        a = a * np.exp(1j * rng.uniform(-0.1, 0.1, (rows, L)))
        b = b + 1j * rng.normal(size=(rows, L))
    return make_case(fmt, a, b)


def diag_kernel_problem(fmt: str, L: int) -> Case:
    rng = _rng(L)
    H, N = 4, 16
    if _cplx(fmt):
        lam = np.broadcast_to(-0.5 + 1j * np.pi * np.arange(N), (H, N))
        C = rng.normal(size=(H, N)) + 1j * rng.normal(size=(H, N))
    else:
        lam = np.broadcast_to(-(np.arange(N) + 1.0), (H, N))
        C = rng.normal(size=(H, N))
    log_dt = np.log(np.logspace(-3, -1, H))
    return Case({"Lambda": representable(lam, fmt), "B": representable(np.ones_like(lam), fmt),
                 "C": representable(C, fmt), "log_dt": representable(log_dt, fmt)}, fmt,
                {"L": L, "conj_half": True})


def ema_kernel_problem(fmt: str, L: int) -> Case:
    rng = _rng(L)
    D, n = 4, 16
    sign = np.where(np.arange(n) % 2 == 0, -1.0, 1.0)[None, :, None]
    arrs = {"delta": rng.normal(0, 0.2, (D, n, 1)), "alpha": rng.normal(0, 0.2, (D, n, 1)),
            "beta": sign + rng.normal(0, 0.02, (D, n, 1)), "gamma": rng.normal(size=(D, n))}
    return Case({k: representable(x, fmt) for k, x in arrs.items()}, fmt, {"L": L})


def causal_conv_problem(fmt: str, L: int) -> Case:
    rng = _rng(L)
    H = 4
    a = rng.uniform(0.9, 0.999, (H, 1))
    K = rng.normal(size=(H, 1)) * a ** np.arange(L)[None]
    u = rng.normal(size=(1, H, L))
    return Case({"u": representable(u, fmt), "K": representable(K, fmt)}, fmt,
                {"L": L, "L_K": L, "kernel": "decay"})


def selective_problem(fmt: str, L: int) -> Case:
    rng = _rng(L)
    b, Dn, N = 1, 4, 8
    cplx = _cplx(fmt)
    A = np.broadcast_to(-(np.arange(N) + 1.0), (Dn, N))
    if cplx:
        A = np.broadcast_to(-0.5 + 1j * np.pi * np.arange(N), (Dn, N))

    def coefs(shape):
        x = rng.normal(size=shape)
        return x + 1j * rng.normal(size=shape) if cplx else x

    arrs = {"u": rng.normal(size=(b, Dn, L)), "delta": 10.0 ** rng.uniform(-3, -1, (b, Dn, L)),
            "A": A, "B": coefs((b, N, L)), "C": coefs((b, N, L))}
    return Case({k: representable(x, fmt) for k, x in arrs.items()}, fmt,
                {"delta_softplus": False, "conj_half": None})


def discretize_problem(fmt: str, dt: float) -> Case:
    N = 16
    if _cplx(fmt):
        lam = np.concatenate([-0.5 + 1j * np.pi * np.arange(N - 1), [-1e3 + 0j]])
    else:
        lam = np.concatenate([-(np.arange(N - 1) + 1.0), [-1e3]])
    lam = lam[None]
    if representable(np.array([dt]), fmt)[0] == 0:
        raise ValueError(f"dt: {dt:g} rounds to 0 in {fmt}")
    return Case({"Lambda": representable(lam, fmt), "B": representable(np.ones_like(lam), fmt),
                 "dt": representable(np.array([dt]), fmt)}, fmt, {"dt": "per channel"})


_SWEEPS = {
    "linear_scan": Sweep("L", LONG, scan_problem, LONG_HEAVY, "a in [0.99, 1], 32 rows"),
    "diag_kernel": Sweep("L", LONG, diag_kernel_problem, LONG_HEAVY,
                         "H=4, N=16, S4D-Lin / S4D-Real, Δ in [1e-3, 1e-1]"),
    "ema_kernel": Sweep("L", LONG, ema_kernel_problem, LONG_HEAVY, "D=4, ndim=16, Mega init"),
    "causal_conv": Sweep("L", QUADRATIC, causal_conv_problem, QUADRATIC_HEAVY,
                         "H=4, L_K = L, decaying kernels"),
    "selective_scan": Sweep("L", QUADRATIC, selective_problem, QUADRATIC_HEAVY,
                            "D=4, N=8, per-step B, C, Δ in [1e-3, 1e-1]"),
    "discretize_diag": Sweep("Δ", tuple(10.0**k for k in range(-8, 2)), discretize_problem,
                             tuple(10.0**(k / 4) for k in range(-32, 5)),
                             "16 states: S4D-Lin / S4D-Real and λ = −1000"),
}
for _name, _sweep in _SWEEPS.items():
    registry.spec(_name).sweep = _sweep

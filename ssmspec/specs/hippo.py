"""Specs of the HiPPO family (SPEC-NOTES §3, §4): `hippo`, `nplr`, `diag_init`.

Conventions are stated in `ssmspec.reference.mp.hippo` (S4's sign convention and S4's
`transition()`/`rank_correction()`/`nplr()`/`dplr()`; ssmspec keeps the Im Λ > 0 half). Sizes:
N ∈ {1, 2, 3, 4, 8, 16, 64, 256} where the form allows (fout and every conjugate-half form need
even N); the mpmath reference up to N = 64, the float64 one (certified against it in
tests/test_reference_hippo.py) above.

Outputs compared. `hippo`: A (N, N), B (N,). `nplr`'s V is defined only up to a phase per column
(and a unitary mix inside a degenerate eigenspace), so its spec compares phase-invariant
quantities of the full form V_full = [V, V̄], all complex in the run's format (the adapter computes
them in complex128 from the implementation's outputs and rounds once): Lambda sorted by Im Λ; the
reconstructions A = 2Re(VΛV*) − PᵀP with P = 2Re(V P̃), B = 2Re(V B̃) and P (their references are
the exact HiPPO A, B, P); the per-state products PB = P̃·conj(B̃) and PP = P̃_a·conj(P̃_b); and
VV = V_full* V_full (reference: I). `diag_init`: Λ, B, C and log Δ (real, returned in the complex
format: exactly representable).

Bounds, |ŷ − y| ≤ c·u·g·M + g·η:

- hippo, elementwise, c = 4, g = 1, M = |y|: each entry is the one rounding of a square root of
  an exact integer product (or of π·k, or exact), then at most one rounding to fp32.
- nplr, c = 8, g = N (eigh's backward error ‖E‖₂ ≲ p(N)·u·‖K‖₂, and the length-N sums of the
  reconstructions), M from `ssmspec.reference.np.hippo.nplr_magnitude`: Lambda M = ‖K‖₂ + |c|
  (Weyl); A per matrix (Frobenius) M = ‖|K|‖_F + |c|√N + ‖|P|ᵀ|P|‖_F, the N·u·‖A‖ of the
  statement; B, P M = ‖b‖₂ per vector; PB, PP M = ‖p‖‖q‖(1 + ‖K‖₂/gap_n), an eigenvector moving
  by ‖E‖/gap_n (Davis–Kahan, gap_n the distance from μ_n to the rest of the spectrum, its own
  pair member −μ_n included); VV per matrix M = 1 (orthonormality to u·N). Measured: ≤ 0.3 of
  these in fp64 (N = 2 … 256), ≤ 0.1 in c64 where the final rounding dominates.
- diag_init, elementwise, c = 8: Λ of s4d-legs as nplr's Lambda (g = N, M = ‖K‖₂ + ½); the
  closed forms g = 1 with M the terms on absolute values; C M = |C|; log Δ
  M = |log dt_min| + u(|log dt_max| + |log dt_min|).
"""

from __future__ import annotations

import numpy as np
import torch
from hypothesis import strategies as st

from ssmspec import registry
from ssmspec.dtypes import dtype
from ssmspec.impl import hippo as impl
from ssmspec.reference.mp import hippo as ref_mp
from ssmspec.reference.np import hippo as ref_np
from ssmspec.spec import BadInput, Bound, Case, Implementation, Spec
from ssmspec.strategies import size

MEASURES = impl.MEASURES
INITS = impl.INITS
SIZES = (1, 2, 3, 4, 8, 16, 64, 256)
EVEN_SIZES = tuple(n for n in SIZES if n % 2 == 0)
MP_MAX = 64  # mpmath's eigh at N = 64 takes ~5 s (cached once per process)
REAL = ("fp64", "fp32")
COMPLEX = ("c128", "c64")


def sizes(measure: str) -> tuple[int, ...]:
    return EVEN_SIZES if measure == "fout" else SIZES


def tier(case: Case) -> str:
    return "mp" if case.params["N"] <= MP_MAX else "np"


def _size_case(fmt: str, N: int) -> Case:
    return Case({}, fmt, {"N": N})


# --- hippo ------------------------------------------------------------------------------------


def _hippo_ref(mod):
    def reference(case: Case, method: str):
        A, B = mod.hippo(method, case.params["N"])
        return {"A": A, "B": B}

    return reference


def _hippo_call(fn, case: Case, method: str, device: str):
    return fn(method, case.params["N"], dtype=dtype(case.dtype).torch, device=device)


def _hippo_growth(case: Case, method: str):
    N = case.params["N"]
    return {"A": np.ones((N, N)), "B": np.ones(N)}


HIPPO = registry.register_spec(Spec(
    name="hippo",
    method_arg="measure",
    family="hippo",
    summary="HiPPO (A, B) of a measure, S4's sign convention (A stable)",
    signature="hippo(measure, N, *, dtype, device) -> (A (N, N), B (N,)); "
              "rank_correction(measure, N) -> P (r, N)",
    methods=MEASURES,
    dtypes=REAL,
    sizes=("N",),
    outputs=("A", "B"),
    strategy=lambda fmt, method: size("N", st.sampled_from(sizes(method))).map(
        lambda N: _size_case(fmt, N)),
    references={"mp": _hippo_ref(ref_mp), "np": _hippo_ref(ref_np)},
    reference_tier=tier,
    bound=Bound(
        c={m: 4.0 for m in MEASURES},
        magnitude=lambda case, m: ref_np.hippo_magnitude(m, case.params["N"]),
        growth=_hippo_growth,
        reasoning="elementwise; one rounding of √(integer) or π·k per entry, then the cast",
    ),
    call=_hippo_call,
    bench_case=lambda fmt: _size_case(fmt, 256),
    bench_shape="N=256",
))


# --- nplr -------------------------------------------------------------------------------------


def nplr_invariants(lam, Pt, Bt, V, out_dtype: torch.dtype):
    """The nplr spec's outputs from an implementation's (Λ, P̃, B̃, V), in complex128 on their
    device, rounded once to `out_dtype`; see the module docstring."""
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


def _nplr_ref(tier_name):
    def reference(case: Case, method: str):
        N = case.params["N"]
        if tier_name == "mp":
            return ref_mp.exact_invariants(method, N)
        return ref_np.exact_invariants(method, N)

    return reference


def _nplr_magnitude(case: Case, method: str):
    m = ref_np.nplr_magnitude(method, case.params["N"])
    m["VV"] = np.array(1.0)
    return m


def _nplr_growth(case: Case, method: str):
    N = case.params["N"]
    return {k: np.array(float(N)) for k in NPLR_OUTPUTS}


NPLR_OUTPUTS = ("Lambda", "A", "B", "P", "PB", "PP", "VV")

NPLR = registry.register_spec(Spec(
    name="nplr",
    method_arg="measure",
    family="hippo",
    summary="NPLR form A = VΛV* − PPᵀ in the conjugate half (Im Λ > 0), by eigh of −i·skew",
    signature="nplr(measure, N, *, dtype, device) -> (Lambda (N/2,), P (r, N/2), B (N/2,), "
              "V (N, N/2)); compared through phase-invariant outputs",
    methods=MEASURES,
    dtypes=COMPLEX,
    sizes=("N",),
    outputs=NPLR_OUTPUTS,
    strategy=lambda fmt, method: size("N", st.sampled_from(EVEN_SIZES)).map(
        lambda N: _size_case(fmt, N)),
    references={"mp": _nplr_ref("mp"), "np": _nplr_ref("np")},
    reference_tier=tier,
    bound=Bound(
        c={m: 8.0 for m in MEASURES},
        magnitude=_nplr_magnitude,
        growth=_nplr_growth,
        norms={"A": "fro", "VV": "fro"},
        reasoning="g = N (eigh backward error, length-N sums); eigenvector products amplified "
                  "by ‖K‖/gap (Davis–Kahan)",
    ),
    call=_nplr_call,
    bench_case=lambda fmt: _size_case(fmt, 256),
    bench_shape="N=256",
))


# --- diag_init --------------------------------------------------------------------------------


@st.composite
def init_cases(draw, fmt: str, name: str) -> Case:
    """N even from SIZES, H ≤ 3, dt_min ≤ dt_max log-uniform in [1e-4, 1] (equal at times),
    any seed."""
    N = draw(size("N", st.sampled_from(EVEN_SIZES)))
    H = draw(size("H", st.integers(1, 3)))
    a, b = sorted(draw(st.lists(st.floats(-4.0, 0.0), min_size=2, max_size=2)))
    if draw(st.integers(0, 9)) == 0:
        b = a
    seed = draw(st.integers(0, 2**31 - 1))
    return Case({}, fmt, {"N": N, "H": H, "dt_min": float(10.0**a), "dt_max": float(10.0**b),
                          "seed": seed})


def _init_args(case: Case):
    p = case.params
    return p["N"], p["H"], p["dt_min"], p["dt_max"], p["seed"]


def _init_call(fn, case: Case, method: str, device: str):
    d = dtype(case.dtype).torch
    lam, B, C, log_dt = fn(method, *_init_args(case), dtype=d, device=device)
    # log Δ is real: carried in the complex format (exactly) so that every output has the run's
    # format, as the generic dtype property demands
    return lam, B, C, log_dt.to(d)


def _init_ref(mod):
    def reference(case: Case, method: str):
        return mod.diag_init(method, *_init_args(case))

    return reference


def _init_growth(case: Case, method: str):
    N, H = case.params["N"], case.params["H"]
    g = float(N) if method == "s4d-legs" else 1.0
    return {"Lambda": np.full((H, N // 2), g), "B": np.ones((H, N // 2)),
            "C": np.ones((H, N // 2)), "log_dt": np.ones(H)}


DIAG_INIT = registry.register_spec(Spec(
    name="diag_init",
    method_arg="name",
    family="hippo",
    summary="S4D diagonal initialisations (Λ, B, C, log Δ), seeded",
    signature="diag_init(name, N, H, dt_min, dt_max, seed, *, dtype, device) -> "
              "(Lambda (H, N/2), B (H, N/2), C (H, N/2), log_dt (H,))",
    methods=INITS,
    dtypes=COMPLEX,
    sizes=("N", "H"),
    outputs=("Lambda", "B", "C", "log_dt"),
    strategy=lambda fmt, method: init_cases(fmt, method),
    references={"mp": _init_ref(ref_mp), "np": _init_ref(ref_np)},
    reference_tier=tier,
    bound=Bound(
        c={m: 8.0 for m in INITS},
        magnitude=lambda case, m: ref_np.diag_init_magnitude(m, *_init_args(case)),
        growth=_init_growth,
        reasoning="elementwise; s4d-legs as nplr's Λ (g = N), closed forms a few roundings",
    ),
    call=_init_call,
    bench_case=lambda fmt: Case({}, fmt, {"N": 64, "H": 1024, "dt_min": 1e-3, "dt_max": 1e-1,
                                          "seed": 0}),
    bench_shape="H=1024, N=64",
))


registry.register_implementation(Implementation("hippo", "torch", impl.hippo))
registry.register_implementation(Implementation("nplr", "torch", impl.nplr))
registry.register_implementation(Implementation("diag_init", "torch", impl.diag_init))


# --- bad input (SPEC-NOTES §8) ----------------------------------------------------------------

_HIPPO_BAD = [
    ("N = 0", "N", ValueError, lambda f: f("legs", 0)),
    ("N negative", "N", ValueError, lambda f: f("lagt", -3)),
    ("N not an integer", "N", TypeError, lambda f: f("legs", 4.0)),
    ("fout with odd N", "N", ValueError, lambda f: f("fout", 5)),
    ("unknown measure", "measure", ValueError, lambda f: f("chebyshev", 4)),
    ("integer dtype", "dtype", TypeError, lambda f: f("legs", 4, dtype=torch.int64)),
    ("complex dtype", "dtype", TypeError, lambda f: f("legs", 4, dtype=torch.complex128)),
]
_NPLR_BAD = [
    ("N = 0", "N", ValueError, lambda f: f("legs", 0)),
    ("odd N (conjugate half)", "N", ValueError, lambda f: f("legs", 7)),
    ("N = 1", "N", ValueError, lambda f: f("lagt", 1)),
    ("unknown measure", "measure", ValueError, lambda f: f("legx", 8)),
    ("real dtype", "dtype", TypeError, lambda f: f("legs", 8, dtype=torch.float64)),
]
_INIT_BAD = [
    ("N = 0", "N", ValueError, lambda f: f("s4d-lin", 0)),
    ("odd N (conjugate half)", "N", ValueError, lambda f: f("s4d-inv", 5)),
    ("H = 0", "H", ValueError, lambda f: f("s4d-lin", 8, 0)),
    ("unknown init", "name", ValueError, lambda f: f("s4d-cheb", 8)),
    ("dt_min > dt_max", "dt_min", ValueError, lambda f: f("s4d-lin", 8, 2, 0.1, 0.01)),
    ("dt_min = 0", "dt_min", ValueError, lambda f: f("s4d-lin", 8, 2, 0.0, 0.01)),
    ("dt_max not a number", "dt_max", TypeError, lambda f: f("s4d-lin", 8, 2, 0.001, "0.1")),
    ("seed not an int", "seed", TypeError, lambda f: f("random", 8, 2, 0.001, 0.1, 1.5)),
    ("real dtype", "dtype", TypeError, lambda f: f("s4d-lin", 8, dtype=torch.float32)),
]
for _prim, _rows in (("hippo", _HIPPO_BAD), ("nplr", _NPLR_BAD), ("diag_init", _INIT_BAD)):
    for _name, _arg, _err, _call in _rows:
        registry.register_bad_input(BadInput(_prim, _name, _arg, _err, _call))

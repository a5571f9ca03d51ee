"""Specs of S4's NPLR/DPLR kernel and its recurrent step: `dplr_kernel` and `dplr_step`, with
their laws, mutants and bad inputs. Definitions, the two kernel bounds (the gated, sharp one of
`Spec.bound`; the first-order worst case, reported but not gated), the step's bound, strategies
and sources: docs/dplr.md. K and y are real (Λ's real dtype), handed back in the run's format.
"""

from __future__ import annotations

import functools
import math

import numpy as np
import torch
from hypothesis import strategies as st

from ssmspec.impl import dplr as impl
from ssmspec.reference.mp import dplr as ref_mp
from ssmspec.reference.np import dplr as ref_np
from ssmspec.reference.np import hippo as ref_hippo
from ssmspec.speckit import *  # noqa: F403 (the spec vocabulary)
from ssmspec.specs import _kernel_kit as kit
from ssmspec.specs.kernels import DIAG
from ssmspec.specs.recurrent import DIAG_STEP

C_BOUND = 4.0  # dplr_step's constant
C_GATED = 2.0  # dplr_kernel's gated bound
C_WORST = 4.0  # dplr_kernel's worst-case bound (reported, not gated)
OMEGA_WEIGHT = 3.0  # ω's rounding (1) and the n_f denominators' (2): docs/dplr.md#dplr_kernel
MP_WORK = 30_000  # H·(n_f³ + L·n_f²) up to which the mpmath tier is used
FORMATS = ("c128", "c64")
SYSTEM = ("Lambda", "P", "Q", "B", "C", "log_dt")
WITNESS_STRIDE = 16  # 16 of the benchmark's 256 channels: its N = 64 and L = 4096, Δ across
CHANNELS_PER_CALL = 8  # the materialised route holds (channels, n, L) complex128 arrays


def _cnormal(rng, shape):
    return (rng.normal(size=shape) + 1j * rng.normal(size=shape)) / math.sqrt(2)


def _legs(H: int, N: int) -> dict:
    """S4's LegS NPLR system (n_f = 2N, the conjugate half of N stored) in each of H channels:
    Λ, P = Q (1, H, N), B."""
    lam, Pt, Bt, _ = ref_hippo.nplr("legs", 2 * N)
    P = np.broadcast_to(Pt[:, None, :], (1, H, N))
    return {"Lambda": np.broadcast_to(lam, (H, N)), "P": P, "Q": P,
            "B": np.broadcast_to(Bt, (H, N))}


@st.composite
def systems(draw, fmt: str, max_h: int = 3, max_n: int = 8, conj_half=None) -> dict:
    """The arrays of a dissipative DPLR system (float64: `case_of` rounds them), conj_half and
    the kind (docs/dplr.md#strategies)."""
    H, N = draw(size("H", st.integers(1, max_h))), draw(size("N", st.integers(1, max_n)))
    ch = draw(feature("conj_half=False", st.booleans(), True)) if conj_half is None else conj_half
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    kind = draw(st.sampled_from(["legs", "random"])) if ch else "random"
    if kind == "legs":
        lam, P, Q, B = _legs(H, N).values()
    else:
        R = draw(st.sampled_from([1, 2]))
        re = draw(st.one_of(st.just(-0.5), log_uniform(1e-4, 10.0).map(lambda x: -x)))
        spread = draw(st.booleans())
        re = -np.exp(rng.uniform(np.log(1e-4), np.log(10.0), (H, N))) if spread else np.full(
            (H, N), re)
        im = (np.pi * np.broadcast_to(np.arange(N), (H, N)) if draw(st.booleans())
              else rng.uniform(-100, 100, (H, N)))
        lam = re + 1j * im
        P = _cnormal(rng, (R, H, N)) * draw(st.sampled_from([0.3, 1.0, 3.0]))
        mode = draw(feature("Q!=P", st.sampled_from(["same", "mixed", "independent"]), "same"))
        if mode == "same":
            Q = P
        elif mode == "mixed":  # P Q^H = P M P^H with M + M^H ⪰ 0
            X = rng.normal(size=(R, R)) if ch else _cnormal(rng, (R, R))
            S = rng.normal(size=(R, R))
            M = X @ np.conj(X.T) + (S - S.T)
            Q = np.einsum("rs,shn->rhn", np.conj(M), P)
        else:
            Q = _cnormal(rng, (R, H, N))
            f = 2.0 if ch else 1.0  # ‖P_f‖_F² = 2‖P‖_F² under conj_half
            pn, qn = (np.sqrt(f * np.sum(np.abs(X) ** 2, axis=(0, 2))) for X in (P, Q))
            Q = Q * (0.5 * np.min(np.abs(re), axis=1) / (pn * qn))[None, :, None]
        B = _cnormal(rng, (H, N))
    C = _cnormal(rng, (H, N))
    log_dt = np.array([draw(st.one_of(log_uniform(1e-4, 1.0), st.sampled_from([1e-6, 10.0])))
                       for _ in range(H)])
    return {"Lambda": lam, "P": P, "Q": Q, "B": B, "C": C, "log_dt": np.log(log_dt)}, ch, kind


@st.composite
def kernel_cases(draw, fmt: str, length=None, conj_half=None) -> Case:
    arrays, ch, kind = draw(systems(fmt, conj_half=conj_half))
    L = draw(size("L", length if length is not None else sequence_lengths(1025, 16385)))
    return case_of(fmt, arrays, L=L, conj_half=ch, kind=kind)


_args = arguments(*SYSTEM)


def n_full(case: Case) -> int:
    N = case.arrays["Lambda"].shape[-1]
    return 2 * N if case.params["conj_half"] else N


def _mp_work(case: Case, L: int) -> int:
    H, n = case.arrays["Lambda"].shape[0], n_full(case)
    return H * (n**3 + L * n * n)


KERNEL_REFERENCES = kit.two_tier(
    lambda mod, case, method: {"K": mod.dplr_kernel(*_args(case), case.params["L"],
                                                    case.params["conj_half"])},
    (ref_mp, ref_np), MP_WORK, lambda case: _mp_work(case, case.params["L"]))


def _bound_terms(case: Case, worst_case: bool) -> tuple[ref_np.KernelBoundTerms, float]:
    """The float64 reference's terms of a kernel bound (cached on the case) and the growth
    G1 = n_f + 2R + log2 L + 8 both bounds take."""
    key = ("dplr_kernel_terms", worst_case)
    if key not in case._tensors:
        case._tensors[key] = ref_np.kernel_bound_terms(*_args(case), case.params["L"],
                                                       case.params["conj_half"], worst_case)
    g1 = n_full(case) + 2 * case.arrays["P"].shape[0] + math.log2(case.params["L"]) + 8
    return case._tensors[key], g1


def _freq_norm(m: np.ndarray) -> np.ndarray:
    """‖m‖₂/√L over the frequencies: the time-domain 2-norm of a spectrum (Parseval)."""
    return np.sqrt(np.sum(m * m, axis=-1) / m.shape[-1])


def kernel_magnitude(case: Case) -> np.ndarray:
    """M (H,) of the gated (sharp) row bound (docs/dplr.md#dplr_kernel), from the terms cached
    on the case."""
    t, g1 = _bound_terms(case, worst_case=False)
    L = case.params["L"]
    c_tilde = t.sigma_v * (math.sqrt(n_full(case) + math.log2(L)) * t.c_round + t.c_power)
    return math.sqrt(g1) * _freq_norm(t.m1_plain) + c_tilde + OMEGA_WEIGHT * _freq_norm(t.m_w)


def worst_case_magnitude(case: Case) -> np.ndarray:
    """M (H,) of the first-order worst-case row bound (not gated; docs/dplr.md#dplr_kernel),
    to be taken with `C_WORST`."""
    t, g1 = _bound_terms(case, worst_case=True)
    return g1 * _freq_norm(t.m1) + _freq_norm(t.m_c) + _freq_norm(t.m_w)


def kernel_terms(case: Case, method: str, d=None) -> dict[str, Terms]:
    return {"K": Terms(np.ones(case.arrays["Lambda"].shape[0]), kernel_magnitude(case))}


def worst_case_bound(case: Case) -> np.ndarray:
    """The worst-case row bound C_WORST·u·M + η (H,) in the case's format."""
    return higham_bound(C_WORST, case.dtype, 1.0, worst_case_magnitude(case))


def bench_system(H: int = 256, N: int = 64, seed: int = 0, **more) -> dict:
    """LegS NPLR (2N = 128, conj half of N = 64), C complex normal, Δ log-uniform [1e-3, 1e-1]
    (float64: `case_of` rounds them), with the arrays `more` put in: the bench and witness
    systems."""
    rng = np.random.default_rng(seed)
    return {**_legs(H, N), "C": _cnormal(rng, (H, N)),
            "log_dt": np.log(10.0 ** rng.uniform(-3, -1, H)), **more}


def bench_kernel(fmt: str, stride: int = 1) -> Case:
    """The realistic-size case (H = 256, N = 64 LegS, conj half, L = 4096); `stride` keeps every
    stride-th channel (the same N and L, fewer channels: a cheaper witness across the Δ range)."""
    arrays = {k: x[:, ::stride] if k in ("P", "Q") else x[::stride]
              for k, x in bench_system().items()}
    return case_of(fmt, arrays, L=4096, conj_half=True, kind="legs")


def _q_differs(a) -> bool:
    P, Q = a.get("P"), a.get("Q")
    return not (Q is P or (isinstance(Q, torch.Tensor) and isinstance(P, torch.Tensor)
                           and Q.shape == P.shape and bool(torch.equal(Q, P))))


FEATURES = {
    "conj_half=False": flag("conj_half", False, "the full system rather than one of each "
                            "conjugate pair (Im Λ > 0)"),
    "Q!=P": Feature("a low-rank term P Qᴴ with Q ≠ P (S4 ties Q = P)", _q_differs),
}

# --- dplr_step --------------------------------------------------------------------------------


@st.composite
def step_cases(draw, fmt: str) -> Case:
    arrays, ch, kind = draw(systems(fmt))
    H, N = arrays["Lambda"].shape
    nb = draw(size("batch", st.integers(1, 3)))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    return case_of(fmt, {**arrays, "state": _cnormal(rng, (nb, H, N)),
                         "u": rng.normal(size=(nb, H))}, conj_half=ch, kind=kind)


STEP_REFERENCES = kit.two_tier(
    lambda mod, case, method: dict(zip(("state", "y"), mod.dplr_step(
        *_args(case), case.arrays["state"], case.arrays["u"], case.params["conj_half"]))),
    (ref_mp, ref_np), MP_WORK, lambda case: _mp_work(case, case.arrays["state"].shape[0]))


def step_terms(case: Case, method: str, d=None) -> dict[str, Terms]:
    """Elementwise: the structured step on absolute values, growth n_f + 2R + 8 (+ n_f for y)."""
    g = n_full(case) + 2 * case.arrays["P"].shape[0] + 8
    m, my = ref_np.step_magnitude(*_args(case), case.arrays["state"], case.arrays["u"],
                                  case.params["conj_half"])
    return {"state": Terms(float(g), m), "y": Terms(float(g + n_full(case)), my)}


def bench_step(fmt: str) -> Case:
    rng = np.random.default_rng(1)
    arrays = bench_system(state=_cnormal(rng, (16, 256, 64)), u=rng.normal(size=(16, 256)))
    return case_of(fmt, arrays, conj_half=True, kind="legs")


# --- laws -------------------------------------------------------------------------------------


def _k(ctx: LawContext, case: Case, method: str = "bilinear") -> np.ndarray:
    """K of the implementation under test on `case`, as real numpy."""
    return to_numpy(KERNEL.call(ctx.fn, case, method, ctx.device)).real


def _row(case: Case, method: str = "bilinear") -> np.ndarray:
    return KERNEL.bound(case, method)["K"]


def _p_zero(case: Case, names) -> tuple[Case, Case]:
    """`case` with P = Q = 0, and the diagonal system's case of its arrays `names`."""
    case = case.with_(P=np.zeros_like(case.arrays["P"]), Q=np.zeros_like(case.arrays["Q"]))
    params = {k: case.params[k] for k in ("L", "conj_half") if k in case.params}
    return case, Case({k: case.arrays[k] for k in names}, case.dtype, params)


def diagonal_when_p_zero(ctx: LawContext) -> None:
    case, dcase = _p_zero(ctx.draw(kernel_cases(ctx.dtype, length=kit.MEDIUM)),
                          ("Lambda", "B", "C", "log_dt"))
    kd = to_numpy(DIAG.call(ctx.impl_of("diag_kernel"), dcase, "bilinear", ctx.device)).real
    tol = _row(case) + norm_error(np.broadcast_to(DIAG.bound(dcase, "bilinear")["K"], kd.shape),
                                  "row")
    within(_k(ctx, case), kd, tol, "P = 0 vs diag_kernel bilinear", True)


def impulse_response(ctx: LawContext) -> None:
    case = ctx.draw(kernel_cases(ctx.dtype, length=kit.SHORT))
    L, ch = case.params["L"], case.params["conj_half"]
    step = ctx.impl_of("dplr_step")
    H, N = case.arrays["Lambda"].shape
    h = np.zeros((1, H, N), complex)
    cnorm = np.sqrt(np.sum(np.abs(case.arrays["C"]) ** 2, -1) * (2 if ch else 1))
    ys, carried, tol_y = [], np.zeros(H), []
    for t in range(L):
        scase = case.with_(state=h, u=np.full((1, H), 1.0 if t == 0 else 0.0))
        # each step's own rounding, carried forward by a contraction (‖Ā‖₂ ≤ 1): the state
        # bounds summed in the 2-norm of the full state, seen through C_f, plus y's own bound
        sb = STEP.bound(scase, "bilinear")
        carried = carried + np.sqrt(np.sum(sb["state"][0] ** 2, axis=-1) * (2 if ch else 1))
        tol_y.append(carried * cnorm + sb["y"][0])
        h, y = run(STEP, step, scase, "bilinear", ctx.device)
        ys.append(y[0])
    tol = np.sqrt(np.sum(np.stack(tol_y, -1) ** 2, axis=-1))
    within(_k(ctx, case), np.stack(ys, axis=-1), _row(case) + tol,
           "kernel vs impulse response of dplr_step", True)


KERNEL_LAWS = kit.kernel_laws(
    lambda ctx, conj_half=None: ("bilinear",
                                 ctx.draw(kernel_cases(ctx.dtype, kit.MEDIUM, conj_half))),
    _k, _row, ("Lambda", "P", "Q", "B", "C"), _row, rows=True)


def step_conj_half_full(ctx: LawContext) -> None:
    case = ctx.draw(step_cases(ctx.dtype).filter(lambda c: c.params["conj_half"]))
    N = case.arrays["Lambda"].shape[-1]
    full_case = kit.conj_full(case, ("Lambda", "P", "Q", "B", "C", "state"))
    agree(STEP, ctx, (case, "bilinear"), (full_case, "bilinear"), "the half vs the full step",
          back=lambda k, x: x[..., :N] if k == "state" else x)  # the stored half of the state


def step_diagonal_when_p_zero(ctx: LawContext) -> None:
    """state' and y of the P = 0 step within the sum of its and diag_step's bounds."""
    case, dcase = _p_zero(ctx.draw(step_cases(ctx.dtype)),
                          ("Lambda", "B", "C", "log_dt", "state", "u"))
    got = run(STEP, ctx.fn, case, "bilinear", ctx.device)
    want = run(DIAG_STEP, ctx.impl_of("diag_step"), dcase, "bilinear", ctx.device)
    b1, b2 = STEP.bound(case, "bilinear"), DIAG_STEP.bound(dcase, "bilinear")
    for k, g, w in zip(STEP.outputs, got, want):
        assert_within(g, w, b1[k] + b2[k], f"{k} of the P = 0 step vs diag_step bilinear")


# --- mutants ----------------------------------------------------------------------------------


def generic_kernel(Lambda, P, Q, B, C, log_dt, L, conj_half=True, omega=None, ct_length=None,
                   conj_q=True, limit=True):
    """The Cauchy + Woodbury route (docs/dplr.md#dplr_kernel) with complex g(ω) in complex128,
    materialised (small sizes), with one knob per mutant: `omega` the (L,) roots to use (or a
    function of L giving them), `ct_length(L)` the length C̃ is formed for, `conj_q` whether Q
    enters conjugated, `limit` whether ω = −1 takes the exact limit."""
    lam, p, q, b, c, dt = impl.widened(Lambda, P, Q, B, C, log_dt)
    Ct = impl.c_tilde(lam, p, q, c, dt, ct_length(L) if ct_length else L, conj_half)
    lam_f, P_f, Q_f, B_f, C_f = (impl.full_states(x, conj_half) for x in (lam, p, q, b, Ct))
    if omega is None:
        omega = torch.polar(torch.ones(L, dtype=torch.float64),
                            -2 * math.pi * torch.arange(L, dtype=torch.float64) / L)
    omega = (omega(L) if callable(omega) else omega).to(torch.complex128).to(lam.device)
    g = (2 / dt)[:, None] * (1 - omega) / (1 + omega)  # (H, L)
    r = 1 / (g[:, None, :] - lam_f[..., None])  # (H, n, L)
    Qx = Q_f.conj() if conj_q else Q_f

    def k(x, y):
        return torch.einsum("hn,hn,hnl->hl", x, y, r)

    R = P.shape[0]
    a = k(C_f, B_f)
    bvec = torch.stack([k(C_f, P_f[i]) for i in range(R)], 1)
    cvec = torch.stack([k(Qx[i], B_f) for i in range(R)], 1)
    D = torch.eye(R, dtype=a.dtype, device=a.device)[..., None] + torch.stack(
        [torch.stack([k(Qx[i], P_f[j]) for j in range(R)], 1) for i in range(R)], 1)
    x = torch.linalg.solve(D.permute(0, 3, 1, 2), cvec.permute(0, 2, 1)[..., None])[..., 0]
    Khat = 2 / (1 + omega) * (a - (bvec.permute(0, 2, 1) * x).sum(-1))
    if limit and L % 2 == 0:
        Khat[:, L // 2] = dt / 2 * (C_f * B_f).sum(-1)
    K = torch.fft.ifft(Khat, dim=-1).real
    return K.to(impl.v.real_dtype(Lambda.dtype))


def _cumprod_roots(L: int) -> torch.Tensor:
    """ω_k = ω₁^k by a complex64 cumulative product: k·u drift."""
    w1 = torch.polar(torch.ones((), dtype=torch.float32), torch.tensor(-2 * math.pi / L))
    w = torch.cat([torch.ones(1, dtype=torch.complex64), w1.to(torch.complex64).expand(L - 1)])
    return torch.cumprod(w, 0)


def _snapped_roots(L: int) -> torch.Tensor:
    """Exact twiddles: cos/sin snapped at the quarter points, so ω_{L/2} = −1 exactly."""
    th = -2 * math.pi * torch.arange(L, dtype=torch.float64) / L
    k = torch.arange(L)
    c = torch.where(4 * k == 2 * L, -1.0, torch.cos(th))
    return torch.complex(c, torch.where((4 * k == 2 * L) | (k == 0), 0.0, torch.sin(th)))


def rounded_omega_powers(Lambda, P, Q, B, C, log_dt, L, conj_half=True):
    """dplr_kernel with ω_k = ω₁^k, ω₁ = exp(−2πi/L) rounded to complex64 and powered there."""
    w1 = torch.tensor(complex(math.cos(2 * math.pi / L), -math.sin(2 * math.pi / L)),
                      dtype=torch.complex64)
    omega, rows = w1 ** torch.arange(L), []
    for s in range(0, Lambda.shape[0], CHANNELS_PER_CALL):
        c = slice(s, s + CHANNELS_PER_CALL)
        rows.append(generic_kernel(Lambda[c], P[:, c], Q[:, c], B[c], C[c], log_dt[c], L,
                                   conj_half, omega=omega))
    return torch.cat(rows)


def step_q_not_conjugated(Lambda, P, Q, B, C, log_dt, state, u, conj_half=True):
    return impl.dplr_step(Lambda, P, Q.conj(), B, C, log_dt, state, u, conj_half=conj_half)


def step_output_from_old_state(Lambda, P, Q, B, C, log_dt, state, u, conj_half=True):
    h, _ = impl.dplr_step(Lambda, P, Q, B, C, log_dt, state, u, conj_half=conj_half)
    y = (C * state).sum(-1).real
    return h, (2 * y if conj_half else y)


def slow_witness(fmt: str, L: int, conj_half: bool = True) -> Case:
    """LegS NPLR, N = 4 stored, H = 2, Δ = 1e-3 and 2e-3: slow decay (K spread over all l)."""
    a = bench_system(H=2, N=4, seed=3, log_dt=np.log([1e-3, 2e-3]))
    return case_of(fmt, a, L=L, conj_half=conj_half, kind="legs")


def _random_witness(fmt: str, step: bool = False) -> Case:
    """Random complex P, Q = 0.8·P (unconjugated ≠ conjugated), L = 16; for the step a unit
    state and u = 1, batch 1."""
    rng = np.random.default_rng(7)
    P, B, C = (rng.normal(size=s) + 1j * rng.normal(size=s) for s in ((1, 1, 3), (1, 3), (1, 3)))
    a = {"Lambda": [[-0.5 + 2j, -0.2 - 5j, -1.0 + 0.3j]], "P": P, "Q": P * 0.8, "B": B, "C": C,
         "log_dt": np.log([0.3])}
    if step:
        a.update(state=np.full((1, 1, 3), 1.0 - 0.5j), u=np.ones((1, 1)))
    return case_of(fmt, a,
                   **{"conj_half": False, "kind": "random"} | ({} if step else {"L": 16}))


# --- bad input (docs/bad-input.md) ------------------------------------------------------------

_C = torch.complex128
_cx = functools.partial(full, dt=_C)  # a complex argument of a bad-input call
_SYS = {"Lambda": torch.complex(-torch.ones(2, 3), torch.arange(3).float().expand(2, 3)).to(_C),
        "P": _cx(1, 2, 3), "Q": _cx(1, 2, 3), "B": _cx(2, 3), "C": _cx(2, 3),
        "log_dt": full(2, fill=-2.0)}
_COMMON = [  # and the generic rows (docs/bad-input.md#the-generic-rows)
    ("Lambda real", "Lambda", TypeError, dict(Lambda=full(2, 3, fill=-1.0))),
    ("P of another N", "P", ValueError, dict(P=_cx(1, 2, 4))),
    ("P rank 0", "P", ValueError, dict(P=_cx(0, 2, 3))),
    ("Q of another rank than P", "Q", ValueError, dict(Q=_cx(2, 2, 3))),
    ("B of another shape", "B", ValueError, dict(B=_cx(2, 4))),
    ("C real", "C", TypeError, dict(C=full(2, 3))),
    ("C of another shape", "C", ValueError, dict(C=_cx(3, 3))),
    ("log_dt of another shape", "log_dt", ValueError, dict(log_dt=zeros(3))),
]
_KERNEL_BAD = bad_calls({**_SYS, "L": 4, "conj_half": True}, _COMMON + [
    ("L zero", "L", ValueError, dict(L=0)),
    ("L a bool", "L", TypeError, dict(L=True)),
], keywords=("conj_half",), generic=dict(method=None, real=("log_dt",)))
_STEP_BAD = bad_calls({**_SYS, "state": zeros(2, 2, 3, dt=_C), "u": zeros(2, 2),
                      "conj_half": True}, _COMMON + [
    ("state of another N", "state", ValueError, dict(state=zeros(2, 2, 4, dt=_C))),
    ("u of another batch", "u", ValueError, dict(u=zeros(3, 2))),
    ("u of another H", "u", ValueError, dict(u=zeros(2, 3))),
], keywords=("conj_half",), generic=dict(method=None, real=("log_dt", "u")))

# --- the primitives ---------------------------------------------------------------------------

_SHARED = dict(family="dplr", methods=("bilinear",), dtypes=FORMATS, features=FEATURES)

KERNEL = registry.register_spec(
    Spec(
        name="dplr_kernel", **_SHARED, sizes=("H", "N", "L"), outputs=("K",), realistic_work=2**26,
        summary="S4 NPLR/DPLR kernel K[l] = Re Σ C (Ā^l B̄) of A = Λ − P Q^H, bilinear, by "
                "Cauchy sums + Woodbury + iFFT",
        signature="dplr_kernel(Lambda (H, N), P (R, H, N), Q (R, H, N), B (H, N), C (H, N), "
                  "log_dt (H,), L, conj_half=True) -> K (H, L) real",
        strategy=lambda fmt, method: kernel_cases(fmt),
        references=KERNEL_REFERENCES,
        bound=Bound(c={"bilinear": C_GATED}, terms=kernel_terms,
                    norms={"K": "row"},
                    reasoning="norm-wise per channel, gated (sharp) form: √G1·‖m1‖/√L (Cauchy "
                              "sums, Woodbury, iFFT; G1 = n_f + 2R + log2 L + 8) + 3‖m_ω‖/√L "
                              "(ω's and the denominators' rounding) + σ_V·‖δC̃‖ (C̃ in the "
                              "working format)"),
        call=caller(*SYSTEM, "L", keywords=("conj_half",), method=None, real=("log_dt",),
                    real_out="K"), bench_case=bench_kernel,
        bench_shape="H=256, N=64 (LegS NPLR, conj half), R=1, L=4096",
    ),
    implementations={"torch": impl.dplr_kernel},
    laws=kit.laws(FORMATS,
              ("diagonal_when_p_zero", "P = 0 gives diag_kernel(method='bilinear')",
               diagonal_when_p_zero),
              ("impulse_response", "K = impulse response of dplr_step from h = 0",
               impulse_response),
              ("conj_half_full", "half (conj_half) = full system written out",
               KERNEL_LAWS["conj_half_full"]),
              ("prefix", "K(L)[:, :L'] = K(L') with C̃ recomputed", KERNEL_LAWS["prefix"]),
              ("linearity_in_C", "K(C₁) + K(C₂) = K(C₁ + C₂)", KERNEL_LAWS["linearity_in_C"])),
    mutants=[
        Mutant("roots_by_repeated_multiplication",
               functools.partial(generic_kernel, omega=_cumprod_roots), "bilinear", ("c64",),
               "ω_k = ω₁^k by a complex64 cumulative product: k·u drift",
               lambda fmt: slow_witness(fmt, 4096), search=False),
        Mutant("stale_c_tilde", functools.partial(generic_kernel,
                                                  ct_length=lambda L: max(1, L // 2)),
               "bilinear", FORMATS,
               "C̃ formed for L/2 and reused at L", lambda fmt: slow_witness(fmt, 64)),
        Mutant("no_omega_limit", functools.partial(generic_kernel, omega=_snapped_roots,
                                                   limit=False), "bilinear", FORMATS,
               "ω = −1 exactly and the raw 2/(1 + ω)·(…): 0·∞ = NaN at k = L/2",
               lambda fmt: slow_witness(fmt, 16)),
        Mutant("q_not_conjugated", functools.partial(generic_kernel, conj_q=False), "bilinear",
               FORMATS,
               "Woodbury with k(Q, P), k(Q, B): Q not conjugated", _random_witness),
        # shows at S4's shipping sizes (docs/dplr.md#dplr_kernel): the witness keeps every
        # WITNESS_STRIDE-th channel of the benchmark system
        Mutant("rounded_omega_powers", rounded_omega_powers, "bilinear",
               ("c64",), "ω_k = ω₁ ** k from ω₁ rounded to complex64 (S4's roots of unity): "
               "k·u phase drift", lambda fmt: bench_kernel(fmt, WITNESS_STRIDE)),
    ],
    bad_inputs=_KERNEL_BAD,
)

STEP = registry.register_spec(
    Spec(
        name="dplr_step", **_SHARED, sizes=("batch", "H", "N"), outputs=("state", "y"),
        summary="one step of the bilinear DPLR recurrence h' = Ā h + B̄ u, y = Re(C·h') (2·Re "
                "under conj_half), Woodbury-structured",
        signature="dplr_step(Lambda, P, Q, B, C, log_dt, state (batch, H, N), u (batch, H), "
                  "conj_half=True) -> (state' (batch, H, N), y (batch, H) real)",
        strategy=lambda fmt, method: step_cases(fmt),
        references=STEP_REFERENCES,
        bound=Bound(c={"bilinear": C_BOUND}, terms=step_terms,
                    reasoning="elementwise; the structured step on absolute values, growth "
                              "n_f + 2R + 8 (+ n_f for y)"),
        call=caller(*SYSTEM, "state", "u", keywords=("conj_half",), method=None,
                    real=("log_dt", "u"), real_out="y", real_at=1),
        bench_case=bench_step,
        bench_shape="batch=16, H=256, N=64 (LegS NPLR), R=1",
    ),
    implementations={"torch": impl.dplr_step},
    laws=kit.laws(FORMATS,
              ("step_conj_half_full", "step on the stored half = step of the full system "
               "written out", step_conj_half_full),
              ("step_diagonal_when_p_zero", "P = Q = 0 gives diag_step(method='bilinear')",
               step_diagonal_when_p_zero)),
    mutants=[
        Mutant("step_q_not_conjugated", step_q_not_conjugated, "bilinear", FORMATS,
               "the step's Woodbury with Q^T h for Q^H h (Q unconjugated)",
               lambda fmt: _random_witness(fmt, step=True)),
        Mutant("step_output_from_old_state", step_output_from_old_state,
               "bilinear", FORMATS, "y = Re(C·h) of the state before the update",
               lambda fmt: _random_witness(fmt, step=True)),
    ],
    bad_inputs=_STEP_BAD,
)

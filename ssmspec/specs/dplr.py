"""Specs of the NPLR/DPLR (S4) kernel and its recurrent step: `dplr_kernel` and `dplr_step`.
Definitions in `ssmspec.impl.dplr` and `ssmspec.reference.mp.dplr`.

Formats c128 and c64. K and y are real (Λ's real dtype): the adapters check that exact dtype and
hand the output back in the run's complex format (an exact conversion), as `diag_kernel`'s does.

dplr_kernel bounds — norm-wise per channel row (an iFFT spreads each frequency's error over all
l, so no elementwise bound holds), n_f = 2N under conj_half (N otherwise), G₁ = n_f + 2R + log₂L
+ 8 (the n_f-term Cauchy sums, the R×R solve, the 2/(1 + ω) factor, the iFFT's log₂L levels).
Two bounds are stated; the GATED one is the sharp one (what `Spec.bound` returns).

Per frequency ω_k the §5 route evaluates K̂ = 2/(1 + ω)·C̃ᵀ(g − A)⁻¹B, g = (2/Δ)(1 − ω)/(1 + ω),
through Cauchy sums over the states and a Woodbury quotient, then K = iFFT(K̂). Its first-order
errors, each with a magnitude computed by `ssmspec.reference.np.dplr.kernel_bound_terms` from
the float64 system:
- rounding inside the sums and the quotient: the sums on absolute values, m₁ (per frequency);
- the denominators (1 − ω) − (1 + ω)ΔΛ_n/2 carrying a relative error u (ω or Δ rounded, g − Λ_n
  formed in the working format): with ψ, ζ the left and right resolvent vectors (K̂ = C̃ᵀζ), a
  perturbation δ_n of the n-th denominator moves K̂ by exactly −ψ_n·ζ_n·δ_n/Δ, and |δ_n| ≤ u·(|1 − ω|
  + |1 + ω|·Δ|Λ_n|/2) ≤ 2u·(1 + Δ|Λ_n|/2); summed on absolute values that is 2·m_ω, m_ω =
  Σ_n |ψ_n||ζ_n|(1 + Δ|Λ_n|/2)/Δ (+ its low-rank part). A root ω_k rounded once (no drift) costs
  |ω·dK̂/dω|·u ≤ m_ω·u more: OMEGA_WEIGHT = 3 in all. The effect is real: a complex64 kernel
  with correctly rounded roots is measured at 0.09 (median) to 0.15 of the gated bound at the
  benchmark size;
- C̃ = (I − Ā^L)ᵀC formed in the working format (the powering of Ā): for l < L, K[l] = Re C̃_fᵀ
  Ā^l B̄ exactly, so an error δC̃ reaches the time domain as ‖δK‖₂ ≤ ‖δC̃_f‖₂·σ_V, σ_V the largest
  singular value of the Krylov matrix [B̄, ĀB̄, …, Ā^(L−1)B̄] (from its n_f×n_f Gram matrix), and
  ‖δC̃_f‖₂ ≤ u·(√(n_f + log₂L)·‖|Ā^L − I|ᵀ|C_f|‖₂ + L·‖Ā − I‖₂‖Ā^(L−1)‖₂‖C_f‖₂): the product's
  rounding and the powering of a rounded Ā (a^L of a = 1 + f moves by L·|f|·|a|^(L−1)·u).
The output's own rounding (u·‖K‖₂) is inside m₁'s first term (Σ|C̃||B||q| ≥ |K̂|).

    worst case (not gated):  ‖K̂ − K‖₂ ≤ 4·u·(G₁·‖m₁^κ‖₂ + ‖m_C‖₂ + ‖m_ω‖₂)/√L + η
    gated:                   ‖K̂ − K‖₂ ≤ 2·u·(√G₁·‖m₁‖₂/√L + 3·‖m_ω‖₂/√L + σ_V·‖δC̃_f‖₂/u) + η

(‖·‖₂/√L over the frequencies is the time-domain 2-norm, by Parseval). The worst case
(`worst_case_bound`) charges every Cauchy term the full growth G₁ and the denominator's
condition κ_n = (|1 − ω| + |1 + ω|·Δ|Λ_n|/2)·|q_n|/Δ (m₁^κ: weights |q_n|·(1 + κ_n)), and C̃'s error
through Σ_n τ_n|ζ_n| per frequency (m_C). At the benchmark size κ reaches 7e3 (LegS's |Im Λ| up
to 5e3 against Re Λ = −½), and the worst case comes out at 0.15–207 × ‖K‖₂ per row: it would
accept any error. The gated bound differs in two stated assumptions: (i) the rounding errors of
an n-term sum or an L-level recursion are independent and centred, so they grow like √n·u rather
than n·u (Higham and Mary's probabilistic error analysis, the constant folded into c); (ii) each
denominator is formed once per (state, frequency) and shared by the four Cauchy sums (as S4's
kernel and ours do), so its rounding enters through the resolved sensitivity ψ_nζ_n (the
3·m_ω term) rather than as κ_n on every term. The condition number the gated bound drops is
κ_max = max κ_n (with √G₁ for G₁): the ratio worst case / gated is 1.5e3–2.4e5 per row
(median 1.4e4) at the benchmark size, and both bounds are computed (`worst_case_bound`,
`kernel_magnitude`).

Measured at the benchmark size (`bench_kernel`, H = 256, N = 64 LegS, L = 4096, complex64): the
gated bound is 6.5e-5 … 6.7e-4 × ‖K‖₂ per row; the built-in 1.3e-3 of it at most (median 3e-4:
it runs everything but C̃'s squarings in float64, so its error is the output's rounding plus
C̃'s: ~0.4–4·u·‖K‖₂); a complex64 transcription with correctly rounded roots 0.15; S4's roots as
powers of a rounded ω (`ssmspec.specs.dplr_mutants`) 3.3–47 (2.9e-3 of max|K|), rejected. The
0.01 sharpness goal is out of reach for this built-in without rejecting correctly rounded roots
(≈ 440·u·‖K‖₂ on the slow rows, where the built-in is at ~4·u·‖K‖₂). Over 300 random strategy
cases the built-in reaches 0.2 (c64) and 0.39 (c128). The float64 Krylov reference builds
[B̄, ĀB̄, …] by doubling (matrix products, a few channels at a time): at the benchmark size it and
the gated bound's magnitudes take ~15 s and ~45 s on one core of a loaded 2-core machine.
What the bound does not admit: roots of unity drifting by k·u (powers or a cumulative product),
a C̃ formed for another length, the 0·∞ at ω = −1, a Woodbury with Q unconjugated — the mutants.

dplr_step bound — elementwise: |δh'| ≤ c·u·(n_f + 2R + 8)·M_h, |δy| ≤ c·u·(2n_f + 2R + 8)·M_y
with M_h the structured step on absolute values (`step_magnitude`: (I + Δ/2·A)h + ΔBu with
1 + |ΔΛ|/2 on the diagonal, then the Woodbury solve on magnitudes) and M_y = |C_f|ᵀM_h; c = 4.

Strategies: H ≤ 3, N ≤ 8 stored states, R ∈ {1, 2}; either genuine LegS NPLR data (Λ, P̃, B̃ of
`ssmspec.reference.np.hippo.nplr('legs', 2N)`, Q = P, conj_half) or random: Re Λ = −½ or −[1e-4,
10] log-uniform, Im Λ = πn (S4D-Lin) or uniform in [−100, 100]; P, B, C complex normal; Q = P, or
Q = P·Mᴴ with M + Mᴴ ⪰ 0 (M real under conj_half, so the full system keeps the form), or an
independent Q scaled so that ‖P_f‖_F‖Q_f‖_F ≤ ½·min|Re Λ|. Each makes A dissipative (A + Aᴴ < 0),
so Ā is a contraction and 1 + k(Q̄, P) ≠ 0 on the unit circle. Δ log-uniform in [1e-4, 1] with
the specials 1e-6 and 10 (Δ = 10 with |Λ| ≫ 1 gives Ā ≈ −I: I − Ā^L nearly singular for even L).
L from {1, 2, 3, 2ᵏ − 1, 2ᵏ, 2ᵏ + 1} up to 1025 (16385 nightly): ω = −1 only for even L. Reference
tier: mpmath while H·(n_f³ + L·n_f²) ≤ 30000, the float64 Krylov kernel above.
"""

from __future__ import annotations

import math

import numpy as np
import torch
from hypothesis import strategies as st

from ssmspec import registry
from ssmspec.dtypes import dtype, real_of
from ssmspec.errors import higham_bound
from ssmspec.impl import dplr as impl
from ssmspec.reference.mp import dplr as ref_mp
from ssmspec.reference.np import dplr as ref_np
from ssmspec.reference.np import hippo as ref_hippo
from ssmspec.spec import BadInput, Bound, Case, Feature, Implementation, Spec, flag
from ssmspec.strategies import feature, log_uniform, representable, sequence_lengths, size

C_BOUND = 4.0  # dplr_step's constant
C_GATED = 2.0  # dplr_kernel's gated bound
C_WORST = 4.0  # dplr_kernel's worst-case bound (reported, not gated)
OMEGA_WEIGHT = 3.0  # ω's rounding (1) and the n_f denominators' (2): see the docstring
MP_WORK = 30_000
FORMATS = ("c128", "c64")
SYSTEM = ("Lambda", "P", "Q", "B", "C", "log_dt")


def lengths() -> st.SearchStrategy[int]:
    return sequence_lengths(1025, 16385)


def _cnormal(rng, shape):
    return (rng.normal(size=shape) + 1j * rng.normal(size=shape)) / math.sqrt(2)


@st.composite
def systems(draw, fmt: str, max_h: int = 3, max_n: int = 8, conj_half=None) -> dict:
    """The arrays of a dissipative DPLR system and conj_half; see the module docstring."""
    H, N = draw(size("H", st.integers(1, max_h))), draw(size("N", st.integers(1, max_n)))
    ch = draw(feature("conj_half=False", st.booleans(), True)) if conj_half is None else conj_half
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    kind = draw(st.sampled_from(["legs", "random"])) if ch else "random"
    if kind == "legs":
        lam, Pt, Bt, _ = ref_hippo.nplr("legs", 2 * N)
        lam, B = np.broadcast_to(lam, (H, N)), np.broadcast_to(Bt, (H, N))
        P = np.broadcast_to(Pt[:, None, :], (1, H, N))
        Q, R = P, 1
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
            pn = np.sqrt(f * np.sum(np.abs(P) ** 2, axis=(0, 2)))
            qn = np.sqrt(f * np.sum(np.abs(Q) ** 2, axis=(0, 2)))
            Q = Q * (0.5 * np.min(np.abs(re), axis=1) / (pn * qn))[None, :, None]
        B = _cnormal(rng, (H, N))
    C = _cnormal(rng, (H, N))
    log_dt = np.array([draw(st.one_of(log_uniform(1e-4, 1.0), st.sampled_from([1e-6, 10.0])))
                       for _ in range(H)])
    arrays = {"Lambda": lam, "P": P, "Q": Q, "B": B, "C": C, "log_dt": np.log(log_dt)}
    return {k: representable(np.array(x), fmt) for k, x in arrays.items()}, ch, kind


@st.composite
def kernel_cases(draw, fmt: str, length=None, conj_half=None) -> Case:
    arrays, ch, kind = draw(systems(fmt, conj_half=conj_half))
    L = draw(size("L", length if length is not None else lengths()))
    return Case(arrays, fmt, {"L": L, "conj_half": ch, "kind": kind})


def _args(case: Case):
    return tuple(case.arrays[k] for k in SYSTEM)


def _tensors(case: Case, device):
    return tuple(case.tensor(k, device, real=(k == "log_dt")) for k in SYSTEM)


def _as_format(x, case: Case, name: str):
    d = dtype(case.dtype)
    want = real_of(d).torch
    if not isinstance(x, torch.Tensor) or x.dtype != want:
        got = x.dtype if isinstance(x, torch.Tensor) else type(x).__name__
        raise TypeError(f"{name}: expected the real dtype {want} of Lambda, got {got}")
    return x.to(d.torch)


def call_kernel(fn, case: Case, method: str, device: str):
    K = fn(*_tensors(case, device), case.params["L"], conj_half=case.params["conj_half"])
    return _as_format(K, case, "K")


def n_full(case: Case) -> int:
    N = case.arrays["Lambda"].shape[-1]
    return 2 * N if case.params["conj_half"] else N


def _mp_ok(case: Case, L: int) -> bool:
    H, n = case.arrays["Lambda"].shape[0], n_full(case)
    return H * (n**3 + L * n * n) <= MP_WORK


def _ref_kernel(tier):
    mod = ref_mp if tier == "mp" else ref_np

    def reference(case: Case, method: str):
        return {"K": mod.dplr_kernel(*_args(case), case.params["L"], case.params["conj_half"])}

    return reference


def _bound_terms(case: Case, worst_case: bool) -> ref_np.KernelBoundTerms:
    key = ("dplr_kernel_terms", worst_case)
    if key not in case._tensors:
        case._tensors[key] = ref_np.kernel_bound_terms(*_args(case), case.params["L"],
                                                       case.params["conj_half"], worst_case)
    return case._tensors[key]


def _freq_norm(m: np.ndarray) -> np.ndarray:
    """‖m‖₂/√L over the frequencies: the time-domain 2-norm of a spectrum (Parseval)."""
    return np.sqrt(np.sum(m * m, axis=-1) / m.shape[-1])


def kernel_magnitude(case: Case) -> np.ndarray:
    """M (H,) of the gated (sharp) row bound (see the module docstring); cached on the case."""
    key = ("dplr_kernel_M",)
    if key not in case._tensors:
        L, R = case.params["L"], case.arrays["P"].shape[0]
        t = _bound_terms(case, worst_case=False)
        g1 = n_full(case) + 2 * R + math.log2(L) + 8
        c_tilde = t.sigma_v * (math.sqrt(n_full(case) + math.log2(L)) * t.c_round + t.c_power)
        case._tensors[key] = (math.sqrt(g1) * _freq_norm(t.m1_plain) + c_tilde
                              + OMEGA_WEIGHT * _freq_norm(t.m_w))
    return case._tensors[key]


def worst_case_magnitude(case: Case) -> np.ndarray:
    """M (H,) of the first-order worst-case row bound (not gated; see the module docstring),
    to be taken with `C_WORST`."""
    L, R = case.params["L"], case.arrays["P"].shape[0]
    t = _bound_terms(case, worst_case=True)
    g1 = n_full(case) + 2 * R + math.log2(L) + 8
    return g1 * _freq_norm(t.m1) + _freq_norm(t.m_c) + _freq_norm(t.m_w)


def worst_case_bound(case: Case) -> np.ndarray:
    """The worst-case row bound C_WORST·u·M + η (H,) in the case's format."""
    return higham_bound(C_WORST, case.dtype, 1.0, worst_case_magnitude(case))


def bench_system(fmt: str, H: int = 256, N: int = 64, seed: int = 0) -> dict:
    """LegS NPLR (2N = 128, conj half of N = 64), C complex normal, Δ log-uniform [1e-3, 1e-1]."""
    rng = np.random.default_rng(seed)
    lam, Pt, Bt, _ = ref_hippo.nplr("legs", 2 * N)
    arrays = {"Lambda": np.broadcast_to(lam, (H, N)), "P": np.broadcast_to(Pt[:, None], (1, H, N)),
              "B": np.broadcast_to(Bt, (H, N)), "C": _cnormal(rng, (H, N)),
              "log_dt": np.log(10.0 ** rng.uniform(-3, -1, H))}
    arrays["Q"] = arrays["P"]
    return {k: representable(np.array(x), fmt) for k, x in arrays.items()}


def bench_kernel(fmt: str, stride: int = 1) -> Case:
    """The realistic-size case (H = 256, N = 64 LegS, conj half, L = 4096); `stride` keeps every
    stride-th channel (the same N and L, fewer channels: a cheaper witness across the Δ range)."""
    arrays = bench_system(fmt)
    arrays = {k: x[:, ::stride] if k in ("P", "Q") else x[::stride] for k, x in arrays.items()}
    return Case(arrays, fmt, {"L": 4096, "conj_half": True, "kind": "legs"})


def _q_differs(a) -> bool:
    P, Q = a.get("P"), a.get("Q")
    return not (Q is P or (isinstance(Q, torch.Tensor) and isinstance(P, torch.Tensor)
                           and Q.shape == P.shape and bool(torch.equal(Q, P))))


FEATURES = {
    "conj_half=False": flag("conj_half", False, "the full system rather than one of each "
                            "conjugate pair (Im Λ > 0)"),
    "Q!=P": Feature("a low-rank term P Qᴴ with Q ≠ P (S4 ties Q = P)", _q_differs),
}

KERNEL = registry.register_spec(Spec(
    name="dplr_kernel",
    family="dplr",
    summary="S4 NPLR/DPLR kernel K[l] = Re Σ C (Ā^l B̄) of A = Λ − P Q^H, bilinear, by Cauchy "
            "sums + Woodbury + iFFT",
    signature="dplr_kernel(Lambda (H, N), P (R, H, N), Q (R, H, N), B (H, N), C (H, N), "
              "log_dt (H,), L, conj_half=True) -> K (H, L) real",
    methods=("bilinear",),
    dtypes=FORMATS,
    sizes=("H", "N", "L"),
    realistic_work=2**26,
    outputs=("K",),
    strategy=lambda fmt, method: kernel_cases(fmt),
    references={"mp": _ref_kernel("mp"), "np": _ref_kernel("np")},
    reference_tier=lambda case: "mp" if _mp_ok(case, case.params["L"]) else "np",
    bound=Bound(
        c={"bilinear": C_GATED},
        magnitude=lambda case, method: {"K": kernel_magnitude(case)},
        growth=lambda case, method: {"K": np.ones(case.arrays["Lambda"].shape[0])},
        norms={"K": "row"},
        reasoning="norm-wise per channel, gated (sharp) form: √G1·‖m1‖/√L (Cauchy sums, "
                  "Woodbury, iFFT; G1 = n_f + 2R + log2 L + 8) + 3‖m_ω‖/√L (ω's and the "
                  "denominators' rounding) + σ_V·‖δC̃‖ (C̃ in the working format)",
    ),
    call=call_kernel,
    bench_case=bench_kernel,
    bench_shape="H=256, N=64 (LegS NPLR, conj half), R=1, L=4096",
    features=FEATURES,
))


# --- dplr_step --------------------------------------------------------------------------------


@st.composite
def step_cases(draw, fmt: str) -> Case:
    arrays, ch, kind = draw(systems(fmt))
    H, N = arrays["Lambda"].shape
    nb = draw(size("batch", st.integers(1, 3)))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    arrays["state"] = representable(_cnormal(rng, (nb, H, N)), fmt)
    arrays["u"] = representable(rng.normal(size=(nb, H)), fmt)
    return Case(arrays, fmt, {"conj_half": ch, "kind": kind})


def call_step(fn, case: Case, method: str, device: str):
    h, y = fn(*_tensors(case, device), case.tensor("state", device),
              case.tensor("u", device, real=True), conj_half=case.params["conj_half"])
    return h, _as_format(y, case, "y")


def _ref_step(tier):
    mod = ref_mp if tier == "mp" else ref_np

    def reference(case: Case, method: str):
        h, y = mod.dplr_step(*_args(case), case.arrays["state"], case.arrays["u"],
                             case.params["conj_half"])
        return {"state": h, "y": y}

    return reference


def _step_growth(case: Case, method: str):
    g = n_full(case) + 2 * case.arrays["P"].shape[0] + 8
    return {"state": np.array(float(g)), "y": np.array(float(g + n_full(case)))}


def _step_magnitude(case: Case, method: str):
    m, my = ref_np.step_magnitude(*_args(case), case.arrays["state"], case.arrays["u"],
                                  case.params["conj_half"])
    return {"state": m, "y": my}


def bench_step(fmt: str) -> Case:
    arrays = bench_system(fmt)
    rng = np.random.default_rng(1)
    arrays["state"] = representable(_cnormal(rng, (16, 256, 64)), fmt)
    arrays["u"] = representable(rng.normal(size=(16, 256)), fmt)
    return Case(arrays, fmt, {"conj_half": True, "kind": "legs"})


STEP = registry.register_spec(Spec(
    name="dplr_step",
    family="dplr",
    summary="one step of the bilinear DPLR recurrence h' = Ā h + B̄ u, y = Re(C·h') (2·Re under "
            "conj_half), Woodbury-structured",
    signature="dplr_step(Lambda, P, Q, B, C, log_dt, state (batch, H, N), u (batch, H), "
              "conj_half=True) -> (state' (batch, H, N), y (batch, H) real)",
    methods=("bilinear",),
    dtypes=FORMATS,
    sizes=("batch", "H", "N"),
    outputs=("state", "y"),
    strategy=lambda fmt, method: step_cases(fmt),
    references={"mp": _ref_step("mp"), "np": _ref_step("np")},
    reference_tier=lambda case: "mp" if _mp_ok(case, case.arrays["state"].shape[0]) else "np",
    bound=Bound(
        c={"bilinear": C_BOUND},
        magnitude=_step_magnitude,
        growth=_step_growth,
        reasoning="elementwise; the structured step on absolute values, growth n_f + 2R + 8 "
                  "(+ n_f for y)",
    ),
    call=call_step,
    bench_case=bench_step,
    bench_shape="batch=16, H=256, N=64 (LegS NPLR), R=1",
    features=FEATURES,
))


registry.register_implementation(Implementation("dplr_kernel", "torch", impl.dplr_kernel))
registry.register_implementation(Implementation("dplr_step", "torch", impl.dplr_step))


# --- bad input (SPEC-NOTES §8) ----------------------------------------------------------------


def _sys(H=2, N=3, R=1, dt=torch.complex128, **over):
    a = {"Lambda": torch.complex(-torch.ones(H, N), torch.arange(N).float().expand(H, N)).to(dt),
         "P": torch.ones(R, H, N, dtype=dt), "Q": torch.ones(R, H, N, dtype=dt),
         "B": torch.ones(H, N, dtype=dt), "C": torch.ones(H, N, dtype=dt),
         "log_dt": torch.full((H,), -2.0, dtype=torch.float64 if dt == torch.complex128
                              else torch.float32)}
    a.update(over)
    return [a[k] for k in SYSTEM]


def _k(**over):
    L = over.pop("L", 4)
    ch = over.pop("conj_half", True)
    return lambda f: f(*_sys(**over), L, conj_half=ch)


def _s(state=None, u=None, **over):
    st_ = torch.zeros(2, 2, 3, dtype=torch.complex128) if state is None else state
    u_ = torch.zeros(2, 2, dtype=torch.float64) if u is None else u
    ch = over.pop("conj_half", True)
    return lambda f: f(*_sys(**over), st_, u_, conj_half=ch)


_C = torch.complex128
_COMMON = [
    ("Lambda 1-d", "Lambda", ValueError, dict(Lambda=torch.ones(3, dtype=_C))),
    ("Lambda real", "Lambda", TypeError, dict(Lambda=-torch.ones(2, 3, dtype=torch.float64))),
    ("Lambda integer", "Lambda", TypeError, dict(Lambda=torch.ones(2, 3, dtype=torch.int64))),
    ("P 2-d", "P", ValueError, dict(P=torch.ones(2, 3, dtype=_C))),
    ("P of another N", "P", ValueError, dict(P=torch.ones(1, 2, 4, dtype=_C))),
    ("P rank 0", "P", ValueError, dict(P=torch.ones(0, 2, 3, dtype=_C))),
    ("P of another dtype", "P", TypeError, dict(P=torch.ones(1, 2, 3, dtype=torch.complex64))),
    ("Q of another rank than P", "Q", ValueError, dict(Q=torch.ones(2, 2, 3, dtype=_C))),
    ("Q of another dtype", "Q", TypeError, dict(Q=torch.ones(1, 2, 3, dtype=torch.complex64))),
    ("B of another shape", "B", ValueError, dict(B=torch.ones(2, 4, dtype=_C))),
    ("C real", "C", TypeError, dict(C=torch.ones(2, 3, dtype=torch.float64))),
    ("C of another shape", "C", ValueError, dict(C=torch.ones(3, 3, dtype=_C))),
    ("log_dt of another shape", "log_dt", ValueError, dict(log_dt=torch.zeros(3,
                                                                              dtype=torch.float64))),
    ("log_dt complex", "log_dt", TypeError, dict(log_dt=torch.zeros(2, dtype=_C))),
    ("log_dt of another precision", "log_dt", TypeError, dict(log_dt=torch.zeros(2))),
    ("conj_half not a bool", "conj_half", TypeError, dict(conj_half=1)),
]
_KERNEL_BAD = [(n, a, e, _k(**o)) for n, a, e, o in _COMMON] + [
    ("L zero", "L", ValueError, _k(L=0)),
    ("L a float", "L", TypeError, _k(L=4.0)),
    ("L a bool", "L", TypeError, _k(L=True)),
]
_STEP_BAD = [(n, a, e, _s(**o)) for n, a, e, o in _COMMON] + [
    ("state 2-d", "state", ValueError, _s(state=torch.zeros(2, 3, dtype=_C))),
    ("state of another N", "state", ValueError, _s(state=torch.zeros(2, 2, 4, dtype=_C))),
    ("state of another dtype", "state", TypeError,
     _s(state=torch.zeros(2, 2, 3, dtype=torch.complex64))),
    ("u complex", "u", TypeError, _s(u=torch.zeros(2, 2, dtype=_C))),
    ("u of another batch", "u", ValueError, _s(u=torch.zeros(3, 2, dtype=torch.float64))),
    ("u of another H", "u", ValueError, _s(u=torch.zeros(2, 3, dtype=torch.float64))),
]
for _prim, _rows in (("dplr_kernel", _KERNEL_BAD), ("dplr_step", _STEP_BAD)):
    for _name, _arg, _err, _call in _rows:
        registry.register_bad_input(BadInput(_prim, _name, _arg, _err, _call))

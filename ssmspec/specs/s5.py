"""S5's MIMO diagonal scan `s5_scan` — spec, bound, references, implementation, laws, mutants and
bad inputs. The definitions, the formats (complex parameters, real u and y), the conj_sym
convention, the bound's derivation, the laws, the mutants and the strategies:
docs/s5.md#s5_scan.
"""

from __future__ import annotations

from functools import partial

import numpy as np
import torch
from hypothesis import strategies as st

from ssmspec.impl import s5 as impl
from ssmspec.reference.mp import s5 as ref_mp
from ssmspec.reference.np import s5 as ref_np
from ssmspec.speckit import *  # noqa: F403 (the spec vocabulary)
from ssmspec.specs import _scan_kit as sk

METHODS = impl.METHODS
C_BOUND = 2.0
MP_MAX = 300  # batch·L·P·H up to which the mpmath tier is used
DTYPES = ("c128", "c64")
ARGS = ("u", "Lambda", "B", "C", "D", "log_step")


# stable eigenvalues: S4D-Lin, random, pure imaginary, 0
LAMBDAS = sk.eigenvalues((-4.0, 2.0), 50.0, st.floats(-10.0, 10.0).map(lambda y: complex(0.0, y)),
                         st.just(0j))


@st.composite
def s5_cases(draw, fmt: str, method: str = "zoh", length=None, conj_sym=None, initial=None,
             max_p: int = 4, max_h: int = 3) -> Case:
    """u, Lambda, B, C, D, log_step and optionally h0; docs/s5.md#s5_scan. `conj_sym`,
    `initial` (whether h0 is given) fix what a law needs (None: drawn)."""
    b, H = draw(size("b", st.integers(1, 2), "batch")), draw(size("H", st.integers(1, max_h)))
    P = draw(size("P", st.integers(1, max_p), "N"))
    L = draw(size("L", length if length is not None else sequence_lengths(129, 16385)))
    regime = draw(st.sampled_from(["uniform", "small", "specials", "specials"]))
    lam = np.array([draw(LAMBDAS) for _ in range(P)])
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    arrs = {"u": rng.normal(size=(b, L, H)), "Lambda": lam,
            "B": sk.normals(rng, (P, H), True), "C": sk.normals(rng, (H, P), True),
            "D": rng.normal(size=H) if draw(st.booleans()) else np.zeros(H),
            "log_step": np.log(sk.step_sizes(rng, P, regime, (0.2, 0.8)))}
    if draw(feature("h0", st.booleans(), False)) if initial is None else initial:
        arrs["h0"] = sk.normals(rng, (b, P), True)
    cs = draw(feature("conj_sym=False", st.booleans(), True)) if conj_sym is None else conj_sym
    return case_of(fmt, arrs, conj_sym=cs)


def _ref(fn, case: Case, method: str):
    """`fn` (a reference) on the case's float64 arrays (None for one it lacks: the split law's
    carry drops D)."""
    return fn(*map(case.arrays.get, ARGS), method=method, conj_sym=case.params["conj_sym"],
              h0=case.arrays.get("h0"))


# (y, x_last, M_y, G_y, M_h, G_h) from the long-double reference
terms = last_case(partial(_ref, ref_np.s5_scan_with_bound))


def _bench(fmt: str) -> Case:
    """batch = 2, L = 1024, H = 64, P = 32 (an S5 layer's size): S4D-Lin Λ, Δ log-uniform in
    [1e-3, 1e-1] (S5's default), B, C complex normal / √P, D normal, conj_sym, h0 = 0."""
    rng = np.random.default_rng(0)
    b, L, H, P = 2, 1024, 64, 32
    arrs = {"u": rng.normal(size=(b, L, H)), "Lambda": -0.5 + 1j * np.pi * np.arange(P),
            "B": sk.normals(rng, (P, H), True, P**-0.5),
            "C": sk.normals(rng, (H, P), True, P**-0.5),
            "D": rng.normal(size=H), "log_step": np.log(10.0 ** rng.uniform(-3, -1, P))}
    return case_of(fmt, arrs, conj_sym=True)


# --- laws (docs/s5.md#s5_scan) --------------------------------------------------------------
SHORT = st.sampled_from([1, 2, 3, 7, 8, 31, 32, 33, 65])


def conj_sym_equals_full(ctx: LawContext) -> None:
    method, case = draw_case(ctx, s5_cases, METHODS, length=SHORT, conj_sym=True)
    a = case.arrays
    P = a["Lambda"].shape[0]
    # each state followed by its conjugate: Λ, B, log Δ (real: repeated) on axis 0, C and h0 on 1
    axes = {"Lambda": 0, "B": 0, "log_step": 0, "C": 1, "h0": 1}
    full = case.with_(conj_sym=False, **{k: np.concatenate([a[k], a[k].conj()], axis=axes[k])
                                         for k in axes if k in a})
    agree(S5, ctx, (case, method), (full, method),
          f"{method}: conj_sym vs the full representation",
          lambda k, x: x[:, :P] if k == "last_state" else x)


def single_input_is_selective_scan(ctx: LawContext) -> None:
    method, case = draw_case(ctx, s5_cases, METHODS, length=SHORT, max_h=1)
    a = case.arrays
    b, L, _ = a["u"].shape
    P = a["Lambda"].shape[0]
    case = case.with_(log_step=np.full(P, a["log_step"][0]))
    sel = {"u": a["u"].transpose(0, 2, 1),
           "delta": representable(np.full((b, 1, L), np.exp(a["log_step"][0])), ctx.dtype),
           "A": a["Lambda"][None], "B": a["B"][:, 0][None], "C": a["C"][0][None], "D": a["D"]}
    if "h0" in a:
        sel["initial_state"] = a["h0"][:, None]
    sel = Case(sel, case.dtype, {"delta_softplus": False, "conj_half": case.params["conj_sym"]})
    # selective_scan looked up, not imported: the registry keeps the spec modules' discovery order
    versus(S5, ctx, (case, method), registry.spec("selective_scan"), (sel, method),
           f"{method}: s5 vs selective", lambda k, x: x.transpose(0, 2, 1) if k == "y" else x[:, 0],
           weight=2)


def zoh_bilinear_agree_small_step(ctx: LawContext) -> None:
    """|ΔΛ| ≤ 1e-2 for every state: zoh and bilinear differ by the propagated difference of their
    (Λ̄, B̄), z = Δ|Λ|, r = |z|/(4(1 − |z|/2)); its derivation: docs/s5.md#s5_scan."""
    ctx.require(*METHODS)
    case = ctx.draw(s5_cases(ctx.dtype, "zoh", length=SHORT))
    a = case.arrays
    lam = np.abs(a["Lambda"])
    dt = np.minimum(np.exp(a["log_step"]), 1e-2 / np.where(lam > 0, lam, 1.0))
    case = case.with_(log_step=representable(np.log(dt), ctx.dtype))
    a = case.arrays
    ydiff, d = ref_np.zoh_bilinear_difference(a["u"], a["Lambda"], a["B"], a["C"], a["log_step"],
                                              a.get("h0"), case.params["conj_sym"])
    slack = 1 + 1e-3  # the float64 evaluation of the difference bound itself
    agree(S5, ctx, (case, "zoh"), (case, "bilinear"), "zoh vs bilinear at |ΔΛ| ≤ 1e-2",
          extra={"y": ydiff * slack, "last_state": d * slack})


# --- mutants (docs/s5.md#s5_scan) -----------------------------------------------------------
def s5_official_zoh(u, Lambda, B, C, D, log_step, discretization="zoh", conj_sym=True, h0=None,
                    return_state=False):
    """S5's discretize_zoh: B̄ = (Λ̄ − 1)/Λ·B with Λ̄ = exp(ΔΛ) already rounded."""
    impl.check_args(u, Lambda, B, C, D, log_step, h0)
    abar = torch.exp(torch.exp(log_step) * Lambda)
    Bbar = ((abar - 1) / Lambda)[:, None] * B
    return impl.apply_ssm(u, abar, Bbar, C, D, conj_sym, h0, return_state)


def _witness(fmt: str, small_steps: bool = False) -> Case:
    """batch 1, L 8, H 2, P 3, conj_sym; D = 0, so y shows the states' error."""
    rng = np.random.default_rng(7)
    dt = [1e-4, 1e-5, 1e-6] if small_steps else [0.1, 0.01, 0.5]
    arrs = {"u": rng.normal(size=(1, 8, 2)),
            "Lambda": np.array([-0.5 + 1j, -1.0 + 3j, -0.1 + 0.5j]),
            "B": rng.normal(size=(3, 2)) + 1j * rng.normal(size=(3, 2)),
            "C": rng.normal(size=(2, 3)) + 1j * rng.normal(size=(2, 3)),
            "D": np.zeros(2), "log_step": np.log(dt)}
    return case_of(fmt, arrs, conj_sym=True)


# --- bad input (docs/bad-input.md) ----------------------------------------------------------------
_t = partial(full, fill=-0.5)
_C128 = torch.complex128
# a valid call: batch 2, L 5, H 3, P 4, c128 parameters; and the generic rows
# (docs/bad-input.md#the-generic-rows), the precisions matched against Λ's
_BAD = bad_calls(dict(u=_t(2, 5, 3), Lambda=_t(4, dt=_C128), B=_t(4, 3, dt=_C128),
                      C=_t(3, 4, dt=_C128), D=_t(3), log_step=_t(4)), [
    ("u of another H", "B", ValueError, dict(u=_t(2, 5, 4))),
    ("Lambda real", "Lambda", TypeError, dict(Lambda=_t(4))),
    ("B of shape (H, P)", "B", ValueError, dict(B=_t(3, 4, dt=_C128))),
    ("B real", "B", TypeError, dict(B=_t(4, 3))),
    ("C of shape (P, H)", "C", ValueError, dict(C=_t(4, 3, dt=_C128))),
    ("D of shape (P,)", "D", ValueError, dict(D=_t(4))),
    ("log_step of shape (H,)", "log_step", ValueError, dict(log_step=_t(3))),
    ("h0 of shape (P,)", "h0", ValueError, dict(h0=_t(4, dt=_C128))),
    ("h0 real", "h0", TypeError, dict(h0=_t(2, 4))),
    ("conj_sym not a bool", "conj_sym", TypeError, dict(conj_sym=1)),
    ("return_state not a bool", "return_state", TypeError, dict(return_state="yes")),
], generic=dict(method="discretization", anchor="Lambda", real=("u", "D", "log_step")))

S5 = registry.register_spec(
    Spec(
        name="s5_scan", family="s5", methods=METHODS, dtypes=DTYPES, sizes=("b", "L", "H", "P"),
        outputs=("y", "last_state"), method_arg="discretization",
        summary="S5 (MIMO diagonal SSM): x_t = Λ̄ x_{t−1} + B̄ u_t, y_t = (2·)Re(C x_t) + D u_t, "
                "Δ = exp(log_step) per state",
        signature="s5_scan(u (b, L, H), Lambda (P,), B (P, H), C (H, P), D (H,), log_step (P,), "
                  "discretization, conj_sym=True, h0=None (b, P), return_state=False) "
                  "-> y (b, L, H)[, last state (b, P)]",
        strategy=lambda fmt, method: s5_cases(fmt, method),
        references=sk.references(
            partial(_ref, ref_mp.s5_scan), terms, ("y", "last_state"), MP_MAX,
            lambda case: case.arrays["u"].size * case.arrays["Lambda"].size),
        bound=Bound(c=C_BOUND, terms=sk.scan_terms(terms, "last_state"),
                    reasoning="elementwise; running-error bound of the recurrence on absolute "
                              "values (discretisation, H + 2 roundings of B̄u per step), + 2P + 4 "
                              "roundings of the output"),
        call=caller(*ARGS, keywords=("conj_sym", "h0"), method="discretization", real_out="y",
                    of="u", return_state=True), bench_case=_bench,
        bench_shape="batch=2, L=1024, H=64, P=32, conj_sym, S4D-Lin Λ",
        features={"h0": optional_argument("h0", "an initial state h0 (b, P) before step 0"),
                  "conj_sym=False": flag("conj_sym", False, "all P states kept (no conjugate "
                                         "symmetry: y = Re(C x) rather than 2·Re)")}),
    implementations={"torch": impl.s5_scan},
    laws=[Law(name, statement, check, DTYPES) for name, statement, check in [
        ("conj_sym_equals_full", "conj_sym on (Λ, B, C, h0) = no conj_sym on "
         "([Λ, Λ*], [B; B*], [C, C*], [h0, h0*])", conj_sym_equals_full),
        ("split", "scan(u[:k]) then scan(u[k:], h0 = last state) = scan(u)",
         sk.split_law("s5_scan", s5_cases, SHORT, 1, sk.parted("h0", 1, lambda k, x: k == "u"),
                      sk.carried(terms, "h0", "Lambda"))),
        ("single_input_is_selective_scan", "H = 1, one Δ: S5 = selective_scan "
         "with A = Λ, B = B[:, 0], C = C[0], conj_half = conj_sym", single_input_is_selective_scan),
        ("zoh_bilinear_agree_small_step", "|ΔΛ| ≤ 1e-2: zoh and bilinear differ "
         "by O(|ΔΛ|³) per step in Λ̄ and O(Δ|ΔΛ|²) in B̄", zoh_bilinear_agree_small_step)]],
    mutants=[
        Mutant("s5_official_zoh", s5_official_zoh, "zoh", ("c64", "c128"),
               "S5's zoh: B̄ = (Λ̄ − 1)/Λ·B, cancellation at small |ΔΛ|",
               lambda fmt: _witness(fmt, small_steps=True)),
        Mutant("no_factor_two", lambda *args, conj_sym=True, **kw: impl.s5_scan(
            *args, conj_sym=False, **kw), "zoh", ("c64", "c128"),
               "Re(C x) without the factor 2 of conj_sym", _witness)],
    bad_inputs=_BAD,
)

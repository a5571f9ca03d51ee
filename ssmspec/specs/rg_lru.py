"""Spec of Griffin's RG-LRU recurrence `rg_lru`: its laws, mutants and bad inputs. Bound
(elementwise, c = 2): G = g_scan(τ) + K_B + K_A·E/M, g_scan the linear scan's growth
(docs/scans.md#bound), M the scan of (a, |b|, |h0|), E its terms weighted by Σ|log a_r|; the
definitions, the derivation and the constants: docs/recurrent.md#rg_lru.
"""

from __future__ import annotations

from functools import partial

import numpy as np
import torch
from hypothesis import strategies as st

from ssmspec.impl import _validate as v
from ssmspec.impl import rg_lru as impl
from ssmspec.impl.scans import CHUNK
from ssmspec.reference.mp import rg_lru as ref_mp
from ssmspec.reference.np import rg_lru as ref_np
from ssmspec.reference.np.scans import growth
from ssmspec.speckit import *  # noqa: F403 (the spec vocabulary)
from ssmspec.specs import _scan_kit as sk

METHODS = impl.METHODS
C_BOUND = 2.0
K_B = 8.0  # the input weight m·i·x: softplus, two sigmoids, exp, expm1, sqrt, three products
K_A = 6.0  # the relative error of the rounded log a_t, carried into a_t = exp(log a_t)
MP_MAX = 512  # batch·L·width up to which the mpmath tier is used
ARRAYS = ("x", "gate_x", "gate_a", "a_param")
SHORT = st.sampled_from([n for n in boundary_lengths(65) if n >= 2])


# --- inputs -----------------------------------------------------------------------------------
def draw_a_param(rng, width: int, profile: str) -> np.ndarray:
    """Λ (width,): Griffin's initialisation (a^c uniform on the ring [0.9, 0.999] by area), slow
    decay (softplus(Λ) below u: a → 1), extreme values, or a mix of the three."""
    ring = -np.log(np.sqrt(rng.uniform(0.9**2, 0.999**2, width)))  # softplus(Λ) = −log radius
    griffin = np.log(np.expm1(ring))
    slow = rng.uniform(-40.0, -15.0, width)
    extreme = rng.choice([-40.0, -20.0, -5.0, 0.0, 5.0, 20.0, 50.0], width)
    pick = {"griffin": 0, "slow": 1, "extreme": 2}.get(profile)
    if pick is None:
        pick = rng.integers(0, 3, width)
    return np.choose(pick, [griffin, slow, extreme])


def gates(rng, shape, scale: float, saturated: float) -> np.ndarray:
    """Gate pre-activations: normal at `scale`, with ±30 (σ saturated) at the rate `saturated`."""
    g = rng.normal(size=shape) * scale
    return np.where(rng.random(shape) < saturated, 30.0 * np.sign(g), g)


def make_case(fmt: str, x, gate_x, gate_a, a_param, reset=None, h0=None) -> Case:
    """A Case of `fmt`: the float arrays rounded to it, reset (batch, L) bool; None: left out."""
    arrays = dict(x=x, gate_x=gate_x, gate_a=gate_a, a_param=a_param, reset=reset, h0=h0)
    arrays = {k: np.asarray(a, bool) if k == "reset" else
              representable(np.asarray(a, np.float64), fmt)
              for k, a in arrays.items() if a is not None}
    return Case(arrays, fmt, {"L": arrays["x"].shape[1]})


@st.composite
def rg_lru_cases(draw, fmt: str, method: str = "sequential", length=None) -> Case:
    """x, gate_x, gate_a (batch, L, width), Λ (width,), reset (batch, L) or None, h0 or None."""
    batch = draw(size("batch", st.integers(1, 2)))
    width = draw(size("width", st.integers(1, 4)))
    L = draw(size("L", length if length is not None else sequence_lengths(257, 4097)))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1), label="seed"))
    shape = (batch, L, width)
    scale = draw(st.sampled_from([0.1, 1.0, 10.0]))
    saturated = draw(st.sampled_from([0.0, 0.1]))
    a_param = draw_a_param(rng, width, draw(st.sampled_from(["griffin", "slow", "extreme",
                                                             "mixed"])))
    reset = None
    if draw(feature("reset", st.booleans(), False)):
        reset = rng.random((batch, L)) < draw(st.sampled_from([0.05, 0.3]))
    h0 = rng.normal(size=(batch, width)) if draw(feature("h0", st.booleans(), False)) else None
    return make_case(fmt, rng.normal(size=shape), gates(rng, shape, scale, saturated),
                     gates(rng, shape, scale, saturated), a_param, reset, h0)


def _args(case: Case, method: str | None = None):
    a = case.arrays
    return (*(a[k] for k in ARRAYS), a.get("reset", np.zeros(a["x"].shape[:2], bool)),
            a.get("h0"))


def terms(case: Case, method: str, d=None) -> dict[str, Terms]:
    """{"y": Terms(G, M), "state": Terms(G, M)}; see the module docstring."""
    M, E = ref_np.bound_terms(*_args(case))  # (batch, width, L)
    with np.errstate(divide="ignore", invalid="ignore"):
        G = growth(method, CHUNK, np.empty(M.shape)) + K_B + K_A * np.where(M > 0, E / M, 0.0)
    M, G = np.moveaxis(M, -1, 1), np.moveaxis(G, -1, 1)
    return {"y": Terms(G, M), "state": Terms(G[:, -1], M[:, -1])}


def _bench(fmt: str) -> Case:
    """batch 4, L = 2048, width 256: Griffin's initialisation, unit gates, a reset every 512."""
    rng = np.random.default_rng(0)
    shape = (4, 2048, 256)
    reset = np.zeros(shape[:2], bool)
    reset[:, ::512] = True
    return make_case(fmt, rng.normal(size=shape), rng.normal(size=shape), rng.normal(size=shape),
                     draw_a_param(rng, 256, "griffin"), reset)


# --- laws -------------------------------------------------------------------------------------
def constant_decay(ctx: LawContext) -> None:
    """gate_a saturated (σ = 1): a = exp(−c·softplus(Λ)) for every t, so the impulse response
    from h = 0 with σ(gate_x) = 1 is √(1 − a²)·a^t."""
    method, case = draw_case(ctx, rg_lru_cases, METHODS, length=SHORT)
    batch, L, width = case.arrays["x"].shape
    x = np.zeros((batch, L, width))
    x[:, 0] = 1.0
    full = np.full_like(x, 50.0)
    case = make_case(ctx.dtype, x, full, full, case.arrays["a_param"])
    y, _ = run(RG_LRU, ctx.fn, case, method, ctx.device)
    log_a = -ref_np.C * ref_np.softplus(case.arrays["a_param"])
    t = np.arange(L)[:, None]
    want = np.broadcast_to(np.sqrt(-np.expm1(2 * log_a)) * np.exp(t * log_a), y.shape)
    closed = higham_bound(2.0, "fp64", 4.0 + (t + 1) * np.abs(log_a), np.abs(want))
    assert_within(y, want, RG_LRU.bound(case, method)["y"] + closed,
                  f"{method}: impulse response at r = 1 vs √(1−a²)·a^t")


def reset_restarts(ctx: LawContext) -> None:
    """A reset at k makes y[k:] independent of everything before k: the call on the tail, from
    any h0, gives the full call's y[k:] and final state."""
    method, case = draw_case(ctx, rg_lru_cases, METHODS, length=SHORT)
    L = case.params["L"]
    k = ctx.draw(st.integers(1, L - 1))
    reset = case.arrays.get("reset", np.zeros(case.arrays["x"].shape[:2], bool)).copy()
    reset[:, k] = True
    a = case.arrays
    full = case.with_(reset=reset)
    tail = make_case(ctx.dtype, *(a[n][:, k:] if n != "a_param" else a[n] for n in ARRAYS),
                     reset[:, k:], np.full(a["x"].shape[::2], 7.0))
    agree(RG_LRU, ctx, (tail, method), (full, method), f"{method}: the tail after a reset at "
          f"{k} vs the full call", lambda name, x: x[:, k:] if name == "y" else x)


def superposition(ctx: LawContext) -> None:
    """Linear in (x, h0) for fixed gates: x split into two disjoint parts (a time mask), h0 given
    to the first; y(x, h0) = y(x·mask, h0) + y(x·(1 − mask), 0). The split is exact."""
    method, case = draw_case(ctx, rg_lru_cases, METHODS, length=SHORT)
    a = case.arrays
    rng = np.random.default_rng(ctx.draw(st.integers(0, 2**32 - 1)))
    mask = rng.random(a["x"].shape[:2])[..., None] < 0.5
    gates_ = (a["gate_x"], a["gate_a"], a["a_param"], a.get("reset"))
    first = make_case(ctx.dtype, np.where(mask, a["x"], 0.0), *gates_, a.get("h0"))
    second = make_case(ctx.dtype, np.where(mask, 0.0, a["x"]), *gates_)
    outs = [run(RG_LRU, ctx.fn, c, method, ctx.device) for c in (case, first, second)]
    bounds = [RG_LRU.bound(c, method) for c in (case, first, second)]
    for i, k in enumerate(RG_LRU.outputs):
        assert_within(outs[1][i] + outs[2][i], outs[0][i], sum(b[k] for b in bounds),
                      f"{method}: {k} of the two parts vs {k} of the sum")


# --- mutants ----------------------------------------------------------------------------------
def _mutant(coefficients):
    """rg_lru with its (a, m·i) formed by `coefficients(gate_x, gate_a, a_param, reset)`."""
    def fn(x, gate_x, gate_a, a_param, reset=None, h0=None, method="sequential"):
        work = v.work_dtype(x.dtype)
        a, w = coefficients(gate_x.to(work), gate_a.to(work), a_param.to(work), reset)
        return impl.recurrence(x, a, w, h0, method)

    return fn


def _one_minus_a_squared(gate_x, gate_a, a_param, reset):
    a, _ = impl.decay(impl.log_decay(gate_a, a_param), reset)
    m = torch.sqrt(1 - a**2)
    if reset is not None:
        m = torch.where(reset[..., None], torch.ones_like(m), m)
    return a, m * torch.sigmoid(gate_x)


def _plain_softplus(gate_x, gate_a, a_param, reset):
    log_a = -impl.C * torch.sigmoid(gate_a) * torch.log(1 + torch.exp(a_param))
    a, m = impl.decay(log_a, reset)
    return a, m * torch.sigmoid(gate_x)


def _witness(fmt: str, a_param: float, starts=None) -> Case:
    """batch 1, L = 4, width 2, σ(gate_x) = σ(gate_a) = ½. Slow decay (`starts` None, Λ = −40):
    x = 10⁴ from h = 0, all of y is the input weight's. Else (Λ = 0, a = 1/16): x = 1 from
    h0 = 10⁴, resets at `starts`; y is the decayed h0 where no reset cuts it."""
    zero = np.zeros((1, 4, 2))
    lam = np.full(2, a_param)
    if a_param < -30:
        return make_case(fmt, zero + 1e4, zero, zero, lam)
    reset = None if starts is None else np.array([starts])
    return make_case(fmt, zero + 1.0, zero, zero, lam, reset, np.full((1, 2), 1e4))


# --- bad input (docs/bad-input.md) ------------------------------------------------------------
_t = partial(full, fill=0.0)
BAD_INPUTS = bad_calls({"x": _t(1, 3, 2), "gate_x": _t(1, 3, 2), "gate_a": _t(1, 3, 2),
                        "a_param": _t(2)}, [
    ("x of length 0", "x", ValueError, dict(x=_t(1, 0, 2), gate_x=_t(1, 0, 2), gate_a=_t(1, 0, 2))),
    ("gate_x of another shape", "gate_x", ValueError, {"gate_x": _t(1, 4, 2)}),
    ("a_param of another width", "a_param", ValueError, {"a_param": _t(3)}),
    ("reset not bool", "reset", TypeError, {"reset": _t(1, 3)}),
    ("reset of another length", "reset", ValueError, {"reset": _t(1, 4, dt=torch.bool)}),
    ("h0 with the L axis", "h0", ValueError, {"h0": _t(1, 3, 2)}),
    ("h0 of another precision", "h0", TypeError, {"h0": _t(1, 2, dt=torch.float32)}),
], generic=dict(real=True))  # and the generic rows (docs/bad-input.md#the-generic-rows)


# --- the primitive ----------------------------------------------------------------------------
RG_LRU = registry.register_spec(
    Spec(
        name="rg_lru", family="recurrent", methods=METHODS, dtypes=REAL_DTYPES,
        sizes=("batch", "L", "width"), outputs=("y", "state"),
        summary="Griffin's RG-LRU: h_t = a_t h_{t−1} + √(1 − a_t²)(σ(gate_x)·x_t), "
                "log a_t = −8σ(gate_a)·softplus(Λ), reset at segment starts",
        signature="rg_lru(x (batch, L, width), gate_x (batch, L, width), gate_a (batch, L, "
                  "width), a_param (width,), reset=None (batch, L) bool, h0=None (batch, width), "
                  "method) -> (y (batch, L, width), final_state (batch, width))",
        strategy=lambda fmt, method: rg_lru_cases(fmt, method),
        references=sk.references(ref_mp.rg_lru, ref_np.rg_lru, ("y", "state"), MP_MAX,
                                 lambda case: case.arrays["x"].size, _args),
        bound=Bound(c=C_BOUND, terms=terms,
                    reasoning="elementwise; M = scan of (a, |m·i·x|, |h0|); G = the scan's "
                              "growth + 8 + 6·(Σ|log a| over each term's product, weighted)/M"),
        call=caller(*ARRAYS, "reset", "h0"), bench_case=_bench,
        bench_shape="batch=4, L=2048, width=256, Griffin init, reset every 512",
        features={"reset": optional_argument("reset", "segment starts (batch, L) bool"),
                  "h0": optional_argument("h0", "an initial state h0 (batch, width)")}),
    implementations={"torch": impl.rg_lru},
    laws=[Law(name, statement, check, REAL_DTYPES) for name, statement, check in [
        ("constant_decay", "with σ(gate_a) = 1 the decay is the constant a = exp(−c·softplus(Λ)): "
         "impulse response √(1 − a²)·a^t", constant_decay),
        ("reset_restarts", "a reset at k: y[k:] is the call on the tail from any h0",
         reset_restarts),
        ("superposition", "linear in (x, h0) for fixed gates", superposition)]],
    # (name, the wrong coefficients, why, fix, witness): every mutant of the sequential method
    mutants=[Mutant(name, _mutant(wrong), "sequential", REAL_DTYPES, why, witness, fix=fix)
             for name, wrong, why, fix, witness in [
        ("one_minus_a_squared", _one_minus_a_squared,
         "√(1 − a²) formed as 1 − a**2: it cancels as a → 1 (0 once a rounds to 1)",
         "form it as √(−expm1(2·log a)) from log a", lambda fmt: _witness(fmt, -40.0)),
        ("plain_softplus", _plain_softplus,
         "softplus(Λ) as log(1 + exp(Λ)): 0 once e^Λ < u, so a = 1 and the input is lost",
         "softplus as max(Λ, 0) + log1p(exp(−|Λ|))", lambda fmt: _witness(fmt, -40.0)),
        ("missing_reset", lambda gx, ga, lam, reset: impl.coefficients(gx, ga, lam, None),
         "the reset ignored: the state leaks across segment starts, the input keeps √(1 − a²)",
         "a_t = 0 and the multiplier 1 at a reset",
         lambda fmt: _witness(fmt, 0.0, [True, False, True, False])),
        ("sigmoid_twice",
         lambda gx, ga, lam, reset: impl.coefficients(gx, torch.sigmoid(ga), lam, reset),
         "r_t = σ(σ(gate_a)): the gate squashed twice", "σ once, on the pre-activation",
         lambda fmt: _witness(fmt, 0.0))]],
    bad_inputs=BAD_INPUTS,
)

"""`mega_block`: Mega's gated block forward, methods `softmax`, `laplace`, `relu2` (the attention
function), full or chunked attention, causal or bidirectional EMA. Formulas, code vs paper, the
running-error bound, strategies, sources: docs/layers.md#mega_block (normalisation and dropout
out of scope).
"""

from __future__ import annotations

from functools import partial

import numpy as np
import torch
from hypothesis import strategies as st

from ssmspec.impl import mega_block as impl
from ssmspec.impl.ema import ema as ema_impl
from ssmspec.impl.mega_attention import mega_attention as attention_impl
from ssmspec.reference.mp import mega_block as ref_mp
from ssmspec.reference.np import mega_block as ref_np
from ssmspec.speckit import *  # noqa: F403 (the spec vocabulary)
from ssmspec.specs import _layer_kit as lk
from ssmspec.specs.ema_layer import ema_arrays, mega_ema_init

METHODS = ("softmax", "laplace", "relu2")
C_BOUND = 2.0
MP_MAX = 2500
BIDIRECTIONAL = (None, "mega", "s4")
WEIGHTS = impl.MegaBlockParams._fields[5:-1]  # w_v … b_h: the parameters after the EMA's


def _params(D=2, S=2, E=3, nd=2, P=4, dt=torch.float64, **over):
    """The block's parameters as zeros of `dt` (those in `over` replaced): the bad inputs'."""
    shapes = {"delta": (D, nd, 1), "alpha": (D, nd, 1), "beta": (D, nd, 1), "gamma": (D, nd),
              "omega": (D,), "w_v": (D, E), "b_v": (E,), "w_z": (D, S), "b_z": (S,),
              "qk_gamma": (2, S), "qk_beta": (2, S), "w_r": (D, E), "b_r": (E,),
              "w_u": (D, D), "b_u": (D,), "w_h": (D, D), "u_h": (E, D), "b_h": (D,),
              "bias": (2 * P - 1,)}
    return impl.MegaBlockParams(**{k: over.get(k, zeros(*s, dt=dt)) for k, s in shapes.items()})


def _weights(rng, D, S, E, scale):
    """N(0, 1) weights w_v … b_h of their shapes (`_params`), the matrices w and u_h times
    `scale`, b_u and qk_gamma as drawn, the other biases and qk_beta times ½."""
    p = _params(D, S, E)._asdict()
    factor = {"w": scale, "u": scale, "b": 0.5, "b_u": 1.0, "qk_gamma": 1.0, "qk_beta": 0.5}
    return {k: rng.normal(size=p[k].shape) * factor.get(k, factor.get(k[0])) for k in WEIGHTS}


@st.composite
def block_cases(draw, fmt: str, method: str = "softmax", length=None, chunk="draw",
                bidirectional="draw") -> Case:
    """x (batch, L, D) and every weight of the block (docs/layers.md#mega_block)."""
    B, D = draw(size("batch", st.integers(1, 2))), draw(size("D", st.integers(1, 4)))
    S, E, nd = draw(st.integers(1, 4)), draw(st.integers(1, 3)), draw(st.integers(1, 4))
    L = draw(size("L", length if length is not None else sequence_lengths(65, 16385)))
    if bidirectional == "draw":
        bidirectional = draw(st.sampled_from(BIDIRECTIONAL))
    if chunk == "draw":
        chunk = draw(st.one_of(st.none(), st.sampled_from(lk.CHUNKS)))
        if chunk is None and L > 2049:
            chunk = draw(st.sampled_from(lk.CHUNKS))
    P = min(chunk or L, L) + draw(st.integers(0, 2))  # the window min(chunk, L), or more
    arrays = ema_arrays(draw, D if bidirectional is None else 2 * D, nd)
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    scale, b_scale = draw(log_uniform(0.1, 2.0)), draw(log_uniform(0.01, 3.0))
    arrays.update(omega=rng.normal(size=D), **_weights(rng, D, S, E, scale))
    arrays.update(bias=rng.normal(size=2 * P - 1) * b_scale, x=rng.normal(size=(B, L, D)))
    return case_of(fmt, arrays, chunk=chunk, bidirectional=bidirectional)


call_block, _args = lk.layer_adapters(impl.MegaBlockParams, ("chunk", "bidirectional"), "fn")


def _mp_work(case: Case) -> int:
    B, L, D = case.arrays["x"].shape
    S, E = case.arrays["w_z"].shape[1], case.arrays["w_v"].shape[1]
    nd, window = case.arrays["gamma"].shape[1], min(case.params["chunk"] or L, L)
    return B * L * (D * nd + window * (S + E) + D * (S + 2 * E + 2 * D))


def bench_case(fmt: str) -> Case:
    """batch 2, L = 2048, D = 128, S = 64, E = 256, ndim 16, chunk 128, Mega's init (weights
    N(0, 0.02), biases 0, κ N(0, 0.02), μ 0; EMA δ, α N(0, 0.2), β ±1, γ N(0, 1))."""
    rng = np.random.default_rng(0)
    B, L, D, S, E, nd, c = 2, 2048, 128, 64, 256, 16, 128
    arrays = {**mega_ema_init(rng, D, nd), "omega": rng.normal(size=D)}
    arrays.update({k: (a * 0.0 if k.startswith("b_") or k == "qk_beta" else a)
                   for k, a in _weights(rng, D, S, E, 0.02).items()})
    arrays.update(qk_gamma=rng.normal(0, 0.02, (2, S)), bias=rng.normal(0, 0.02, 2 * c - 1),
                  x=rng.normal(size=(B, L, D)))
    return case_of(fmt, arrays, chunk=c, bidirectional=None)


# --- laws -------------------------------------------------------------------------------------
SHORT = st.sampled_from([1, 2, 3, 4, 5, 7, 8, 9, 15, 16, 17])


def closed_update_gate_is_identity(ctx: LawContext) -> None:
    """b_φ = −∞ gives φ ≡ 0: Y = 0·Ĥ + 1·X = X exactly (Ĥ is finite)."""
    method, case = draw_case(ctx, block_cases, METHODS, length=SHORT)
    closed = case.with_(b_u=np.full_like(case.arrays["b_u"], -np.inf))
    y = run(BLOCK, ctx.fn, closed, method, ctx.device)[0]
    x = closed.arrays["x"]
    assert np.array_equal(y, x), f"{method}: φ ≡ 0 but Y ≠ X (max |Y − X| " \
                                 f"{np.nanmax(np.abs(y - x)):.3g})"


PARTS = {"ema_fn": "ema", "attention_fn": "mega_attention"}


def written_out(x, p, fn="softmax", chunk=None, bidirectional=None, *, ema_fn=ema_impl,
                attention_fn=attention_impl, swap_update=False, no_reset=False,
                v_from_ema=False):
    """The block as eqs. (7)–(15) over `ema_fn` and `attention_fn` (the registered ones for the
    law, the built-ins for the mutants) in the working format, rounded once; the flags make
    the mutants' wiring mistakes."""
    silu = torch.nn.functional.silu
    work = lk.work_dtype(x)
    xw, p = x.to(work), impl.MegaBlockParams(*(t.to(work) for t in p))
    xe = ema_fn(xw.transpose(1, 2), tuple(p[:4]), p.omega, bidirectional=bidirectional)
    xe = xe.transpose(1, 2)
    z = silu(xe @ p.w_z + p.b_z)
    q, k = z * p.qk_gamma[0] + p.qk_beta[0], z * p.qk_gamma[1] + p.qk_beta[1]
    o = attention_fn(q, k, silu((xe if v_from_ema else xw) @ p.w_v + p.b_v), p.bias, fn=fn,
                     chunk=chunk)
    reset = 1.0 if no_reset else silu(xe @ p.w_r + p.b_r)
    phi = torch.sigmoid(xe @ p.w_u + p.b_u)
    h = silu(xe @ p.w_h + (reset * o) @ p.u_h + p.b_h)
    y = phi * xw + (1 - phi) * h if swap_update else phi * h + (1 - phi) * xw
    return y.to(x.dtype)


# --- mutants ----------------------------------------------------------------------------------
def _witness(fmt: str, bidirectional=None) -> Case:
    """B = 1, L = 8, D = 3, S = 2, E = 2, ndim 2; weights of scale 0.7, b_φ = 1 (φ ≠ ½)."""
    rng = np.random.default_rng(0)
    D, S, E, nd, L = 3, 2, 2, 2, 8
    rows = D if bidirectional is None else 2 * D
    arrays = {k: rng.normal(size=(rows, nd, 1)) for k in ("delta", "alpha", "beta")}
    arrays.update(gamma=rng.normal(size=(rows, nd)), omega=rng.normal(size=D))
    arrays.update(_weights(rng, D, S, E, 0.7), b_u=np.ones(D))
    arrays.update(bias=rng.normal(size=2 * L - 1) * 0.3, x=rng.normal(size=(1, L, D)))
    return case_of(fmt, arrays, chunk=None, bidirectional=bidirectional)


BLOCK = registry.register_spec(
    Spec(
        name="mega_block", method_arg="fn", family="layers",
        summary="Mega's gated block: X′ = ema(X), Z, Q, K from X′, V from X, O = attention, "
                "reset γ, update φ, Y = φ ⊙ silu(X′W_h + (γ ⊙ O)U_h + b_h) + (1 − φ) ⊙ X",
        signature="mega_block(x (batch, L, D), params (MegaBlockParams: EMA δ, α, β, γ, ω; w_v, "
                  "b_v, w_z, b_z, qk_gamma, qk_beta, w_r, b_r, w_u, b_u, w_h, u_h, b_h, bias), "
                  "fn='softmax'|'laplace'|'relu2', chunk=None, bidirectional=None) "
                  "-> (batch, L, D)",
        methods=METHODS, dtypes=REAL_DTYPES, sizes=("batch", "L", "D"), realistic_work=2**14,
        outputs=("y",), strategy=block_cases,
        **lk.referenced("y", "block", _args, ref_mp, ref_np, MP_MAX, _mp_work, C_BOUND,
                        "elementwise; running error through the composition: the EMA layer's and "
                        "the attention's own bounds, linear layers (n + 1)|A||W|, silu/sigmoid "
                        "Lipschitz 1.1/¼, the attention's sensitivity to Q, K, V", with_u=True),
        call=call_block, bench_case=bench_case,
        bench_shape="batch=2, L=2048, D=128, S=64, E=256, ndim=16, chunk=128, Mega init",
    ),
    implementations={"torch": impl.mega_block},
    laws=[
        Law("closed_update_gate_is_identity", "b_φ = −∞ (φ ≡ 0): the block is the "
            "identity", closed_update_gate_is_identity, REAL_DTYPES),
        lk.agreement("chunk_covering_is_unchunked", "chunked attention with a chunk ≥ L inside "
                     "the block = the unchunked block", ("fp64", "fp32"), "mega_block",
                     lk.covering(block_cases, METHODS, "x", 3, SHORT),
                     "{method}: chunk ≥ L vs full attention"),
        lk.composition("block_is_its_composition", "the block = its written-out composition of "
                       "the registered ema and mega_attention", REAL_DTYPES, "mega_block",
                       block_cases, written_out, PARTS, "{method}: block vs its written-out "
                       "composition", lengths=SHORT),
    ],
    mutants=[
        Mutant("update_gate_swapped", partial(written_out, swap_update=True), "softmax",
               lk.FP64_32, "Y = φ ⊙ X + (1 − φ) ⊙ Ĥ: the update gate's roles swapped", _witness),
        Mutant("reset_gate_missing", partial(written_out, no_reset=True), "laplace", lk.FP64_32,
               "Ĥ = silu(X′W_h + O U_h + b_h): the reset gate γ dropped", _witness),
        Mutant("value_from_ema", partial(written_out, v_from_ema=True), "relu2", lk.FP64_32,
               "V = silu(X′W_v + b_v): the EMA output used for V (the paper's eq. (10) and Mega's "
               "code take X)", partial(_witness, bidirectional="mega")),
    ],
    bad_inputs=lk.layer_bad_calls(_params, [
        ("w_h of the wrong shape", "w_h", ValueError, {"w_h": zeros(2, 3)}),
        ("u_h of the wrong shape", "u_h", ValueError, {"u_h": zeros(2, 2)}),
        ("qk_gamma of one row", "qk_gamma", ValueError, {"qk_gamma": zeros(1, 2)}),
        ("w_v for another D", "w_v", ValueError, {"w_v": zeros(3, 3)}),
        ("bias shorter than the window", "bias", ValueError, {"params": _params(P=3)}),
        ("bidirectional with D rows", "params", ValueError, {"bidirectional": "mega"}),
        ("unknown bidirectional", "bidirectional", ValueError, {"bidirectional": "both"}),
        ("chunk zero", "chunk", ValueError, {"chunk": 0}),
    ], short=5, method="fn"),
)

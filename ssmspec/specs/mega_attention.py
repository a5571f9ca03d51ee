"""`mega_attention`: Mega's attention, methods `softmax`, `laplace`, `relu2`, full or chunked
(Mega-chunk), with the simple relative position bias; fp16/bf16 computed in fp32, rounded once.
Formulas, code vs paper, the bound (the weights' error budget from the scores), strategies,
sources: docs/attention.md#mega_attention.
"""

from __future__ import annotations

import math
from functools import partial

import numpy as np
import torch
from hypothesis import strategies as st

from ssmspec.impl import mega_attention as impl
from ssmspec.reference.mp import mega_attention as ref_mp
from ssmspec.reference.np import mega_attention as ref_np
from ssmspec.speckit import *  # noqa: F403 (the spec vocabulary)
from ssmspec.specs._layer_kit import CHUNKS, SHORT, agreement, covering, referenced, work_dtype

METHODS = impl.FNS
C_BOUND = 4.0
MP_MAX = 3000


def _arrays(rng, B, L, S, E, P, qk_scale=1.0, b_scale=1.0) -> dict:
    """q, k (B, L, S), v (B, L, E), bias (2P − 1,) N(0, 1) from `rng`, q times `qk_scale`, the
    bias times `b_scale`: the arrays of the strategy, the benchmark and the witnesses."""
    return {"q": rng.normal(size=(B, L, S)) * qk_scale, "k": rng.normal(size=(B, L, S)),
            "v": rng.normal(size=(B, L, E)), "bias": rng.normal(size=2 * P - 1) * b_scale}


@st.composite
def attention_cases(draw, fmt: str, method: str = "softmax", length=None, chunk="draw") -> Case:
    """q, k (batch, L, S), v (batch, L, E), bias (2P − 1,), chunk
    (docs/attention.md#mega_attention)."""
    B, S = draw(size("batch", st.integers(1, 2))), draw(size("S", st.integers(1, 8)))
    E = draw(size("E", st.integers(1, 4)))
    L = draw(size("L", length if length is not None else sequence_lengths(129, 2049)))
    if chunk == "draw":
        chunk = draw(st.one_of(st.none(), st.sampled_from(CHUNKS)))
    P = min(chunk or L, L) + draw(st.integers(0, 2))  # the window min(chunk, L), or more
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    qk_scale, b_scale = draw(log_uniform(0.1, 10.0)), draw(log_uniform(0.01, 3.0))
    return case_of(fmt, _arrays(rng, B, L, S, E, P, qk_scale, b_scale), chunk=chunk)


_args = arguments("q", "k", "v", "bias", "method", "chunk", "mask")  # mask (L, L) bool or None


def _mp_work(case: Case) -> int:
    B, L, S = case.arrays["q"].shape
    return B * L * min(case.params["chunk"] or L, L) * (S + case.arrays["v"].shape[2])


def bench_case(fmt: str) -> Case:
    """batch 2, L = 2048, S = 64 (zdim), E = 64 (hdim), chunk 128 (Mega-chunk), Mega's init
    scales (q, k ~ N(0, 1), bias ~ N(0, 0.02))."""
    arrays = _arrays(np.random.default_rng(0), 2, 2048, 64, 64, 128, b_scale=0.02)
    return case_of(fmt, arrays, chunk=128)


# --- laws -------------------------------------------------------------------------------------
def _block_mask(ctx: LawContext):
    """A chunked case and the same as full attention under the block-diagonal mask of the
    chunks, the chunk's bias embedded at the centre of a full-length bias (entries outside
    |j − i| < chunk are junk the mask must hide)."""
    method = ctx.draw(ctx.methods(METHODS))
    c = ctx.draw(st.sampled_from(CHUNKS[:5]))
    case = ctx.draw(attention_cases(ctx.dtype, method, length=SHORT, chunk=c))
    L = case.arrays["q"].shape[1]
    P = (len(case.arrays["bias"]) + 1) // 2
    Pf = max(L, P)  # the full bias's centre
    full_bias = np.full(2 * Pf - 1, 1e3)
    full_bias[Pf - P:Pf + P - 1] = case.arrays["bias"]
    blocks = np.arange(L) // c
    mask = blocks[:, None] == blocks[None, :]
    return method, case, case.with_(bias=representable(full_bias, ctx.dtype), mask=mask,
                                    chunk=None)


def _weights(ctx: LawContext, method: str, v_of, sort_keys=False) -> tuple:
    """(case, out, bound) of a short case with v = `v_of(B, L)`, the attention weights' laws'."""
    case = ctx.draw(attention_cases(ctx.dtype, method, length=SHORT))
    a = dict(case.arrays)
    B, L, _ = a["q"].shape
    a["v"] = v_of(B, L)
    if sort_keys:  # S = 1, q > 0, keys increasing, no bias: scores increase along j
        a["q"] = np.abs(a["q"][..., :1]) + 0.5
        a["k"] = np.sort(a["k"][..., :1], axis=1)
        a["bias"] = np.zeros_like(a["bias"])
    case = case_of(ctx.dtype, a, **case.params)
    return (case, run(ATTENTION, ctx.fn, case, method, ctx.device)[0],
            ATTENTION.bound(case, method)["out"])


def softmax_rows_sum_to_one(ctx: LawContext) -> None:
    """Σ_j A_ij = 1 within the bound: out with v = 1 is the row sum."""
    case, got, tol = _weights(ctx, "softmax", lambda B, L: np.ones((B, L, 1)))
    assert_within(got, np.ones_like(case.arrays["v"]), tol, "softmax row sums vs 1")


def laplace_monotone_unit_interval(ctx: LawContext) -> None:
    """Laplace weights (out with v = I) lie in [0, 1] and do not decrease as the score grows."""
    case, A, tol = _weights(ctx, "laplace", lambda B, L: np.broadcast_to(np.eye(L), (B, L, L)),
                            sort_keys=True)
    assert np.all((A >= 0) & (A <= 1)), f"laplace weights outside [0, 1]: {A.min()}, {A.max()}"
    for a, b in ref_np.windows(A.shape[1], case.params["chunk"]):
        W, T = A[:, a:b, a:b], tol[:, a:b, a:b]
        drop = W[..., :-1] - W[..., 1:] - T[..., :-1] - T[..., 1:]
        assert np.all(drop <= 0), f"laplace weights decrease along increasing scores by " \
                                  f"{drop.max():.3g} beyond the bound"


# --- mutants ----------------------------------------------------------------------------------
def _variant(weights=None, leak=False, softmax=False):
    """The built-in with one step replaced: the weights A = weights(s) of the scores s = qk/n + b
    (s = qk/√S + b for a `softmax`), or chunks that `leak`."""
    def fn(q, k, v, bias, fn="softmax", chunk=None, mask=None):
        if leak:  # every query sees every key (the bias padded to L): chunks leak
            chunk, pad = None, max(q.shape[1] - (bias.shape[0] + 1) // 2, 0)
            bias = torch.nn.functional.pad(bias, (pad, pad))
        if weights is None:
            return impl.mega_attention(q, k, v, bias, fn, chunk, mask)
        B, L, S = q.shape
        qw, k, v, bias = (t.to(work_dtype(q)) for t in (q, k, v, bias))
        P = (bias.shape[0] + 1) // 2
        pos = torch.arange(L, device=q.device)
        rel = bias[P - 1 + pos[None, :] - pos[:, None]]
        A = weights(qw @ k.transpose(-1, -2) / (math.sqrt(S) if softmax else L) + rel)
        return (A @ v).to(q.dtype)
    return fn


def _witness(L, S, E, qk, bias_scale, fmt: str, chunk=None) -> Case:
    """batch 1, q scaled by `qk` (qk < 0: every score far below μ, the laplace tail), the bias
    by `bias_scale`; `partial` gives the mutants' witnesses (fmt last)."""
    rng = np.random.default_rng(0)
    arrays = _arrays(rng, 1, L, S, E, L, b_scale=bias_scale)
    arrays["q"] = qk * np.abs(arrays["q"]) + 0.1
    if qk < 0:
        arrays["q"] = np.abs(rng.normal(size=(1, L, S))) + 0.5
        arrays["k"] = -np.abs(rng.normal(size=(1, L, S))) * L * abs(qk) - 1.0
    return case_of(fmt, arrays, chunk=chunk)


def _overflow_witness(fmt: str) -> Case:
    """Scores ≥ 200: e^s overflows fp32 (the work format of fp16/bf16 too)."""
    a = _arrays(np.random.default_rng(1), 1, 8, 4, 2, 8)
    a.update(q=100 + np.abs(a["q"]), k=1 + np.abs(a["k"]), bias=np.zeros(15))
    return case_of(fmt, a, chunk=None)


MU, SIGMA, SQRT2 = impl.MU, impl.SIGMA, math.sqrt(2.0)
_C = torch.complex128


ATTENTION = registry.register_spec(
    Spec(
        name="mega_attention", method_arg="fn", family="attention",
        summary="Mega's single-head attention: softmax(qk/√S + b) or f(qk/n + b), f = laplace | "
                "relu2, times v; full or chunked",
        signature="mega_attention(q (batch, L, S), k (batch, L, S), v (batch, L, E), "
                  "bias (2P − 1,), fn='softmax'|'laplace'|'relu2', chunk=None, mask=None) "
                  "-> out (batch, L, E)",
        methods=METHODS, dtypes=REAL_DTYPES, sizes=("batch", "L", "S", "E"), realistic_work=2**13,
        outputs=("out",), strategy=attention_cases,
        **referenced("out", "attention", _args, ref_mp, ref_np, MP_MAX, _mp_work, C_BOUND,
                     "elementwise; G·M = Σ_j |v_je|(β_ij + (n + 2)A_ij), β the weight's error "
                     "budget from the score's (S + 3)·Sabs", with_u=True),
        call=caller("q", "k", "v", "bias", keywords=("chunk", "mask"), method="fn"),
        bench_case=bench_case, bench_shape="batch=2, L=2048, S=64, E=64, chunk=128",
    ),
    implementations={"torch": impl.mega_attention},
    laws=[
        agreement("chunk_is_block_mask", "Mega-chunk = full attention under the "
                  "block-diagonal mask of the chunks", REAL_DTYPES, "mega_attention", _block_mask,
                  "{method}: chunk vs full attention under the block mask"),
        agreement("chunk_covering_is_full", "chunk ≥ L = full attention", ("fp64", "fp32"),
                  "mega_attention", covering(attention_cases, METHODS, "q", 5),
                  "{method}: chunk ≥ L vs full attention"),
        Law("softmax_rows_sum_to_one", "softmax weights sum to one per row",
            softmax_rows_sum_to_one, REAL_DTYPES),
        Law("laplace_monotone_unit_interval", "laplace weights lie in [0, 1] and "
            "are monotone in the score", laplace_monotone_unit_interval, REAL_DTYPES),
    ],
    mutants=(
        Mutant("laplace_mu_sigma_swapped",
               _variant(lambda s: 0.5 * torch.special.erfc((SIGMA - s) / (MU * SQRT2))), "laplace",
               REAL_DTYPES, "laplace with μ and σ swapped", partial(_witness, 8, 4, 3, 1.0, 0.5)),
        Mutant("laplace_without_sqrt2",
               _variant(lambda s: 0.5 * torch.special.erfc((MU - s) / SIGMA)), "laplace",
               ("fp64", "fp32", "fp16"), "laplace dividing by σ instead of σ√2",
               partial(_witness, 8, 4, 3, 1.0, 0.5)),
        Mutant("laplace_one_plus_erf",
               _variant(lambda s: 0.5 * (1.0 + torch.erf((s - MU) / (SIGMA * SQRT2)))), "laplace",
               ("fp64", "fp32"), "Mega's code form ½(1 + erf(x)): cancels to 0 (error ~u, "
               "not ~u·A) in the tail s ≪ μ", partial(_witness, 8, 2, 2, -2.0, 0.0), search=False),
        Mutant("softmax_without_max", _variant(lambda s: s.exp() / s.exp().sum(-1, keepdim=True),
                                               softmax=True), "softmax", ("fp32", "fp16", "bf16"),
               "e^s/Σe^s without subtracting the row max: overflow "
               "(inf/inf = NaN) for scores > 88", _overflow_witness, search=False),
        Mutant("chunks_leak", _variant(leak=True), "softmax", REAL_DTYPES,
               "chunked attention computed as full attention: queries see other chunks' keys",
               partial(_witness, 8, 4, 3, 1.0, 0.5, chunk=2)),
    ),
    bad_inputs=bad_calls({"q": zeros(1, 4, 2), "k": zeros(1, 4, 2), "v": zeros(1, 4, 3),
                          "bias": zeros(7)}, [
        ("q 2-d", "q", ValueError, {"q": zeros(4, 2), "k": zeros(4, 2), "v": zeros(4, 3)}),
        ("k of another shape", "k", ValueError, {"k": zeros(1, 4, 3)}),
        ("v of another length", "v", ValueError, {"v": zeros(1, 5, 3)}),
        ("bias of even length", "bias", ValueError, {"bias": zeros(8)}),
        ("bias shorter than the window", "bias", ValueError, {"bias": zeros(5)}),
        ("chunk zero", "chunk", ValueError, {"chunk": 0}),
        ("chunk a float", "chunk", TypeError, {"chunk": 2.0}),
        ("mask with chunk", "mask", ValueError,
         {"chunk": 2, "mask": torch.ones(4, 4, dtype=torch.bool)}),
        ("mask of the wrong shape", "mask", ValueError,
         {"mask": torch.ones(4, 5, dtype=torch.bool)}),
        ("mask not bool", "mask", TypeError, {"mask": torch.ones(4, 4)}),
        ("mask with an empty row", "mask", ValueError,
         {"mask": torch.eye(4, dtype=torch.bool) & (torch.arange(4) > 0)[:, None]}),
    ], generic=dict(method="fn", real=True)),  # and the generic rows (docs/bad-input.md)
)

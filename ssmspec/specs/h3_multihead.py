"""`h3_multihead`: H3's SSM core with H heads of head_dim d (model width H·d): per head h and
pair (i, j), k′_(h·d+i) ⊙ v_(h·d+j) through head h's diagonal SSM, summed over i against q, in
the code's 'b (d h) l' output order; head_dim 1 is `h3_layer`. Definition, bound, strategies,
sources: docs/layers.md#h3_multihead.
"""

from __future__ import annotations

import numpy as np
import torch
from hypothesis import strategies as st

from ssmspec.impl import h3 as impl
from ssmspec.reference.mp import h3 as ref_mp
from ssmspec.reference.np import h3 as ref_np
from ssmspec.speckit import *  # noqa: F403 (the spec vocabulary)
from ssmspec.specs._c import bad_calls, tiers
from ssmspec.specs.h3 import (
    C_LAYER,
    LAYER,
    LAYER_ARGS,
    LAYER_DTYPES,
    MP_LAYER_MAX,
    layer_cases,
    layer_error_terms,
    layer_growth_terms,
    layer_tensors,
    layer_valid,
    layer_work,
    s4d_layer_case,
)

HEAD_DIMS = (1, 2, 3)
SHIFT_ARGS = ("q", "k", "v", "shift_B", "shift_C", "shift_D")


def multihead_cases(fmt: str, method: str = "bilinear", length=None):
    return layer_cases(fmt, method, length if length is not None else sequence_lengths(129, 2049),
                       head_dims=HEAD_DIMS, max_heads=2, max_shift=8)


def call_multihead(fn, case: Case, method: str, device: str):
    return fn(*layer_tensors(case, device), case.params["head_dim"], method=method)


def pair_cases(case: Case):
    """(i, j, head_dim-1 Case) for every pair (`ssmspec.reference.np.h3.head_pairs`)."""
    a = case.arrays
    for i, j, sub in ref_np.head_pairs(*(a[n] for n in SHIFT_ARGS), case.params["head_dim"]):
        arrays = {**{n: a[n] for n in LAYER_ARGS}, **dict(zip(SHIFT_ARGS, sub))}
        yield i, j, Case(arrays, case.dtype, {})


def terms(case: Case, method: str, d=None) -> dict[str, Terms]:
    """The pairs' M and E summed over i, E plus (d − 1)·ΣM for the sum; G = E/M."""
    d = case.params["head_dim"]
    Bn, Hd, L = case.arrays["q"].shape
    H = Hd // d
    M, E = np.zeros((Bn, Hd, L)), np.zeros((Bn, Hd, L))
    for _, j, sub in pair_cases(case):
        m, e = layer_error_terms(sub, method)
        M[:, j * H:(j + 1) * H] += m
        E[:, j * H:(j + 1) * H] += e
    return layer_growth_terms(M, E + (d - 1) * M)


# --- laws ---------------------------------------------------------------------------------------

SHORT = st.integers(1, 24)


def pairs_are_h3_layers(ctx: LawContext) -> None:
    """out[:, j·H + h] = Σ_i h3_layer(pair (i, j))[:, h], the layer being the registered
    `h3_layer` of the same implementation family; tolerance: both bounds."""
    method = ctx.draw(ctx.methods(impl.LAYER_METHODS))
    case = ctx.draw(multihead_cases(ctx.dtype, method, length=SHORT))
    got = to_numpy(MULTIHEAD.call(ctx.fn, case, method, ctx.device))
    d = case.params["head_dim"]
    H = case.arrays["q"].shape[1] // d
    want, tol = np.zeros_like(got), MULTIHEAD.bound(case, method)["y"].copy()
    for _, j, sub in pair_cases(case):
        want[:, j * H:(j + 1) * H] += to_numpy(LAYER.call(ctx.impl_of("h3_layer"), sub, method,
                                                          ctx.device))
        tol[:, j * H:(j + 1) * H] += LAYER.bound(sub, method)["y"]
    assert_within(got, want, tol, f"head_dim {d} vs the sum of h3_layer over the pairs")


def head_dim_one_is_h3_layer(ctx: LawContext) -> None:
    method = ctx.draw(ctx.methods(impl.LAYER_METHODS))
    case = ctx.draw(layer_cases(ctx.dtype, method, length=SHORT, head_dims=(1,)))
    got = to_numpy(MULTIHEAD.call(ctx.fn, case, method, ctx.device))
    want = to_numpy(LAYER.call(ctx.impl_of("h3_layer"), case, method, ctx.device))
    assert_within(got, want, MULTIHEAD.bound(case, method)["y"] + LAYER.bound(case, method)["y"],
                  "head_dim 1 vs h3_layer")


LAWS = [
    Law("pairs_are_h3_layers", "out[:, j·H + h] = Σ_i h3_layer(q_i, k_i, v_j; "
        "head h)", pairs_are_h3_layers, LAYER_DTYPES),
    Law("head_dim_one_is_h3_layer", "head_dim 1 = h3_layer",
        head_dim_one_is_h3_layer, LAYER_DTYPES),
]


# --- mutants ------------------------------------------------------------------------------------


def head_major_output(q, k, v_, *rest, method="bilinear"):
    """The sum over i laid out 'b (h d) l' (channel h·d + j), the input's order, instead of the
    code's 'b (d h) l' (channel j·H + h)."""
    head_dim = rest[-1]
    out = impl.h3_multihead(q, k, v_, *rest, method=method)
    Bn, Hd, L = out.shape
    H = Hd // head_dim
    return out.reshape(Bn, head_dim, H, L).transpose(1, 2).reshape(Bn, Hd, L)


def shift_per_head(q, k, v_, sB, sC, sD, *rest, method="bilinear"):
    """One shift SSM per head: channel h·d's B, C, D_k used for all d channels of head h."""
    d = rest[-1]
    first = torch.arange(sB.shape[0], device=sB.device) // d * d
    return impl.h3_multihead(q, k, v_, sB[first], sC[first], sD[first], *rest, method=method)


def _witness(fmt: str) -> Case:
    """batch 1, H = 2 heads of d = 2, L = 6, N_s = 3 (random shift_B), N = 2, S4D-Lin, Δ = 0.1."""
    return s4d_layer_case(fmt, 3, 1, 2, 6, 3, 2, 0.1, False, head_dim=2)


MULTIHEAD = registry.register_spec(
    Spec(
        name="h3_multihead", family="layers", methods=impl.LAYER_METHODS, dtypes=LAYER_DTYPES,
        sizes=("batch", "H", "L", "N_s", "N"), outputs=("y",),
        summary="H3's SSM core with H heads of head_dim d: out[:, j·H + h] = Σ_i q_(h·d+i) ⊙ "
                "SSM_h(k′_(h·d+i) ⊙ v_(h·d+j)), k′ = K_shift * k + D_k ⊙ k",
        signature="h3_multihead(q, k, v (batch, H·d, L), shift_B, shift_C (H·d, N_s), shift_D "
                  "(H·d,), Lambda, B, C (H, N), log_dt (H,), D (H,), head_dim, method='bilinear') "
                  "-> (batch, H·d, L)",
        strategy=lambda fmt, method: multihead_cases(fmt, method),
        references=tiers("y", lambda mod, case, m: mod.h3_multihead(
            *(case.arrays[n] for n in LAYER_ARGS), case.params["head_dim"], method=m),
            ref_mp, ref_np, MP_LAYER_MAX, layer_work),
        bound=Bound(
            c={m: C_LAYER for m in impl.LAYER_METHODS}, terms=terms,
            reasoning="elementwise; h3_layer's bound of each pair (i, j) summed over i, plus d − 1 "
                      "roundings of that sum",
        ),
        call=call_multihead,
        # batch 1, H = 16 heads of d = 2 (model width 32), L = 1024, N_s = N = 64, S4D-Lin Λ,
        # B = 1, C N(0, ½) + i N(0, ½), Δ = 10⁻², shift_B = e₀ (small: the long-double
        # reference and the bound cost d²·H·L² each)
        bench_case=lambda fmt: s4d_layer_case(fmt, 0, 1, 16, 1024, 64, 64, 1e-2, True, 0.5, 2),
        bench_shape="batch=1, H=16 heads, head_dim=2, L=1024, N_s=N=64",
    ),
    implementations={"torch": impl.h3_multihead},
    laws=LAWS,
    mutants=[
        Mutant("head_major_output", head_major_output, "bilinear", LAYER_DTYPES,
               "output laid out 'b (h d) l' instead of the code's 'b (d h) l'", _witness),
        Mutant("shift_per_head", shift_per_head, "bilinear", LAYER_DTYPES,
               "one shift SSM per head (channel h·d's) instead of one per model channel",
               _witness),
    ],
    # h3_layer's arguments for 4 (then 2) model channels, one diagonal SSM (Λ, B, C, log Δ, D)
    # per channel: with head_dim 2 the SSM's arguments are per model channel, not per head
    bad_inputs=bad_calls({**layer_valid(H=4), "head_dim": 2}, [
        ("head_dim not dividing the channels", "head_dim", ValueError, {"head_dim": 3}),
        ("D per model channel, not per head", "D", ValueError, {}),
    ], keywords=("method",)) + bad_calls({**layer_valid(H=2), "head_dim": 0}, [
        ("head_dim zero", "head_dim", ValueError, {}),
        ("head_dim a float", "head_dim", TypeError, {"head_dim": 2.0}),
    ], keywords=("method",)),
)

"""Spec, laws and mutants of H3's multi-head SSM core (issue 15, item 7): `h3_multihead`.
Definition in `ssmspec.impl.h3.h3_multihead` (HazyResearch/H3 70d8792, `src/models/ssm/h3.py`,
`H3.forward`): H heads of head_dim d, model width H·d; per head h and pair (i, j) the product
p_ij = k′_(h·d+i) ⊙ v_(h·d+j) through head h's diagonal SSM, and
out[:, j·H + h] = Σ_i q_(h·d+i) ⊙ y_ij — the code's `mul_sum` over i and its 'b (d h) l' output
order (pair index j major, head minor). head_dim 1 is `h3_layer`.

The pair decomposition (`ssmspec.reference.np.h3.head_pairs`): for each (i, j) a head_dim-1 layer
on H channels — q and k of channels h·d + i, v of h·d + j, the shift SSM of channel h·d + i, head
h's Λ, B, C, log Δ, D — summed over i. The references are that sum (mpmath; long double rounded
once) and so is the bound: elementwise, per output entry the `h3_layer` bound's M and first-order
error E (`layer_error_terms`) of each pair, summed over i, plus (d − 1)·Σ_i M_ij for the d − 1
additions of the sum over i; c = 2 (`C_LAYER`).

Measured (built-in, CPU, `ssmspec check`, 20 strategy cases per format and method): max
err/bound 0.15 (fp64), 0.14 (fp32); witness 0.028 (fp64), 0.019 (fp32); benchmark case 5.2e-4
(fp64; 20 s for the reference and the bound). Mutants on the witness (fp64): head_major_output
1.4e14, shift_per_head 7.8e13.

Strategies: batch 1–2, H 1–2 heads, d ∈ {1, 2, 3}, N_s 1–8, N 1–4, L up to 129 (2049 nightly),
the rest as `h3_layer`'s. Reference tier: mpmath while batch·H·d²·L·(L + N + N_s) ≤ 1500, long
double above.

Laws: `pairs_are_h3_layers` (the multi-head output equals the registered `h3_layer` on each pair,
summed over i and laid out j·H + h); `head_dim_one_is_h3_layer` (d = 1 is `h3_layer`).
Mutants: `head_major_output` (the sum laid out 'b (h d) l', the input's order, not the code's),
`shift_per_head` (one shift SSM per head, channel h·d's, for all its d channels).
"""

from __future__ import annotations

import numpy as np
import torch
from hypothesis import strategies as st

from ssmspec import registry
from ssmspec.errors import abs_error, ratio
from ssmspec.harness import to_numpy
from ssmspec.impl import h3 as impl
from ssmspec.reference.mp import h3 as ref_mp
from ssmspec.reference.np import h3 as ref_np
from ssmspec.spec import BadInput, Bound, Case, Implementation, Law, LawContext, Mutant, Spec
from ssmspec.specs.h3 import (
    C_LAYER,
    LAYER,
    LAYER_ARGS,
    LAYER_DTYPES,
    MP_LAYER_MAX,
    layer_call,
    layer_cases,
    layer_error_terms,
    layer_tensors,
    seeded_layer_arrays,
)
from ssmspec.strategies import sequence_lengths

HEAD_DIMS = (1, 2, 3)
SHIFT_ARGS = ("q", "k", "v", "shift_B", "shift_C", "shift_D")


def multihead_cases(fmt: str, method: str = "bilinear", length=None):
    return layer_cases(fmt, method, length if length is not None else sequence_lengths(129, 2049),
                       head_dims=HEAD_DIMS, max_heads=2, max_shift=8)


def _args(case: Case):
    return [case.arrays[n] for n in LAYER_ARGS]


def call_multihead(fn, case: Case, method: str, device: str):
    return fn(*layer_tensors(case, device), case.params["head_dim"], method=method)


def pair_cases(case: Case):
    """(i, j, head_dim-1 Case) for every pair (`ssmspec.reference.np.h3.head_pairs`)."""
    a = case.arrays
    for i, j, sub in ref_np.head_pairs(*(a[n] for n in SHIFT_ARGS), case.params["head_dim"]):
        arrays = {**{n: a[n] for n in LAYER_ARGS}, **dict(zip(SHIFT_ARGS, sub))}
        yield i, j, Case(arrays, case.dtype, {})


def bound_terms(case: Case, method: str):
    """(M, G) per output entry: the pairs' M and E summed over i, E plus (d − 1)·ΣM for the sum."""
    d = case.params["head_dim"]
    Bn, Hd, L = case.arrays["q"].shape
    H = Hd // d
    M, E = np.zeros((Bn, Hd, L)), np.zeros((Bn, Hd, L))
    for _, j, sub in pair_cases(case):
        m, e = layer_error_terms(sub, method)
        M[:, j * H:(j + 1) * H] += m
        E[:, j * H:(j + 1) * H] += e
    E += (d - 1) * M
    with np.errstate(invalid="ignore", divide="ignore"):
        G = np.where(M > 0, E / np.where(M > 0, M, 1.0), 1.0)
    return M, G / C_LAYER


def _tier(case: Case) -> str:
    Bn, Hd, L = case.arrays["q"].shape
    d = case.params["head_dim"]
    N, Ns = case.arrays["Lambda"].shape[1], case.arrays["shift_B"].shape[1]
    return "mp" if Bn * Hd * d * L * (L + N + Ns) <= MP_LAYER_MAX else "np"


def _reference(mod):
    return lambda case, m: {"y": mod.h3_multihead(*_args(case), case.params["head_dim"],
                                                  method=m)}


def _bench(fmt: str) -> Case:
    """batch 1, H = 16 heads of d = 2 (model width 32), L = 1024, N_s = N = 64, S4D-Lin Λ
    (−½ + iπn), B = 1, C N(0, ½), Δ = 10⁻², shift_B = e₀ (small: the long-double reference and
    the bound cost d²·H·L² each)."""
    H, d, N, Ns, L = 16, 2, 64, 64, 1024
    rng = np.random.default_rng(0)
    lam = np.broadcast_to(-0.5 + 1j * np.pi * np.arange(N), (H, N))
    c = (rng.normal(size=(H, N)) + 1j * rng.normal(size=(H, N))) * 0.5
    return Case(seeded_layer_arrays(rng, 1, H, L, Ns, N, fmt, lam, np.ones((H, N)) + 0j, c,
                                     np.full(H, np.log(1e-2)), True, H * d), fmt,
                {"head_dim": d})


MULTIHEAD = registry.register_spec(Spec(
    name="h3_multihead",
    family="layers",
    summary="H3's SSM core with H heads of head_dim d: out[:, j·H + h] = Σ_i q_(h·d+i) ⊙ "
            "SSM_h(k′_(h·d+i) ⊙ v_(h·d+j)), k′ = K_shift * k + D_k ⊙ k",
    signature="h3_multihead(q, k, v (batch, H·d, L), shift_B, shift_C (H·d, N_s), shift_D "
              "(H·d,), Lambda, B, C (H, N), log_dt (H,), D (H,), head_dim, method='bilinear') "
              "-> (batch, H·d, L)",
    methods=impl.LAYER_METHODS,
    dtypes=LAYER_DTYPES,
    sizes=("batch", "H", "L", "N_s", "N"),
    outputs=("y",),
    strategy=lambda fmt, method: multihead_cases(fmt, method),
    references={"mp": _reference(ref_mp), "np": _reference(ref_np)},
    reference_tier=_tier,
    bound=Bound(
        c={m: C_LAYER for m in impl.LAYER_METHODS},
        magnitude=lambda case, method: {"y": bound_terms(case, method)[0]},
        growth=lambda case, method: {"y": bound_terms(case, method)[1]},
        reasoning="elementwise; h3_layer's bound of each pair (i, j) summed over i, plus d − 1 "
                  "roundings of that sum",
    ),
    call=call_multihead,
    bench_case=_bench,
    bench_shape="batch=1, H=16 heads, head_dim=2, L=1024, N_s=N=64",
))
registry.register_implementation(Implementation("h3_multihead", "torch", impl.h3_multihead))


# --- laws ---------------------------------------------------------------------------------------

SHORT = st.integers(1, 24)


def _check(got, want, tol, what):
    r = ratio(abs_error(got, want), tol)
    assert np.all(r <= 1), f"{what}: err/tol {r.max():.3g}"


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
    _check(got, want, tol, f"head_dim {d} vs the sum of h3_layer over the pairs")


def head_dim_one_is_h3_layer(ctx: LawContext) -> None:
    method = ctx.draw(ctx.methods(impl.LAYER_METHODS))
    case = ctx.draw(layer_cases(ctx.dtype, method, length=SHORT, head_dims=(1,)))
    got = to_numpy(MULTIHEAD.call(ctx.fn, case, method, ctx.device))
    want = to_numpy(LAYER.call(ctx.impl_of("h3_layer"), case, method, ctx.device))
    _check(got, want, MULTIHEAD.bound(case, method)["y"] + LAYER.bound(case, method)["y"],
           "head_dim 1 vs h3_layer")


for _law in (
    Law("h3_multihead", "pairs_are_h3_layers", "out[:, j·H + h] = Σ_i h3_layer(q_i, k_i, v_j; "
        "head h)", pairs_are_h3_layers, LAYER_DTYPES),
    Law("h3_multihead", "head_dim_one_is_h3_layer", "head_dim 1 = h3_layer",
        head_dim_one_is_h3_layer, LAYER_DTYPES),
):
    registry.register_law(_law)


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
    rng = np.random.default_rng(3)
    lam = np.array([[-0.5 + 0j, -0.5 + 1j * np.pi]] * 2)
    c = rng.normal(size=(2, 2)) + 1j * rng.normal(size=(2, 2))
    return Case(seeded_layer_arrays(rng, 1, 2, 6, 3, 2, fmt, lam, np.ones((2, 2)) + 0j, c,
                                     np.full(2, np.log(0.1)), False, 4), fmt, {"head_dim": 2})


for _m in (
    Mutant("h3_multihead", "head_major_output", head_major_output, "bilinear", LAYER_DTYPES,
           "output laid out 'b (h d) l' instead of the code's 'b (d h) l'", _witness),
    Mutant("h3_multihead", "shift_per_head", shift_per_head, "bilinear", LAYER_DTYPES,
           "one shift SSM per head (channel h·d's) instead of one per model channel", _witness),
):
    registry.register_mutant(_m)


# --- bad input ----------------------------------------------------------------------------------


for _name, _arg, _err, _call in [
    ("head_dim not dividing the channels", "head_dim", ValueError,
     lambda f: layer_call(lambda *a, method: f(*a, 3, method=method), H=4)),
    ("head_dim zero", "head_dim", ValueError,
     lambda f: layer_call(lambda *a, method: f(*a, 0, method=method), H=2)),
    ("head_dim a float", "head_dim", TypeError,
     lambda f: layer_call(lambda *a, method: f(*a, 2.0, method=method), H=2)),
    ("D per model channel, not per head", "D", ValueError,
     lambda f: layer_call(lambda *a, method: f(*a, 2, method=method), H=4,
                           D=torch.ones(4, dtype=torch.float64))),
]:
    registry.register_bad_input(BadInput("h3_multihead", _name, _arg, _err, _call))

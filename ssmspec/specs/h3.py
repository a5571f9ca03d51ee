"""H3's shift SSM kernel `shift_ssm_kernel`, SSM core `h3_layer` (head_dim 1) and multi-head
core `h3_multihead` (H heads of head_dim d, model width H·d, the pairs (i, j) summed over i, in
the code's 'b (d h) l' output order); the diagonal SSM is `diag_kernel`. Definitions, the bounds
(the parts' carried through the composition), strategies, sources: docs/kernels.md#shift_ssm_kernel,
docs/layers.md#h3_layer, docs/layers.md#h3_multihead.
"""

from __future__ import annotations

from functools import partial

import numpy as np
import torch
from hypothesis import strategies as st

from ssmspec.impl import h3 as impl
from ssmspec.reference.mp import h3 as ref_mp
from ssmspec.reference.np import h3 as ref_np
from ssmspec.speckit import *  # noqa: F403 (the spec vocabulary)
from ssmspec.specs._layer_kit import referenced, tiers

MP_MAX = 4096
C64, C128 = torch.complex64, torch.complex128


@st.composite
def shift_cases(draw, fmt: str, method: str = "direct", e0=None) -> Case:
    H, N = draw(size("H", st.integers(1, 3))), draw(size("N", st.integers(1, 64)))
    L = draw(size("L", sequence_lengths(1025, 16385)))
    el = st.one_of(real_normals(2.0), st.just(0.0))
    C = draw(arrays((H, N), real_normals(2.0)))
    e0 = e0 if e0 is not None else draw(st.booleans())  # B = e₀: H3's initialisation
    B = np.eye(1, N).repeat(H, 0) if e0 else draw(arrays((H, N), el))
    return case_of(fmt, {"B": B, "C": C}, L=L)


_args = arguments("B", "C", "L")


# --- laws -------------------------------------------------------------------------------------
def e0_is_C(ctx: LawContext) -> None:
    case = ctx.draw(shift_cases(ctx.dtype, e0=True))
    C, L = case.arrays["C"], case.params["L"]
    H, N = C.shape
    want = np.zeros((H, L))
    want[:, :min(N, L)] = C[:, :L]
    K = run(SHIFT, ctx.fn, case, "direct", ctx.device)[0]
    assert np.array_equal(K, want), f"B = e0: K differs from C (max {np.abs(K - want).max():.3g})"


def recurrence(ctx: LawContext) -> None:
    case = ctx.draw(shift_cases(ctx.dtype))
    B, C = case.arrays["B"], case.arrays["C"]
    L = min(case.params["L"], 129)
    case = case.with_(L=L)
    x, y = np.zeros_like(B), np.empty((B.shape[0], L))
    for t in range(L):  # H3's step: F.pad(state, (1, −1)) + B·u_t, y = C·x
        x = np.pad(x, ((0, 0), (1, 0)))[:, :-1] + (B if t == 0 else 0)
        y[:, t] = np.sum(C * x, axis=-1)
    _, M, G = ref_np.shift_ssm_kernel_with_bound(*_args(case))
    tol = SHIFT.bound(case, "direct")["K"] + higham_bound(1.0, "fp64", G, M)
    K = run(SHIFT, ctx.fn, case, "direct", ctx.device)[0]
    assert_within(K, y, tol, "kernel vs the shift recurrence")


def b_off_by_one(B, C, L, method="direct"):
    """The filter read one tap late: C shifted left by one before the correlation."""
    return impl.shift_ssm_kernel(B, torch.nn.functional.pad(C[:, 1:], (0, 1)), L, method=method)


def _bench(fmt: str) -> Case:
    """H = 1024 channels (H3-125M's d_model 768 rounded up), N = 64, L = 2048, random B, C."""
    rng = np.random.default_rng(0)
    return case_of(fmt, {k: rng.normal(size=(1024, 64)) for k in "BC"}, L=2048)


SHIFT = registry.register_spec(
    Spec(
        name="shift_ssm_kernel", family="kernels",
        summary="H3's shift SSM kernel K[l] = C·A^l·B, A the shift matrix: a length-N causal "
                "filter",
        signature="shift_ssm_kernel(B (H, N), C (H, N), L, method='direct') -> K (H, L)",
        methods=impl.METHODS, dtypes=REAL_DTYPES, sizes=("H", "N", "L"), outputs=("K",),
        strategy=shift_cases,
        **referenced("K", "shift_ssm_kernel", _args, ref_mp, ref_np, MP_MAX,
                     lambda case: case.arrays["B"].size
                     * min(case.arrays["B"].shape[1], case.params["L"]), {"direct": 1.0},
                     "elementwise; M = Σ_m |B_m||C_(m+l)|, G = N − l + 1"),
        call=caller("B", "C", "L"), bench_case=_bench, bench_shape="H=1024, N=64, L=2048",
    ),
    implementations={"torch": impl.shift_ssm_kernel},
    laws=[
        Law("e0_is_C", "B = e₀ (the paper's e₁): K = C on N taps, 0 after, "
            "exactly", e0_is_C, REAL_DTYPES),
        Law("recurrence", "K = impulse response of x_t = shift(x_(t−1)) + "
            "B u_t, y_t = C·x_t", recurrence, ("fp64", "fp32")),
    ],
    mutants=[Mutant("b_off_by_one", b_off_by_one, "direct", ("fp64", "fp32"),
        "K[l] = Σ B[m]·C[m + l + 1]: the e₀ / e₁ convention confused, the filter one tap late",
        lambda fmt: case_of(fmt, {"B": [[1.0, 0.0, 0.0, 0.0]], "C": [[0.5, -1.0, 2.0, 0.25]]},
                            L=6))],
    bad_inputs=bad_calls({"B": full(2, 4), "C": full(2, 4), "L": 8}, [
        ("B 1-d", "B", ValueError, {"B": full(4), "C": full(4)}),
        ("C of another shape", "C", ValueError, {"C": full(2, 5)}),
        ("L zero", "L", ValueError, {"L": 0}),
    ], generic=dict(real=True)),  # and the generic rows (docs/bad-input.md)
)


# === the H3 layer (head_dim 1) ==================================================================
C_LAYER = 2.0
C_CONV = 2.0  # causal_conv's constant (ssmspec/specs/convolution.py)
MP_LAYER_MAX = 1500  # batch·H·L·(L + N + N_s) up to which the mpmath tier is used
LAYER_ARGS = ("q", "k", "v", "shift_B", "shift_C", "shift_D", "Lambda", "B", "C", "log_dt", "D")
COMPLEX_OF = {"fp64": "c128", "fp32": "c64"}


def seeded_layer_arrays(rng, Bn, H, L, Ns, fmt, lam, b, c, log_dt, e0, channels):
    """The layer's arrays: q, k, v and the shift SSM's (shift_B = e₀ if `e0`) for `channels`
    model channels (H·head_dim; H for `h3_layer`), Λ, B, C (complex), log Δ, D for H."""
    a = {n: rng.normal(size=(Bn, channels, L)) for n in "qkv"}
    a.update(shift_C=rng.normal(size=(channels, Ns)), shift_D=rng.normal(size=channels),
             D=rng.normal(size=H))
    a["shift_B"] = np.eye(1, Ns).repeat(channels, 0) if e0 else rng.normal(size=(channels, Ns))
    cf = COMPLEX_OF[fmt]
    return {**{n: representable(x, fmt) for n, x in a.items()}, "Lambda": representable(lam, cf),
            "B": representable(b, cf), "C": representable(c, cf),
            "log_dt": representable(log_dt, fmt)}


def s4d_layer_case(fmt: str, seed: int, Bn, H, L, Ns, N, dt, e0, c_scale=1.0, head_dim=None):
    """A fixed layer case (benchmarks, witnesses): S4D-Lin Λ = −½ + iπn, B = 1, C = (N(0, 1) +
    i N(0, 1))·`c_scale`, Δ = `dt`, shift_B = e₀ if `e0`; `head_dim`: H heads of that width."""
    rng = np.random.default_rng(seed)
    lam = np.broadcast_to(-0.5 + 1j * np.pi * np.arange(N), (H, N))
    c = (rng.normal(size=(H, N)) + 1j * rng.normal(size=(H, N))) * c_scale
    arrays = seeded_layer_arrays(rng, Bn, H, L, Ns, fmt, lam, np.ones((H, N)) + 0j, c,
                                 np.full(H, np.log(dt)), e0, H * (head_dim or 1))
    return Case(arrays, fmt, {} if head_dim is None else {"head_dim": head_dim})


@st.composite
def layer_cases(draw, fmt: str, method: str = "bilinear", length=None, head_dims=None,
                max_heads: int = 3, max_shift: int = 16) -> Case:
    """The layer's arrays (docs/layers.md#h3_layer): H 1–`max_heads`, N_s 1–`max_shift`; with
    `head_dims` (`h3_multihead`) a head_dim d from it, width H·d, params {'head_dim': d}."""
    from ssmspec.specs.kernels import coef_elements, lambda_elements, log_dts

    Bn, H = draw(size("batch", st.integers(1, 2))), draw(size("H", st.integers(1, max_heads)))
    Ns, N = draw(size("N_s", st.integers(1, max_shift))), draw(size("N", st.integers(1, 4)))
    L = draw(size("L", length if length is not None else sequence_lengths(257, 16385)))
    lam = draw(arrays((H, N), lambda_elements(True)))
    b, c = (draw(arrays((H, N), coef_elements(True))) for _ in range(2))
    log_dt = draw(arrays((H,), log_dts()))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    e0 = draw(st.booleans())
    d = None if head_dims is None else draw(st.sampled_from(head_dims))
    a = seeded_layer_arrays(rng, Bn, H, L, Ns, fmt, lam, b, c, log_dt, e0, H * (d or 1))
    return Case(a, fmt, {} if d is None else {"head_dim": d})


def layer_tensors(case: Case, device) -> list:
    """The layer's arguments; Λ, B, C as the complex format of the case's (Case.tensor would
    take the real part for a real format)."""
    cdt = dtype(COMPLEX_OF[case.dtype]).torch
    return [torch.from_numpy(np.array(case.arrays[n])).to(device=device, dtype=cdt)
            if n in ("Lambda", "B", "C") else case.tensor(n, device) for n in LAYER_ARGS]


def call_layer(fn, case: Case, method: str, device: str):
    return fn(*layer_tensors(case, device), method=method)


_layer_args = arguments(*LAYER_ARGS)


def layer_error_terms(case: Case, method: str):
    """(M, E): the output's magnitude and its first-order rounding error in units of u
    (`ssmspec.reference.np.h3.layer_error_terms`, docs/layers.md#h3_layer)."""
    from ssmspec.specs.kernels import C_BOUND as C_DIAG_KERNEL

    return ref_np.layer_error_terms(*_layer_args(case), method, C_CONV, C_DIAG_KERNEL)


def layer_growth_terms(M, E, output: str = "y") -> dict[str, Terms]:
    """{output: Terms(G, M)} with G = E/M (1 where M = 0) over c = C_LAYER: the running error E
    (in units of u) as the bound's growth."""
    with np.errstate(invalid="ignore", divide="ignore"):
        G = np.where(M > 0, E / np.where(M > 0, M, 1.0), 1.0)
    return {output: Terms(G / C_LAYER, M)}


def layer_work(case: Case) -> int:
    """batch·H·d·d·L·(L + N + N_s), H·d the model width: the mpmath tier's work (d² pairs)."""
    Bn, Hd, L = case.arrays["q"].shape
    d = case.params.get("head_dim", 1)
    N, Ns = case.arrays["Lambda"].shape[1], case.arrays["shift_B"].shape[1]
    return Bn * Hd * d * L * (L + N + Ns)


# --- the layer's laws: FlashConv state passing ---------------------------------------------------
def blockwise_bound(case: Case, method: str, block: int):
    """The block-wise computation's bound in units of u (`ssmspec.reference.np.h3.
    blockwise_error`: diag_ssm's bound per block and the carried state's error)."""
    from ssmspec.specs.kernels import C_BOUND as C_DIAG_KERNEL
    from ssmspec.specs.recurrent import C_DIAG

    return ref_np.blockwise_error(*_layer_args(case), method, block, C_CONV, C_DIAG_KERNEL,
                                  C_DIAG)


def flashconv_state_passing(ctx: LawContext) -> None:
    method, case = draw_case(ctx, layer_cases, impl.LAYER_METHODS, length=st.integers(2, 48))
    L = case.arrays["q"].shape[-1]
    block = ctx.draw(st.integers(1, L - 1))
    whole = run(LAYER, ctx.fn, case, method, ctx.device)[0]
    parts = to_numpy(impl.h3_layer_blockwise(*layer_tensors(case, ctx.device), method=method,
                                             block=block))
    u = dtype(ctx.dtype).u
    tol = LAYER.bound(case, method)["y"] + C_LAYER * u * blockwise_bound(case, method, block)
    assert_within(parts, whole, tol, f"block {block} of L = {L}: state passing vs the whole "
                  "sequence")


def default_is_bilinear(ctx: LawContext) -> None:
    """Called without `method`, the layer is the bilinear one (H3's `SSKernelDiag` default
    `disc='bilinear'`, 70d8792): within twice the bilinear bound of the explicit call."""
    case = ctx.draw(layer_cases(ctx.dtype, "bilinear", length=st.integers(1, 48)))
    implicit = to_numpy(ctx.fn(*layer_tensors(case, ctx.device)))
    explicit = run(LAYER, ctx.fn, case, "bilinear", ctx.device)[0]
    assert_within(implicit, explicit, 2 * LAYER.bound(case, "bilinear")["y"],
                  "default method vs method='bilinear'")


# the mutants' witness: batch 1, H = 2, L = 6, N_s = 3 (random shift_B), N = 2, S4D-Lin Λ, Δ = 0.1
_layer_witness = partial(s4d_layer_case, seed=3, Bn=1, H=2, L=6, Ns=3, N=2, dt=0.1, e0=False)


def layer_valid(H=2, Bn=1, L=5, Ns=3, N=2) -> dict:
    """The arguments of a valid float64 layer call (bad-input rows change one of them)."""
    x, c = (lambda *s: full(*s)), (lambda *s: full(*s, dt=C128))
    return {"q": x(Bn, H, L), "k": x(Bn, H, L), "v": x(Bn, H, L), "shift_B": x(H, Ns),
            "shift_C": x(H, Ns), "shift_D": x(H), "Lambda": -c(H, N), "B": c(H, N),
            "C": c(H, N), "log_dt": x(H), "D": x(H), "method": "bilinear"}


LAYER = registry.register_spec(
    Spec(
        name="h3_layer", family="layers",
        summary="H3's SSM core (head_dim 1): out = q ⊙ (K_diag * (k′ ⊙ v) + D ⊙ (k′ ⊙ v)), "
                "k′ = K_shift * k + D_k ⊙ k",
        signature="h3_layer(q, k, v (batch, H, L), shift_B, shift_C (H, N_s), shift_D (H,), "
                  "Lambda, B, C (H, N), log_dt (H,), D (H,), method='bilinear') -> (batch, H, L)",
        methods=impl.LAYER_METHODS, dtypes=WIDE_DTYPES, sizes=("batch", "H", "L", "N_s", "N"),
        outputs=("y",), strategy=layer_cases,
        references=tiers("y", lambda mod, case, m: mod.h3_layer(*_layer_args(case), method=m),
                         ref_mp, ref_np, MP_LAYER_MAX, layer_work),
        bound=Bound(
            c={m: C_LAYER for m in impl.LAYER_METHODS},
            terms=lambda case, method, d=None: layer_growth_terms(*layer_error_terms(case, method)),
            reasoning="elementwise; the parts' bounds carried through the composition: shift "
                      "kernel and diag_kernel errors convolved with |input|, the FFT convolutions' "
                      "norm-wise terms, input errors through |K| and |q|, |v|; c = 2 for the "
                      "dropped second-order terms",
        ),
        call=call_layer,
        # batch 2, H = 256 (one head per channel), L = 2048, N_s = N = 64, S4D-Lin Λ, B = 1,
        # C N(0, ½) + i N(0, ½), Δ = 10⁻², shift_B = e₀ (H3's initialisation)
        bench_case=lambda fmt: s4d_layer_case(fmt, 0, 2, 256, 2048, 64, 64, 1e-2, True, 0.5),
        bench_shape="batch=2, H=256, L=2048, N_s=64, N=64",
    ),
    implementations={"torch": impl.h3_layer},
    laws=[
        Law("default_is_bilinear", "without `method` the layer discretises bilinearly "
        "(H3's SSKernelDiag default)", default_is_bilinear, WIDE_DTYPES),
        Law("flashconv_state_passing", "the layer computed block by block, the diagonal "
        "SSM's state and the shift SSM's last N_s − 1 inputs carried across = the layer on the "
        "whole sequence (FlashConv)", flashconv_state_passing, WIDE_DTYPES),
    ],
    mutants=[
        Mutant("q_v_swapped", lambda q, k, v_, *rest, method="bilinear":
               impl.h3_layer(v_, k, q, *rest, method=method), "bilinear", WIDE_DTYPES,
               "out = v ⊙ SSM(k′ ⊙ q): the query and value roles swapped", _layer_witness),
        Mutant("zoh_for_bilinear", lambda *args, method="bilinear": impl.h3_layer(
            *args, method="zoh" if method == "bilinear" else method), "bilinear", WIDE_DTYPES,
               "the diagonal SSM by zoh where bilinear (H3's default) is asked for",
               _layer_witness),
        Mutant("shift_on_v", lambda q, k, v_, *rest, method="bilinear":
               impl.h3_layer(q, v_, k, *rest, method=method), "bilinear", WIDE_DTYPES,
               "the shift SSM (and its skip) applied to v instead of k", _layer_witness),
    ],
    bad_inputs=bad_calls(layer_valid(), [
        ("k of another length", "k", ValueError, {"k": full(1, 2, 4)}),
        ("shift_B for another H", "shift_B", ValueError, {"shift_B": full(3, 3)}),
        ("shift_C of another shape", "shift_C", ValueError, {"shift_C": full(2, 4)}),
        ("D of the wrong shape", "D", ValueError, {"D": full(3)}),
        ("Lambda for another H", "Lambda", ValueError, {"Lambda": full(3, 2, dt=C128)}),
    ], keywords=("method",), generic=dict(real=True)),  # and the generic rows (docs/bad-input.md)
)


# === the multi-head core (head_dim d) ===========================================================
HEAD_DIMS = (1, 2, 3)
SHIFT_ARGS = ("q", "k", "v", "shift_B", "shift_C", "shift_D")


def multihead_cases(fmt: str, method: str = "bilinear", length=None):
    return layer_cases(fmt, method, length if length is not None else sequence_lengths(129, 2049),
                       head_dims=HEAD_DIMS, max_heads=2, max_shift=8)


def call_multihead(fn, case: Case, method: str, device: str):
    return fn(*layer_tensors(case, device), case.params["head_dim"], method=method)


def pair_sums(case: Case, f, *sums: np.ndarray) -> tuple:
    """`sums` (batch, H·d, L) with `f(sub)` (arrays (batch, H, L), one per sum) of every pair
    (i, j) added to channels j·H … (j + 1)·H, the code's 'b (d h) l' order: the sums over i.
    `sub`: h3_layer's head_dim-1 Case of the pair (`ssmspec.reference.np.h3.head_pairs`)."""
    a, d = case.arrays, case.params["head_dim"]
    H = a["q"].shape[1] // d
    for _, j, pair in ref_np.head_pairs(*(a[n] for n in SHIFT_ARGS), d):
        sub = Case({**{n: a[n] for n in LAYER_ARGS}, **dict(zip(SHIFT_ARGS, pair))}, case.dtype, {})
        for total, x in zip(sums, f(sub)):
            total[:, j * H:(j + 1) * H] += x
    return sums


def multihead_terms(case: Case, method: str, d=None) -> dict[str, Terms]:
    """The pairs' M and E summed over i, E plus (d − 1)·ΣM for the sum; G = E/M."""
    M, E = pair_sums(case, lambda sub: layer_error_terms(sub, method),
                     *np.zeros((2, *case.arrays["q"].shape)))
    return layer_growth_terms(M, E + (case.params["head_dim"] - 1) * M)


# --- laws ---------------------------------------------------------------------------------------
MH_SHORT = st.integers(1, 24)


def pairs_are_h3_layers(ctx: LawContext) -> None:
    """out[:, j·H + h] = Σ_i h3_layer(pair (i, j))[:, h], the layer being the registered
    `h3_layer` of the same implementation family; tolerance: both bounds."""
    method, case = draw_case(ctx, multihead_cases, impl.LAYER_METHODS, length=MH_SHORT)
    got = run(MULTIHEAD, ctx.fn, case, method, ctx.device)[0]
    want, tol = pair_sums(case, lambda sub: (
        run(LAYER, ctx.impl_of("h3_layer"), sub, method, ctx.device)[0],
        LAYER.bound(sub, method)["y"]), np.zeros_like(got),
        MULTIHEAD.bound(case, method)["y"].copy())
    assert_within(got, want, tol, f"head_dim {case.params['head_dim']} vs the sum of h3_layer "
                  "over the pairs")


def head_dim_one_is_h3_layer(ctx: LawContext) -> None:
    method, case = draw_case(ctx, layer_cases, impl.LAYER_METHODS, length=MH_SHORT,
                             head_dims=(1,))
    got = run(MULTIHEAD, ctx.fn, case, method, ctx.device)[0]
    want = run(LAYER, ctx.impl_of("h3_layer"), case, method, ctx.device)[0]
    assert_within(got, want, MULTIHEAD.bound(case, method)["y"] + LAYER.bound(case, method)["y"],
                  "head_dim 1 vs h3_layer")


# --- mutants ------------------------------------------------------------------------------------
def head_major_output(q, k, v_, *rest, method="bilinear"):
    """The sum over i laid out 'b (h d) l' (channel h·d + j), the input's order, instead of the
    code's 'b (d h) l' (channel j·H + h)."""
    head_dim = rest[-1]
    out = impl.h3_multihead(q, k, v_, *rest, method=method)
    Bn, Hd, L = out.shape
    return out.reshape(Bn, head_dim, Hd // head_dim, L).transpose(1, 2).reshape(Bn, Hd, L)


def shift_per_head(q, k, v_, sB, sC, sD, *rest, method="bilinear"):
    """One shift SSM per head: channel h·d's B, C, D_k used for all d channels of head h."""
    d = rest[-1]
    first = torch.arange(sB.shape[0], device=sB.device) // d * d
    return impl.h3_multihead(q, k, v_, sB[first], sC[first], sD[first], *rest, method=method)


# h3_layer's witness with H = 2 heads of d = 2
_multihead_witness = partial(_layer_witness, head_dim=2)


MULTIHEAD = registry.register_spec(
    Spec(
        name="h3_multihead", family="layers", methods=impl.LAYER_METHODS, dtypes=WIDE_DTYPES,
        summary="H3's SSM core with H heads of head_dim d: out[:, j·H + h] = Σ_i q_(h·d+i) ⊙ "
                "SSM_h(k′_(h·d+i) ⊙ v_(h·d+j)), k′ = K_shift * k + D_k ⊙ k",
        signature="h3_multihead(q, k, v (batch, H·d, L), shift_B, shift_C (H·d, N_s), shift_D "
                  "(H·d,), Lambda, B, C (H, N), log_dt (H,), D (H,), head_dim, method='bilinear') "
                  "-> (batch, H·d, L)",
        sizes=("batch", "H", "L", "N_s", "N"), outputs=("y",),
        strategy=multihead_cases,
        references=tiers("y", lambda mod, case, m: mod.h3_multihead(
            *_layer_args(case), case.params["head_dim"], method=m), ref_mp, ref_np, MP_LAYER_MAX,
            layer_work),
        bound=Bound(
            c={m: C_LAYER for m in impl.LAYER_METHODS}, terms=multihead_terms,
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
    laws=[
        Law("pairs_are_h3_layers", "out[:, j·H + h] = Σ_i h3_layer(q_i, k_i, v_j; "
            "head h)", pairs_are_h3_layers, WIDE_DTYPES),
        Law("head_dim_one_is_h3_layer", "head_dim 1 = h3_layer",
            head_dim_one_is_h3_layer, WIDE_DTYPES),
    ],
    mutants=[
        Mutant("head_major_output", head_major_output, "bilinear", WIDE_DTYPES,
               "output laid out 'b (h d) l' instead of the code's 'b (d h) l'", _multihead_witness),
        Mutant("shift_per_head", shift_per_head, "bilinear", WIDE_DTYPES,
               "one shift SSM per head (channel h·d's) instead of one per model channel",
               _multihead_witness),
    ],
    # 4 model channels in 2 heads of head_dim 2: h3_layer's arguments for 4 channels, the
    # diagonal SSM's (Λ, B, C, log Δ, D) for 2 heads; and the generic rows (docs/bad-input.md)
    bad_inputs=bad_calls({**layer_valid(H=4), "head_dim": 2} | {
        k: x for k, x in layer_valid(H=2).items() if k in ("Lambda", "B", "C", "log_dt", "D")}, [
        ("head_dim not dividing the channels", "head_dim", ValueError, {"head_dim": 3}),
        ("D per model channel, not per head", "D", ValueError, {"D": full(4)}),
        ("head_dim zero", "head_dim", ValueError, {"head_dim": 0}),
    ], keywords=("method",), generic=dict(real=True)),
)

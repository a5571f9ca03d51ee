"""`sgconv_kernel`: SGConv's multi-scale kernel. Definition, convention, bound, strategies,
sources: docs/kernels.md#sgconv_kernel.
"""

from __future__ import annotations

from functools import partial

import numpy as np
import torch
from hypothesis import strategies as st

from ssmspec.impl import sgconv as impl
from ssmspec.reference.mp import sgconv as ref_mp
from ssmspec.reference.np import sgconv as ref_np
from ssmspec.speckit import *  # noqa: F403 (the spec vocabulary)
from ssmspec.specs._layer_kit import agreement, referenced, work_dtype
from ssmspec.specs.convolution import CAUSAL

METHODS = impl.METHODS
C_BOUND = 1.0
MP_MAX = 2048


@st.composite
def sgconv_cases(draw, fmt: str, method: str = "linear", max_scales: int = 5) -> Case:
    """weights (S, H, d), decay (H,), L, init_scale, normalize (docs/kernels.md#sgconv_kernel)."""
    H, d = draw(size("H", st.integers(1, 3))), draw(st.sampled_from([1, 2, 3, 4, 5, 8, 16]))
    init_scale = draw(st.sampled_from([0, 0, 1]))
    L = draw(size("L", sequence_lengths(1025, 16385)))
    # the least S covering L half the time, else any
    S = (impl.sgconv_num_scales(L, d, init_scale) if draw(st.booleans())
         else draw(st.integers(1, max_scales)))
    w = draw(arrays((S, H, d), st.one_of(real_normals(2.0), st.just(0.0))))
    decay = np.array(draw(st.lists(st.one_of(log_uniform(0.25, 4.0), st.sampled_from([1.0, 2.0])),
                                   min_size=H, max_size=H)))
    return case_of(fmt, {"weights": w, "decay": decay},
                   L=L, init_scale=init_scale, normalize=draw(st.booleans()))


_args = arguments("weights", "L", "decay", "init_scale", "method", "normalize")


def _mp_work(case: Case) -> int:
    """H·max(n, L), n = d·2^(S−1+init_scale) the whole kernel's length."""
    S, H, d = np.asarray(case.arrays["weights"]).shape
    return H * max(impl.sgconv_length(S, d, case.params["init_scale"]), case.params["L"])


def _bench(fmt: str) -> Case:
    """H = 256 channels, d = 64 taps, L = 16384 (S = 9 scales), decay 2, normalised."""
    rng = np.random.default_rng(0)
    H, d, L = 256, 64, 16384
    S = impl.sgconv_num_scales(L, d)
    return case_of(fmt, {"weights": rng.normal(size=(S, H, d)), "decay": np.full(H, 2.0)},
                   L=L, init_scale=0, normalize=True)


# --- laws -------------------------------------------------------------------------------------
def length_law(ctx: LawContext) -> None:
    case = ctx.draw(sgconv_cases(ctx.dtype))
    S, H, d = case.arrays["weights"].shape
    init = case.params["init_scale"]
    n = impl.sgconv_length(S, d, init)
    L = n + ctx.draw(st.integers(0, 3))
    ones_ = case.with_(weights=np.ones((S, H, d)), decay=np.ones(H), L=L, normalize=False)
    K = run(SGCONV, ctx.fn, ones_, "nearest", ctx.device)[0]
    want = np.broadcast_to(np.arange(L) < n, (H, L))
    assert np.array_equal(K, want), f"S={S}, d={d}, init_scale={init}: not 1 on exactly {n} taps"
    Lq = case.params["L"]
    Sq = impl.sgconv_num_scales(Lq, d, init)
    assert impl.sgconv_length(Sq, d, init) >= Lq, f"{Sq} scales do not cover L={Lq}"
    assert Sq == 1 or impl.sgconv_length(Sq - 1, d, init) < Lq, f"{Sq} scales not the least"


def _rescaled(normalize: bool, factor):
    """A case and the same with decay 1 and the weights w_i times factor(c, i) (c the decay,
    i = 0 … S − 1), for the decay laws."""
    def pair(ctx: LawContext):
        method = ctx.draw(ctx.methods(METHODS))
        case = ctx.draw(sgconv_cases(ctx.dtype, method)).with_(normalize=normalize)
        w, c = case.arrays["weights"], case.arrays["decay"]
        scaled = w * factor(c[None, :, None], np.arange(w.shape[0])[:, None, None], w.shape[0])
        return method, case, case.with_(weights=representable(scaled, ctx.dtype),
                                        decay=np.ones_like(c))
    return pair


def _weights_rounding(c: float):
    """The rounding of the pre-scaled weights: c·u·G·M of the case's own bound terms."""
    def extra(case: Case, method: str, fmt: str):
        _, M, G = ref_np.sgconv_kernel_with_bound(*_args(case, method))
        return higham_bound(c, fmt, G, M)
    return extra


def conv_direct(ctx: LawContext) -> None:
    method, case = draw_case(ctx, sgconv_cases, METHODS)
    L = min(case.params["L"], 1025)
    K = run(SGCONV, ctx.fn, case.with_(L=L), method, ctx.device)[0]
    rng = np.random.default_rng(ctx.draw(st.integers(0, 2**32 - 1)))
    u = rng.normal(size=(ctx.draw(st.integers(1, 2)), K.shape[0], L))
    conv = ctx.impl_of("causal_conv")
    cc = case_of(ctx.dtype, {"u": u, "K": K}, L=L, L_K=L, kernel="sgconv")
    y_fft, y_dir = (run(CAUSAL, conv, cc, m, ctx.device)[0] for m in ("fft", "direct"))
    tol = CAUSAL.bound(cc, "fft")["y"] + norm_error(CAUSAL.bound(cc, "direct")["y"], "row")
    within(y_fft, y_dir, tol, f"{method}: FFT vs direct convolution with the kernel", rows=True)


# --- mutants ----------------------------------------------------------------------------------
def _variant(weights, L, decay, init_scale=0, method="linear", normalize=True, *,
             factor=None, use_decay=True, use_norm=True):
    """sgconv_kernel written directly with F.interpolate, with one deliberate fault."""
    S, work, blocks = weights.shape[0], work_dtype(weights), []
    for i in range(S):
        s = factor(i, init_scale) if factor else 2 ** (max(0, i - 1) + init_scale)
        up = torch.nn.functional.interpolate(weights[i].to(work)[None], scale_factor=s,
                                             mode=method)[0]
        blocks.append(up * (decay.to(work)[:, None] ** (S - 1 - i) if use_decay else 1))
    k = torch.cat(blocks, dim=-1)
    if normalize and use_norm:
        k = k / torch.linalg.vector_norm(k, dim=-1, keepdim=True)
    k = k[:, :L] if k.shape[-1] >= L else torch.nn.functional.pad(k, (0, L - k.shape[-1]))
    return k.to(weights.dtype)


def _witness(fmt: str) -> Case:
    """S = 3 sub-kernels of 4 taps, decay 2, L = 16 (the whole kernel), normalised."""
    w = np.array([[[1.0, -0.5, 0.25, 2.0]], [[0.5, 1.5, -1.0, 0.75]], [[-2.0, 1.0, 0.5, 1.25]]])
    return case_of(fmt, {"weights": w, "decay": np.array([2.0])},
                   L=16, init_scale=0, normalize=True)


SGCONV = registry.register_spec(
    Spec(
        name="sgconv_kernel", family="kernels", methods=METHODS, dtypes=REAL_DTYPES,
        sizes=("H", "L"), outputs=("K",), strategy=sgconv_cases,
        summary="SGConv's multi-scale kernel: sub-kernels upsampled by 2^max(0,i−1), weighted by "
                "decay^(S−1−i), concatenated, normalised",
        signature="sgconv_kernel(weights (S, H, d), L, decay (H,), init_scale=0, "
                  "method='linear'|'nearest', normalize=True) -> K (H, L)",
        **referenced("K", "sgconv_kernel", _args, ref_mp, ref_np, MP_MAX, _mp_work, C_BOUND,
                     "elementwise; M = (|k|_l + |k_l|·‖|k|‖/‖k‖)/‖k‖, G = 6 + ⌈log₂ n⌉"),
        call=caller("weights", "L", "decay", keywords=("init_scale", "normalize")),
        bench_case=_bench, bench_shape="H=256, d=64, L=16384 (S=9), decay 2",
    ),
    implementations={"torch": impl.sgconv_kernel},
    laws=[
        Law("length", "unit weights give 1 on exactly n = d·2^(S−1+init_scale) "
            "taps; sgconv_num_scales is the least S covering L", length_law, ("fp64", "fp32")),
        agreement("decay_weighting", "decay c = decay 1 with w_i scaled by c^(S−1−i)",
                  ("fp64", "fp32"), "sgconv_kernel",
                  _rescaled(False, lambda c, i, S: c ** (S - 1 - i)),
                  "{method}: decay c vs weights scaled by c^(S−1−i)",
                  extra=_weights_rounding(2.0)),
        agreement("paper_alpha", "normalised: decay c = the paper's α^i·w_i, α = 1/c",
                  ("fp64", "fp32"), "sgconv_kernel",
                  _rescaled(True, lambda c, i, S: (1.0 / c) ** i),
                  "{method}: code's decay^(S−1−i) vs paper's α^i, α = 1/decay, normalised",
                  extra=_weights_rounding(4.0)),
        Law("conv_direct", "causal_conv with the kernel: FFT = direct sum",
            conv_direct, ("fp64", "fp32")),
    ],
    mutants=[
        Mutant("upsample_2_pow_i", partial(_variant, factor=lambda i, s0: 2 ** (i + s0)), "linear",
               ("fp64", "fp32"), "sub-kernel i upsampled by 2^i, not 2^max(0, i−1): every block "
               "after the first moves", _witness),
        Mutant("no_decay", partial(_variant, use_decay=False), "linear", ("fp64", "fp32"),
               "the decay weight decay^(S−1−i) left out", _witness),
        Mutant("no_normalization", partial(_variant, use_norm=False), "nearest", ("fp64", "fp32"),
               "the division by ‖k‖₂ left out", _witness),
    ],
    bad_inputs=bad_calls({"weights": full(2, 2, 4), "L": 8, "decay": full(2)}, [
        ("weights with an empty side", "weights", ValueError, {"weights": full(2, 2, 0)}),
        ("decay of another shape", "decay", ValueError, {"decay": full(3)}),
        ("decay zero", "decay", ValueError, {"decay": full(2, fill=0.0)}),
        ("L zero", "L", ValueError, {"L": 0}),
        ("init_scale negative", "init_scale", ValueError, {"init_scale": -1}),
        ("normalize not a bool", "normalize", TypeError, {"normalize": 1}),
    ], generic=dict(real=True)),  # and the generic rows (docs/bad-input.md)
)

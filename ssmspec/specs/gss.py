"""`gss_layer`: the GSS layer (DSS-exp with Δ = 1, Λ = −e^{λ_re} + i·e^{λ_im}), with or
without the residual, and its configuration `gss_init(N, H, seed)`. Formulas, paper vs
lucidrains' code, the running-error bound, strategies, sources: docs/layers.md#gss_layer
(LayerNorm and dropout out of scope).
"""

from __future__ import annotations

from functools import partial

import numpy as np
import torch
from hypothesis import strategies as st

from ssmspec.impl import gss as impl
from ssmspec.impl.convolution import causal_conv
from ssmspec.impl.dss import dss_kernel
from ssmspec.reference.mp import gss as ref_mp
from ssmspec.reference.np import gss as ref_np
from ssmspec.speckit import *  # noqa: F403 (the spec vocabulary)
from ssmspec.specs import _layer_kit as lk

METHODS = ("gss",)
C_BOUND = 2.0
MP_MAX = 3000


def _params(D=2, Fw=3, H=2, N=2, dt=torch.float64, **over):
    """The layer's parameters as zeros of `dt` (those in `over` replaced): the bad inputs'."""
    shapes = {"w1": (D, Fw), "b1": (Fw,), "w2": (D, H), "b2": (H,), "lambda_re": (H, N),
              "lambda_im": (H, N), "c_re": (H, N), "c_im": (H, N), "d": (H,), "w3": (H, Fw),
              "b3": (Fw,), "w4": (Fw, D), "b4": (D,)}
    return impl.GSSParams(**{k: over.get(k, zeros(*s, dt=dt)) for k, s in shapes.items()})


def _weights(rng, D, Fw, H, N, scale):
    """N(0, 1) parameters of their shapes (`_params`), the weights w times `scale`, the biases b
    times ½, λ times 1.5."""
    factor = {"w": scale, "b": 0.5, "l": 1.5}
    return {k: rng.normal(size=t.shape) * factor.get(k[0], 1.0)
            for k, t in _params(D, Fw, H, N)._asdict().items()}


@st.composite
def gss_cases(draw, fmt: str, method: str = "gss", length=None, residual="draw") -> Case:
    """x (batch, L, D) and the layer's weights (docs/layers.md#gss_layer)."""
    B, D = draw(size("batch", st.integers(1, 2))), draw(size("D", st.integers(1, 3)))
    Fw = draw(st.integers(1, 4))
    H, N = draw(size("H", st.integers(1, 3))), draw(size("N", st.integers(1, 4)))
    L = draw(size("L", length if length is not None else sequence_lengths(129, 16385)))
    if residual == "draw":
        residual = draw(st.booleans())
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    arrays = _weights(rng, D, Fw, H, N, draw(log_uniform(0.1, 2.0)))
    arrays["x"] = rng.normal(size=(B, L, D))
    return case_of(fmt, arrays, residual=residual)


call_gss, _args = lk.layer_adapters(impl.GSSParams, ("residual",))


def _mp_work(case: Case) -> int:
    B, L, D = case.arrays["x"].shape
    Fw, H = case.arrays["w1"].shape[1], case.arrays["w2"].shape[1]
    N = case.arrays["lambda_re"].shape[1]
    return B * L * (L * H + D * (Fw + H) + Fw * (H + D)) + H * N * L


def bench_case(fmt: str) -> Case:
    """batch 2, L = 2048, D = 64, F = 256, H = 64, N = 64 (GSS's F = 4D, scaled down so the
    long-double reference's direct O(L²) convolution stays seconds): gss_init's configuration,
    weights N(0, 1/fan-in)."""
    rng = np.random.default_rng(0)
    B, L, D, Fw, H, N = 2, 2048, 64, 256, 64, 64
    arrays = _weights(rng, D, Fw, H, N, 1.0)
    for k, fan in (("w1", D), ("w2", D), ("w3", H), ("w4", Fw)):
        arrays[k] = arrays[k] / np.sqrt(fan)
    init = impl.gss_init(N, H, 0, torch.float64)._asdict()  # Λ, C, d of gss_init
    arrays.update({k: t.numpy() for k, t in init.items()}, x=rng.normal(size=(B, L, D)))
    return case_of(fmt, arrays, residual=True)


# --- laws -------------------------------------------------------------------------------------
def written_out(x, params, residual=True, *, kernel_fn=dss_kernel, conv_fn=causal_conv,
                gate=None, no_exp_imag=False, gate_first=False):
    """The layer written out over `kernel_fn` (dss_kernel) and `conv_fn` (causal_conv) in the
    working format (fp16/bf16 in fp32), rounded once; `gate`, a number, replaces u = gelu(x W1
    + b1). The mutants' mistakes: Im Λ = λ_im (`no_exp_imag`: no exponential transform), or the
    gate applied to y before its projection W3 (`gate_first`, (y ⊙ u) W3: needs F = H)."""
    gelu = torch.nn.functional.gelu
    work = lk.work_dtype(x)
    xw, p = x.to(work), impl.GSSParams(*(t.to(work) for t in params))
    cdt = torch.complex128 if work == torch.float64 else torch.complex64
    im = p.lambda_im.double() if no_exp_imag else torch.exp(p.lambda_im.double())
    lam = torch.complex(-torch.exp(p.lambda_re.double()), im).to(cdt)
    C = torch.complex(p.c_re, p.c_im).to(cdt)
    zeros = torch.zeros(lam.shape[0], dtype=p.c_re.dtype, device=x.device)
    K = kernel_fn(lam, C, zeros, x.shape[1], method="exp").to(work)
    y = conv_fn(gelu(xw @ p.w2 + p.b2).transpose(1, 2), K, p.d).transpose(1, 2)
    u = gelu(xw @ p.w1 + p.b1) if gate is None else gate
    o = (((y * u) @ p.w3 + p.b3) if gate_first else (y @ p.w3 + p.b3) * u) @ p.w4 + p.b4
    return (o + xw if residual else o).to(x.dtype)


PARTS = {"kernel_fn": "dss_kernel", "conv_fn": "causal_conv"}


def _constant_gate(case: Case) -> Case:
    """W1 = 0, b1 = 16 makes the gate u = gelu(16) = 16 exactly (Φ(16) rounds to 1): the layer is
    the SSM path alone, ((K ∗ v + d v) W3 + b3)·16 W4 + b4 (+ x)."""
    return case.with_(w1=np.zeros_like(case.arrays["w1"]),
                      b1=np.full_like(case.arrays["b1"], 16.0))


def gss_init_configuration(ctx: LawContext) -> None:
    """gss_init (the built-in configuration): seeded (the same seed, the same numbers; another
    seed, others), shapes (H, N) and (H,), Λ shared by the channels (equal rows, as lucidrains'
    and DSS's code), Re Λ < 0 < Im Λ; and the layer built on it is within its bound of the
    reference."""
    case = ctx.draw(gss_cases(ctx.dtype, length=lk.SHORT))
    H, N = case.arrays["lambda_re"].shape
    seed = ctx.draw(st.integers(0, 2**31 - 2))
    tdt = dtype(ctx.dtype).torch
    a, b, c = (impl.gss_init(N, H, s, tdt, ctx.device) for s in (seed, seed, seed + 1))
    assert all(torch.equal(s, t) for s, t in zip(a, b)), "gss_init: the same seed differs"
    assert not all(torch.equal(s, t) for s, t in zip(a, c)), "gss_init: two seeds agree"
    assert [tuple(t.shape) for t in a] == [(H, N)] * 4 + [(H,)], "gss_init: wrong shapes"
    assert all(t.dtype == tdt and t.device.type == torch.device(ctx.device).type for t in a)
    assert all(torch.equal(t, t[:1].expand(H, N)) for t in (a.lambda_re, a.lambda_im)), \
        "gss_init: Λ differs between channels (lucidrains and DSS share one Λ of shape (N,))"
    lam = impl.gss_lambda(a.lambda_re, a.lambda_im)
    assert bool((lam.real < 0).all()) and bool((lam.imag > 0).all()), f"gss_init: Λ = {lam}"
    init = case.with_(**{k: to_numpy(getattr(a, k)) for k in impl.GSSKernelParams._fields})
    assert_within(run(GSS, ctx.fn, init, "gss", ctx.device)[0], GSS.reference(init, "gss")["out"],
                  GSS.bound(init, "gss")["out"], "GSS layer on gss_init's configuration")


# --- mutants and bad input (docs/bad-input.md) ------------------------------------------------
def _witness(fmt: str) -> Case:
    """D = 2, F = H = N = 3, L = 12, λ_im = (0.5, 1.5, −1) per channel (e^λ ≠ λ)."""
    rng = np.random.default_rng(1)
    arrays = _weights(rng, 2, 3, 3, 3, 0.7)
    arrays["lambda_im"] = np.array([[0.5, 1.5, -1.0]] * 3)
    arrays["x"] = rng.normal(size=(1, 12, 2))
    return case_of(fmt, arrays, residual=True)


GSS = registry.register_spec(
    Spec(
        name="gss_layer", family="layers", methods=METHODS, dtypes=REAL_DTYPES,
        sizes=("batch", "L", "D", "H", "N"), outputs=("out",), strategy=gss_cases,
        summary="GSS gated layer: u = gelu(xW1), v = gelu(xW2), y = DSS-exp(Δ = 1) ∗ v + d v, "
                "out = ((yW3) ⊙ u)W4 + x; Λ = −e^{λ_re} + i e^{λ_im}",
        signature="gss_layer(x (batch, L, D), params (GSSParams: w1, b1, w2, b2, lambda_re, "
                  "lambda_im, c_re, c_im (H, N), d, w3, b3, w4, b4), residual=True) "
                  "-> (batch, L, D)",
        **lk.referenced("out", "layer", _args, ref_mp, ref_np, MP_MAX, _mp_work, C_BOUND,
                     "elementwise; running error: projections (n + 1)|A||W|, gelu 1.13·e + 3|a|, "
                     "2× the DSS kernel's bound, the FFT convolution's norm-wise bound per signal",
                     with_u=True),
        call=call_gss, bench_case=bench_case,
        bench_shape="batch=2, L=2048, D=64, F=256, H=64, N=64, gss_init",
    ),
    implementations={"torch": impl.gss_layer},
    laws=[
        lk.composition("layer_is_its_composition", "the GSS layer = its written-out composition "
                       "of the registered dss_kernel and causal_conv", REAL_DTYPES, "gss_layer",
                       gss_cases, written_out, PARTS, "GSS layer vs its written-out composition"),
        lk.composition("constant_gate_is_ssm_path", "W1 = 0, b1 = 16 (u ≡ 16): the layer is the "
                       "SSM path alone", REAL_DTYPES, "gss_layer", gss_cases, written_out, PARTS,
                       "GSS layer with u ≡ 16 vs the SSM path", change=_constant_gate, gate=16.0),
        Law("gss_init_configuration", "gss_init is seeded, of shapes (H, N), (H,), Λ "
            "shared by the channels, Re Λ < 0 < Im Λ; the layer on it is within its bound",
            gss_init_configuration, lk.FP64_32),
    ],
    mutants=[
        Mutant("no_exp_imag", partial(written_out, no_exp_imag=True), "gss", lk.FP64_32,
               "Im Λ = λ_im: GSS's exponential transform of the imaginary part left out",
               _witness),
        Mutant("gate_before_projection", partial(written_out, gate_first=True), "gss",
               ("fp64", "fp32", "fp16"),
               "(y ⊙ u) W3 instead of (y W3) ⊙ u: the gate applied before the projection "
               "(possible only for F = H; the witness has F = H = 3)", _witness, search=False),
    ],
    bad_inputs=lk.layer_bad_calls(_params, [
        ("w1 for another D", "w1", ValueError, {"w1": zeros(3, 3)}),
        ("lambda_im of another N", "lambda_im", ValueError, {"lambda_im": zeros(2, 3)}),
        ("c_im of another H", "c_im", ValueError, {"c_im": zeros(3, 2)}),
        ("d of the wrong shape", "d", ValueError, {"d": zeros(3)}),
        ("w3 of the wrong shape", "w3", ValueError, {"w3": zeros(2, 2)}),
        ("w4 of the wrong shape", "w4", ValueError, {"w4": zeros(3, 3)}),
        ("residual not a bool", "residual", TypeError, {"residual": 1}),
    ], short=4, method=None),
)

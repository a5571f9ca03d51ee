"""Specs of H3: the shift SSM kernel `shift_ssm_kernel` and the SSM core `h3_layer` (head_dim
1; head_dim > 1 is `h3_multihead`), each declared with its laws, mutants and bad inputs in one
`register_spec` call. H3's diagonal SSM is `diag_kernel` (S4D), specified on its own.

The definitions, conventions, the bounds (the shift kernel's dot-product growth; the layer's
parts' bounds carried through the composition, `layer_error_terms`), the strategies and the
sources are in docs/kernels.md#shift_ssm_kernel and docs/layers.md#h3_layer.
"""

from __future__ import annotations

import numpy as np
import torch
from hypothesis import strategies as st

from ssmspec.impl import h3 as impl
from ssmspec.reference.mp import h3 as ref_mp
from ssmspec.reference.np import h3 as ref_np
from ssmspec.speckit import *  # noqa: F403 (the spec vocabulary)

MP_MAX = 4096


@st.composite
def shift_cases(draw, fmt: str, method: str = "direct", e0=None) -> Case:
    H, N = draw(size("H", st.integers(1, 3))), draw(size("N", st.integers(1, 64)))
    L = draw(size("L", sequence_lengths(1025, 16385)))
    el = st.one_of(real_normals(2.0), st.just(0.0))
    C = draw(arrays((H, N), real_normals(2.0)))
    if e0 if e0 is not None else draw(st.booleans()):
        B = np.zeros((H, N))
        B[:, 0] = 1.0
    else:
        B = draw(arrays((H, N), el))
    return Case({"B": representable(B, fmt), "C": representable(C, fmt)}, fmt, {"L": L})


def call_shift(fn, case: Case, method: str, device: str):
    return fn(case.tensor("B", device), case.tensor("C", device), case.params["L"],
              method=method)


def _args(case: Case):
    return case.arrays["B"], case.arrays["C"], case.params["L"]


def bound_terms(case: Case, method: str):
    _, M, G = ref_np.shift_ssm_kernel_with_bound(*_args(case))
    return M, G


def shift_terms(case: Case, method: str, d=None) -> dict[str, Terms]:
    M, G = bound_terms(case, method)
    return {"K": Terms(G, M)}


SHIFT_REFERENCES = TwoTier(
    mp=lambda case, m: {"K": ref_mp.shift_ssm_kernel(*_args(case))},
    np=lambda case, m: {"K": ref_np.shift_ssm_kernel(*_args(case))},
    mp_max_work=MP_MAX, work=lambda case: case.arrays["B"].size * min(case.arrays["B"].shape[1],
                                                                      case.params["L"]))


def _bench(fmt: str) -> Case:
    """H = 1024 channels (H3-125M's d_model 768 rounded up), N = 64, L = 2048, random B, C."""
    rng = np.random.default_rng(0)
    H, N = 1024, 64
    return Case({"B": representable(rng.normal(size=(H, N)), fmt),
                 "C": representable(rng.normal(size=(H, N)), fmt)}, fmt, {"L": 2048})




# --- laws -------------------------------------------------------------------------------------


def e0_is_C(ctx: LawContext) -> None:
    case = ctx.draw(shift_cases(ctx.dtype, e0=True))
    C, L = case.arrays["C"], case.params["L"]
    H, N = C.shape
    want = np.zeros((H, L))
    want[:, :min(N, L)] = C[:, :L]
    K = to_numpy(SHIFT.call(ctx.fn, case, "direct", ctx.device))
    assert np.array_equal(K, want), f"B = e0: K differs from C (max {np.abs(K - want).max():.3g})"


def recurrence(ctx: LawContext) -> None:
    case = ctx.draw(shift_cases(ctx.dtype))
    B, C = case.arrays["B"], case.arrays["C"]
    L = min(case.params["L"], 129)
    case = Case(case.arrays, case.dtype, {"L": L})
    x, y = np.zeros_like(B), np.empty((B.shape[0], L))
    for t in range(L):  # H3's step: F.pad(state, (1, −1)) + B·u_t, y = C·x
        x = np.pad(x, ((0, 0), (1, 0)))[:, :-1] + (B if t == 0 else 0)
        y[:, t] = np.sum(C * x, axis=-1)
    M, G = bound_terms(case, "direct")
    tol = SHIFT.bound(case, "direct")["K"] + higham_bound(1.0, "fp64", G, M)
    K = to_numpy(SHIFT.call(ctx.fn, case, "direct", ctx.device))
    assert_within(K, y, tol, "kernel vs the shift recurrence")




# --- mutants ----------------------------------------------------------------------------------


def b_off_by_one(B, C, L, method="direct"):
    """The filter read one tap late: C shifted left by one before the correlation."""
    C1 = torch.nn.functional.pad(C[:, 1:], (0, 1))
    return impl.shift_ssm_kernel(B, C1, L, method=method)


def _witness(fmt: str) -> Case:
    B = np.array([[1.0, 0.0, 0.0, 0.0]])
    C = np.array([[0.5, -1.0, 2.0, 0.25]])
    return Case({"B": representable(B, fmt), "C": representable(C, fmt)}, fmt, {"L": 6})




# --- bad input --------------------------------------------------------------------------------


def _x(*shape, dt=torch.float64):
    return torch.ones(shape, dtype=dt)


_SHIFT_BAD = [
    ("B 1-d", "B", ValueError, lambda f: f(_x(4), _x(4), 8)),
    ("B integer", "B", TypeError,
     lambda f: f(torch.ones(2, 4, dtype=torch.int64), torch.ones(2, 4, dtype=torch.int64), 8)),
    ("B complex", "B", TypeError,
     lambda f: f(_x(2, 4, dt=torch.complex128), _x(2, 4, dt=torch.complex128), 8)),
    ("C of another shape", "C", ValueError, lambda f: f(_x(2, 4), _x(2, 5), 8)),
    ("C of another dtype", "C", TypeError, lambda f: f(_x(2, 4), _x(2, 4, dt=torch.float32), 8)),
    ("L zero", "L", ValueError, lambda f: f(_x(2, 4), _x(2, 4), 0)),
    ("L a float", "L", TypeError, lambda f: f(_x(2, 4), _x(2, 4), 8.0)),
    ("unknown method", "method", ValueError, lambda f: f(_x(2, 4), _x(2, 4), 8, method="fft")),
]


SHIFT = registry.register_spec(
    Spec(
        name="shift_ssm_kernel",
        family="kernels",
        summary="H3's shift SSM kernel K[l] = C·A^l·B, A the shift matrix: a length-N causal "
                "filter",
        signature="shift_ssm_kernel(B (H, N), C (H, N), L, method='direct') -> K (H, L)",
        methods=impl.METHODS,
        dtypes=REAL_DTYPES,
        sizes=("H", "N", "L"),
        outputs=("K",),
        strategy=lambda fmt, method: shift_cases(fmt, method),
        references=SHIFT_REFERENCES,
        bound=Bound(
            c={"direct": 1.0}, terms=shift_terms,
            reasoning="elementwise; M = Σ_m |B_m||C_(m+l)|, G = N − l + 1",
        ),
        call=call_shift,
        bench_case=_bench,
        bench_shape="H=1024, N=64, L=2048",
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
        _witness)],
    bad_inputs=_SHIFT_BAD,
)


# === the H3 layer (head_dim 1) ==================================================================

LAYER_DTYPES = ("fp64", "fp32")
C_LAYER = 2.0
MP_LAYER_MAX = 1500  # batch·H·L·(L + N + N_s) up to which the mpmath tier is used
LAYER_ARGS = ("q", "k", "v", "shift_B", "shift_C", "shift_D", "Lambda", "B", "C", "log_dt", "D")
COMPLEX_OF = {"fp64": "c128", "fp32": "c64"}


def seeded_layer_arrays(rng, Bn, H, L, Ns, N, fmt, lam, b, c, log_dt, e0, channels=None):
    """The layer's arrays: q, k, v and the shift SSM's for `channels` model channels (H, one
    head per channel, by default; H·head_dim for `h3_multihead`), Λ, B, C, log Δ, D for H."""
    Hm = channels or H
    a = {"q": rng.normal(size=(Bn, Hm, L)), "k": rng.normal(size=(Bn, Hm, L)),
         "v": rng.normal(size=(Bn, Hm, L)), "shift_C": rng.normal(size=(Hm, Ns)),
         "shift_D": rng.normal(size=Hm), "D": rng.normal(size=H)}
    sb = np.zeros((Hm, Ns))
    sb[:, 0] = 1.0
    a["shift_B"] = sb if e0 else rng.normal(size=(Hm, Ns))
    a = {n: representable(x, fmt) for n, x in a.items()}
    cf = COMPLEX_OF[fmt]
    a.update({"Lambda": representable(lam, cf), "B": representable(b, cf),
              "C": representable(c, cf), "log_dt": representable(log_dt, fmt)})
    return a


@st.composite
def layer_cases(draw, fmt: str, method: str = "bilinear", length=None, head_dims=None,
                max_heads: int = 3, max_shift: int = 16) -> Case:
    """batch 1–2, H 1–`max_heads`, N_s 1–`max_shift`, N 1–4; q, k, v, shift_C, the skips
    N(0, 1); shift_B = e₀ half the time; Λ, B, C, log Δ as the `diag_kernel` strategy
    (complex). With `head_dims` (for `h3_multihead`) a head_dim d drawn from it, the model
    width H·d and params {'head_dim': d}."""
    from ssmspec.specs.kernels import coef_elements, lambda_elements, log_dts
    from ssmspec.strategies import arrays as arrays_of

    Bn, H = draw(size("batch", st.integers(1, 2))), draw(size("H", st.integers(1, max_heads)))
    Ns, N = draw(size("N_s", st.integers(1, max_shift))), draw(size("N", st.integers(1, 4)))
    L = draw(size("L", length if length is not None else sequence_lengths(257, 16385)))
    lam = draw(arrays_of((H, N), lambda_elements(True)))
    b, c = (draw(arrays_of((H, N), coef_elements(True))) for _ in range(2))
    log_dt = draw(arrays_of((H,), log_dts()))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    e0 = draw(st.booleans())
    if head_dims is None:
        return Case(seeded_layer_arrays(rng, Bn, H, L, Ns, N, fmt, lam, b, c, log_dt, e0),
                    fmt, {})
    d = draw(st.sampled_from(head_dims))
    return Case(seeded_layer_arrays(rng, Bn, H, L, Ns, N, fmt, lam, b, c, log_dt, e0, H * d),
                fmt, {"head_dim": d})


def layer_tensors(case: Case, device) -> list:
    """The layer's arguments; Λ, B, C as the complex format of the case's (Case.tensor would
    take the real part for a real format)."""
    cdt = {"fp64": torch.complex128, "fp32": torch.complex64}[case.dtype]
    out = []
    for n in LAYER_ARGS:
        if n in ("Lambda", "B", "C"):
            out.append(torch.from_numpy(np.array(case.arrays[n])).to(device=device, dtype=cdt))
        else:
            out.append(case.tensor(n, device))
    return out


def call_layer(fn, case: Case, method: str, device: str):
    return fn(*layer_tensors(case, device), method=method)


def _layer_args(case: Case):
    return [case.arrays[n] for n in LAYER_ARGS]


def _aconv(a, K):
    """(K * a)[t] for a (batch, H, L) ≥ 0, K (H, ·) ≥ 0, direct (no FFT roundoff on small
    entries beside large ones: the bound is elementwise)."""
    L = a.shape[-1]
    out = np.empty(a.shape)
    for b, h in np.ndindex(a.shape[:2]):
        out[b, h] = np.convolve(a[b, h], K[h][:L])[:L]
    return out


def _fft_term(a, K):
    """(1 + log₂ n)(‖K‖₁‖a‖₂ + ‖K‖₂‖a‖₁) per signal, n the FFT length
    (docs/convolution.md#causal_conv)."""
    L = a.shape[-1]
    n = 1 << max(2 * L - 2, 0).bit_length()
    k1, k2 = K.sum(-1)[None], np.sqrt((K**2).sum(-1))[None]
    return ((1.0 + np.log2(n)) * (k1 * np.sqrt((a**2).sum(-1)) + k2 * a.sum(-1)))[..., None]


def layer_error_terms(case: Case, method: str, stage3=None):
    """(M, E): the output's magnitude and its first-order rounding error in units of u, stage by
    stage (docs/layers.md#h3_layer). `stage3(A2)` replaces the diagonal SSM's own rounding term (the
    kernel's and the FFT's) for the block-wise computation of the state-passing law."""
    from ssmspec.reference.np.kernels import diag_kernel_with_bound
    from ssmspec.specs.kernels import C_BOUND as C_DIAG_KERNEL

    q, k, v_, sB, sC, sD, lam, B, C, log_dt, D = _layer_args(case)
    aq, ak, av = np.abs(q), np.abs(k), np.abs(v_)
    L = q.shape[-1]
    Ks, Ms, Gs = ref_np.shift_ssm_kernel_with_bound(sB, sC, L)
    aKs = np.abs(Ks)
    A1 = _aconv(ak, aKs) + np.abs(sD)[None, :, None] * ak
    E1 = (C_CONV * _fft_term(ak, aKs) + _aconv(ak, Gs * Ms)
          + C_CONV * np.abs(sD)[None, :, None] * ak + A1)
    A2, E2 = A1 * av, E1 * av + A1 * av
    Kd, Md, Gd = diag_kernel_with_bound(lam, B, C, log_dt, L, method)
    aKd, aD = np.abs(Kd), np.abs(D)[None, :, None]
    A3 = _aconv(A2, aKd) + aD * A2
    own = (C_CONV * _fft_term(A2, aKd) + C_DIAG_KERNEL * _aconv(A2, Gd * Md)
           if stage3 is None else stage3(A2))
    E3 = _aconv(E2, aKd) + own + aD * E2 + C_CONV * aD * A2 + A3
    M = aq * A3
    return M, aq * E3 + M


C_CONV = 2.0  # causal_conv's constant (ssmspec/specs/convolution.py)


def layer_bound_terms(case: Case, method: str):
    M, E = layer_error_terms(case, method)
    with np.errstate(invalid="ignore", divide="ignore"):
        G = np.where(M > 0, E / np.where(M > 0, M, 1.0), 1.0)
    return M, G / C_LAYER


def _layer_work(case: Case) -> int:
    Bn, H, L = case.arrays["q"].shape
    N, Ns = case.arrays["Lambda"].shape[1], case.arrays["shift_B"].shape[1]
    return Bn * H * L * (L + N + Ns)


def _ref_layer(mod):
    return lambda case, m: {"y": mod.h3_layer(*_layer_args(case), method=m)}


def layer_terms(case: Case, method: str, d=None) -> dict[str, Terms]:
    M, G = layer_bound_terms(case, method)
    return {"y": Terms(G, M)}


LAYER_REFERENCES = TwoTier(mp=_ref_layer(ref_mp), np=_ref_layer(ref_np),
                           mp_max_work=MP_LAYER_MAX, work=_layer_work)


def _bench_layer(fmt: str) -> Case:
    """batch 2, H = 256 (one head per channel), L = 2048, N_s = 64, N = 64, S4D-Lin Λ
    (−½ + iπn), B = 1, C N(0, ½), Δ = 10⁻², shift_B = e₀ (H3's initialisation)."""
    H, N, Ns, L = 256, 64, 64, 2048
    rng = np.random.default_rng(0)
    lam = np.broadcast_to(-0.5 + 1j * np.pi * np.arange(N), (H, N))
    c = (rng.normal(size=(H, N)) + 1j * rng.normal(size=(H, N))) * 0.5
    return Case(seeded_layer_arrays(rng, 2, H, L, Ns, N, fmt, lam, np.ones((H, N)) + 0j, c,
                                     np.full(H, np.log(1e-2)), True), fmt, {})




# --- the layer's laws: FlashConv state passing ---------------------------------------------------


def blockwise_layer(q, k, v_, sB, sC, sD, Lambda, B, C, log_dt, D, method="bilinear", block=1,
                    carry=True):
    """The layer block by block (FlashConv, arXiv 2212.14052 §4.2): the shift SSM over the block
    preceded by the previous block's last N_s − 1 inputs k, the diagonal SSM through `diag_ssm`
    from the previous block's final state. carry=False drops both carries (the mutant)."""
    from ssmspec.impl.convolution import causal_conv
    from ssmspec.impl.recurrent import diag_ssm

    L, Ns = q.shape[-1], sB.shape[-1]
    K_shift = impl.shift_ssm_kernel(sB, sC, L)
    outs, state = [], None
    for s in range(0, L, block):
        e = min(s + block, L)
        lo = max(s - (Ns - 1), 0) if carry else s
        k1 = causal_conv(k[..., lo:e], K_shift[:, :e - lo], sD)[..., s - lo:]
        p = k1 * v_[..., s:e]
        y, state = diag_ssm(p, Lambda, B, C, log_dt, state=state if carry else None,
                            method=method)
        outs.append(q[..., s:e] * (y + D[:, None] * p))
    return torch.cat(outs, dim=-1)


def blockwise_bound(case: Case, method: str, block: int):
    """The block-wise computation's bound: `layer_error_terms` with the diagonal SSM's own
    rounding replaced by `diag_ssm`'s per block (norm-wise, from the exact carried state) plus the
    carried state's error through the free response, |Ā|^{t+1}·|C|·ε_h, ε_h accumulated as
    ε ← |Ā|^T ε + (the block's final-state bound)."""
    from ssmspec.reference.np import recurrent as rec
    from ssmspec.specs.recurrent import C_DIAG

    lam, Bc, C, log_dt = (case.arrays[n] for n in ("Lambda", "B", "C", "log_dt"))
    w = rec._log_abar(lam, log_dt, method)

    def stage3(A2):
        p = np.asarray(ref_np.blockwise_products(*_layer_args(case)), np.float64)
        out, state, eps = np.zeros(A2.shape), None, None
        for s in range(0, A2.shape[-1], block):
            e = min(s + block, A2.shape[-1])
            terms = rec.diag_ssm_bound(p[..., s:e], lam, Bc, C, log_dt, state, method)
            my, gy = terms["y"]
            mf, gf = terms["state"]
            out[..., s:e] = C_DIAG * (my * gy)[..., None]
            if eps is not None:
                t1 = np.arange(1, e - s + 1, dtype=np.float64)
                out[..., s:e] += 2.0 * np.einsum("hn,bhn,hnt->bht", np.abs(C), eps,
                                                 rec._pow_abs(w, t1))
                eps = rec._pow_abs(w, np.array([float(e - s)]))[None, ..., 0] * eps
            eps = (0.0 if eps is None else eps) + C_DIAG * mf * gf
            _, state = rec.diag_ssm(p[..., s:e], lam, Bc, C, log_dt, state, method)
        return out

    return layer_error_terms(case, method, stage3)[1]


def flashconv_state_passing(ctx: LawContext) -> None:
    method = ctx.draw(ctx.methods(impl.LAYER_METHODS))
    case = ctx.draw(layer_cases(ctx.dtype, method, length=st.integers(2, 48)))
    L = case.arrays["q"].shape[-1]
    block = ctx.draw(st.integers(1, L - 1))
    whole = to_numpy(LAYER.call(ctx.fn, case, method, ctx.device))
    parts = to_numpy(blockwise_layer(*layer_tensors(case, ctx.device), method=method,
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
    explicit = to_numpy(LAYER.call(ctx.fn, case, "bilinear", ctx.device))
    assert_within(implicit, explicit, 2 * LAYER.bound(case, "bilinear")["y"],
                  "default method vs method='bilinear'")




# --- the layer's mutants ------------------------------------------------------------------------


def q_v_swapped(q, k, v_, *rest, method="bilinear"):
    """out = v ⊙ (K_diag * (k′ ⊙ q) + …): the query and value roles swapped."""
    return impl.h3_layer(v_, k, q, *rest, method=method)


def shift_on_v(q, k, v_, sB, sC, sD, *rest, method="bilinear"):
    """The shift SSM applied to v instead of k: y from k ⊙ (K_shift * v + D_k ⊙ v)."""
    return impl.h3_layer(q, v_, k, sB, sC, sD, *rest, method=method)


def zoh_for_bilinear(*args, method="bilinear"):
    """The diagonal SSM discretised by zoh where bilinear is asked for (the layer's default
    before issue 15, not H3's)."""
    return impl.h3_layer(*args, method="zoh" if method == "bilinear" else method)


def _layer_witness(fmt: str) -> Case:
    """batch 1, H = 2, L = 6, N_s = 3 (random shift_B), N = 2, S4D-Lin Λ, Δ = 0.1."""
    rng = np.random.default_rng(3)
    lam = np.array([[-0.5 + 0j, -0.5 + 1j * np.pi]] * 2)
    c = rng.normal(size=(2, 2)) + 1j * rng.normal(size=(2, 2))
    return Case(seeded_layer_arrays(rng, 1, 2, 6, 3, 2, fmt, lam, np.ones((2, 2)) + 0j, c,
                                     np.full(2, np.log(0.1)), False), fmt, {})




# --- the layer's bad input ----------------------------------------------------------------------


def layer_call(f, Bn=1, H=2, L=5, Ns=3, N=2, dt=torch.float64, **over):
    cdt = torch.complex64 if dt == torch.float32 else torch.complex128
    a = {"q": _x(Bn, H, L, dt=dt), "k": _x(Bn, H, L, dt=dt), "v_": _x(Bn, H, L, dt=dt),
         "shift_B": _x(H, Ns, dt=dt), "shift_C": _x(H, Ns, dt=dt), "shift_D": _x(H, dt=dt),
         "Lambda": -_x(H, N, dt=cdt), "B": _x(H, N, dt=cdt), "C": _x(H, N, dt=cdt),
         "log_dt": _x(H, dt=dt), "D": _x(H, dt=dt)}
    method = over.pop("method", "bilinear")
    a.update(over)
    return f(*a.values(), method=method)


_LAYER_BAD = [
    ("q 2-d", "q", ValueError, lambda f: layer_call(f, q=_x(2, 5))),
    ("q complex", "q", TypeError, lambda f: layer_call(f, q=_x(1, 2, 5, dt=torch.complex128))),
    ("k of another length", "k", ValueError, lambda f: layer_call(f, k=_x(1, 2, 4))),
    ("v of another dtype", "v", TypeError,
     lambda f: layer_call(f, v_=_x(1, 2, 5, dt=torch.float32))),
    ("shift_B for another H", "shift_B", ValueError, lambda f: layer_call(f, shift_B=_x(3, 3))),
    ("shift_C of another shape", "shift_C", ValueError,
     lambda f: layer_call(f, shift_C=_x(2, 4))),
    ("D of the wrong shape", "D", ValueError, lambda f: layer_call(f, D=_x(3))),
    ("Lambda of another precision", "Lambda", TypeError,
     lambda f: layer_call(f, Lambda=_x(2, 2, dt=torch.complex64))),
    ("Lambda for another H", "Lambda", ValueError,
     lambda f: layer_call(f, Lambda=_x(3, 2, dt=torch.complex128))),
    ("unknown method", "method", ValueError, lambda f: layer_call(f, method="direct")),
]


# --- the layer ------------------------------------------------------------------------------

LAYER = registry.register_spec(
    Spec(
        name="h3_layer",
        family="layers",
        summary="H3's SSM core (head_dim 1): out = q ⊙ (K_diag * (k′ ⊙ v) + D ⊙ (k′ ⊙ v)), "
                "k′ = K_shift * k + D_k ⊙ k",
        signature="h3_layer(q, k, v (batch, H, L), shift_B, shift_C (H, N_s), shift_D (H,), "
                  "Lambda, B, C (H, N), log_dt (H,), D (H,), method='bilinear') -> (batch, H, L)",
        methods=impl.LAYER_METHODS,
        dtypes=LAYER_DTYPES,
        sizes=("batch", "H", "L", "N_s", "N"),
        outputs=("y",),
        strategy=lambda fmt, method: layer_cases(fmt, method),
        references=LAYER_REFERENCES,
        bound=Bound(
            c={m: C_LAYER for m in impl.LAYER_METHODS}, terms=layer_terms,
            reasoning="elementwise; the parts' bounds carried through the composition: shift "
                      "kernel and diag_kernel errors convolved with |input|, the FFT convolutions' "
                      "norm-wise terms, input errors through |K| and |q|, |v|; c = 2 for the "
                      "dropped second-order terms",
        ),
        call=call_layer,
        bench_case=_bench_layer,
        bench_shape="batch=2, H=256, L=2048, N_s=64, N=64",
    ),
    implementations={"torch": impl.h3_layer},
    laws=[
        Law("default_is_bilinear", "without `method` the layer discretises bilinearly "
        "(H3's SSKernelDiag default)", default_is_bilinear, LAYER_DTYPES),
        Law("flashconv_state_passing", "the layer computed block by block, the diagonal "
        "SSM's state and the shift SSM's last N_s − 1 inputs carried across = the layer on the "
        "whole sequence (FlashConv)", flashconv_state_passing, LAYER_DTYPES),
    ],
    mutants=[
        Mutant("q_v_swapped", q_v_swapped, "bilinear", LAYER_DTYPES,
               "out = v ⊙ SSM(k′ ⊙ q): the query and value roles swapped", _layer_witness),
        Mutant("zoh_for_bilinear", zoh_for_bilinear, "bilinear", LAYER_DTYPES,
               "the diagonal SSM by zoh where bilinear (H3's default) is asked for",
               _layer_witness),
        Mutant("shift_on_v", shift_on_v, "bilinear", LAYER_DTYPES,
               "the shift SSM (and its skip) applied to v instead of k", _layer_witness),
    ],
    bad_inputs=_LAYER_BAD,
)

"""The GSS layer (arXiv 2206.13947 §3; conventions as `ssmspec.impl.gss`) in long double, built
from the DSS reference (`reference.np.dss`, Δ = 1) and a direct causal sum (no FFT), and the
magnitude M and growth G of its error bound (docs/error-model.md).

Bound: a running error e (units of u) carried through the layer:

    a = A W + b (n terms):  e_a = e_A |W| + (n + 1)(|A||W| + |b|)
    gelu(a):  e = 1.13·e_a + 3|a| + |gelu(a)|     (|gelu′| ≤ 1.13; ½a(1 + erf) cancels for a ≪ 0,
                                                   so its rounding is relative to |a|)
    K:        the DSS-exp bound c_dss·G·M (c_dss = 4) doubled: Λ = −e^{λ_re} + i e^{λ_im} is
              itself formed with a relative error ≤ 2u per part, where the DSS bound assumes u
    y = K ∗ v + d v, per signal (b, h) in the 2-norm (the FFT, docs/convolution.md), c_conv = 4:
              4·[(1 + log₂n)(‖M_K‖₁‖v‖₂ + ‖M_K‖₂‖v‖₁) + ‖(2G_K M_K) ∗ |v|‖₂ + 2‖d v‖₂]
              + ‖M_K ∗ e_v‖₂ + ‖|d| e_v‖₂          then used for every y[b, t, h] (|y_t| ≤ ‖y‖₂)
    uc ⊙ u:   e = |uc| e_u + |u| e_uc + u·e_u e_uc + |uc u|
    out = o + x:  e = e_o + 2(|o| + |x|)
    M = |uc u||W4| + |b4| + |x|,   G = e/M

Every step is rigorous but for the second-order products u²·e·e′ (the spec's c = 2 covers them
while u·e ≪ 1).
"""

from __future__ import annotations

import math

import numpy as np
import scipy.special

from ssmspec.reference.np import dss as dss_ref
from ssmspec.reference.np import recurrent as rec
from ssmspec.reference.np.precision import LD, fftconvolve

FIELDS = ("w1", "b1", "w2", "b2", "lambda_re", "lambda_im", "c_re", "c_im", "d", "w3", "b3",
          "w4", "b4")
C_DSS = 4.0
C_CONV = 4.0


def _ld(a):
    return np.asarray(a, np.float64).astype(LD())


def gelu(a):
    """a·Φ(a) = ½a·erfc(−a/√2), long double in, long double out (erfc in float64: ~u₆₄ relative,
    no cancellation)."""
    return 0.5 * a * scipy.special.erfc(-np.asarray(a, np.float64) / math.sqrt(2)).astype(LD())


def gss_lambda(lambda_re, lambda_im):
    """Λ = −exp(λ_re) + i·exp(λ_im), complex128 from long double."""
    return (-np.exp(_ld(lambda_re)) + 1j * np.exp(_ld(lambda_im))).astype(np.complex128)


def kernel_with_bound(p: dict, L: int):
    """(K, M, G) (H, L): DSS-exp of Λ, C with Δ = 1."""
    lam = gss_lambda(p["lambda_re"], p["lambda_im"])
    C = np.asarray(p["c_re"], np.float64) + 1j * np.asarray(p["c_im"], np.float64)
    return dss_ref.dss_kernel_with_bound(lam, C, np.zeros(lam.shape[0]), L, "exp")


def _causal(v, K):
    """y[b, t, h] = Σ_{s≤t} K[h, t − s] v[b, s, h], long double, direct sums."""
    B, L, H = v.shape
    y = np.empty((B, L, H), dtype=LD())
    for b in range(B):
        for h in range(H):
            y[b, :, h] = np.convolve(v[b, :, h], K[h])[:L]
    return y


def forward(x, p: dict) -> dict:
    x = _ld(x)
    P = {k: _ld(p[k]) for k in ("w1", "b1", "w2", "b2", "d", "w3", "b3", "w4", "b4")}
    L = x.shape[1]
    f = {"x": x, "a1": x @ P["w1"] + P["b1"], "a2": x @ P["w2"] + P["b2"]}
    f["u"], f["v"] = gelu(f["a1"]), gelu(f["a2"])
    K, MK, GK = kernel_with_bound(p, L)
    f["K"], f["MK"], f["GK"] = K, MK, GK
    f["y"] = _causal(f["v"], _ld(K)) + P["d"] * f["v"]
    f["uc"] = f["y"] @ P["w3"] + P["b3"]
    f["g"] = f["uc"] * f["u"]
    f["o"] = f["g"] @ P["w4"] + P["b4"]
    return f


def layer(x, p: dict, residual: bool = True) -> np.ndarray:
    """out (batch, L, D), float64."""
    f = forward(x, p)
    return (f["o"] + f["x"] if residual else f["o"]).astype(np.float64)


def _lin(a_abs, e_a, W, b):
    W = np.abs(np.asarray(W, np.float64))
    return e_a @ W + (W.shape[0] + 1) * (a_abs @ W + np.abs(np.asarray(b, np.float64)))


def _gelu_err(a, e_a):
    a = np.asarray(a, np.float64)
    return 1.13 * e_a + 3 * np.abs(a) + np.abs(np.asarray(gelu(_ld(a)), np.float64))


def _row_conv(a, K):
    """‖K ∗ a‖₂ per (b, h) for nonnegative a (batch, L, H), K (H, L)."""
    B, L, H = a.shape
    out = np.empty((B, H))
    for b in range(B):
        for h in range(H):
            c = np.maximum(fftconvolve(a[b, :, h], K[h])[:L], 0.0)
            out[b, h] = np.sqrt(np.sum(c**2))
    return out


def layer_with_bound(x, p: dict, residual: bool = True, u=2.0**-53):
    """(out, M, G), each (batch, L, D), float64."""
    f = forward(x, p)
    g = {k: np.abs(np.asarray(val, np.float64)) for k, val in f.items()
         if k not in ("MK", "GK", "K")}
    B, L, D = g["x"].shape
    e_u = _gelu_err(f["a1"], _lin(g["x"], np.zeros_like(g["x"]), p["w1"], p["b1"]))
    e_v = _gelu_err(f["a2"], _lin(g["x"], np.zeros_like(g["x"]), p["w2"], p["b2"]))
    MK, GK = f["MK"], f["GK"]
    av = np.swapaxes(g["v"], 1, 2)  # (batch, H, L)
    m, gm, _ = rec.conv_terms(av, MK, 2 * GK)
    d = np.abs(np.asarray(p["d"], np.float64))
    dv = np.sqrt(np.sum((d[None, :, None] * av) ** 2, axis=-1))
    e_row = (C_CONV * (gm + 2 * dv) + _row_conv(e_v, MK)
             + np.sqrt(np.sum((d[None, None, :] * e_v) ** 2, axis=1)))
    e_y = np.broadcast_to(e_row[:, None, :], g["y"].shape)
    e_uc = _lin(g["y"], e_y, p["w3"], p["b3"])
    e_g = g["uc"] * e_u + g["u"] * e_uc + u * e_u * e_uc + g["g"]
    e_o = _lin(g["g"], e_g, p["w4"], p["b4"])
    w4 = np.abs(np.asarray(p["w4"], np.float64))
    M = g["g"] @ w4 + np.abs(np.asarray(p["b4"], np.float64))
    if residual:
        e_o = e_o + 2 * (g["o"] + g["x"])
        M = M + g["x"]
    else:
        e_o = e_o + g["o"]
    with np.errstate(divide="ignore", invalid="ignore"):
        G = np.where(M > 0, e_o / np.where(M > 0, M, 1), 1.0)
    M = np.where(M > 0, M, e_o)
    out = f["o"] + f["x"] if residual else f["o"]
    return out.astype(np.float64), M, G

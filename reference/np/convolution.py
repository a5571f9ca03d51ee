"""Causal and bidirectional convolution as direct sums in extended precision (x87 long double,
u = 2⁻⁶⁴, 2048× finer than float64), so that it can referee float64 implementations at lengths
mpmath cannot afford; certified against `ssmspec.reference.mp.convolution` in the tests. Also
the magnitudes of the bounds (docs/error-model.md, docs/convolution.md).
"""

from __future__ import annotations

import numpy as np

from ssmspec.reference.np.precision import LD, fftconvolve, is_extended

CONVENTIONS = ("mega", "s4")


# Above this many multiply-adds per row the float64 working precision (formats with u ≥ 2⁻²⁴,
# `ssmspec.reference.np.precision`) sums by FFT instead of directly: its error, u₆₄·log₂n·‖u‖₂‖K‖₂
# per entry, stays ~10⁻⁵ of an fp32 elementwise bound even where M[t] is as small as |K₀u_t| at
# L = 2¹⁶, and an O(L²) direct sum per row would take minutes there.
FFT_ABOVE = 2**22


def _conv_rows(u: np.ndarray, K: np.ndarray) -> np.ndarray:
    """Σ_{s≤t} K[h, t−s]·u[b, h, s] for every (b, h), in the working precision (long double by
    default; float64, by FFT for long rows, where float64 suffices), as float64."""
    Bn, H, L = u.shape
    if not is_extended() and L * K.shape[-1] > FFT_ABOVE:
        return fftconvolve(u, K[None], axes=-1)[..., :L]
    y = np.empty((Bn, H, L), dtype=LD())
    for b in range(Bn):
        for h in range(H):
            y[b, h] = np.convolve(u[b, h].astype(LD()), K[h].astype(LD()))[:L]
    return y


def causal_conv(u, K, D=None) -> np.ndarray:
    """u (B, H, L), K (H, L_K), D (H,) or None → y (B, H, L) float64."""
    u, K = np.asarray(u, np.float64), np.asarray(K, np.float64)
    y = _conv_rows(u, K)
    if D is not None:
        y += np.asarray(D, LD())[None, :, None] * u.astype(LD())
    return y.astype(np.float64)


def backward_kernel(K_bwd: np.ndarray, convention: str) -> np.ndarray:
    """The kernel that acts at lags −0, −1, …: Mega's as given; S4's shifted by one lag."""
    if convention == "mega":
        return K_bwd
    return np.concatenate([np.zeros_like(K_bwd[:, :1]), K_bwd], axis=1)


def bidirectional_conv(u, K_fwd, K_bwd, D=None, convention: str = "mega") -> np.ndarray:
    if convention not in CONVENTIONS:
        raise ValueError(f"convention: expected one of {CONVENTIONS}, got {convention!r}")
    u = np.asarray(u, np.float64)
    kb = backward_kernel(np.asarray(K_bwd, np.float64), convention)
    y = _conv_rows(u, np.asarray(K_fwd, np.float64)) + _conv_rows(u[..., ::-1], kb)[..., ::-1]
    if D is not None:
        y += np.asarray(D, LD())[None, :, None] * u.astype(LD())
    return y.astype(np.float64)


# --- magnitudes (the same sums on absolute values) ---------------------------------------------


def magnitude(u, K, D=None) -> np.ndarray:
    """M[b, h, t] = (|K| * |u|)[t] + |D[h]|·|u[b, h, t]|: the direct sum on absolute values."""
    return causal_conv(np.abs(u), np.abs(K), None if D is None else np.abs(D))


def dtft_sup(x, oversample: int = 8) -> np.ndarray:
    """An upper bound on sup_ω |Σ_t x[..., t]·e^{−iωt}| per row, at most ‖x‖₁.

    The maximum over a grid of m = oversample·2^⌈log₂ T⌉ frequencies (T the row length), divided
    by 1 − π(T − 1)/m: between grid points (spacing 2π/m) a trigonometric polynomial p of degree
    T − 1 moves by at most (π/m)·(T − 1)·sup|p| (Bernstein's inequality), so sup|p| ≤ grid max +
    π(T − 1)/m·sup|p|. Rows are transformed a few at a time (memory O(m) per row).
    """
    x = np.asarray(x, np.float64)
    T = x.shape[-1]
    m = oversample * (1 << max(T - 1, 0).bit_length())
    flat = x.reshape(-1, T)
    out = np.empty(flat.shape[0])
    step = max(1, 2**22 // m)
    for i in range(0, flat.shape[0], step):
        out[i:i + step] = np.abs(np.fft.rfft(flat[i:i + step], m)).max(-1)
    out = out / (1 - np.pi * (T - 1) / m)
    return np.minimum(out.reshape(x.shape[:-1]), np.abs(x).sum(-1))


def fft_norm_magnitude(u, K, D=None) -> np.ndarray:
    """Per signal (b, h): sup|K̂|·‖u‖₂ + ‖K‖₂·sup|û| (+ |D|·‖u‖₂), the norm-wise FFT bound's M.

    The rounding of the transform of u (2-norm error ∝ u·log₂n·‖u‖₂ after the inverse's 1/√n) is
    multiplied by K̂ pointwise, so by at most sup_ω|K̂(ω)|; likewise K̂'s rounding by sup|û|. The
    sup is over all frequencies (`dtft_sup`), not one FFT grid, so the bound holds whatever
    transform length an implementation picks; it is at most the classical ‖K‖₁‖u‖₂ + ‖K‖₂‖u‖₁
    and 2–7× below it on the benchmark's kernels."""
    u, K = np.asarray(u, np.float64), np.asarray(K, np.float64)
    k2 = np.sqrt((K**2).sum(-1))[None]
    u2 = np.sqrt((u**2).sum(-1))
    m = dtft_sup(K)[None] * u2 + k2 * dtft_sup(u)
    if D is not None:
        m = m + np.abs(np.asarray(D, np.float64))[None] * u2
    return m

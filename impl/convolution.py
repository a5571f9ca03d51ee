"""Causal and bidirectional long convolution, in PyTorch (docs/convolution.md).

    causal:  y[b, h, t] = Σ_{s=0}^{t} K[h, t−s]·u[b, h, s]  (+ D[h]·u[b, h, t])
    mega:    y[t] = Σ_{s≤t} k_f[t−s]·x[s] + Σ_{s≥t} k_b[s−t]·x[s]        (lag 0 in both)
    s4:      y[t] = Σ_{s≤t} k_f[t−s]·x[s] + Σ_{s>t} k_b[s−t−1]·x[s]      (k_b[j] at lag −(j+1))

Conventions: Mega's (facebookresearch/mega, `MultiHeadEMA`: the two halves of a 2-D kernel, the
backward one flipped, lag 0 counted twice) and S4's (state-spaces/s4, `FFTConv`: the backward
kernel padded by one lag, lag 0 counted once; its source calls the shift a deliberate
off-by-one). K[h, j] = 0 for j ≥ L_K.

Methods: `fft` (rfft of length n = the power of two ≥ L + L_K − 1, so nothing wraps around;
O(L log L); its error is norm-wise per signal, and a non-finite input reaches every output of
its signal) and `direct` (a depthwise conv1d: O(L·L_K); elementwise error, and a NaN in u[s]
reaches exactly y[t ≥ s]). fp16/bf16 are computed in fp32 and rounded once.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from ssmspec.impl import _validate as v

METHODS = ("fft", "direct")
CONVENTIONS = ("mega", "s4")


def fft_length(L: int, L_K: int) -> int:
    """The power of two ≥ L + L_K − 1: the linear convolution's full length, so no wrap-around."""
    need = L + L_K - 1
    return 1 << max(need - 1, 0).bit_length()


def _check(u, kernels: dict, D) -> None:
    v.tensor("u", u)
    if u.ndim != 3:
        raise ValueError(f"u: expected shape (batch, channels, length), got {tuple(u.shape)}")
    if u.is_complex():
        raise TypeError(f"u: expected a real floating dtype, got {u.dtype}")
    if u.shape[-1] < 1:
        raise ValueError(f"u: expected length >= 1, got shape {tuple(u.shape)}")
    H = u.shape[1]
    for name, K in kernels.items():
        v.beside(name, K, "u", u)
        if K.ndim != 2 or K.shape[0] != H or K.shape[1] < 1:
            raise ValueError(f"{name}: expected shape ({H}, L_K) with L_K >= 1, got "
                             f"{tuple(K.shape)}")
    if D is not None:
        v.beside("D", D, "u", u, (H,), "(one per channel)")


def _causal(u: torch.Tensor, K: torch.Tensor, method: str) -> torch.Tensor:
    L, L_K = u.shape[-1], K.shape[-1]
    if method == "fft":
        n = fft_length(L, L_K)
        spec = torch.fft.rfft(u, n=n) * torch.fft.rfft(K, n=n)
        return torch.fft.irfft(spec, n=n)[..., :L]
    # conv1d correlates: flip K; left padding by L_K − 1 makes it causal
    x = F.pad(u, (L_K - 1, 0))
    return F.conv1d(x, K.flip(-1).unsqueeze(1), groups=u.shape[1])


def causal_conv(u: torch.Tensor, K: torch.Tensor, D: torch.Tensor | None = None,
                method: str = "fft") -> torch.Tensor:
    """Causal convolution of each channel with its kernel.

    u: (B, H, L) real; K: (H, L_K), u's dtype; D: (H,) or None. Returns y: (B, H, L), u's dtype.
    """
    v.method("method", method, METHODS)
    _check(u, {"K": K}, D)
    work = v.work_dtype(u.dtype)
    uw = u.to(work)
    y = _causal(uw, K.to(work), method)
    if D is not None:
        y = y + D.to(work)[:, None] * uw
    return y.to(u.dtype)


def bidirectional_conv(u: torch.Tensor, K_fwd: torch.Tensor, K_bwd: torch.Tensor,
                       D: torch.Tensor | None = None, convention: str = "mega",
                       method: str = "fft") -> torch.Tensor:
    """Bidirectional convolution: a causal part with K_fwd plus an anti-causal part with K_bwd,
    the lag-0 term per `convention` (module docstring).

    u: (B, H, L) real; K_fwd, K_bwd: (H, L_K), u's dtype; D: (H,) or None → y (B, H, L).
    """
    v.method("convention", convention, CONVENTIONS)
    v.method("method", method, METHODS)
    _check(u, {"K_fwd": K_fwd, "K_bwd": K_bwd}, D)
    work = v.work_dtype(u.dtype)
    uw, kb = u.to(work), K_bwd.to(work)
    if convention == "s4":  # k_b[j] acts at lag −(j+1): shift it by one lag
        kb = F.pad(kb, (1, 0))
    y = _causal(uw, K_fwd.to(work), method) + _causal(uw.flip(-1), kb, method).flip(-1)
    if D is not None:
        y = y + D.to(work)[:, None] * uw
    return y.to(u.dtype)

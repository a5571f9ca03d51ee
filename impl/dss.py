"""DSS convolution kernels (Gupta, Gu & Berant 2022, "Diagonal State Spaces are as Effective as
Structured State Spaces", arXiv 2203.14343, §3.2 Proposition 1 and §3.3) in PyTorch.

Per channel h, state n, with z = Δ_h·Λ[h, n], Δ = exp(log_dt) (H,), lag l = 0 … L−1:

    exp:      K[h, l] = Re Σ_n W[h, n] · (e^{z} − 1)/Λ[h, n] · e^{l·z}
    softmax:  K[h, l] = Re Σ_n W[h, n] · Λ[h, n]^{-1} · e^{l·z} / Σ_{r<L} e^{r·z}

Separate steps for the real and imaginary parts (`log_dt_im`, (H,)): DSS's code defaults to
`sep_dt_re_im=True` (ag1988/dss 7bd8645, `src/models/sequence/ss/standalone/dss.py`,
`DSSKernel.__init__` and `forward`: log_dt of shape (H, 2), both columns initialised equal), where

    z = Δ_re·Re Λ + i·Δ_im·Im Λ,   Δ_re = exp(log_dt),  Δ_im = exp(log_dt_im),

while the coefficient keeps Λ: exp (e^z − 1)/Λ, softmax 1/Λ. The paper's one Δ per channel is
the default (log_dt_im=None) and the special case Δ_im = Δ_re (the law `equal_dts_are_one_dt`).
One Δ cannot express the code's form: at Δ_im ≠ Δ_re the rotation per step (Im z) and the decay
per step (Re z) are set independently, and (e^z − 1)/Λ is no longer Δ·φ₁(z).
Λ itself is one vector (N,) shared by the H channels in the code (only Δ and W are per channel);
ssmspec takes Λ (H, N), which holds it as equal rows.

DSS-exp is the zoh diagonal kernel with B = 1, C = W and no conjugate factor (`diag_kernel(Λ, 1,
W, log_dt, L, 'zoh', conj_half=False)`): the law `dss_exp_is_zoh` of `ssmspec.specs.dss`.
DSS-softmax normalises each state's row e^{l·z} over the length axis l (a softmax of
P[n, l] = z_n·l over l, complex).

Convention and its source: ag1988/dss `DSSKernel.forward` (version 'exp' / 'softmax'): K is
`K.real` of the complex kernel (no factor 2; DSS's W absorbs it). Where the code and the paper
differ, ssmspec follows the paper, exactly:
- the code's `reciprocal(x, eps)` regularises 1/Λ (exp: |Λ|² clamped at 1e-7) and
  1/(Λ·(e^{Lz} − 1)) (softmax: + 1e-7 in the denominator); ssmspec uses the exact 1/Λ (they agree
  to ~1e-7/|Λ|² relative, i.e. wherever |Λ| ≫ 3e-4);
- the code's softmax flips z to −z for Re Λ > 0 and subtracts P_max = z·(L−1): that is the
  softmax's max subtraction, mathematically the same function; ssmspec does the same.

Algorithm: the per-state coefficient is formed in complex128 without cancellation,
(e^z − 1)/Λ = Δ·φ₁(z) (with separate steps (z/Λ)·φ₁(z), z/Λ one complex division, and Δ_re,
the limit along the real axis, at Λ = 0) and 1/Σ_r e^{rz} = φ₁(z)/(L·φ₁(Lz)) (φ₁ = expm1(z)/z),
so Λ → 0 and z → 0 lose nothing; for Re z > 0 (softmax only) the row is taken reversed,
e^{lz}/Σ_r e^{rz} = e^{(L−1−l)(−z)}/Σ_s e^{s(−z)}, so no power overflows. The powers and the
contraction over N are `ssmspec.impl.kernels.vandermonde` (float64 exponents, the sum as a
batched matmul in the working format, O(H·N·√L) memory, no loop over L).

Formats: c128, c64 (complex Λ, W); the output K (H, L) has Λ's real dtype.
"""

from __future__ import annotations

import torch

from ssmspec.impl import _validate as v
from ssmspec.impl.discretization import phi1
from ssmspec.impl.kernels import vandermonde

METHODS = ("exp", "softmax")


def _check(Lambda, W, log_dt, L, method, log_dt_im=None):
    v.method("method", method, METHODS)
    v.tensor("Lambda", Lambda)
    if not Lambda.is_complex():
        raise TypeError(f"Lambda: expected a complex dtype, got {Lambda.dtype}")
    if Lambda.ndim != 2 or Lambda.shape[-1] < 1:
        raise ValueError(f"Lambda: expected shape (H, N) with N >= 1, got {tuple(Lambda.shape)}")
    v.beside("W", W, "Lambda", Lambda, Lambda.shape, "(that of Lambda)")
    v.tensor("log_dt", log_dt)
    rdt = v.real_dtype(Lambda.dtype)
    if log_dt.is_complex() or log_dt.dtype != rdt:
        raise TypeError(
            f"log_dt: expected dtype {rdt} (the real dtype of Lambda), got {log_dt.dtype}")
    v.same_device("log_dt", log_dt, "Lambda", Lambda)
    v.shape("log_dt", log_dt, Lambda.shape[:1], "(one per channel)")
    if log_dt_im is not None:
        v.tensor("log_dt_im", log_dt_im)
        if log_dt_im.dtype != log_dt.dtype:
            raise TypeError(f"log_dt_im: expected dtype {log_dt.dtype} (that of log_dt), got "
                            f"{log_dt_im.dtype}")
        v.same_device("log_dt_im", log_dt_im, "Lambda", Lambda)
        v.shape("log_dt_im", log_dt_im, Lambda.shape[:1], "(one per channel)")
    return v.positive_int("L", L)


def dss_z(lam: torch.Tensor, log_dt: torch.Tensor, log_dt_im: torch.Tensor | None = None):
    """(z, z/Λ) in complex128, (H, N): z = Δ·Λ, or Δ_re·Re Λ + i·Δ_im·Im Λ with `log_dt_im`;
    z/Λ is Δ (one step), else one complex division (Δ_re at Λ = 0, the real-axis limit)."""
    dt = torch.exp(log_dt.to(torch.float64))[:, None]
    if log_dt_im is None:
        return dt * lam, dt
    dt_im = torch.exp(log_dt_im.to(torch.float64))[:, None]
    z = torch.complex(dt * lam.real, dt_im * lam.imag)
    zero = lam == 0
    ratio = torch.where(zero, dt.to(lam.dtype), z / torch.where(zero, 1, lam))
    return z, ratio


def dss_kernel(Lambda: torch.Tensor, W: torch.Tensor, log_dt: torch.Tensor, L: int,
               method: str = "exp", log_dt_im: torch.Tensor | None = None) -> torch.Tensor:
    """The DSS kernel K (H, L), real; see the module docstring for the formulas.

    Lambda, W: (H, N) complex (c64 or c128), the same dtype; log_dt: (H,), Lambda's real dtype;
    L >= 1; method: 'exp' | 'softmax'; log_dt_im: None (one Δ per channel, the paper's) or (H,),
    log_dt's dtype, the step of the imaginary part (DSS's code's `sep_dt_re_im`). Returns
    Lambda's real dtype.
    """
    L = _check(Lambda, W, log_dt, L, method, log_dt_im)
    lam, w = Lambda.to(torch.complex128), W.to(torch.complex128)
    z, z_over_lam = dss_z(lam, log_dt, log_dt_im)
    work = v.work_dtype(v.real_dtype(Lambda.dtype))
    if method == "exp":
        K = vandermonde(w * z_over_lam * phi1(z), z, L, work)
        return K.to(v.real_dtype(Lambda.dtype))
    flip = z.real > 0
    zs = torch.where(flip, -z, z)  # Re zs ≤ 0: the row's largest term is its first
    coef = w / lam * phi1(zs) / (L * phi1(L * zs))
    zero = torch.zeros((), dtype=coef.dtype, device=coef.device)
    K = vandermonde(torch.where(flip, zero, coef), zs, L, work)
    if bool(flip.any()):
        K = K + vandermonde(torch.where(flip, coef, zero), zs, L, work).flip(-1)
    return K.to(v.real_dtype(Lambda.dtype))

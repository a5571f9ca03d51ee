"""Discretisation of x' = A x + B u with step Δ, in PyTorch (docs/discretization.md).

| method         | Ā                           | B̄                              |
|----------------|-----------------------------|--------------------------------|
| zoh            | exp(ΔA)                     | Δ·φ₁(ΔA)·B,  φ₁(z) = expm1(z)/z |
| zoh_approx     | exp(ΔA)                     | Δ·B   (Mamba's simplification)  |
| bilinear       | (I − Δ/2·A)⁻¹ (I + Δ/2·A)   | (I − Δ/2·A)⁻¹ Δ·B              |
| euler          | I + ΔA                      | Δ·B                            |
| backward_euler | (I − ΔA)⁻¹                  | (I − ΔA)⁻¹ Δ·B                 |

Outputs have the input's dtype and device. fp16/bf16 inputs are computed in fp32 and rounded once
at the end; complex inputs stay complex throughout.
"""

from __future__ import annotations

import math

import torch

from ssmspec.impl import _validate as v
from ssmspec.impl.expm import expm

METHODS = ("zoh", "zoh_approx", "bilinear", "euler", "backward_euler")


def phi1(z: torch.Tensor) -> torch.Tensor:
    """φ₁(z) = (eᶻ − 1)/z computed as expm1(z)/z (no cancellation at small |z|), φ₁(0) = 1."""
    # Below √u the series 1 + z/2 is exact to rounding (z²/6 < u): this covers z = 0 (0/0) and a
    # subnormal z, where torch's complex division returns inf + nan·i (torch 2.13). A NaN z
    # stays NaN (the comparison is false).
    small = z.abs() < math.sqrt(torch.finfo(z.dtype).eps)
    return torch.where(small, 1 + z / 2, torch.expm1(z) / z)


def prepare_diag(Lambda, B, dt):
    """Check the diagonal form's arguments; return (z = ΔΛ, B, Δ) in the working dtype, all of
    shape (*batch, N), and the output dtype."""
    v.tensor("Lambda", Lambda, min_ndim=1)
    v.tensor("B", B)
    v.same_dtype("B", B, "Lambda", Lambda)
    v.same_device("B", B, "Lambda", Lambda)
    v.shape("B", B, Lambda.shape, "(that of Lambda)")
    if Lambda.shape[-1] < 1:
        raise ValueError(f"Lambda: expected N >= 1 states, got shape {tuple(Lambda.shape)}")
    batch = tuple(Lambda.shape[:-1])
    dt = v.step("dt", dt, Lambda, {"scalar": (), "per channel": batch,
                                   "per state": tuple(Lambda.shape)})
    if dt.ndim == len(batch) and dt.ndim < Lambda.ndim:
        dt = dt.unsqueeze(-1)
    work = v.work_dtype(Lambda.dtype)
    lam, b = Lambda.to(work), B.to(work)
    dt = dt.to(v.real_dtype(work))
    return dt * lam, b, dt, Lambda.dtype


def discretize_diag(Lambda: torch.Tensor, B: torch.Tensor, dt, method: str = "zoh"):
    """(Ā, B̄) for a diagonal state matrix A = diag(Λ).

    Lambda: (*batch, N) real or complex; B: (*batch, N), Lambda's dtype;
    dt: a float, or a real tensor of shape () (scalar), (*batch,) (per channel) or (*batch, N)
    (per state), in Lambda's real dtype, Δ > 0. Returns Ā, B̄: (*batch, N), Lambda's dtype.
    """
    v.method("method", method, METHODS)
    z, b, dt, out = prepare_diag(Lambda, B, dt)
    if method == "zoh":
        abar, bbar = torch.exp(z), dt * phi1(z) * b
    elif method == "zoh_approx":
        abar, bbar = torch.exp(z), dt * b
    elif method == "bilinear":
        den = 1 - z / 2
        abar, bbar = (1 + z / 2) / den, dt * b / den
    elif method == "euler":
        abar, bbar = 1 + z, dt * b
    else:  # backward_euler
        den = 1 - z
        abar, bbar = 1 / den, dt * b / den
    return abar.to(out), bbar.to(out)


def prepare_dense(A, B, dt):
    """Check the dense form's arguments; return (A, B, Δ as (*batch, 1, 1)) in the working dtype
    and the output dtype."""
    v.tensor("A", A, min_ndim=2)
    if A.shape[-1] != A.shape[-2] or A.shape[-1] < 1:
        raise ValueError(f"A: expected a square (*batch, N, N) with N >= 1, got {tuple(A.shape)}")
    v.tensor("B", B, min_ndim=2)
    v.same_dtype("B", B, "A", A)
    v.same_device("B", B, "A", A)
    n, batch = A.shape[-1], tuple(A.shape[:-2])
    if tuple(B.shape[:-1]) != batch + (n,) or B.shape[-1] < 1:
        raise ValueError(f"B: expected shape {batch + (n,)} + (K,), K >= 1, got {tuple(B.shape)}")
    dt = v.step("dt", dt, A, {"scalar": (), "per batch": batch})
    work = v.work_dtype(A.dtype)
    dt = dt.to(v.real_dtype(work)).reshape(dt.shape + (1, 1))
    return A.to(work), B.to(work), dt, A.dtype


def discretize_dense(A: torch.Tensor, B: torch.Tensor, dt, method: str = "zoh"):
    """(Ā, B̄) for a dense state matrix.

    A: (*batch, N, N) real or complex; B: (*batch, N, K), A's dtype; dt: a float or a real tensor
    of shape () or (*batch,), Δ > 0. Returns Ā: (*batch, N, N), B̄: (*batch, N, K), A's dtype.
    zoh uses Van Loan's block exponential expm(Δ·[[A, B], [0, 0]]) = [[Ā, B̄], [0, I]], which
    needs no A⁻¹ and so holds for singular A; expm is `ssmspec.impl.expm` (Padé 13).
    """
    v.method("method", method, METHODS)
    A, B, dt, out = prepare_dense(A, B, dt)
    n, k = A.shape[-1], B.shape[-1]
    eye = torch.eye(n, dtype=A.dtype, device=A.device).expand_as(A)
    if method == "zoh":
        dA, dB = dt * A, dt * B
        # Balance the block: scaling B by a power of two β changes B̄ only by the same β, exactly,
        # and keeps a large ‖ΔB‖ from raising the number of squarings Ā goes through.
        ratio = dB.abs().sum(-2).amax(-1) / dA.abs().sum(-2).amax(-1).clamp(min=1)
        beta = torch.exp2(torch.ceil(torch.log2(ratio)).clamp(min=0))
        beta = torch.where(torch.isfinite(beta), beta, torch.ones_like(beta))[..., None, None]
        X = A.new_zeros(A.shape[:-2] + (n + k, n + k))
        X[..., :n, :n] = dA
        X[..., :n, n:] = dB / beta
        E = expm(X)
        abar, bbar = E[..., :n, :n], E[..., :n, n:] * beta
    elif method == "zoh_approx":
        abar, bbar = expm(dt * A), dt * B
    elif method == "euler":
        abar, bbar = eye + dt * A, dt * B
    else:
        h = 0.5 if method == "bilinear" else 1.0
        rhs = torch.cat([eye + h * dt * A if method == "bilinear" else eye, dt * B], dim=-1)
        X = torch.linalg.solve(eye - h * dt * A, rhs)
        abar, bbar = X[..., :n], X[..., n:]
    return abar.to(out).contiguous(), bbar.to(out).contiguous()

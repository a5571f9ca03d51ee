"""Matrix exponential by scaling and squaring with the [13/13] Padé approximant (Higham 2005,
"The scaling and squaring method for the matrix exponential revisited", Algorithm 2.3).

Why not `torch.linalg.matrix_exp`: its degree-8 Taylor branch, taken by a single matrix
(a batch of one) whose norm falls in that branch's range, uses a wrong coefficient
(pytorch/pytorch#196592). ssmspec's own suite catches it (fp64 error ~1e-10 at ‖X‖ ≈ 0.05, see
the mutant `torch_matrix_exp` of `discretize_dense`), so the built-in implementation does not
rely on it.

Each matrix of a batch gets its own scaling s = max(0, ⌈log2(‖X‖₁/θ₁₃)⌉); the squarings are
masked per matrix so a large matrix in the batch does not over-square a small one.
"""

from __future__ import annotations

import torch

# Padé [13/13] coefficients b_0 … b_13 and θ_13 for IEEE double (Higham 2005, Table 2.3).
_B13 = (
    64764752532480000.0, 32382376266240000.0, 7771770303897600.0, 1187353796428800.0,
    129060195264000.0, 10559470521600.0, 670442572800.0, 33522128640.0, 1323241920.0,
    40840800.0, 960960.0, 16380.0, 182.0, 1.0,
)
_THETA13 = 5.371920351148152


def expm(X: torch.Tensor) -> torch.Tensor:
    """exp(X) for X: (*batch, n, n), real or complex floating; same shape and dtype out."""
    n = X.shape[-1]
    eye = torch.eye(n, dtype=X.dtype, device=X.device)
    norm1 = X.abs().sum(dim=-2).amax(dim=-1)  # max column sum
    s = torch.ceil(torch.log2(norm1 / _THETA13)).clamp(min=0)
    s = torch.where(torch.isfinite(s), s, torch.zeros_like(s)).to(torch.int64)
    scale = torch.pow(2.0, -s.to(norm1.dtype)).to(X.dtype)
    Xs = X * scale[..., None, None]
    b = _B13
    X2 = Xs @ Xs
    X4 = X2 @ X2
    X6 = X4 @ X2
    U = Xs @ (X6 @ (b[13] * X6 + b[11] * X4 + b[9] * X2)
              + b[7] * X6 + b[5] * X4 + b[3] * X2 + b[1] * eye)
    V = X6 @ (b[12] * X6 + b[10] * X4 + b[8] * X2) + b[6] * X6 + b[4] * X4 + b[2] * X2 + b[0] * eye
    R = torch.linalg.solve(V - U, V + U)
    steps = int(s.max().item()) if s.numel() else 0
    for k in range(steps):
        R = torch.where((k < s)[..., None, None], R @ R, R)
    return R

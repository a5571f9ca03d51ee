"""H3's shift SSM kernel, in PyTorch (issue 9, item 5; the diagonal SSM is `diag_kernel`).

Source: "Hungry Hungry Hippos" (Fu, Dao, Saab, Thomas, Rudra, Ré; arXiv 2212.14052, §3.1) and
HazyResearch/H3 `src/models/ssm/ss_kernel_shift.py` (commit 70d87926), `SSKernelShift`.
The shift SSM has A the N×N shift matrix (ones on the subdiagonal) and input vector B:

    x_t = shift(x_{t−1}) + B·u_t,    y_t = C·x_t        (SSKernelShift.step: F.pad(state, (1, −1)))

so its kernel is K[l] = C·A^l·B = Σ_m C[m + l]·B[m]: a length-N causal filter. The paper's B = e₁
(1-indexed) is index 0 here (the code's `B[..., 0] = 1` initialisation), and then K[l] = C[l]:
"its kernel is given by C". The code computes the same cross-correlation through FFTs of length
2N, irfft(conj(rfft B)·rfft C)[:min(N, L)], zero-padded to L; B may be any learned vector.

    K[h, l] = Σ_{m=0}^{N−1−l} B[h, m]·C[h, m + l]    (l < N),     K[h, l] = 0    (l ≥ N)

Algorithm: the direct correlation (a depthwise conv1d over the N taps): elementwise error, O(H·N²)
work (N ≤ a few hundred in H3). fp16/bf16 are computed in fp32 and rounded once.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from ssmspec.impl import _validate as v

METHODS = ("direct",)


def shift_ssm_kernel(B: torch.Tensor, C: torch.Tensor, L: int,
                     method: str = "direct") -> torch.Tensor:
    """The shift SSM's kernel K (H, L).

    B, C: (H, N) real, the same dtype; L >= 1; method: 'direct'. Returns B's dtype and device.
    """
    v.method("method", method, METHODS)
    v.tensor("B", B)
    if B.is_complex():
        raise TypeError(f"B: expected a real floating dtype, got {B.dtype}")
    if B.ndim != 2 or min(B.shape) < 1:
        raise ValueError(f"B: expected shape (H, N) with H, N >= 1, got {tuple(B.shape)}")
    v.tensor("C", C)
    v.same_dtype("C", C, "B", B)
    v.same_device("C", C, "B", B)
    v.shape("C", C, B.shape, "(that of B)")
    L = v.positive_int("L", L)
    H, N = B.shape
    work = v.work_dtype(B.dtype)
    # conv1d is a cross-correlation: out[l] = Σ_m C[l + m]·B[m], C zero beyond N
    K = F.conv1d(F.pad(C.to(work), (0, N - 1))[None], B.to(work)[:, None, :], groups=H)[0]
    K = K[:, :L] if N >= L else F.pad(K, (0, L - N))
    return K.to(B.dtype)

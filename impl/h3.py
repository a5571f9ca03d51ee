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

The H3 layer's SSM core (`h3_layer`), head_dim = 1 (one head per channel; head_dim > 1 is
`h3_multihead`, below):

    k′ = K_shift * k + D_k ⊙ k             the shift SSM with its own skip (H3: `ssm_k_kernel`,
                                            `ssm_k_D`)
    y  = K_diag * (k′ ⊙ v) + D ⊙ (k′ ⊙ v)   the diagonal SSM (S4D, `diag_kernel`, conj_half)
    out = q ⊙ y

with * the causal convolution (`causal_conv`, FFT). The q, k, v projections and the output
projection are plain linear layers, out of scope. FlashConv's state passing (arXiv 2212.14052
§4.2) computes the same out block by block: the diagonal SSM through `diag_ssm` from the previous
block's final state, the shift SSM from the last N_s − 1 inputs k of the previous block.

The diagonal SSM's discretisation defaults to bilinear, as H3's: `SSKernelDiag.__init__` in
`src/models/ssm/ss_kernel_diag.py` (HazyResearch/H3 70d8792, unchanged at the head 5c4d06b)
takes `disc='bilinear'`, Ā = (1 + ΔΛ/2)/(1 − ΔΛ/2), B̄ = Δ/(1 − ΔΛ/2), and neither `SSKernel`
nor any config of the repository passes another `disc`. zoh and zoh_approx stay as methods. The
two are not interchangeable: on `diag_init('s4d-lin', 64, 1, seed=0)` (32 conjugate pairs,
Im Λ = πn, its seeded Δ = 0.087, C N(0, ½) complex, L = 256) the kernels differ by
max|K_zoh − K_bilinear| = 0.60 against max|K_zoh| = 0.50, max|K_bilinear| = 0.55: the fast modes
(|ΔΛ| up to 8.5) are where the two maps part; with 1 pair (N = 2) at Δ = 0.1 they differ by only
8e-6 of 0.04. `tests/test_reference_h3.py` pins it.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from ssmspec.impl import _validate as v
from ssmspec.impl.convolution import causal_conv
from ssmspec.impl.kernels import diag_kernel

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
    v.beside("C", C, "B", B, B.shape, "(that of B)")
    L = v.positive_int("L", L)
    H, N = B.shape
    work = v.work_dtype(B.dtype)
    # conv1d is a cross-correlation: out[l] = Σ_m C[l + m]·B[m], C zero beyond N
    K = F.conv1d(F.pad(C.to(work), (0, N - 1))[None], B.to(work)[:, None, :], groups=H)[0]
    K = K[:, :L] if N >= L else F.pad(K, (0, L - N))
    return K.to(B.dtype)


LAYER_METHODS = ("bilinear", "zoh", "zoh_approx")


def _check_layer(q, k, v_, shift_B, shift_C, shift_D, Lambda, log_dt, D, head_dim=1):
    """Shapes, dtypes and devices of the layer's arguments: q, k, v and the shift SSM's per
    model channel (H·head_dim of them), Λ and D per head (H). Returns H."""
    v.real_tensor("q", q)
    if q.ndim != 3 or min(q.shape) < 1:
        raise ValueError(f"q: expected shape (batch, H, L) with every size >= 1, "
                         f"got {tuple(q.shape)}")
    d = v.positive_int("head_dim", head_dim)
    if q.shape[1] % d:
        raise ValueError(f"head_dim: expected a divisor of q's {q.shape[1]} channels, got {d}")
    H = q.shape[1]
    v.like("k", k, "q", q)
    v.like("v", v_, "q", q)
    v.beside("shift_B", shift_B, "q", q)
    if shift_B.ndim != 2 or shift_B.shape[0] != H or shift_B.shape[1] < 1:
        raise ValueError(f"shift_B: expected shape ({H}, N_s) with N_s >= 1, "
                         f"got {tuple(shift_B.shape)}")
    v.like("shift_C", shift_C, "shift_B", shift_B)
    for name, x, rows in (("shift_D", shift_D, H), ("D", D, H // d)):
        v.beside(name, x, "q", q, (rows,), f"({rows},)")
    H //= d
    v.tensor("Lambda", Lambda)
    if v.real_dtype(Lambda.dtype) != q.dtype:
        raise TypeError(f"Lambda: expected a dtype whose real part is q's {q.dtype}, "
                        f"got {Lambda.dtype}")
    if Lambda.ndim != 2 or Lambda.shape[0] != H:
        raise ValueError(f"Lambda: expected shape ({H}, N), got {tuple(Lambda.shape)}")
    return H


def h3_layer(q: torch.Tensor, k: torch.Tensor, v_: torch.Tensor, shift_B: torch.Tensor,
             shift_C: torch.Tensor, shift_D: torch.Tensor, Lambda: torch.Tensor, B: torch.Tensor,
             C: torch.Tensor, log_dt: torch.Tensor, D: torch.Tensor,
             method: str = "bilinear") -> torch.Tensor:
    """H3's SSM core, head_dim 1: out = q ⊙ (K_diag * (k′ ⊙ v) + D ⊙ (k′ ⊙ v)),
    k′ = K_shift * k + shift_D ⊙ k (the module docstring).

    q, k, v_: (batch, H, L) real, one dtype; shift_B, shift_C: (H, N_s), q's dtype; shift_D, D:
    (H,), q's dtype; Lambda, B, C: (H, N), complex (or real) with q's dtype as real part; log_dt:
    (H,), q's dtype; method: the diagonal SSM's discretisation, 'bilinear' (H3's default) |
    'zoh' | 'zoh_approx'. Returns (batch, H, L), q's dtype and device.
    """
    return h3_multihead(q, k, v_, shift_B, shift_C, shift_D, Lambda, B, C, log_dt, D, 1,
                        method)


def h3_multihead(q: torch.Tensor, k: torch.Tensor, v_: torch.Tensor, shift_B: torch.Tensor,
                 shift_C: torch.Tensor, shift_D: torch.Tensor, Lambda: torch.Tensor,
                 B: torch.Tensor, C: torch.Tensor, log_dt: torch.Tensor, D: torch.Tensor,
                 head_dim: int, method: str = "bilinear") -> torch.Tensor:
    """H3's SSM core with H heads of head_dim d (HazyResearch/H3 70d8792,
    `src/models/ssm/h3.py`, `H3.forward` without the fast fftconv), model width H·d.

    The model channel c = h·d + i is head h's i-th (q, k, v split as 'b (h d) l'). Per model
    channel the shift SSM: k′ = K_shift * k + D_k ⊙ k. Per head h and pair (i, j) < d the outer
    product p_ij = k′_(h·d+i) ⊙ v_(h·d+j), through head h's diagonal SSM,
    y_ij = K_diag[h] * p_ij + D[h]·p_ij, and

        out[b, j·H + h, l] = Σ_i q[b, h·d + i, l]·y_ij[b, h, l]

    — the code's output order: `mul_sum` sums over i and the result is laid out 'b (d h) l',
    the pair index j major and the head minor (not the input's head-major order). head_dim 1 is
    `h3_layer`.

    q, k, v_: (batch, H·d, L) real, one dtype; shift_B, shift_C: (H·d, N_s); shift_D: (H·d,);
    Lambda, B, C: (H, N) complex (or real) with q's dtype as real part; log_dt, D: (H,);
    head_dim: d >= 1 dividing H·d; method as `h3_layer`. Returns (batch, H·d, L), q's dtype.
    Work: the d² products per head go through one batched FFT convolution, O(batch·d²·H·L log L).
    """
    v.method("method", method, LAYER_METHODS)
    H = _check_layer(q, k, v_, shift_B, shift_C, shift_D, Lambda, log_dt, D, head_dim)
    d, (Bn, _, L) = head_dim, q.shape
    work = v.work_dtype(q.dtype)
    k_shift = shift_ssm_kernel(shift_B, shift_C, L).to(work)
    k1 = causal_conv(k.to(work), k_shift, shift_D.to(work)).reshape(Bn, H, d, 1, L)
    kv = k1 * v_.to(work).reshape(Bn, H, 1, d, L)  # (batch, h, i, j, L)
    kv = kv.permute(0, 2, 3, 1, 4).reshape(Bn * d * d, H, L)
    K_diag = diag_kernel(Lambda, B, C, log_dt, L, method=method).to(work)
    y = causal_conv(kv, K_diag, D.to(work)).reshape(Bn, d, d, H, L)  # (batch, i, j, h, L)
    qh = q.to(work).reshape(Bn, H, d, L).permute(0, 2, 1, 3)[:, :, None]  # (batch, i, 1, h, L)
    return (qh * y).sum(1).reshape(Bn, d * H, L).to(q.dtype)


def h3_layer_blockwise(q, k, v_, shift_B, shift_C, shift_D, Lambda, B, C, log_dt, D,
                       method="bilinear", block=1, carry=True):
    """`h3_layer` block by block (FlashConv, arXiv 2212.14052 §4.2): the shift SSM over each
    block of `block` steps preceded by the previous block's last N_s − 1 inputs k, the diagonal
    SSM through `diag_ssm` from the previous block's final state. carry=False drops both carries
    (a wrong state passing). Unvalidated: the state-passing law of ssmspec/specs/h3.py calls it
    on the layer's valid inputs."""
    from ssmspec.impl.recurrent import diag_ssm

    L, Ns = q.shape[-1], shift_B.shape[-1]
    K_shift = shift_ssm_kernel(shift_B, shift_C, L)
    outs, state = [], None
    for s in range(0, L, block):
        e = min(s + block, L)
        lo = max(s - (Ns - 1), 0) if carry else s
        k1 = causal_conv(k[..., lo:e], K_shift[:, :e - lo], shift_D)[..., s - lo:]
        p = k1 * v_[..., s:e]
        y, state = diag_ssm(p, Lambda, B, C, log_dt, state=state if carry else None,
                            method=method)
        outs.append(q[..., s:e] * (y + D[:, None] * p))
    return torch.cat(outs, dim=-1)

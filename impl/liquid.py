"""Liquid-S4's liquid kernels on the diagonal (S4D) form, in PyTorch (issue 9, item 4).

Source: "Liquid Structural State-Space Models" (Hasani, Lechner, Wang, Chahine, Amini, Rus;
arXiv 2209.12951, §3) and raminmh/liquid-s4 (06031dc) `src/models/sequence/ss/s4.py`
(`liquid_kernel='polyb' | 'kb'`, `liquid_degree`, `allcombs`). The liquid SSM

    x'(t) = (A + B·u(t))·x(t) + B·u(t),   bilinear:  x_k = (Ā + B̄·u_k) ⊙ x_(k−1) + B̄·u_k,
    y_k = C·x_k,     Ā = (1 + ΔΛ/2)/(1 − ΔΛ/2),   B̄ = Δ·B/(1 − ΔΛ/2)   (diagonal Λ, elementwise)

unrolls into a sum over the non-empty input subsets S ⊆ {0 … k}: the term of S is
C·Ā^(k − min S + 1 − |S|)·B̄^|S|·Π_(s∈S) u_s. Order 1 (|S| = 1) is the S4D kernel
K_1[l] = C·Ā^l·B̄. ssmspec implements the liquid kernels over *runs* of p consecutive samples
(the code's `allcombs=False` products agree with them up to p = 2 only; see below),

    c_p[t] = u_t·u_(t−1)···u_(t−p+1)          (0 for t < p − 1),

whose terms in the unrolled sum are exactly C·Ā^(k−t)·B̄^p·c_p[t]. Two kernels per order p ≥ 2:

    'kb':  K_p[l] = f·Re Σ_n C_n·B̄_n^p·Ā_n^l        (the paper's KB kernel C̄Ā^(k−p)B̄^p)
    'pb':  K_p[0] = f·Re Σ_n C_n·B̄_n^p, K_p[l] = 0 for l ≥ 1   (the paper's PB kernel C̄B̄^p:
           Ā set to I in the liquid terms; as the code's `polyb`, a per-channel scale)

with f = 2 under conj_half (S4's convention, `ssmspec.impl.kernels`), and the output

    y = Σ_(p=1)^(order) K_p ∗ c_p        (causal convolution; order 1 is S4D's y = K ∗ u).

Correlation products. The default, `correlation='runs'`, is the paper's reading above: the
order-p term carries the run u_t·u_(t−1)···u_(t−p+1). The code's `allcombs=False` path
(`upgrade_degree`) instead multiplies the previous order's product by its own one-step shift,
c_p[t] = c_(p−1)[t]·c_(p−1)[t−1], which agrees with the runs for p ≤ 2 but from p = 3 on has
binomial exponents,

    c_p[t] = Π_(j=0)^(p−1) u_(t−j)^binom(p−1, j)       (order 3: u_t·u_(t−1)²·u_(t−2)),

offered as `correlation='binomial'` (a named variant with its own references; its order-p term is
not a term of the unrolled liquid recurrence for p ≥ 3).

Where the public code (raminmh/liquid-s4 06031dc, `src/models/sequence/ss/s4.py`
`S4.forward` and `upgrade_degree`; `src/models/sequence/ss/kernel.py` `SSKernel.__init__`) and the
paper disagree (ssmspec follows the paper's B̄^p, elementwise, and the causal runs):
- `polyb`: the code forms the order-p coefficient as dB ← dB ⊙ Σ dB (`(dB1 * dB2).sum(2)`), the
  sum over the 2N conjugate-doubled states (`_conj(B)`, `_conj(w)`: 2·Re Σ over the stored half
  under conj_half), i.e. B̄·(Σ_2N B̄)^(2^(p−1) − 1), not B̄^p; then C·dB summed over the 2N states.
  Registered as the mutant `code_sum_contraction` (summing over the 2N states, as the code).
- `kb`: the code multiplies the S4 kernel by the same sum once per order, K_p = K̄·(Σ_2N B̄)^(p−1),
  a per-channel scale of K̄ rather than C·B̄^p·Ā^l; and it multiplies `fft(k_b, n=(L_K + L)//2
  + 1)` (a complex FFT on the grid of (L_K + L)//2 + 1 points) by `rfft(u_corr, n=L_K + L)` (the
  half-spectrum on the grid of L_K + L points): two spectra of the same length on different
  frequency grids, so their product is not the spectrum of a convolution (a finding in the
  README; `tests/test_reference_liquid.py` measures it).
- the liquid terms read `self.kernel.B`, `.C`, `.w`, `.log_dt`: the plain tensors `SSKernel`
  keeps of its *initial* B, C, w, log Δ (for mode 'diag' C before its product with B), not the
  trained parameters of the inner kernel: after training the liquid terms use the untrained SSM.
- the code multiplies the *flipped* correlation sequence (`torch.flip(u_corr, [-1])`), which
  makes y_t depend on u at the end of the sequence (not causal); its default `allcombs=True`
  picks the last L p-subsets of the final indices, a fixed set of products not tied to t. The
  flip is the mutant `flipped_correlation`.

Algorithm: per-state work (Δ, z = ΔΛ, B̄, B̄^p, log Ā = 2·atanh(z/2)) in float64/complex128 from
the exactly converted inputs, then the Vandermonde sums of `ssmspec.impl.kernels` (√L-split
powers, one batched matmul per order) in the working format; the correlation products by
cumulative elementwise products; the convolutions by FFT (`ssmspec.impl.convolution`, length
≥ 2L − 1, no wrap-around), all orders in one batched FFT. 'pb' orders ≥ 2 are a pointwise scale.
Kernels have Λ's real dtype; fp16/bf16 would be computed in fp32 (the spec covers fp64/fp32 and
c128/c64).
"""

from __future__ import annotations

import torch

from ssmspec.impl import _validate as v
from ssmspec.impl import convolution as conv
from ssmspec.impl.kernels import check_diag, discretize_wide, vandermonde

METHODS = ("pb", "kb")


def _order(order) -> int:
    return v.positive_int("order", order)


def bilinear_terms(Lambda, B, C, log_dt):
    """(C per state, B̄, w = log Ā, negative) in float64/complex128 (bilinear, as diag_kernel)."""
    _, bbar, w, negative = discretize_wide(Lambda, B, log_dt, "bilinear")
    return C.to(bbar.dtype), bbar, w, negative


def _kernels(Lambda, B, C, log_dt, L, order, method, conj_half):
    c, bbar, w, negative = bilinear_terms(Lambda, B, C, log_dt)
    work = v.work_dtype(Lambda.dtype)
    rdt = v.real_dtype(work)
    out = []
    power = bbar
    for p in range(1, order + 1):
        if p > 1:
            power = power * bbar
        W = c * power
        if p == 1 or method == "kb":
            K = vandermonde(W, w, L, work, negative)
        else:
            K = torch.zeros(W.shape[0], L, dtype=rdt, device=W.device)
            K[:, 0] = (W.real if W.is_complex() else W).sum(-1).to(rdt)
        out.append(K + K if conj_half else K)  # the factor 2 is exact
    return torch.stack(out)


def liquid_kernel(Lambda: torch.Tensor, B: torch.Tensor, C: torch.Tensor, log_dt: torch.Tensor,
                  L: int, order: int, method: str = "pb", conj_half: bool = True) -> torch.Tensor:
    """The liquid kernels K (order, H, L): K[0] the S4D bilinear kernel, K[p−1] the order-p one.

    Lambda: (H, N) complex (or real); B, C: (H, N), Lambda's dtype; log_dt: (H,), Lambda's real
    dtype; L, order >= 1; method: 'pb' | 'kb' (module docstring); conj_half as `diag_kernel`.
    Returns Lambda's real dtype on Lambda's device.
    """
    v.method("method", method, METHODS)
    L = check_diag(Lambda, B, C, log_dt, L, "bilinear", conj_half)
    order = _order(order)
    return _kernels(Lambda, B, C, log_dt, L, order, method, conj_half).to(
        v.real_dtype(Lambda.dtype))


CORRELATIONS = ("runs", "binomial")


def _delayed(x: torch.Tensor, lag: int) -> torch.Tensor:
    """x delayed by `lag` samples along the last axis, zeros in front (same length)."""
    L = x.shape[-1]
    return torch.nn.functional.pad(x[..., : max(L - lag, 0)], (lag, 0))[..., :L]


def correlations(u: torch.Tensor, order: int, correlation: str = "runs") -> torch.Tensor:
    """The correlation products for p = 1 … order: (order, *u.shape), 0 for t < p − 1.

    'runs': c_p[t] = u_t·u_(t−1)···u_(t−p+1); 'binomial' (the code's `upgrade_degree`):
    c_p[t] = c_(p−1)[t]·c_(p−1)[t−1]. u: (..., L) real; computed in u's dtype (one rounding per
    product).
    """
    v.method("correlation", correlation, CORRELATIONS)
    out = [u]
    for p in range(2, order + 1):
        factor = _delayed(u, p - 1) if correlation == "runs" else _delayed(out[-1], 1)
        out.append(out[-1] * factor)
    return torch.stack(out)


def liquid_conv(u: torch.Tensor, Lambda: torch.Tensor, B: torch.Tensor, C: torch.Tensor,
                log_dt: torch.Tensor, order: int, method: str = "pb",
                conj_half: bool = True, correlation: str = "runs") -> torch.Tensor:
    """Liquid-S4's output y = Σ_p K_p ∗ c_p (batch, H, L).

    u: (batch, H, L) real, Lambda's real dtype; Lambda, B, C: (H, N); log_dt: (H,); order >= 1;
    method: 'pb' | 'kb'; correlation: 'runs' (the paper's) | 'binomial' (the code's
    `upgrade_degree`). Returns u's dtype and device.
    """
    v.method("method", method, METHODS)
    v.method("correlation", correlation, CORRELATIONS)
    v.real_tensor("u", u)
    if u.ndim != 3 or u.shape[-1] < 1:
        raise ValueError(f"u: expected shape (batch, channels, length) with length >= 1, got "
                         f"{tuple(u.shape)}")
    v.tensor("Lambda", Lambda)
    if u.dtype != v.real_dtype(Lambda.dtype):
        raise TypeError(f"u: expected dtype {v.real_dtype(Lambda.dtype)} (the real dtype of "
                        f"Lambda), got {u.dtype}")
    v.same_device("u", u, "Lambda", Lambda)
    if Lambda.ndim == 2 and u.shape[1] != Lambda.shape[0]:
        raise ValueError(f"u: expected {Lambda.shape[0]} channels (those of Lambda), got shape "
                         f"{tuple(u.shape)}")
    L = u.shape[-1]
    check_diag(Lambda, B, C, log_dt, L, "bilinear", conj_half)
    order = _order(order)
    work = v.work_dtype(u.dtype)
    K = _kernels(Lambda, B, C, log_dt, L, order, method, conj_half).to(work)  # (P, H, L)
    c = correlations(u.to(work), order, correlation)  # (P, batch, H, L)
    if method == "pb":
        y = conv._causal(c[0], K[0], "fft")
        for p in range(1, order):
            y = y + K[p, :, :1] * c[p]
    else:
        n = conv.fft_length(L, L)
        spec = torch.fft.rfft(c, n=n) * torch.fft.rfft(K, n=n)[:, None]
        y = torch.fft.irfft(spec.sum(0), n=n)[..., :L]
    return y.to(u.dtype)

"""Griffin's RG-LRU recurrence (docs/recurrent.md#rg_lru) in PyTorch: `rg_lru`.

    r_t = σ(gate_a_t),  i_t = σ(gate_x_t),  log a_t = −c·r_t·softplus(Λ)        (c = 8)
    a_t = exp(log a_t),  m_t = √(1 − a_t²)                  (a_t = 0 and m_t = 1 at a reset)
    h_t = a_t·h_{t−1} + m_t·(i_t·x_t),    h_{−1} = h0 (0 if None),    y_t = h_t

The primitive is the recurrence, not the layer: the gate pre-activations (the outputs of the
layer's two block-diagonal linear maps) are its inputs. Shapes: x, gate_x, gate_a
(batch, L, width); a_param Λ (width,); reset (batch, L) bool or None; h0 (batch, width) or None.

Numerics: √(1 − a²) is formed as √(−expm1(2·log a)), which keeps its relative error a few u as
a → 1 (1 − a² cancels there); softplus as max(Λ, 0) + log1p(e^{−|Λ|}), which neither overflows
nor loses e^Λ below u. The recurrence runs in `ssmspec.impl.scans.linear_scan` (method
`sequential`, `associative` or `chunked`), over time as its last axis. fp16/bf16 are computed in
fp32 and rounded once; both outputs (y and the final state) come back in x's dtype.
"""

from __future__ import annotations

import torch

from ssmspec.impl import _validate as v
from ssmspec.impl.scans import linear_scan

METHODS = ("sequential", "associative", "chunked")
C = 8.0


def softplus(z: torch.Tensor) -> torch.Tensor:
    """log(1 + e^z) = max(z, 0) + log1p(e^{−|z|}), without overflow or cancellation."""
    return z.clamp_min(0) + torch.log1p(torch.exp(-z.abs()))


def _check(x, gate_x, gate_a, a_param, reset, h0, method):
    v.method("method", method, METHODS)
    v.real_tensor("x", x)
    if x.ndim != 3 or x.shape[1] < 1:
        raise ValueError(f"x: expected shape (batch, L, width) with L >= 1, got "
                         f"{tuple(x.shape)}")
    v.like("gate_x", gate_x, "x", x)
    v.like("gate_a", gate_a, "x", x)
    v.beside("a_param", a_param, "x", x, (x.shape[2],), "(width,)")
    if reset is not None:
        if not isinstance(reset, torch.Tensor) or reset.dtype != torch.bool:
            got = reset.dtype if isinstance(reset, torch.Tensor) else type(reset).__name__
            raise TypeError(f"reset: expected a bool tensor, got {got}")
        v.same_device("reset", reset, "x", x)
        v.shape("reset", reset, x.shape[:2], "(batch, L)")
    if h0 is not None:
        v.beside("h0", h0, "x", x, (x.shape[0], x.shape[2]), "(batch, width)")


def log_decay(gate_a, a_param, c: float = C):
    """log a_t = −c·σ(gate_a_t)·softplus(Λ), (batch, L, width)."""
    return -c * torch.sigmoid(gate_a) * softplus(a_param)


def decay(log_a, reset):
    """(a, m) = (exp(log a), √(−expm1(2·log a))), with a = 0 and m = 1 where `reset` (batch, L)."""
    a = torch.exp(log_a)
    m = torch.sqrt(-torch.expm1(2 * log_a))
    if reset is not None:
        at_reset = reset[..., None]
        a = torch.where(at_reset, torch.zeros_like(a), a)
        m = torch.where(at_reset, torch.ones_like(m), m)
    return a, m


def coefficients(gate_x, gate_a, a_param, reset, c: float = C):
    """(a, m·i), each (batch, L, width) in the tensors' dtype: the decay and the input weight."""
    a, m = decay(log_decay(gate_a, a_param, c), reset)
    return a, m * torch.sigmoid(gate_x)


def recurrence(x, a, w, h0, method: str):
    """h_t = a_t·h_{t−1} + w_t·x_t by the linear scan, over axis 1 of (batch, L, width) tensors
    in the working dtype; (y, final state) rounded to x's dtype."""
    b = w * x.to(w.dtype)
    h = linear_scan(a.transpose(1, 2), b.transpose(1, 2),
                    None if h0 is None else h0.to(w.dtype), method=method)  # (batch, width, L)
    return h.transpose(1, 2).contiguous().to(x.dtype), h[..., -1].contiguous().to(x.dtype)


def rg_lru(x: torch.Tensor, gate_x: torch.Tensor, gate_a: torch.Tensor, a_param: torch.Tensor,
           reset: torch.Tensor | None = None, h0: torch.Tensor | None = None,
           method: str = "sequential") -> tuple[torch.Tensor, torch.Tensor]:
    """(y (batch, L, width), final state (batch, width)) in x's dtype; see the module docstring.

    x, gate_x, gate_a: (batch, L, width), one real floating dtype and device; a_param: (width,);
    reset: (batch, L) bool or None (no reset); h0: (batch, width) or None (zero);
    method: 'sequential' | 'associative' | 'chunked' (the linear scan's).
    """
    _check(x, gate_x, gate_a, a_param, reset, h0, method)
    work = v.work_dtype(x.dtype)
    a, w = coefficients(gate_x.to(work), gate_a.to(work), a_param.to(work), reset)
    return recurrence(x, a, w, h0, method)

"""Adapters for outside implementations that install from PyPI (the `perf` extra), so that
`ssmspec check` and the properties run on them under ssmspec's canonical signatures.

Each adapter is `adapter(fn) -> fn'`: it maps only the calling convention, never the numerics
(no casts to a wider format, no clean-up of results), so what ssmspec measures is the peer's own
arithmetic. What each maps is written beside it; `tox -e peers` runs them, with the expected
failures in this folder's `*.xfail.toml` (data, with reasons).
"""

from __future__ import annotations

from collections.abc import Callable

import torch


def _fold_h0(a: torch.Tensor, b: torch.Tensor, h0, reverse: bool) -> torch.Tensor:
    """A scan without an initial state runs from h0 when its first input absorbs a·h0:
    h_first = a·h0 + b (one extra rounding, which the bound's first step admits)."""
    if h0 is None:
        return b
    b = b.clone()
    i = -1 if reverse else 0
    b[..., i] = b[..., i] + a[..., i] * h0
    return b


def accelerated_scan(fn: Callable) -> Callable:
    """`accelerated_scan.ref.scan(gates, tokens, reverse=False)`, gates/tokens (B, C, T)
    contiguous, x_t = a_t x_{t−1} + b_t (reverse: x_t = a_t x_{t+1} + b_t), no initial state:
    any leading dims are flattened to C, h0 is folded into the first token."""

    def linear_scan(a, b, h0=None, reverse=False, method="associative"):
        shape, L = a.shape, a.shape[-1]
        b = _fold_h0(a, b, h0, reverse)
        out = fn(a.reshape(1, -1, L).contiguous(), b.reshape(1, -1, L).contiguous(),
                 reverse=reverse)
        return out.reshape(shape)

    return linear_scan


def s5_associative_scan(fn: Callable) -> Callable:
    """`s5.jax_compat.associative_scan(operator, (a, b), axis)` with S5's `binary_operator`
    (A_j·A_i, A_j·Bu_i + Bu_j): the scan runs along `axis` (the last), reverse by its own
    flag; h0 is folded into the first element as S5's `apply_ssm` does with its `state`."""
    from s5.s5_model import binary_operator

    def linear_scan(a, b, h0=None, reverse=False, method="associative"):
        b = _fold_h0(a, b, h0, reverse)
        _, h = fn(binary_operator, (a, b), axis=a.ndim - 1, reverse=reverse)
        return h

    return linear_scan

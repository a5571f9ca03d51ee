"""Adapters for `flash-linear-attention` (`fla`, pinned in `ssmspec.peers.PINS`).

Conventions (from its public code): HGRN's `naive_recurrent_hgrn(x, g, initial_state,
output_final_state)`, `fused_recurrent_hgrn` and `chunk_hgrn` (Triton) take x, g (B, T, D),
time in the middle, and compute h_t = exp(g_t)·h_{t−1} + x_t: the gate is given in log space.
They map onto linear_scan's `logspace` method, whose contract is a ≥ 0: the adapter passes
g = log(a) (one rounding of a relative u per gate, which the logspace bound's Σ|log a| term
covers; a = 0 gives g = −inf and exp(g) = 0 exactly), moves time to the middle (every leading
axis flattened into D) and h0 into `initial_state` (B, D). No reverse. The naive reference
computes in fp32 whatever the input format (x, g cast by `.float()`) and rounds h back.
The Triton kernels run on CUDA; on the CPU fla falls back (its `hardware` warning) and they are
registered for `--device cuda` only.
"""

from __future__ import annotations

import torch

from ssmspec.peers.records import Peer

MODULE = "fla"
_HGRN = "fla.ops.hgrn"


def hgrn(fn):
    """linear_scan(a, b, h0, reverse, method='logspace') from an HGRN scan."""

    def linear_scan(a, b, h0=None, reverse=False, method="logspace"):
        shape, L = a.shape, a.shape[-1]
        x = b.reshape(1, -1, L).transpose(1, 2).contiguous()
        g = torch.log(a).reshape(1, -1, L).transpose(1, 2).contiguous()
        init = None if h0 is None else h0.reshape(1, -1)
        out, _ = fn(x, g, initial_state=init, output_final_state=False)
        return out.transpose(1, 2).reshape(shape)

    return linear_scan


PEERS = (
    Peer("flash-linear-attention", f"{_HGRN}.naive:naive_recurrent_hgrn", "linear_scan",
         f"{__name__}:hgrn", ("logspace",), ("reverse",)),
    Peer("flash-linear-attention", f"{_HGRN}:fused_recurrent_hgrn", "linear_scan",
         f"{__name__}:hgrn", ("logspace",), ("reverse",), devices=("cuda",)),
    Peer("flash-linear-attention", f"{_HGRN}:chunk_hgrn", "linear_scan",
         f"{__name__}:hgrn", ("logspace",), ("reverse",), devices=("cuda",)),
)

"""Adapters for `flash-linear-attention` (`fla`, pinned in `ssmspec.peers.PINS`).

Conventions (from its public code): HGRN's `naive_recurrent_hgrn(x, g, initial_state,
output_final_state)`, `fused_recurrent_hgrn` and `chunk_hgrn` (Triton) take x, g (B, T, D),
time in the middle, and compute h_t = exp(g_t)·h_{t−1} + x_t: the gate is given in log space.
They map onto linear_scan's `logspace` method, whose contract is a ≥ 0: the adapter passes
g = log(a) (one rounding of a relative u per gate, which the logspace bound's Σ|log a| term
covers; a = 0 gives g = −inf and exp(g) = 0 exactly), moves time to the middle (every leading
axis flattened into D) and h0 into `initial_state` (B, D). No reverse. The naive reference
computes in fp32 whatever the input format (x, g cast by `.float()`) and rounds h back.
Simple GLA's `naive_recurrent_simple_gla` (a scalar decay per head) maps onto ssd_scan (see
`simple_gla`). The Triton kernels run on CUDA, and are registered for `--device cuda` only: on
a CPU torch with triton 3.9 under TRITON_INTERPRET=1, `fused_recurrent_hgrn` and `chunk_hgrn`
raise "0 active drivers" at launch (fla asks the driver for the device before the interpreter
runs).
"""

from __future__ import annotations

import torch

from ssmspec.peers.mamba_ssm import discretised_heads
from ssmspec.peers.records import Peer

MODULE = "fla"
_HGRN = "fla.ops.hgrn"
_GLA = "fla.ops.simple_gla"


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


def _simple_gla(fn, chunked: bool):
    def ssd(x, dt, A, B, C, chunk_size=64, initial_states=None, return_final_states=False):
        v, g, k, q = discretised_heads(x, dt, A, B, C)
        h0 = None if initial_states is None else initial_states.transpose(-1, -2)
        more = {"chunk_size": chunk_size} if chunked else {}
        o, S = fn(q, k, v, g, scale=1.0, initial_state=h0, output_final_state=True, **more)
        return (o, S.transpose(-1, -2)) if return_final_states else o

    return ssd


def simple_gla(fn):
    """ssd_scan from simple GLA's `naive_recurrent_simple_gla(q, k, v, g, scale, initial_state,
    output_final_state)`: S_t = exp(g_t)·S_{t−1} + k_t v_tᵀ (S (B, H, K, V)), o_t = scale·q_tᵀS_t,
    a scalar decay per head: g = Δ·a, k = B, v = x·Δ, q = C, scale = 1; its state is ssd_scan's
    final state transposed (P, N) <-> (K, V). It computes in fp32 (`.float()`) and returns o in
    the input's dtype and the final state in fp32."""
    return _simple_gla(fn, chunked=False)


def simple_gla_chunk(fn):
    """ssd_scan from `naive_chunk_simple_gla(q, k, v, g, initial_state, output_final_state,
    chunk_size, scale)`: the same mapping as `simple_gla`, ssd_scan's chunk_size passed as its
    own (it pads T to a multiple of it with zeros). Within a chunk it forms
    exp(cumsum(g)_i − cumsum(g)_j) and exp(cumsum(g)_last − cumsum(g)_j), as Mamba-2's
    ssd_minimal_discrete does. It computes in fp32 (`.to(torch.float32)`) and returns o in fp32
    whatever the input format (no cast back), the final state in the dtype of the arithmetic."""
    return _simple_gla(fn, chunked=True)


# fla's Triton kernels on a CPU torch: tried under TRITON_INTERPRET=1 (triton 3.9), they raise
# at their first launch, in triton's Autotuner (`do_bench` -> driver.active.get_benchmarker())
TRITON_ON_CPU = ("under TRITON_INTERPRET=1 on a CPU torch it raises 'RuntimeError: 0 active "
                 "drivers' at launch (triton's Autotuner asks driver.active for a benchmarker "
                 "before the interpreter runs)")

PEERS = (
    Peer("flash-linear-attention", f"{_HGRN}.naive:naive_recurrent_hgrn", "linear_scan",
         f"{__name__}:hgrn", ("logspace",), ("reverse",)),
    # its chunk form: the cumulative gate is `g.view(B, chunk_size, D)`, so it runs at
    # T = chunk_size (64) only and raises at every other T (pinned in tests/test_peers.py)
    Peer("flash-linear-attention", f"{_HGRN}.naive:naive_chunk_hgrn", "linear_scan",
         f"{__name__}:hgrn", ("logspace",), ("reverse",)),
    Peer("flash-linear-attention", f"{_HGRN}:fused_recurrent_hgrn", "linear_scan",
         f"{__name__}:hgrn", ("logspace",), ("reverse",), devices=("cuda",),
         unavailable=TRITON_ON_CPU),
    Peer("flash-linear-attention", f"{_HGRN}:chunk_hgrn", "linear_scan",
         f"{__name__}:hgrn", ("logspace",), ("reverse",), devices=("cuda",),
         unavailable=TRITON_ON_CPU),
    Peer("flash-linear-attention", f"{_GLA}.naive:naive_recurrent_simple_gla",
         "ssd_scan", f"{__name__}:simple_gla", ("chunked",)),
    Peer("flash-linear-attention", f"{_GLA}.naive:naive_chunk_simple_gla",
         "ssd_scan", f"{__name__}:simple_gla_chunk", ("chunked",)),
    Peer("flash-linear-attention", f"{_GLA}:chunk_simple_gla", "ssd_scan",
         f"{__name__}:simple_gla", ("chunked",), devices=("cuda",),
         unavailable=TRITON_ON_CPU),
)

"""Adapters for `mamba-ssm` (pinned in `ssmspec.peers.PINS`): Mamba's selective scan, its
recurrent step, and Mamba-2's SSD.

Conventions (from its public code):
- `selective_scan_ref(u, delta, A, B, C, D, z, delta_bias, delta_softplus, return_last_state)`
  and `selective_scan_fn` (CUDA): the layouts are ssmspec's (u, delta (b, D, L); A (D, N);
  B/C (D, N), (b, N, L) or (b, G, N, L)); its discretisation is Ā = exp(ΔA), B̄ = Δ·B
  (`zoh_approx`); no initial state; for real A the output is y = C·h (conj_half=None).
  Dtypes: it casts delta, u to fp32 and, where per step, B and C to fp32 (so fp64 runs
  compute in fp32), and rounds y back to u's dtype.
- `selective_state_update_ref(state, x, dt, A, B, C, D, z, dt_bias, dt_softplus)` and
  `selective_state_update` (Triton): one step of the same recurrence on a state (b, D, N),
  updated in place, B/C (b, N) for the step; no cast. The adapter runs it L times from the
  initial state (zeros if none): a selective_scan with B/C per step.
- `ssd_minimal_discrete(X, A, B, C, block_len, initial_states)`: the discretised SSD, X = x·Δ
  (b, L, H, P), A = Δ·a (b, L, H), B/C per head (b, L, H, N), L a multiple of block_len. The
  adapter forms x·Δ and Δ·a (the two products Mamba-2 forms before calling it, which the ssd_scan
  bound counts), repeats B/C over the heads of each group (exact) and pads L to a multiple of the
  chunk with x = 0, a = 0 (exact: the state passes through unchanged), cutting the output back;
  its initial states are (b, 1, H, P, N) (one chunk's worth, concatenated before the chunks).
- `mamba_chunk_scan_combined(x, dt, A, B, C, chunk_size, …, initial_states, return_final_states)`
  (Triton, CUDA): ssd_scan's own convention, no mapping.
Real formats only: the complex path of its reference is a different layout (B/C complex as
interleaved real pairs), not mapped here.
"""

from __future__ import annotations

import torch

from ssmspec.peers.records import Peer

MODULE = "mamba_ssm"
_SCAN = "mamba_ssm.ops.selective_scan_interface"
_STEP = "mamba_ssm.ops.triton.selective_state_update"
REAL = ("fp64", "fp32", "fp16", "bf16")


def selective_scan(fn):
    """`selective_scan_ref`/`selective_scan_fn` under selective_scan's canonical signature
    (scope: zoh_approx, without initial_state, real formats)."""

    def scan(u, delta, A, B, C, D=None, z=None, delta_bias=None, delta_softplus=False,
             discretization="zoh_approx", return_last_state=False, conj_half=None,
             initial_state=None):
        return fn(u, delta, A, B, C, D=D, z=z, delta_bias=delta_bias,
                  delta_softplus=delta_softplus, return_last_state=return_last_state)

    return scan


def selective_step(fn):
    """`selective_state_update_ref`/`selective_state_update` run over L steps as a
    selective_scan with B/C per step (b, N, L)."""

    def scan(u, delta, A, B, C, D=None, z=None, delta_bias=None, delta_softplus=False,
             discretization="zoh_approx", return_last_state=False, conj_half=None,
             initial_state=None):
        b, Dn, L = u.shape
        state = (initial_state.clone() if initial_state is not None
                 else u.new_zeros(b, Dn, A.shape[-1]))
        ys = [fn(state, u[..., t], delta[..., t], A, B[..., t], C[..., t], D=D,
                 z=None if z is None else z[..., t], dt_bias=delta_bias,
                 dt_softplus=delta_softplus) for t in range(L)]
        y = torch.stack(ys, dim=-1)
        return (y, state) if return_last_state else y

    return scan


def discretised_heads(x, dt, A, B, C):
    """(x·Δ, Δ·a, B, C per head): the products Mamba-2 forms before its SSD (counted by the
    ssd_scan bound), B/C repeated over the heads of each group (exact)."""
    rep = x.shape[2] // B.shape[2]
    return (x * dt[..., None], dt * A, B.repeat_interleave(rep, dim=2),
            C.repeat_interleave(rep, dim=2))


def ssd_minimal(fn):
    """`ssd_minimal_discrete` under ssd_scan's canonical signature (see the module docstring)."""

    def ssd(x, dt, A, B, C, chunk_size=64, initial_states=None, return_final_states=False):
        L = x.shape[1]
        X, a, B, C = discretised_heads(x, dt, A, B, C)
        pad = -L % chunk_size
        if pad:
            X, a, B, C = (torch.nn.functional.pad(t, (0, 0) * (t.dim() - 2) + (0, pad))
                          for t in (X, a, B, C))
        h0 = None if initial_states is None else initial_states[:, None]  # (b, 1, H, P, N)
        y, final = fn(X, a, B, C, chunk_size, initial_states=h0)
        y = y[:, :L]
        return (y, final) if return_final_states else y

    return ssd


def chunk_scan_combined(fn):
    """`mamba_chunk_scan_combined`: ssd_scan's convention, called by keyword."""

    def ssd(x, dt, A, B, C, chunk_size=64, initial_states=None, return_final_states=False):
        return fn(x, dt, A, B, C, chunk_size, initial_states=initial_states,
                  return_final_states=return_final_states)

    return ssd


PEERS = (
    Peer("mamba-ssm", f"{_SCAN}:selective_scan_ref", "selective_scan",
         f"{__name__}:selective_scan", ("zoh_approx",), ("initial_state",), dtypes=REAL),
    Peer("mamba-ssm", f"{_SCAN}:selective_scan_fn", "selective_scan",
         f"{__name__}:selective_scan", ("zoh_approx",), ("initial_state",), dtypes=REAL,
         devices=("cuda",)),
    Peer("mamba-ssm", f"{_STEP}:selective_state_update_ref", "selective_scan",
         f"{__name__}:selective_step", ("zoh_approx",),
         ("layout=invariant", "layout=grouped"), dtypes=REAL),
    Peer("mamba-ssm", f"{_STEP}:selective_state_update", "selective_scan",
         f"{__name__}:selective_step", ("zoh_approx",),
         ("layout=invariant", "layout=grouped"), dtypes=REAL, devices=("cuda",)),
    Peer("mamba-ssm", "mamba_ssm.modules.ssd_minimal:ssd_minimal_discrete", "ssd_scan",
         f"{__name__}:ssd_minimal", ("chunked",)),
    Peer("mamba-ssm", "mamba_ssm.ops.triton.ssd_combined:mamba_chunk_scan_combined", "ssd_scan",
         f"{__name__}:chunk_scan_combined", ("chunked",), devices=("cuda",)),
)

"""Adapters for `mambapy` (pinned in `ssmspec.peers.PINS`).

Conventions (from its public code): `mambapy.pscan.pscan(A, X)` (`PScan.apply`) takes A, X
(B, L, D, N), time second, and returns H with H_t = A_t·H_{t−1} + X_t, H_{−1} = 0, by a
Blelloch scan over L padded to a power of two. The adapter moves time to the second axis (every
leading axis flattened into D), folds h0 into the first input (one extra rounding, which the
bound's first step admits) and runs `reverse` by flipping time (exact). Method `associative`.
No cast: it computes in the input's format.

Its selective scan is two methods of `mambapy.mamba.MambaBlock`, `selective_scan` (through
pscan) and `selective_scan_seq` (a loop over L), each `(self, x, delta, A, B, C, D) -> y` with
x, delta (B, L, ED) time second, A (ED, N), B/C per step (B, L, N), D (ED,) required, and
Ā = exp(ΔA), B̄ = Δ·B (zoh_approx), no initial state, no z, no bias or softplus (the block
applies those outside), real A (a complex A would give a complex y, not selective_scan's
2·Re convention). `selective_scan` reads nothing from `self`; `selective_scan_seq` reads
`self.config.d_inner` and `.d_state` (the shape of its zero state, allocated in the default
dtype, fp32). The adapter calls the unbound function with a stand-in `self` holding only those
two numbers (no MambaBlock is built: that would draw weights), moves time to the middle, passes
D = 0 when there is no skip (0·u = 0 and y + 0 = y exactly, u finite), and reads the last state,
which neither returns, out of the peer's own output: a second call with D = 0 and, for each n
of N, C = e_n (the one-hot vector) gives y_{L−1} = h_{L−1}·e_n = h_{L−1}[n] exactly (products
by 1 and 0, sums of zeros; h finite). C does not enter the recurrence, so that call computes the
same states.
"""

from __future__ import annotations

from types import SimpleNamespace

import torch

from ssmspec.peers.records import Peer

MODULE = "mambapy"


def pscan(fn):
    """linear_scan(a, b, h0, reverse, method='associative') from mambapy's pscan."""
    from ssmspec.peers import _fold_h0

    def linear_scan(a, b, h0=None, reverse=False, method="associative"):
        shape, L = a.shape, a.shape[-1]
        b = _fold_h0(a, b, h0, reverse)
        if reverse:
            a, b = a.flip(-1), b.flip(-1)
        A = a.reshape(1, -1, L, 1).transpose(1, 2).contiguous()
        X = b.reshape(1, -1, L, 1).transpose(1, 2).contiguous()
        h = fn(A, X).transpose(1, 2).reshape(shape)
        return h.flip(-1) if reverse else h

    return linear_scan


def selective_scan(fn):
    """selective_scan (zoh_approx, B/C per step, real) from `MambaBlock.selective_scan` or
    `.selective_scan_seq` (the unbound method: see the module docstring). Under
    `ssmspec.peers.TIMING` the last state is not read out (None)."""
    from ssmspec.peers import TIMING

    def scan(u, delta, A, B, C, D=None, z=None, delta_bias=None, delta_softplus=False,
             discretization="zoh_approx", return_last_state=False, conj_half=None,
             initial_state=None):
        b, Dn, L = u.shape
        N = A.shape[-1]
        me = SimpleNamespace(config=SimpleNamespace(d_inner=Dn, d_state=N))
        x, dt, Bt = u.transpose(1, 2), delta.transpose(1, 2), B.transpose(1, 2)
        skip = u.new_zeros(Dn) if D is None else D
        y = fn(me, x, dt, A, Bt, C.transpose(1, 2), skip).transpose(1, 2)
        if not return_last_state:
            return y
        if TIMING.get():  # timed: the peer's own work only (the caller ignores the state)
            return y, None
        # N read-outs batched after each other: batch n·b + i has C = e_n at every step
        eye = torch.eye(N, dtype=C.dtype, device=C.device)
        read = eye[:, None, None, :].expand(N, b, L, N).reshape(N * b, L, N)
        rep = lambda t: t.repeat(N, 1, 1)  # noqa: E731
        h = fn(me, rep(x), rep(dt), A, rep(Bt), read, u.new_zeros(Dn))[:, -1]  # (N·b, ED)
        return y, h.reshape(N, b, Dn).permute(1, 2, 0)

    return scan


_BLOCK = "mambapy.mamba:MambaBlock"
# what the block applies outside these methods, and the layouts it never passes
_SELECTIVE_WITHOUT = ("initial_state", "z", "delta_bias", "delta_softplus", "layout=invariant",
                      "layout=grouped")

PEERS = (
    Peer("mambapy", "mambapy.pscan:pscan", "linear_scan", f"{__name__}:pscan",
         ("associative",)),
    Peer("mambapy", f"{_BLOCK}.selective_scan", "selective_scan", f"{__name__}:selective_scan",
         ("zoh_approx",), _SELECTIVE_WITHOUT, dtypes=("fp64", "fp32", "fp16", "bf16")),
    Peer("mambapy", f"{_BLOCK}.selective_scan_seq", "selective_scan",
         f"{__name__}:selective_scan", ("zoh_approx",), _SELECTIVE_WITHOUT,
         dtypes=("fp64", "fp32", "fp16", "bf16")),
)

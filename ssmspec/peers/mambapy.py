"""Adapters for `mambapy` (pinned in `ssmspec.peers.PINS`).

Conventions (from its public code): `mambapy.pscan.pscan(A, X)` (`PScan.apply`) takes A, X
(B, L, D, N), time second, and returns H with H_t = A_t·H_{t−1} + X_t, H_{−1} = 0, by a
Blelloch scan over L padded to a power of two. The adapter moves time to the second axis (every
leading axis flattened into D), folds h0 into the first input (one extra rounding, which the
bound's first step admits) and runs `reverse` by flipping time (exact). Method `associative`.
No cast: it computes in the input's format.
"""

from __future__ import annotations

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


PEERS = (
    Peer("mambapy", "mambapy.pscan:pscan", "linear_scan", f"{__name__}:pscan",
         ("associative",)),
)

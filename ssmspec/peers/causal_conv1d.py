"""Adapters for `causal-conv1d` (pinned in `ssmspec.peers.PINS`).

Conventions (from its public code): `causal_conv1d_ref(x, weight, bias, …, activation)` and
`causal_conv1d_fn` (CUDA) take x (batch, dim, seqlen) and a depthwise weight (dim, width) applied
as `F.conv1d` does, a correlation: weight[k] multiplies x[t − (width − 1) + k]. The reference
casts x to the weight's dtype and the output back to x's. ssmspec's kernel K (H, L_K) is
convolved (K[k] multiplies u[t − k]), so the adapter passes K flipped (exact); a kernel longer
than u is applied as it is (only its first L taps reach the output). The skip D·u is not part of
causal-conv1d: the adapter adds it after (one product and one sum, which causal_conv's bound
counts: its growth has the skip term). Method `direct` only.
"""

from __future__ import annotations

from ssmspec.peers.records import Peer

MODULE = "causal_conv1d"


def causal_conv(fn):
    """causal_conv(u (B, H, L), K (H, L_K), D (H,) | None, method) from causal_conv1d."""

    def conv(u, K, D=None, method="direct"):
        y = fn(u, K.flip(-1))
        return y if D is None else y + D[:, None] * u

    return conv


PEERS = (
    Peer("causal-conv1d", "causal_conv1d.causal_conv1d_interface:causal_conv1d_ref",
         "causal_conv", f"{__name__}:causal_conv", ("direct",)),
    Peer("causal-conv1d", "causal_conv1d.causal_conv1d_interface:causal_conv1d_fn",
         "causal_conv", f"{__name__}:causal_conv", ("direct",), devices=("cuda",)),
)

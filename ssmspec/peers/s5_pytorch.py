"""`s5-pytorch` (pinned in `ssmspec.peers.PINS`): S5's associative scan with its
`binary_operator`, through `ssmspec.peers.s5_associative_scan` (conventions in its docstring)."""

from ssmspec.peers.records import Peer

MODULE = "s5"

PEERS = (
    Peer("s5-pytorch", "s5.jax_compat:associative_scan", "linear_scan",
         "ssmspec.peers:s5_associative_scan", ("associative",)),
)

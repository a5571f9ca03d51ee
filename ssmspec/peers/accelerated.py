# named `accelerated`, not `accelerated_scan`: that name is the adapter function in ssmspec.peers
"""`accelerated-scan` (pinned in `ssmspec.peers.PINS`): its reference torch scan and its Triton
scan, through `ssmspec.peers.accelerated_scan` (conventions in its docstring). The Triton scan
needs CUDA (and L a power of two, from 32 up: its own contract)."""

from ssmspec.peers.records import Peer

MODULE = "accelerated_scan"

PEERS = (
    Peer("accelerated-scan", "accelerated_scan.ref:scan", "linear_scan",
         "ssmspec.peers:accelerated_scan", ("associative",)),
    Peer("accelerated-scan", "accelerated_scan.triton:scan", "linear_scan",
         "ssmspec.peers:accelerated_scan", ("associative",), devices=("cuda",)),
)

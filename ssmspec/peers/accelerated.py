# named `accelerated`, not `accelerated_scan`: that name is the adapter function in ssmspec.peers
"""`accelerated-scan` (pinned in `ssmspec.peers.PINS`): its reference torch scan (`ref.scan`)
and its kernels, `scalar.scan` (Triton, real formats), `complex.scan` (Triton, complex gates)
and `warp.scan` (CUDA C++, built at import by torch's `load_inline`), through
`ssmspec.peers.accelerated_scan` / `accelerated_scan_forward` (conventions in their
docstrings)."""

from ssmspec.peers.records import Peer

MODULE = "accelerated_scan"
_FORWARD = "ssmspec.peers:accelerated_scan_forward"
# its Triton kernels are plain @triton.jit (no autotuner): triton decides at decoration whether
# to interpret, so they run on the CPU only when TRITON_INTERPRET=1 is set before the module is
# imported, about 2 s a call at any size (measured at 4 channels, T <= 300)
_INTERPRETED = ("runs on the CPU only under TRITON_INTERPRET=1 set before it is imported "
                "(~2 s a call), not part of the CPU run")

PEERS = (
    Peer("accelerated-scan", "accelerated_scan.ref:scan", "linear_scan",
         "ssmspec.peers:accelerated_scan", ("associative",)),
    Peer("accelerated-scan", "accelerated_scan.scalar:scan", "linear_scan", _FORWARD,
         ("associative",), dtypes=("fp64", "fp32", "fp16", "bf16"), devices=("cuda",),
         unavailable=_INTERPRETED),
    Peer("accelerated-scan", "accelerated_scan.complex:scan", "linear_scan", _FORWARD,
         ("associative",), dtypes=("c128", "c64"), devices=("cuda",), unavailable=_INTERPRETED),
    # its own contract: fp32/fp16/bf16, seqlen a power of 2 from 32 to 65536 (TORCH_CHECK)
    Peer("accelerated-scan", "accelerated_scan.warp:scan", "linear_scan", _FORWARD,
         ("associative",), dtypes=("fp32", "fp16", "bf16"), devices=("cuda",)),
)

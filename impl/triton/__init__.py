"""Triton kernels (the `triton` implementations): `linear_scan`, `selective_scan`, `diag_kernel`
and `ema_kernel`, with the same contracts, checks and errors as the PyTorch built-ins.

Triton is an optional extra (`pip install ssmspec[triton]`). Nothing in this package imports
triton at import time: `available()` says whether the kernels can run here, and the kernel
modules (`scan`, `selective`, `kernels`) are imported only when it returns None. They run on CUDA
tensors, or on CPU tensors under the Triton interpreter (TRITON_INTERPRET=1, which must be set
before triton is imported), slowly, which is how they are verified without a GPU.
"""

from __future__ import annotations

import importlib.util
import os


def interpreted() -> bool:
    """Whether Triton runs its kernels in the interpreter (on CPU tensors)."""
    return os.environ.get("TRITON_INTERPRET", "0") not in ("", "0")


def available() -> str | None:
    """None if the Triton kernels can run here, else why not."""
    if importlib.util.find_spec("triton") is None:
        return "needs the optional extra triton (pip install 'ssmspec[triton]')"
    if interpreted():
        return None
    import torch

    if not torch.cuda.is_available():
        return "needs CUDA or TRITON_INTERPRET=1"
    return None


def devices() -> tuple[str, ...]:
    """Where the kernels run: CUDA tensors; CPU tensors too under the interpreter."""
    return ("cpu", "cuda") if interpreted() else ("cuda",)


def kernel_device(name: str, x) -> None:
    """Raise ValueError naming `name` for a tensor the kernels cannot read: a CPU tensor outside
    the interpreter."""
    if x.device.type != "cuda" and not interpreted():
        raise ValueError(f"{name}: the Triton kernels need a CUDA tensor (or TRITON_INTERPRET=1), "
                         f"got device {x.device}")

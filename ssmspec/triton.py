"""What the spec modules share to declare their Triton implementations (`ssmspec.impl.triton`)
and the Triton mutants.

The kernels are the implementations named `triton` of linear_scan, selective_scan, diag_kernel
and ema_kernel, checked against the same specs and bounds as the torch built-ins. Availability:
- without the optional extra (`ssmspec[triton]`) the entries are listed, unavailable, with the
  reason; nothing imports triton;
- without CUDA and without TRITON_INTERPRET=1: unavailable ("needs CUDA or TRITON_INTERPRET=1");
- devices: ("cuda",), and ("cpu", "cuda") under the interpreter (TRITON_INTERPRET=1, set before
  anything imports triton), which is how `tox -e triton` verifies them on a CPU-only machine.

Mutants are declared only where the kernels run (`mutants`); their fns take CPU tensors (the
mutant properties run on the CPU): outside the interpreter they move the inputs to CUDA and the
outputs back (`on_kernel_device`).
"""

from __future__ import annotations

import importlib
from collections.abc import Callable

import torch

from ssmspec.impl import triton as triton_impl
from ssmspec.spec import Implementation, Mutant

REASON = triton_impl.available()


def kernel(module: str, name: str) -> Callable | None:
    """`ssmspec.impl.triton.<module>.<name>`, or None where the kernels cannot run (nothing
    imports triton then)."""
    if REASON is not None:
        return None
    return getattr(importlib.import_module(f"ssmspec.impl.triton.{module}"), name)


def implementation(primitive: str, module: str, name: str,
                   methods: tuple[str, ...] | None = None) -> Implementation:
    """The implementation named `triton` of `primitive`: the kernel `module.name`, unavailable
    (with the reason) where it cannot run."""
    return Implementation(primitive, "triton", kernel(module, name), methods=methods,
                          devices=triton_impl.devices(), source="builtin (Triton kernel)",
                          unavailable=REASON)


def on_kernel_device(fn: Callable) -> Callable:
    """`fn` on CPU tensors: as is under the interpreter, else through CUDA and back."""
    if triton_impl.interpreted():
        return fn

    def moved(*args, **kw):
        to = lambda x: x.cuda() if isinstance(x, torch.Tensor) else x  # noqa: E731
        out = fn(*map(to, args), **{k: to(x) for k, x in kw.items()})
        if isinstance(out, tuple):
            return tuple(o.cpu() for o in out)
        return out.cpu()

    return moved


def mutants(declare: Callable[[Callable[[str, str], Callable]], list[Mutant]]) -> list[Mutant]:
    """The Triton mutants `declare(kernel_fn)` returns, where the kernels run (else none);
    `kernel_fn(module, name)` is a mutant kernel wrapped by `on_kernel_device`."""
    if REASON is not None:
        return []
    return declare(lambda module, name: on_kernel_device(kernel(module, name)))


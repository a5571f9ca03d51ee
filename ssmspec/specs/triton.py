"""The Triton kernels (`ssmspec.impl.triton`) registered as the implementations named `triton` of
linear_scan (methods chunked and sequential: one-step blocks), selective_scan, diag_kernel and
ema_kernel, with their mutants.

Same specs, same bounds as the torch built-ins: the kernels are checked by the generic properties
(conformance, laws, bad input) like any implementation. Availability:
- without the optional extra (`ssmspec[triton]`) the entries are listed, unavailable, with the
  reason; nothing imports triton;
- without CUDA and without TRITON_INTERPRET=1: unavailable ("needs CUDA or TRITON_INTERPRET=1");
- devices: ("cuda",), and ("cpu", "cuda") under the interpreter (TRITON_INTERPRET=1, set before
  anything imports triton), which is how `tox -e triton` verifies them on a CPU-only machine.
Why the bounds hold: linear_scan's kernel has at most the sequential recurrence's roundings per
term (`ssmspec.impl.triton.scan`), inside the chunked method's G; the selective kernel's
recurrence is the same chunked structure with its per-step arithmetic (discretisation, B̄·u,
C-contraction, D, gate) written as the built-in's; the kernels' powers are formed in float64 from
log Ā and summed in float64 (tighter than the built-in's working-format matmul).

Mutants (registered only where the kernels run; each witness also runs the torch built-in):
- linear_scan `triton_block_drops_carry`: every block restarts from h0 (the state carried across
  a block boundary is lost); witness L = 2·BLOCK_T + 5.
- selective_scan `triton_block_drops_carry`: every block of steps restarts from a zero state.
- diag_kernel `triton_drops_state_tail`: the loop over the states stops at the last full block
  of BLOCK_N, dropping N mod BLOCK_N states (witness N = BLOCK_N + 3). (A phase l·Im w formed
  in fp32 is *not* a mutant: its l·u·|w| error is what the c64 bound admits — tried, err/bound
  0.016.)
The mutants' fns take CPU tensors (the mutant properties run on the CPU): outside the interpreter
they move the inputs to CUDA and the outputs back.
"""

from __future__ import annotations

import numpy as np
import torch

from ssmspec import registry
from ssmspec.dtypes import dtype
from ssmspec.impl import triton as triton_impl
from ssmspec.spec import Case, Implementation, Mutant
from ssmspec.specs.scans import make_case as scan_case
from ssmspec.strategies import representable

REASON = triton_impl.available()
PRIMITIVES = {
    "linear_scan": ("scan", "linear_scan", ("sequential", "chunked")),
    "selective_scan": ("selective", "selective_scan", None),
    "diag_kernel": ("kernels", "diag_kernel", None),
    "ema_kernel": ("kernels", "ema_kernel", None),
}


def _module(name: str):
    import importlib

    return importlib.import_module(f"ssmspec.impl.triton.{name}")


for _prim, (_mod, _fn, _methods) in PRIMITIVES.items():
    registry.register_implementation(Implementation(
        _prim, "triton", getattr(_module(_mod), _fn) if REASON is None else None,
        methods=_methods, devices=triton_impl.devices(), source="builtin (Triton kernel)",
        unavailable=REASON))


def _on_kernel_device(fn):
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


def _scan_witness(fmt: str) -> Case:
    """2 rows, L = 2·BLOCK_T + 5 steps, a in [0.9, 1] (the carry matters), h0 given."""
    from ssmspec.impl.triton.scan import BLOCK_T

    rng = np.random.default_rng(8)
    shape = (2, 2 * BLOCK_T + 5)
    a = rng.uniform(0.9, 1.0, shape)
    b = rng.normal(size=shape)
    h0 = rng.normal(size=shape[:1])
    if dtype(fmt).is_complex:
        a = a * np.exp(1j * rng.uniform(-0.1, 0.1, shape))
        b = b + 1j * rng.normal(size=shape)
        h0 = h0 + 1j
    return scan_case(fmt, a, b, h0)


def _selective_witness(fmt: str) -> Case:
    """batch 1, D 2, N 2, L = 2·BLOCK_T + 3, slow decay, per-step B, C, softplus with bias, D, z."""
    from ssmspec.impl.triton.selective import BLOCK_T

    L = 2 * BLOCK_T + 3
    rng = np.random.default_rng(5)
    cplx = dtype(fmt).is_complex
    A = np.array([[-0.1, -0.2], [-0.05, -0.3]])
    if cplx:
        A = A + 1j * np.array([[1.0, 0.5], [2.0, 0.0]])
    B, C = rng.normal(size=(1, 2, L)), rng.normal(size=(1, 2, L))
    if cplx:
        B, C = B + 0.5j, C - 0.25j
    arrs = {"u": rng.normal(size=(1, 2, L)), "delta": rng.normal(-1, 1, (1, 2, L)), "A": A,
            "B": B, "C": C, "D": np.array([0.5, -1.0]), "z": rng.normal(size=(1, 2, L)),
            "delta_bias": np.array([1.0, -0.5])}
    return Case({k: representable(x, fmt) for k, x in arrs.items()}, fmt,
                {"delta_softplus": True, "conj_half": None})


def _tail_witness(fmt: str) -> Case:
    """One channel, N = BLOCK_N + 3 states (a partial last block), L = 33."""
    from ssmspec.impl.triton.kernels import BLOCK_N

    rng = np.random.default_rng(4)
    N = BLOCK_N + 3
    lam = -rng.uniform(0.1, 1.0, (1, N))
    B, C = rng.normal(size=(1, N)), rng.normal(size=(1, N))
    if dtype(fmt).is_complex:
        lam, B, C = lam + 1j * rng.uniform(-3, 3, (1, N)), B + 0.5j, C - 0.25j
    return Case({"Lambda": representable(lam, fmt), "B": representable(B, fmt),
                 "C": representable(C, fmt), "log_dt": representable(np.array([-1.0]), fmt)},
                fmt, {"L": 33, "conj_half": True})


if REASON is None:
    from ssmspec.impl.triton import kernels as _kernels
    from ssmspec.impl.triton import scan as _scan
    from ssmspec.impl.triton import selective as _selective

    for _m in (
        Mutant("linear_scan", "triton_block_drops_carry",
               _on_kernel_device(_scan.linear_scan_dropping_carry), "chunked",
               ("fp64", "fp32", "c64"), "Triton scan: a block boundary drops the carried state",
               _scan_witness),
        Mutant("selective_scan", "triton_block_drops_carry",
               _on_kernel_device(_selective.selective_scan_dropping_carry), "zoh_approx",
               ("fp32", "c64"), "Triton selective scan: each block starts from a zero state",
               _selective_witness),
        Mutant("diag_kernel", "triton_drops_state_tail",
               _on_kernel_device(_kernels.diag_kernel_dropping_tail), "zoh", ("c64", "fp32"),
               "Triton S4D kernel: the loop over states drops the partial last block",
               _tail_witness, search=False),  # the strategy's N ≤ 8 never has a partial block
    ):
        registry.register_mutant(_m)



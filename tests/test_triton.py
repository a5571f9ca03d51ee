"""The Triton implementations: availability without the extra / without CUDA (always run), and
gradients of linear_scan and selective_scan through their autograd Functions (run where the
kernels run: CUDA, or the CPU under TRITON_INTERPRET=1 — `tox -e triton`).

The gradient checks are the torch built-ins' (tests/test_scan_gradients.py,
tests/test_selective_gradients.py): gradcheck in fp64/c128, and fp32 gradients against float64
autograd of the built-in sequential recurrence within the same stated bounds.
"""

from __future__ import annotations

import importlib.util
import math
import subprocess
import sys

import numpy as np
import pytest
import torch

from ssmspec import registry
from ssmspec.impl import triton as triton_impl
from ssmspec.reference.np import scans as rnp

PRIMITIVES = ("linear_scan", "selective_scan", "diag_kernel", "ema_kernel")
REASON = triton_impl.available()
needs_kernels = pytest.mark.skipif(REASON is not None, reason=f"Triton kernels: {REASON}")
U32 = 2.0**-24


def test_without_the_extra_the_entries_are_listed_unavailable():
    code = ("import sys; sys.modules['triton'] = None\n"
            "from ssmspec import registry\n"
            f"for p in {PRIMITIVES!r}:\n"
            "    i = registry.implementation(p, 'triton')\n"
            "    print(p, i.available, i.unavailable)\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    lines = out.stdout.strip().splitlines()
    assert len(lines) == len(PRIMITIVES), out
    for line in lines:
        assert " False needs the optional extra triton" in line, line


def test_cpu_only_without_interpreter_is_unavailable(monkeypatch):
    if importlib.util.find_spec("triton") is None:
        pytest.skip("triton is not installed: the reason is the missing extra (test above)")
    monkeypatch.delenv("TRITON_INTERPRET", raising=False)
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    assert triton_impl.available() == "needs CUDA or TRITON_INTERPRET=1"
    assert triton_impl.devices() == ("cuda",)
    monkeypatch.setenv("TRITON_INTERPRET", "1")
    assert triton_impl.available() is None
    assert triton_impl.devices() == ("cpu", "cuda")


def test_registered_entries_agree_with_availability():
    for p in PRIMITIVES:
        impl = registry.implementation(p, "triton")
        assert impl.unavailable == REASON
        assert impl.available == (REASON is None)
        assert impl.devices == triton_impl.devices()
    mutants = [m for m in registry.mutants() if m.name.startswith("triton_")]
    assert bool(mutants) == (REASON is None)  # collected only where the kernels run


def _device() -> str:
    return "cpu" if triton_impl.interpreted() else "cuda"


@needs_kernels
@pytest.mark.parametrize("reverse", [False, True])
@pytest.mark.parametrize("L", [1, 5, 21])
@pytest.mark.parametrize("complex_", [False, True])
def test_triton_linear_scan_gradcheck(reverse, L, complex_, scan_inputs):
    from ssmspec.impl.triton.scan import linear_scan

    dt = torch.complex128 if complex_ else torch.float64
    a, b, h0 = scan_inputs((1, L), dt, seed=L, complex_=complex_, device=_device())
    assert torch.autograd.gradcheck(
        lambda a, b, h0: linear_scan(a, b, h0, reverse=reverse), (a, b, h0))


@needs_kernels
def test_triton_linear_scan_fp32_gradients_within_bound_of_float64_autograd(scan_inputs):
    """The bound of tests/test_scan_gradients.py (G = L + 2⌈log₂L⌉ + 2)."""
    from ssmspec.impl.scans import linear_scan as torch_scan
    from ssmspec.impl.triton.scan import linear_scan

    L = 200
    a64, b64, h64 = (x.detach().cpu().requires_grad_() for x in
                     scan_inputs((3, L), torch.float64, seed=1, device=_device()))
    a64.data = 0.99 + 0.01 * (a64.data - 0.5) / 0.5
    w = torch.randn(3, L, generator=torch.Generator().manual_seed(2), dtype=torch.float64)
    a32, b32, h32 = (x.detach().float().to(_device()).requires_grad_()
                     for x in (a64, b64, h64))
    (torch_scan(a64, b64, h64) * w).sum().backward()
    (linear_scan(a32, b32, h32) * w.float().to(_device())).sum().backward()
    a, h0 = a64.detach().numpy(), h64.detach().numpy()
    shifted = np.concatenate([np.abs(a[:, 1:]), np.zeros((3, 1))], axis=1)
    Mg = rnp.magnitude(shifted, np.abs(w.numpy()), reverse=True)
    M = rnp.magnitude(a, b64.detach().numpy(), h0)
    Mprev = np.concatenate([np.abs(h0)[:, None], M[:, :-1]], axis=1)
    G = L + 2 * math.ceil(math.log2(L)) + 2.0
    bounds = {"b": 2 * U32 * G * Mg, "a": 4 * U32 * G * Mg * (Mprev + np.abs(h0)[:, None]),
              "h0": 2 * U32 * G * (Mg[:, 0] * np.abs(a[:, 0]))}
    for name, x64, x32 in (("a", a64, a32), ("b", b64, b32), ("h0", h64, h32)):
        err = np.abs(x32.grad.double().cpu().numpy() - x64.grad.numpy())
        assert float((err / bounds[name]).max()) <= 1, name


def _selective_inputs(dtype, L=7, complex_a=False, seed=0, sizes=(2, 4, 3)):
    g = torch.Generator().manual_seed(seed)
    b, D, N = sizes
    r = lambda *s: torch.randn(*s, generator=g, dtype=torch.float64)  # noqa: E731
    A = -torch.exp(r(D, N))
    if complex_a:
        A = torch.complex(A, r(D, N))
    G = 2 if D % 2 == 0 else 1
    B, C = r(b, G, N, L).to(A.dtype), r(b, G, N, L).to(A.dtype)
    args = dict(u=r(b, D, L), delta=r(b, D, L) - 1, A=A, B=B, C=C, D=r(D), z=r(b, D, L),
                delta_bias=0.5 * r(D))
    cast = lambda t: t.to(dtype if not t.is_complex() else  # noqa: E731
                          (torch.complex128 if dtype == torch.float64 else torch.complex64))
    return {k: cast(v).to(_device()).requires_grad_() for k, v in args.items()}


def _selective(fn, args):
    a = dict(args)
    return fn(a.pop("u"), a.pop("delta"), a.pop("A"), a.pop("B"), a.pop("C"),
              delta_softplus=True, **a)


@needs_kernels
@pytest.mark.parametrize("complex_a", [False, True])
def test_triton_selective_scan_gradcheck(complex_a):
    from ssmspec.impl.triton.selective import selective_scan

    # smaller than the built-in's gradcheck: every perturbation is an interpreted kernel call
    args = _selective_inputs(torch.float64, L=5, complex_a=complex_a, sizes=(1, 2, 2))
    names = list(args)
    assert torch.autograd.gradcheck(
        lambda *xs: _selective(selective_scan, dict(zip(names, xs))), tuple(args.values()))


@needs_kernels
def test_triton_selective_scan_fp32_gradients_match_float64():
    """The bound of tests/test_selective_gradients.py: 64·u₃₂·L·max|g| per argument."""
    from ssmspec.impl.selective import selective_scan as torch_selective
    from ssmspec.impl.triton.selective import selective_scan

    L = 40
    a32 = _selective_inputs(torch.float32, L=L)
    a64 = {k: v.detach().cpu().double().requires_grad_() for k, v in a32.items()}
    w = torch.randn(2, 4, L, generator=torch.Generator().manual_seed(1), dtype=torch.float64)
    (_selective(selective_scan, a32) * w.float().to(_device())).sum().backward()
    (_selective(torch_selective, a64) * w).sum().backward()
    for k in a32:
        g32, g64 = a32[k].grad.cpu().to(torch.float64), a64[k].grad
        assert float((g32 - g64).abs().max()) <= 64 * U32 * L * float(g64.abs().max()), k

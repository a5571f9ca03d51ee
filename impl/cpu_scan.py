"""A compiled CPU path for `linear_scan` (the `cpp` implementation): the sequential recurrence in
C++, compiled on first use with torch's `cpp_extension` (g++ and ninja; nothing to install).

    h_t = a_t ⊙ h_{t−1} + b_t,    h_{−1} = h0 (0 if None),    over the last axis

The algorithm is the `sequential` method's, one fused multiply-add per element in the input's
order, so its error bound is the sequential one: each row (a contiguous time series in the
(..., L) layout) is walked once, groups of 8 rows in lockstep (8 independent dependency chains:
one alone is bound by the multiply-add latency), groups in parallel (at::parallel_for), no
transposes, no temporaries: the scan reads a and b and writes h once, which is what makes it
memory-bound.
fp64, fp32, c128, c64 natively; fp16/bf16 computed in fp32 and rounded once (as the torch
implementation). Gradients: the adjoint of a linear scan is the reverse scan of the output
gradient with the coefficients shifted by one step (and conjugated for complex inputs, PyTorch's
convention), so backward is two more passes of the same kernel:

    λ_t = g_t + conj(a_{t+1}) λ_{t+1},  ∂b_t = λ_t,  ∂a_t = λ_t·conj(h_{t−1}),  ∂h0 = conj(a_0)·λ_0

(mirrored for reverse=True). Requires a C++ compiler at first use; `available()` says why not.
"""

from __future__ import annotations

import contextlib
import functools
import os
import shutil
import tempfile
from pathlib import Path

import torch

from ssmspec.impl import _validate as v
from ssmspec.impl.scans import check_scan_args, scan_adjoint

_SOURCE = r"""
#include <torch/extension.h>
#include <ATen/Parallel.h>

// h[r, t] = a[r, t] * h[r, t-1] + b[r, t] over contiguous rows (R, L); reverse walks t down.
// Rows go in groups of G walked in lockstep: each row is a chain of dependent multiply-adds
// (latency-bound alone), G independent chains keep the FMA units busy. Each element still gets
// exactly the sequential recurrence's one multiply and one add, in order.
constexpr int64_t G = 8;

template <typename T>
void rows(const T* pa, const T* pb, const T* ph, T* po, int64_t r0, int64_t n, int64_t L,
          bool reverse) {
  T h[G];
  const int64_t first = reverse ? L - 1 : 0;
  const int64_t step = reverse ? -1 : 1;
  for (int64_t g = 0; g < n; ++g) {
    const int64_t o = (r0 + g) * L + first;
    // h_{-1} = 0 gives h_0 = b_0 exactly (a_0 not involved), as the sequential method
    h[g] = ph ? pa[o] * ph[r0 + g] + pb[o] : pb[o];
    po[o] = h[g];
  }
  for (int64_t i = 1; i < L; ++i) {
    const int64_t t = first + step * i;
    for (int64_t g = 0; g < n; ++g) {
      const int64_t o = (r0 + g) * L + t;
      h[g] = pa[o] * h[g] + pb[o];
      po[o] = h[g];
    }
  }
}

torch::Tensor scan(torch::Tensor a, torch::Tensor b, torch::Tensor h0, bool has_h0,
                   bool reverse) {
  auto out = torch::empty_like(b);
  const int64_t R = a.size(0), L = a.size(1);
  const int64_t groups = (R + G - 1) / G;
  AT_DISPATCH_FLOATING_AND_COMPLEX_TYPES(a.scalar_type(), "ssmspec_scan", [&] {
    const scalar_t* pa = a.data_ptr<scalar_t>();
    const scalar_t* pb = b.data_ptr<scalar_t>();
    const scalar_t* ph = has_h0 ? h0.data_ptr<scalar_t>() : nullptr;
    scalar_t* po = out.data_ptr<scalar_t>();
    at::parallel_for(0, groups, 1, [&](int64_t g0, int64_t g1) {
      for (int64_t g = g0; g < g1; ++g) {
        const int64_t r0 = g * G;
        rows<scalar_t>(pa, pb, ph, po, r0, std::min(G, R - r0), L, reverse);
      }
    });
  });
  return out;
}

PYBIND11_MODULE(TORCH_EXTENSION_NAME, m) { m.def("scan", &scan, "ssmspec linear scan"); }
"""


def available() -> str | None:
    """None if the compiled path can be built here, else why not."""
    missing = [t for t in ("c++", "ninja") if shutil.which(t) is None]
    if missing:
        try:
            import ninja  # noqa: F401  (the PyPI ninja provides the binary)

            missing = [t for t in missing if t != "ninja"]
        except ImportError:
            pass
    if missing:
        return f"needs {' and '.join(missing)} to compile the C++ scan on first use"
    return None


@functools.cache
def _module():
    from torch.utils.cpp_extension import load_inline

    # One build at a time across processes (pytest -n, report --workers): torch's own lock file
    # outlives a process killed mid-build and then blocks every later one forever; an flock is
    # released by the kernel when its holder dies.
    with _build_lock():
        # -O3 without -ffast-math: the recurrence's rounding must stay the IEEE one the bound
        # models
        return load_inline("ssmspec_cpu_scan_g8", cpp_sources=_SOURCE, extra_cflags=["-O3"],
                           verbose=False)


@contextlib.contextmanager
def _build_lock():
    """An exclusive lock on a file beside torch's extension builds (none where there is no
    fcntl: Windows)."""
    try:
        import fcntl
    except ImportError:
        yield
        return
    path = Path(tempfile.gettempdir()) / f"ssmspec-cpu-scan-{os.getuid()}.lock"
    with open(path, "a") as f:
        fcntl.flock(f, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(f, fcntl.LOCK_UN)


def _raw(a, b, h0, reverse):
    """The kernel on (..., L) tensors of one native dtype; h (..., L)."""
    lead, L = a.shape[:-1], a.shape[-1]
    a2, b2 = a.reshape(-1, L).contiguous(), b.reshape(-1, L).contiguous()
    h02 = h0.reshape(-1).contiguous() if h0 is not None else a2.new_empty(0)
    return _module().scan(a2, b2, h02, h0 is not None, reverse).reshape(*lead, L)


class _Scan(torch.autograd.Function):
    @staticmethod
    def forward(ctx, a, b, h0, reverse):
        h = _raw(a, b, h0, reverse)
        ctx.save_for_backward(a, h, h0)
        ctx.reverse = reverse
        return h

    @staticmethod
    def backward(ctx, g):
        a, h, h0 = ctx.saved_tensors
        return (*scan_adjoint(_raw, a, h, h0, g, ctx.reverse), None)


def linear_scan(a: torch.Tensor, b: torch.Tensor, h0: torch.Tensor | None = None,
                reverse: bool = False, method: str = "sequential") -> torch.Tensor:
    """`linear_scan`'s sequential method, compiled for the CPU; see the module docstring and
    `ssmspec.impl.scans.linear_scan` for the contract (the same checks, the same errors)."""
    check_scan_args(a, b, h0, reverse, method)
    if method != "sequential":
        raise ValueError(f"method: the compiled CPU scan implements 'sequential', got {method!r}")
    if a.device.type != "cpu":
        raise ValueError(f"a: the compiled scan runs on the CPU, got device {a.device}")
    work = v.work_dtype(a.dtype)
    aw, bw = a.to(work), b.to(work)
    hw = None if h0 is None else h0.to(work)
    return _Scan.apply(aw, bw, hw, reverse).to(a.dtype)

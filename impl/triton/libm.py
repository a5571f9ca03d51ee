"""exp for the Triton kernels, one definition for both ways they run.

- Compiled (CUDA): CUDA's libdevice `exp` (__nv_expf in fp32, __nv_exp in fp64), within 2 ulp
  of exp(x) over the whole range (CUDA Math API). Triton's own `tl.exp` in fp32 lowers to
  `ex2.approx.f32` of x·log₂e rounded to fp32 (triton-lang/triton 0043a8d,
  third_party/nvidia/lib/TritonNVIDIAGPUToLLVM/ElementwiseOpToLLVM.cpp, ExpOpConversionApprox),
  whose relative error grows as |x|·u: ~130 ulps at |x| = 88, where the selective scan's bound
  budgets its discretisation's exponential 2u(1 + |x|) and its silu(z) gate, z/(1 + e^(−z)),
  a few roundings only (e^(−z) off by 1.4|z|·u moves silu by up to that: ~30 ulps at z = −20).
  `tl.exp` in fp64 is libdevice's already; `tl.log`, `tl.cos` and `tl.sin` leave no
  sin/cos/lg2.approx instruction in the compiled fp32 kernels (triton 3.9, sm_90; the kernels
  are compiled without a GPU by tests/test_triton_compile.py).
- Interpreted (TRITON_INTERPRET=1, CPU): `tl.exp` is NumPy's exp (libdevice is not available to
  the interpreter).

Shapes and dtypes: elementwise on fp32/fp64 tensors, the result in the argument's dtype.
"""

from __future__ import annotations

import triton
import triton.language as tl
from triton.language.extra import libdevice

from ssmspec.impl.triton import interpreted

COMPILED = tl.constexpr(not interpreted())


@triton.jit
def exp(x):
    """e^x, within 2 ulp on CUDA (libdevice); NumPy's under the interpreter."""
    if COMPILED:
        y = libdevice.exp(x)
    else:
        y = tl.exp(x)
    return y

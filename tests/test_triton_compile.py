"""The Triton kernels compiled for a GPU, without one: `triton.compile` of every kernel variant the
implementations launch (each method, real and complex, fp32 and fp64, the optional inputs on and
off, the mutants' runtime branch) for sm_90 down to a cubin with the ptxas that ships with
triton. The interpreter (TRITON_INTERPRET=1), which the property tests use on the CPU, accepts
code the compiler may reject; this is the check that it does not.

Also pinned: the selective scan's exponentials are libdevice's on CUDA (`impl/triton/libm.py`),
not Triton's `tl.exp`, whose fp32 lowering is an approximation whose error grows with |x|: the
fp32 kernel's Triton IR holds no `math.exp`.

Runs in a subprocess with TRITON_INTERPRET removed (the kernels' block sizes and libm's branch are
chosen at import). Skipped where triton is not installed (`pip install ".[triton]"`).
"""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys

import pytest

pytestmark = pytest.mark.skipif(importlib.util.find_spec("triton") is None,
                                reason="needs the optional extra triton")

COMPILE = r"""
import json, sys
import triton
from triton.backends.compiler import GPUTarget
from triton.compiler import ASTSource
from ssmspec.impl.triton import kernels, scan, selective

TARGET = GPUTarget("cuda", 90, 32)


def signature(fn, ptr, consts):
    # pointers by name (*_ptr), `factor` a float, other runtime arguments 32-bit integers
    return {a: "constexpr" if a in consts else ptr if a.endswith("_ptr")
            else "fp32" if a == "factor" else "i32" for a in fn.arg_names}


def variants():
    for fmt in ("fp32", "fp64"):
        for method in range(3):
            for cplx in (False, True):
                flags = dict(SOFTPLUS=True, HAS_D=True, HAS_Z=True, HAS_BIAS=True, HAS_H0=True)
                yield selective._selective_kernel, "*" + fmt, dict(
                    METHOD=method, COMPLEX=cplx, DROP_CARRY=False, BLOCK_N=16,
                    BLOCK_T=selective.BLOCK_T, **flags)
        for cplx in (False, True):
            yield scan._scan_kernel, "*" + fmt, dict(HAS_H0=True, REVERSE=True, COMPLEX=cplx,
                                                     DROP_CARRY=False, BLOCK_R=scan.BLOCK_R,
                                                     BLOCK_T=scan.BLOCK_T)
    yield selective._selective_kernel, "*fp32", dict(
        METHOD=1, COMPLEX=False, SOFTPLUS=False, HAS_D=False, HAS_Z=False, HAS_BIAS=False,
        HAS_H0=False, DROP_CARRY=True, BLOCK_N=4, BLOCK_T=selective.BLOCK_T)
    yield scan._scan_kernel, "*fp32", dict(HAS_H0=True, REVERSE=False, COMPLEX=False,
                                           DROP_CARRY=True, BLOCK_R=1, BLOCK_T=1)
    for cplx in (False, True):
        yield kernels._vandermonde_kernel, "*fp64", dict(
            COMPLEX=cplx, SIGNED=not cplx, BLOCK_N=kernels.BLOCK_N, BLOCK_L=kernels.BLOCK_L)


for fn, ptr, consts in variants():
    name = f"{fn.__name__}[{ptr} {consts}]"
    try:
        c = triton.compile(ASTSource(fn, signature(fn, ptr, consts), constexprs=consts),
                           target=TARGET)
        print(json.dumps({"name": name, "ok": "cubin" in c.asm, "error": "",
                          "math_exp": "math.exp" in c.asm["ttir"]}), flush=True)
    except Exception as exc:
        print(json.dumps({"name": name, "ok": False, "error": f"{type(exc).__name__}: {exc}"[:2000],
                          "math_exp": None}), flush=True)
"""


@pytest.fixture(scope="module")
def compiled():
    env = {k: v for k, v in os.environ.items() if k != "TRITON_INTERPRET"}
    env.setdefault("TRITON_DEFAULT_FP_FUSION", "1")  # triton 3.9 warns when it is unset
    proc = subprocess.run([sys.executable, "-c", COMPILE], env=env, capture_output=True,
                          text=True, timeout=900)
    rows = [json.loads(ln) for ln in proc.stdout.splitlines() if ln.startswith("{")]
    assert rows, proc.stderr[-3000:]
    return rows


def test_every_kernel_variant_compiles_for_sm90(compiled):
    failed = [f"{r['name']}: {r['error']}" for r in compiled if not r["ok"]]
    assert not failed, "\n".join(failed)
    assert len(compiled) == 20


def test_selective_scan_exponentials_are_libdevice_on_cuda(compiled):
    sel = [r for r in compiled if r["name"].startswith("_selective_kernel[*fp32")]
    assert sel and not any(r["math_exp"] for r in sel), [r["name"] for r in sel if r["math_exp"]]


def test_the_ir_check_sees_tl_exp(compiled):
    """The check above can fail: the S4D/EMA kernel's fp64 tl.exp (libdevice's already in fp64)
    shows as math.exp in its Triton IR."""
    vander = [r for r in compiled if r["name"].startswith("_vandermonde_kernel")]
    assert vander and all(r["math_exp"] for r in vander)

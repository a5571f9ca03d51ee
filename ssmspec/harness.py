"""Running an implementation on a Case and measuring it: the one code path the properties, the
report and `ssmspec check` share."""

from __future__ import annotations

import subprocess
import sys
import textwrap
import time
from collections.abc import Callable

import numpy as np
import torch
from hypothesis import HealthCheck, Phase, given, settings

from ssmspec.dtypes import dtype
from ssmspec.errors import Measurement, measure
from ssmspec.reference.np import precision
from ssmspec.spec import Case, Spec


def to_numpy(t: torch.Tensor) -> np.ndarray:
    """A tensor as float64/complex128 numpy (exact for every format ssmspec measures)."""
    wide = torch.complex128 if t.is_complex() else torch.float64
    return t.detach().to(device="cpu", dtype=wide).numpy()


def run(spec: Spec, fn: Callable, case: Case, method: str, device: str) -> dict[str, torch.Tensor]:
    """Call `fn` on `case` through the spec's adapter; the outputs by name, as tensors."""
    outs = spec.call(fn, case, method, device)
    if isinstance(outs, torch.Tensor):
        outs = (outs,)
    if len(outs) != len(spec.outputs):
        raise TypeError(
            f"{spec.name}: expected {len(spec.outputs)} outputs {spec.outputs}, got {len(outs)}"
        )
    return dict(zip(spec.outputs, outs))


def evaluate(
    spec: Spec, fn: Callable, case: Case, method: str, device: str, tier: str | None = None
) -> Measurement:
    """err/bound and ulps of `fn` on `case` against the spec's reference (tier chosen by size).

    An exception from the implementation on a valid input is a failure (err/bound = inf) that
    names the exception, not an error of the harness.
    """
    try:
        got = {k: to_numpy(v) for k, v in run(spec, fn, case, method, device).items()}
    except Exception as exc:  # noqa: BLE001 - any exception on valid input is the finding
        return Measurement(raised=f"{type(exc).__name__}: {exc}")
    # the float64 tier's sums in long double only where the format needs it (fp64, c128)
    with precision.for_unit_roundoff(dtype(case.dtype).u):
        ref = spec.reference(case, method, tier)
        bound = spec.bound(case, method)
    return measure(got, ref, bound, case.dtype, spec.bound.norms_for(method))


def certify(spec: Spec, case: Case, method: str, fmt: str) -> Measurement:
    """The float64 reference against mpmath on `case`, within the spec's bound at the unit
    roundoff of `fmt` (fp64 or c128): how a float64 tier earns its trust."""
    return measure(spec.reference(case, method, "np"), spec.reference(case, method, "mp"),
                   spec.bound(case, method, fmt), fmt, spec.bound.norms_for(method))


def sample(strategy, n: int) -> list:
    """`n` examples of a hypothesis strategy, the same ones on every call (derandomized)."""
    found: list = []

    @settings(
        max_examples=n,
        derandomize=True,
        database=None,
        phases=[Phase.generate],
        deadline=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(strategy)
    def collect(x):
        found.append(x)

    collect()
    return found[:n]


def _sync(device: str) -> None:
    if str(device).startswith("cuda"):
        torch.cuda.synchronize()


def time_call(thunk: Callable[[], object], device: str, repeats: int = 7, min_time: float = 0.02):
    """Seconds per call of `thunk`, one figure per repeat (each repeat loops until `min_time`)."""
    thunk()  # warm-up: allocation, kernels' first launch
    _sync(device)
    t0 = time.perf_counter()
    thunk()
    _sync(device)
    once = max(time.perf_counter() - t0, 1e-7)
    inner = max(1, int(min_time / once))
    out = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        for _ in range(inner):
            thunk()
        _sync(device)
        out.append((time.perf_counter() - t0) / inner)
    return out


def peak_kib(setup: str, statement: str) -> int:
    """Peak memory of `statement` in KiB: the growth of a fresh Python process's high-water RSS
    (VmHWM, Linux) across it, after `setup` (imports, inputs) has run. VmHWM, not ru_maxrss: the
    latter survives exec, so a child would start at its parent's peak."""
    code = setup + textwrap.dedent(f"""
        def _hwm():
            with open("/proc/self/status") as f:
                return next(int(line.split()[1]) for line in f if line.startswith("VmHWM:"))
        _before = _hwm()
        {statement}
        print(_hwm() - _before)
        """)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return int(out.stdout.strip().splitlines()[-1])

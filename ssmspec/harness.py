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
from ssmspec.scope import OutOfScope
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
    return evaluate_with_outputs(spec, fn, case, method, device, tier)[0]


def evaluate_with_outputs(spec: Spec, fn: Callable, case: Case, method: str, device: str,
                          tier: str | None = None) -> tuple[Measurement, dict | None, dict | None]:
    """`evaluate`, with the outputs it compared: (measurement, got, ref), got as numpy arrays;
    got is None where the call raised, both None where it raised or returned the wrong
    outputs. One call of the implementation and of the reference."""
    try:
        outs = run(spec, fn, case, method, device)
    except OutOfScope:
        raise  # outside the declared scope: not an input of this check
    except Exception as exc:  # noqa: BLE001 - any exception on valid input is the finding
        return Measurement(raised=describe_exception(exc)), None, None
    # the float64 tier's sums in long double only where the format needs it (fp64, c128)
    with precision.for_unit_roundoff(dtype(case.dtype).u):
        ref = spec.reference(case, method, tier)
        wrong = wrong_output(outs, ref, case, device)
        if wrong:
            return Measurement(wrong_output=wrong), None, None
        bound = spec.bound(case, method)
    got = {k: to_numpy(v) for k, v in outs.items()}
    return measure(got, ref, bound, case.dtype, spec.bound.norms_for(method)), got, ref


def wrong_output(outs: dict, ref: dict, case: Case, device: str) -> str | None:
    """What is wrong with the outputs' types, shapes, dtypes or device, or None.

    An output must be a tensor of the reference's shape, on `device`, in the case's format or
    its real counterpart (a real output of a complex run)."""
    d = dtype(case.dtype)
    allowed = {d.torch, dtype(d.real).torch if d.is_complex else d.torch}
    for k, t in outs.items():
        if not isinstance(t, torch.Tensor):
            return f"{k}: expected a tensor, got {type(t).__name__}"
        want = tuple(np.shape(ref[k]))
        if tuple(t.shape) != want:
            return f"{k}: shape {tuple(t.shape)}, expected {want}"
        if t.dtype not in allowed:
            return f"{k}: dtype {t.dtype}, expected {d.torch} (the inputs' format)"
        if t.device.type != torch.device(device).type:
            return f"{k}: on {t.device}, expected {device}"
    return None


def describe_exception(exc: BaseException) -> str:
    """`Type: first line`, and each member of an exception group (nested ones too)."""
    if isinstance(getattr(exc, "exceptions", None), tuple):  # an (Base)ExceptionGroup
        return "; ".join(describe_exception(e) for e in exc.exceptions)
    lines = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {lines[0] if lines else ''}"


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

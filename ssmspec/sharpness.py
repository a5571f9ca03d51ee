"""Sharpness: how much room a bound leaves good code at the sizes kernels ship with.

For a primitive's built-in implementation in fp32 (complex64 where the primitive is complex), the
err/bound on the spec's benchmark input (a shipping size, e.g. H = 256, N = 64, L = 4096) and on
inputs drawn in the realistic regime (`ssmspec.strategies.REALISTIC_SIZES`: L to 2¹⁶, N to 256,
H/D to 1024, batch to 8, within the spec's work budget). A bound that good code meets at
err/bound ≥ GOAL is within 100× of what that code achieves: tight enough that a kernel a hundred
times worse fails. Below GOAL the bound is loose for that primitive; `EXPLAINED` says why where
that is known and accepted.
"""

from __future__ import annotations

import math
import time

from ssmspec import harness, registry, strategies

GOAL = 0.01

# "primitive" or "primitive/method" -> why its built-in's err/bound stays below GOAL at realistic
# sizes (accepted, not hidden: `ssmspec report` and `ssmspec list --sharpness` show the figure;
# perf/test_sharpness.py fails when an explanation is no longer needed)
_FFT_LAYER = ("the layer's FFT convolution admits only a norm-wise bound per signal (an FFT "
              "spreads each rounding over all t); carried elementwise through the gate and the "
              "projections it is ‖e‖₂ at every t, √L above a typical entry's error, times "
              "log₂n worst-case FFT growth: proven, and loose by that factor at shipping L")
EXPLAINED: dict[str, str] = {
    "hippo/lagt": "LagT's A and B are integers (±1, 0 and ½), exact in every format: the "
                  "built-in's error is 0 and any error at all fails",
    "nplr": "the eigendecomposition's growth g = N is the proven backward-error growth of a "
            "symmetric eigensolver (‖E‖₂ ≤ p(N)·u·‖K‖₂ with p(N) = N); LAPACK's is ~√N in "
            "practice, so at N = 256 the bound leaves ~100× room",
    "dplr_step": "the n_f = 2N-term state contraction carries the worst-case summation growth "
                 "n_f + 2R + 8 (~136 at N = 64); rounding errors in such sums grow like √n_f in "
                 "practice, ~12× less",
    "gss_layer": _FFT_LAYER,
    "h3_layer": _FFT_LAYER,
    "h3_multihead": _FFT_LAYER,
    "liquid_conv": _FFT_LAYER + "; the order-p kernels' own l·|log Ā| growth adds to it",
    "mega_block": "the EMA layer's norm-wise FFT bound, used elementwise and carried through the "
                  "D-term projections and both gates (a first-order composition bound), is "
                  "loose by ~10⁵ at L = 2048, D = 128; the attention part alone is sharp "
                  "(mega_attention ≥ 0.03)",
}


def explained(primitive: str, method: str) -> str | None:
    """Why (`primitive`, `method`) is accepted below GOAL, or None."""
    return EXPLAINED.get(f"{primitive}/{method}") or EXPLAINED.get(primitive)


def sharpness_format(spec, method: str) -> str | None:
    """The format sharpness is measured in: c64 where the method covers it, else fp32."""
    covered = spec.dtypes_of(method)
    for fmt in ("c64", "fp32"):
        if fmt in covered:
            return fmt
    return None


def _shape(case) -> str:
    dims = {k: list(v.shape) for k, v in case.arrays.items()}
    largest = max(dims.items(), key=lambda kv: math.prod(kv[1]) if kv[1] else 0, default=None)
    sizes = {k: v for k, v in case.params.items() if isinstance(v, int) and not isinstance(v, bool)}
    parts = [f"{k}={v}" for k, v in sizes.items()]
    if largest:
        parts.append(f"{largest[0]} {tuple(largest[1])}")
    return ", ".join(parts)


def measure(spec, impl, method: str, device: str = "cpu", examples: int = 1) -> dict | None:
    """The sharpness entry of (`spec`, `impl`, `method`): err/bound on the benchmark input and on
    `examples` realistic-regime inputs (derandomized), the time each took, and the verdict."""
    fmt = sharpness_format(spec, method)
    if fmt is None:
        return None
    cases = [("benchmark", spec.bench_for(fmt, method))]
    if examples:
        # hypothesis' first draw is its simplest (zeros where arrays are drawn): skipped
        drawn = harness.sample(
            strategies.cases(spec, fmt, method, strategies.ShapeScope(regime="realistic")),
            examples + 1)[1:]
        cases += [("realistic", c) for c in drawn]
    inputs = []
    for kind, case in cases:
        t0 = time.perf_counter()
        m = harness.evaluate(spec, impl.fn, case, method, device)
        inputs.append({"input": kind, "shape": _shape(case), "err_over_bound": m.max_ratio,
                       "passed": bool(m.passed), "raised": m.raised,
                       "seconds": time.perf_counter() - t0})
    finite = [i["err_over_bound"] for i in inputs if math.isfinite(i["err_over_bound"])]
    ratio = max(finite) if finite else math.inf
    return {"primitive": spec.name, "implementation": impl.name, "method": method, "dtype": fmt,
            "device": device, "sharpness": ratio, "goal": GOAL,
            "sharp": bool(math.isfinite(ratio) and ratio >= GOAL),
            "passed": all(i["passed"] for i in inputs),
            "explained": explained(spec.name, method), "inputs": inputs}


def targets(primitives=None, methods=None) -> list[tuple]:
    """(spec, built-in torch implementation, method) of every selected primitive and method that
    has a sharpness format and an available built-in."""
    out = []
    for spec in registry.specs():
        if primitives and spec.name not in primitives:
            continue
        impl = {i.name: i for i in registry.implementations(spec.name)}.get("torch")
        if impl is None or not impl.available:
            continue
        out += [(spec, impl, m) for m in spec.methods
                if (not methods or m in methods) and sharpness_format(spec, m)]
    return out


def build(primitives=None, methods=None, device: str = "cpu", examples: int = 1,
          progress=None) -> list[dict]:
    """Sharpness entries of every selected primitive's built-in torch implementation."""
    out = []
    for spec, impl, method in targets(primitives, methods):
        out.append(measure(spec, impl, method, device, examples))
        if progress:
            progress(f"{spec.name} {method} (realistic)")
    return out


def to_markdown(entries: list[dict]) -> list[str]:
    """The sharpness table: one row per (primitive, method)."""
    lines = ["", "## Sharpness at realistic sizes", "",
             f"The built-in's err/bound in fp32 (c64 where complex) on the benchmark input and on "
             f"realistic-regime inputs; the goal is ≥ {GOAL} (the bound within 100× of good code).",
             "", "| primitive | method | dtype | sharpness | benchmark | realistic (largest) | "
             "s / input | within bound |", "|---|---|---|---:|---:|---|---:|:-:|"]
    for e in entries:
        bench = [i for i in e["inputs"] if i["input"] == "benchmark"]
        real = [i for i in e["inputs"] if i["input"] == "realistic"]
        worst = max(real, key=lambda i: i["err_over_bound"], default=None)
        flag = "" if e["sharp"] else (" (explained)" if e["explained"] else " ⚠ below goal")
        secs = max(i["seconds"] for i in e["inputs"])
        lines.append(
            f"| {e['primitive']} | {e['method']} | {e['dtype']} | {e['sharpness']:.3g}{flag} | "
            f"{bench[0]['err_over_bound']:.3g} | "
            + (f"{worst['err_over_bound']:.3g} at {worst['shape']}" if worst else "—")
            + f" | {secs:.1f} | {'✓' if e['passed'] else '✗'} |")
    return lines

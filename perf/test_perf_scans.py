"""linear_scan fp32 on CPU (B = 4, D = 256, L = 4096) against two public scans, measured in one
run, interleaved: the reference (tree) scan of `accelerated-scan` (`accelerated_scan.ref.scan`,
gates/tokens (B, C, T), the same recurrence) and the associative scan of `s5-pytorch`
(`s5.jax_compat.associative_scan` with `s5.s5_model.binary_operator`, a port of
jax.lax.associative_scan). Both are in the `perf` extra.

Gates: the best of our methods (the C++ sequential scan of the `cpp` implementation included)
≥ 2× faster than each. The memory roofline is measured in the same
run as a `copy_` of the same number of bytes (a scan must read a and b and write h: 3·n floats;
a copy of 1.5·n floats into a preallocated buffer reads and writes as many); the fraction
roofline/ours is printed (goal ≥ 33 %) and gated at ≥ 10 %. Time against L (2^10 … 2^16) per
method is printed; on a shared CPU the growth per step is too noisy to gate, so only the whole
range is: every method is O(L) (O(L log L) at most), so 64× the length may cost at most
LENGTH_GROWTH_CEILING = 256× the time — a method that went quadratic would take ~4096×.
"""

from __future__ import annotations

import statistics

import pytest
import torch

from ssmspec import harness
from ssmspec.impl import cpu_scan
from ssmspec.impl.scans import METHODS, linear_scan

SPEEDUP_FLOOR = 2.0
ROOFLINE_FLOOR = 0.10
LENGTH_GROWTH_CEILING = 256.0  # time(2^16) / time(2^10): 64× for O(L), 4096× for O(L²)


def _inputs(shape):
    g = torch.Generator().manual_seed(0)
    return torch.rand(shape, generator=g), torch.randn(shape, generator=g)


def _median(thunk, repeats=3):
    return statistics.median(harness.time_call(thunk, "cpu", repeats=repeats, min_time=0))


def test_linear_scan_vs_public_scans(benchmark):
    ref = pytest.importorskip("accelerated_scan.ref", reason="accelerated-scan not installed "
                              "(pip install ssmspec[perf])")
    s5 = pytest.importorskip("s5.jax_compat", reason="s5-pytorch not installed "
                             "(pip install ssmspec[perf])")
    s5_model = pytest.importorskip("s5.s5_model", reason="s5-pytorch not installed")
    a, b = _inputs((4, 256, 4096))
    want = linear_scan(a.double(), b.double())
    theirs = {
        "accelerated_scan.ref.scan": lambda: ref.scan(a, b),
        "s5 associative_scan": lambda: s5.associative_scan(s5_model.binary_operator, (a, b),
                                                           axis=2)[1],
    }
    ours = {m: (lambda m=m: linear_scan(a, b, method=m)) for m in METHODS}
    if cpu_scan.available() is None:  # the C++ sequential scan (the `cpp` implementation)
        ours["cpp sequential"] = lambda: cpu_scan.linear_scan(a, b)
    for name, f in {**theirs, **ours}.items():  # the same values first
        err = float((f().double() - want).abs().max())
        assert err <= 1e-3 * float(want.abs().max()), f"{name}: off by {err}"
    src = torch.randn(a.numel() * 3 // 2)
    dst = torch.empty_like(src)
    times: dict[str, list[float]] = {k: [] for k in [*theirs, *ours, "roofline"]}
    for _ in range(2):  # interleaved
        for name, f in {**theirs, **ours}.items():
            times[name].append(_median(f))
        times["roofline"].append(_median(lambda: dst.copy_(src), 5))
    t = {k: statistics.median(v) for k, v in times.items()}
    best = min(ours, key=lambda m: t[m])
    speed = {k: t[k] / t[best] for k in theirs}
    roof = t["roofline"] / t[best]
    print("\n" + "\n".join(f"{k}: {v * 1e3:.1f} ms" for k, v in t.items()))
    print(f"best method {best}: " + ", ".join(f"{v:.2f}x faster than {k}"
                                              for k, v in speed.items())
          + f"; {100 * roof:.0f}% of the copy roofline")
    benchmark.extra_info.update(best=best, roofline_fraction=roof,
                                **{f"speedup_vs_{k}": v for k, v in speed.items()})
    benchmark(ours[best])
    assert all(v >= SPEEDUP_FLOOR for v in speed.values()), speed
    assert roof >= ROOFLINE_FLOOR, f"{100 * roof:.0f}% of the roofline"


def test_linear_scan_time_against_length():
    """B·D = 64 rows, L = 2^10 … 2^16, every method: the time and its growth per L → 4L."""
    lines = []
    fns = {m: (lambda a, b, m=m: linear_scan(a, b, method=m)) for m in METHODS}
    if cpu_scan.available() is None:
        fns["cpp sequential"] = cpu_scan.linear_scan
    growth = {}
    for m, fn in fns.items():
        first, prev, row = None, None, []
        for k in range(10, 17, 2):
            a, b = _inputs((64, 2**k))
            s = _median(lambda fn=fn, a=a, b=b: fn(a, b), 2)
            row.append(f"2^{k}: {s * 1e3:.1f} ms" + (f" (x{s / prev:.1f})" if prev else ""))
            first, prev = first or s, s
        growth[m] = prev / first
        lines.append(f"{m}: " + ", ".join(row))
    print("\n" + "\n".join(lines))
    slow = {m: g for m, g in growth.items() if not g <= LENGTH_GROWTH_CEILING}
    assert not slow, f"time(2^16)/time(2^10) above {LENGTH_GROWTH_CEILING:g}: {slow}"

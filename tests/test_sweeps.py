"""The precision sweep reproduces the known finding (docs/scans.md#bound): with a in [0.99, 1],
log-space's error grows with L, the sequential scan's does not (beyond its ~√(memory) level)."""

import dataclasses

from ssmspec import registry, sweeps
from ssmspec.spec import Implementation
from ssmspec.sweeps import plot_scan_precision, scan_precision_sweep


def test_logspace_error_grows_with_length_sequential_does_not(tmp_path):
    rows = scan_precision_sweep(["sequential", "logspace"], dtypes=("fp32",),
                                lengths=(2**6, 2**12))
    err = {(r["method"], r["L"]): r["max_err_over_M"] for r in rows}
    growth_log = err["logspace", 2**12] / err["logspace", 2**6]
    growth_seq = err["sequential", 2**12] / max(err["sequential", 2**6], 1e-9)
    print(f"\nerr/M growth 2^6 -> 2^12: logspace {growth_log:.3g}x, sequential {growth_seq:.3g}x")
    # measured: logspace ~5x (its error ∝ u·Σ|log a|), sequential ~1.2x
    assert growth_log > 3, rows
    assert growth_seq < 2, rows
    assert err["logspace", 2**12] > 4 * err["sequential", 2**12], rows
    assert all(r["max_err_over_bound"] <= 1 for r in rows), rows
    plot_scan_precision(rows, tmp_path / "scan_precision.png")
    assert (tmp_path / "scan_precision.png").stat().st_size > 0


def test_sweep_runs_implementation_and_reference_once_per_point(monkeypatch):
    base = registry.spec("linear_scan")
    calls = {"impl": 0, "ref": 0}
    torch_fn = registry.implementation("linear_scan", "torch").fn
    ref = base.references["np"]

    def counted_impl(*args, **kw):
        calls["impl"] += 1
        return torch_fn(*args, **kw)

    def counted_ref(case, method):
        calls["ref"] += 1
        return ref(case, method)

    spec = dataclasses.replace(base, references={**base.references, "np": counted_ref})
    monkeypatch.setattr(registry, "spec", lambda name: spec)
    monkeypatch.setattr(registry, "implementation",
                        lambda p, name: Implementation(p, name, counted_impl))
    rows = sweeps.sweep("linear_scan", methods=("sequential",), dtypes=("fp32",),
                        points=(64, 128), timing=False)
    assert len(rows) == 2 and all(r["max_err_over_M"] < 1 for r in rows)
    assert calls == {"impl": 2, "ref": 2}

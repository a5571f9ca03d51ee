"""Precision and time along one axis: error against sequence length L for every scan and kernel
method and format, error against the step Δ for the discretisations, and time against L.

A spec opts in with a `Sweep` (ssmspec.spec): one fixed problem per point of its axis. For each
(method, format, point) `sweep` measures, against the float64 (long-double where it matters)
reference, the max err/bound, the max error in ulps of the format and the max |error|/M (M the
bound's magnitude: the error relative to the problem's own scale, which is what grows when a
method loses precision with L), and, on the L axis, the median time of the call.
`plot` draws them (log-log), one PNG per primitive; `ssmspec report --plots` runs both.

`scan_precision_sweep` is the linear scan's sweep with a in [0.99, 1] (docs/scans.md#bound:
log-space's error grows with L, the sequential scan's does not).
"""

from __future__ import annotations

import statistics
from pathlib import Path

import numpy as np

from ssmspec import harness, registry
from ssmspec.dtypes import dtype
from ssmspec.errors import abs_error
from ssmspec.profiles import heavy

# the points of the sweeps along L (a spec's `Sweep`): up to 2^14 (2^16 nightly) for O(L) methods,
# 2^12 (2^14 nightly) where the method or its reference is O(L²)
LONG = tuple(2**k for k in range(6, 15))
LONG_HEAVY = tuple(2**k for k in range(6, 17))
QUADRATIC = tuple(2**k for k in range(6, 13))
QUADRATIC_HEAVY = tuple(2**k for k in range(6, 15))


def problem_rng() -> np.random.Generator:
    """The generator of a sweep's problem: the same seed at every point, so the problem at L is
    the one at a shorter L extended."""
    return np.random.default_rng(0)


def points_of(sw) -> tuple:
    return tuple(sw.heavy_points) if heavy() and sw.heavy_points else tuple(sw.points)


def _err_over_m(spec, got: dict, ref: dict, case, method) -> float:
    """max |error|/M over the entries whose M is in the format's normal range (M·u > η): below
    it the bound is the underflow term g·η and |error|/M says nothing about the method."""
    terms = spec.bound.terms_of(case, method)
    d = dtype(case.dtype)
    floor = d.eta / d.u
    worst = 0.0
    for k, t in terms.items():
        e = np.asarray(abs_error(got[k], ref[k]), dtype=np.float64)
        m = np.asarray(t.magnitude, dtype=np.float64)
        while m.ndim < e.ndim:  # a norm-wise bound (per row, per matrix): the error's 2-norm
            e = np.sqrt(np.sum(e * e, axis=-1))
        m = np.broadcast_to(m, e.shape)
        sel = m > floor
        if sel.any():
            with np.errstate(invalid="ignore"):
                worst = max(worst, float(np.nanmax(np.where(sel, e / np.where(sel, m, 1), 0))))
    return worst


def sweep(primitive: str, impl: str = "torch", methods=None, dtypes=None, points=None,
          device: str = "cpu", timing: bool = True, repeats: int = 3) -> list[dict]:
    """Rows {primitive, implementation, method, dtype, axis, x, <axis>: x, max_err_over_bound,
    max_ulps, max_err_over_M, time_s}; see the module docstring."""
    spec = registry.spec(primitive)
    if spec.sweep is None:
        raise ValueError(f"primitive: {primitive} declares no sweep")
    sw = spec.sweep
    fn = registry.implementation(primitive, impl).fn
    out = []
    for x in points or points_of(sw):
        for fmt in dtypes or spec.dtypes:
            if fmt not in spec.dtypes:
                continue
            try:
                case = sw.case(fmt, x)
            except ValueError:  # the point does not exist in this format (Δ rounds to 0)
                continue
            for method in methods or spec.methods:
                if fmt not in spec.dtypes_of(method):
                    continue
                m, got, ref = harness.evaluate_with_outputs(spec, fn, case, method, device,
                                                            tier="np")
                rel = float("inf") if got is None else _err_over_m(spec, got, ref, case, method)
                t = None
                if timing and sw.axis == "L" and not m.raised:
                    t = statistics.median(harness.time_call(
                        lambda case=case, method=method: spec.call(fn, case, method, device),
                        device, repeats=repeats, min_time=0.005))
                out.append({"primitive": primitive, "implementation": impl, "method": method,
                            "dtype": fmt, "axis": sw.axis, "x": x, sw.axis: x,
                            "max_err_over_bound": m.max_ratio, "max_ulps": m.max_ulps,
                            "max_err_over_M": rel, "time_s": t})
    return out


def plot(rows: list[dict], path, title: str = "") -> None:
    """err/bound, ulps and |error|/M against the axis (and time against L), one line per
    (method, format), log-log, into one PNG at `path`."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    axis = rows[0]["axis"]
    panels = [("max_err_over_bound", "max err/bound"), ("max_ulps", "max ulps"),
              ("max_err_over_M", "max |error| / M")]
    if any(r.get("time_s") for r in rows):
        panels.append(("time_s", "time (s)"))
    fig, axes = plt.subplots(1, len(panels), figsize=(5 * len(panels), 4.2))
    keys = sorted({(r["method"], r["dtype"]) for r in rows})
    for ax, (field, label) in zip(np.atleast_1d(axes), panels):
        for method, fmt in keys:
            sel = sorted((r["x"], r[field]) for r in rows if r["method"] == method
                         and r["dtype"] == fmt and r[field] is not None
                         and np.isfinite(r[field]))
            if sel:
                ax.loglog([s[0] for s in sel], [max(s[1], 1e-20) for s in sel], marker="o",
                          ms=3, label=f"{method} {fmt}")
        if field == "max_err_over_bound":
            ax.axhline(1.0, color="k", lw=0.8, ls="--")
        ax.set_xlabel(axis)
        ax.set_ylabel(label)
        ax.grid(True, which="major", alpha=0.3)
    np.atleast_1d(axes)[0].legend(fontsize=7)
    fig.suptitle(title or rows[0]["primitive"])
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    plt.close(fig)


def sweep_all(primitives=None, impl: str = "torch", methods=None, dtypes=None,
              device: str = "cpu", timing: bool = True, out_dir=None, progress=None,
              jobs: int = 1) -> list[dict]:
    """`sweep` for every spec that declares one (and has `impl`); with `out_dir`, one PNG per
    primitive, `<primitive>-<axis>.png`. Returns all rows. `jobs` > 1: one primitive per worker
    process at a time (spawned), so the times along L are measured while other workers run
    (their shape against L, not their level, is what such a plot shows)."""
    if out_dir is not None:
        Path(out_dir).mkdir(parents=True, exist_ok=True)
    chosen = [spec for spec in registry.specs()
              if spec.sweep is not None and (not primitives or spec.name in primitives)
              and impl in {i.name for i in registry.implementations(spec.name) if i.available}]
    jobs_args = [(spec.name, impl, [m for m in spec.methods if not methods or m in methods],
                  dtypes, None, device, timing) for spec in chosen]
    if jobs > 1:
        import multiprocessing
        from concurrent.futures import ProcessPoolExecutor

        with ProcessPoolExecutor(jobs, mp_context=multiprocessing.get_context("spawn")) as pool:
            results = list(pool.map(sweep, *zip(*jobs_args))) if jobs_args else []
    else:
        results = (sweep(*args) for args in jobs_args)
    rows = []
    for spec, mine in zip(chosen, results):
        rows += mine
        if out_dir is not None and mine:
            axis_name = "L" if spec.sweep.axis == "L" else "dt"
            plot(mine, Path(out_dir) / f"{spec.name}-{axis_name}.png",
                 f"{spec.name}: {spec.sweep.description}")
        if progress:
            progress(spec.name)
    return rows


def scan_precision_sweep(methods=None, dtypes=("fp32", "bf16"), lengths=None,
                         device: str = "cpu", impl: str = "torch") -> list[dict]:
    """The linear scan's sweep (a in [0.99, 1]): rows as `sweep`'s, without timings."""
    return sweep("linear_scan", impl, methods, dtypes, lengths, device, timing=False)


def plot_scan_precision(rows: list[dict], path) -> None:
    plot(rows, path, "linear_scan: error against length (a in [0.99, 1])")

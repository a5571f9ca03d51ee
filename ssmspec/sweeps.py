"""Precision against length (SPEC-NOTES §7): how each linear-scan method's error grows with L.

`scan_precision_sweep` runs every method on one fixed random problem per length — a in the hard
range [0.99, 1] (long memory, where log-space's loss shows), b standard normal, shape (4, L) —
against the longdouble-accumulated float64 reference, and returns one row per
(method, format, L): the max err/bound, the max error in ulps of the format, and the max
|error|/M (M the magnitude scan of the bound). `plot_scan_precision` draws the last against L.
"""

from __future__ import annotations

import numpy as np

from ssmspec import harness, registry
from ssmspec.errors import abs_error, ratio
from ssmspec.profiles import heavy


def default_lengths() -> tuple[int, ...]:
    """2^6 … 2^14 (2^16 under the nightly profile)."""
    return tuple(2**k for k in range(6, (17 if heavy() else 15)))


def scan_precision_sweep(methods=None, dtypes=("fp32", "bf16"), lengths=None, rows: int = 4,
                         seed: int = 0, device: str = "cpu", impl: str = "torch") -> list[dict]:
    """Rows {method, dtype, L, max_err_over_bound, max_ulps, max_err_over_M}; see the module
    docstring."""
    from ssmspec.specs.scans import make_case

    spec = registry.spec("linear_scan")
    fn = registry.implementation("linear_scan", impl).fn
    methods = tuple(methods or spec.methods)
    out = []
    for L in lengths or default_lengths():
        rng = np.random.default_rng(seed)
        a, b = rng.uniform(0.99, 1.0, (rows, L)), rng.normal(size=(rows, L))
        for fmt in dtypes:
            case = make_case(fmt, a, b)
            ref = spec.reference(case, "sequential", "np")["h"]
            M = spec.bound.magnitude(case, "sequential")["h"]
            for method in methods:
                if fmt not in spec.dtypes_of(method):
                    continue
                m = harness.evaluate(spec, fn, case, method, device, tier="np")
                got = harness.to_numpy(harness.run(spec, fn, case, method, device)["h"])
                rel = ratio(abs_error(got, ref), M)
                out.append({"method": method, "dtype": fmt, "L": L,
                            "max_err_over_bound": m.max_ratio, "max_ulps": m.max_ulps,
                            "max_err_over_M": float(rel.max())})
    return out


def plot_scan_precision(rows: list[dict], path) -> None:
    """max |error|/M against L, one line per (method, format), log-log, saved to `path`."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7, 4.5))
    keys = sorted({(r["method"], r["dtype"]) for r in rows})
    for method, fmt in keys:
        sel = sorted((r["L"], r["max_err_over_M"]) for r in rows
                     if r["method"] == method and r["dtype"] == fmt)
        ax.loglog([s[0] for s in sel], [max(s[1], 1e-20) for s in sel], marker="o",
                  label=f"{method} {fmt}")
    ax.set_xlabel("L")
    ax.set_ylabel("max |error| / M")
    ax.set_title("linear_scan: error against length (a in [0.99, 1])")
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)

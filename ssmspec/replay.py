"""Saved inputs: `--save-worst DIR` writes one `.npz` per failure class; `ssmspec replay FILE`
(and `ssmspec check --case FILE`) runs one again and renders the same verdict table.

A file holds the case's arrays under their names and, under `__ssmspec__`, a JSON string: the
primitive, method, dtype, the case's params (as a Python literal), the failure class and the
err/bound it had. A `.json` beside it repeats that for reading.
"""

from __future__ import annotations

import ast
import json
import re
from pathlib import Path

import numpy as np

from ssmspec import harness, registry, scope
from ssmspec.check import CheckResult, Search
from ssmspec.spec import Case, Implementation

META = "__ssmspec__"


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")[:40]


def save_worst(res: CheckResult, out_dir: str | Path) -> list[Path]:
    """Each failure class's witness as `<primitive>-<method>-<dtype>-<class>.npz` (+ `.json`)."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = []
    for s in res.searches:
        for i, c in enumerate(s.classes.values()):
            stem = out_dir / f"{res.primitive}-{s.method}-{s.dtype}-{_slug(c.kind)}-{i}"
            r = c.measurement.max_ratio
            meta = {"primitive": res.primitive, "implementation": res.implementation,
                    "method": s.method, "dtype": s.dtype, "class": c.key,
                    "params": repr(dict(c.witness.params)),
                    "err_over_bound": r if r < float("inf") else "inf",
                    "measurement": c.measurement.describe()}
            arrays = {k: np.asarray(v) for k, v in c.witness.arrays.items()}
            np.savez(stem.with_suffix(".npz"), **arrays, **{META: np.array(json.dumps(meta))})
            stem.with_suffix(".json").write_text(json.dumps(meta, indent=2))
            paths.append(stem.with_suffix(".npz"))
    return paths


def load(path: str | Path) -> tuple[dict, Case]:
    """(metadata, Case) of a file written by `save_worst`; ValueError naming `path` if it is
    not one."""
    with np.load(path, allow_pickle=False) as z:
        if META not in z.files:
            raise ValueError(f"path: {path} is not an ssmspec input (no {META} entry)")
        meta = json.loads(str(z[META]))
        arrays = {k: np.array(z[k]) for k in z.files if k != META}
    return meta, Case(arrays, meta["dtype"], ast.literal_eval(meta["params"]))


def replay(path: str | Path, impl: Implementation, device: str = "cpu",
           primitive: str | None = None) -> CheckResult:
    """Run `impl` on the saved input at `path`: a CheckResult with one search of one input."""
    meta, case = load(path)
    if primitive and primitive != meta["primitive"]:
        raise ValueError(f"path: {path} holds an input of {meta['primitive']}, not {primitive}")
    spec = registry.spec(meta["primitive"])
    res = CheckResult(spec.name, impl.name, device, None, scope.describe(spec, impl))
    s = Search(meta["method"], meta["dtype"], xfail=impl.expected_failure(meta["method"],
                                                                         meta["dtype"]))
    try:
        m = harness.evaluate(spec, scope.guarded(spec, impl), case, meta["method"], device)
    except scope.OutOfScope:
        s.out_of_scope = 1
    else:
        s.add(case, m)
    res.searches.append(s)
    return res

"""Rendering a CheckResult (`ssmspec check`, `ssmspec replay`): Markdown and JSON.

The table has one row per (method, dtype): the inputs drawn and how they split (passed, finite
but over the bound, non-finite, raised, wrong output), the worst finite err/bound and the
verdict. Below it, each failure class with its (shrunk) witness and diagnosis, the laws and bad
inputs, and how to reproduce.
"""

from __future__ import annotations

from ssmspec.check import CheckResult, FailureClass, Search


def _verdict(s: Search) -> str:
    if s.xfail:
        return f"xfail ({s.xfail})" if not s.passed else "XPASS (expected to fail)"
    return "pass" if s.passed else "FAIL"


def _class_lines(s: Search, c: FailureClass) -> list[str]:
    head = (f"### {s.method}, {s.dtype}: {c.key} ({c.count} of {s.examples}); "
            f"{'minimal (shrunk) witness' if c.shrunk else 'first witness'}")
    lines = ["", head, "", c.measurement.describe(), "", "input:"]
    lines += [f"  {k}: {v}" for k, v in c.witness.summary().items()]
    if c.diagnosis:
        lines += ["", f"diagnosis: {c.diagnosis}"]
    return lines


def to_text(res: CheckResult, argv_hint: str) -> str:
    """The human-readable verdict."""
    lines = [f"# ssmspec check: {res.implementation} as `{res.primitive}` on {res.device}"]
    if res.scope:
        lines.append(f"scope: {res.scope}")
    if res.shapes is not None:
        from ssmspec.check import describe_shapes

        lines.append(f"shapes: {describe_shapes(res.shapes)}")
    lines += ["", "| method | dtype | inputs | passed | over bound | non-finite | raised | "
                  "wrong output | worst finite err/bound | verdict |",
              "|---|---|---:|---:|---:|---:|---:|---:|---:|---|"]
    for s in res.searches:
        n = s.counts
        lines.append(f"| {s.method} | {s.dtype} | {s.examples} | {n['passed']} | "
                     f"{n['over bound']} | {n['non-finite']} | {n['raised']} | "
                     f"{n['wrong output']} | {s.worst_finite:.3g} | {_verdict(s)} |")
    dropped = sum(s.out_of_scope for s in res.searches)
    if dropped:
        lines += ["", f"{dropped} drawn input(s) used a method or feature outside the declared "
                      "scope and were not counted"]
    for s in res.searches:
        for c in s.classes.values():
            lines += _class_lines(s, c)
    shown = [o for o in res.outcomes if o.out_of_scope is None]
    if shown:
        lines += ["", "| check | name | verdict |", "|---|---|---|"]
        for o in shown:
            lines.append(f"| {o.kind} | {o.name} | "
                         f"{'pass' if o.passed else 'FAIL: ' + o.error} |")
    skipped = [o for o in res.outcomes if o.out_of_scope is not None]
    if skipped:
        lines += ["", "out of the declared scope (not run): "
                  + "; ".join(f"{o.kind} {o.name} ({o.out_of_scope})" for o in skipped)]
    n_fail = sum(not s.ok for s in res.searches) + sum(not o.passed for o in res.outcomes)
    lines += ["", f"**{'PASS' if res.passed else f'FAIL ({n_fail} failing)'}**", ""]
    if argv_hint:
        rep = f"{argv_hint} --seed {res.seed}" if res.seed is not None else argv_hint
        lines.append(f"reproduce: `{rep}`" + ("" if res.seed is not None else
                                              " (derandomized: the same inputs every run)"))
    return "\n".join(lines)


def _ratio(x: float):
    return x if x < float("inf") else "inf"


def to_json(res: CheckResult) -> dict:
    """Everything in the text verdict, as data."""
    return {
        "primitive": res.primitive, "implementation": res.implementation,
        "device": res.device, "seed": res.seed, "scope": res.scope, "passed": res.passed,
        "shapes": ({"fixed": dict(res.shapes.fixed), "regime": res.shapes.regime}
                   if res.shapes is not None else None),
        "searches": [{
            "method": s.method, "dtype": s.dtype, "examples": s.examples,
            "counts": dict(s.counts), "out_of_scope": s.out_of_scope,
            "max_err_over_bound": _ratio(s.ratio), "worst_finite_err_over_bound": s.worst_finite,
            "passed": s.passed, "xfail": s.xfail, "raised": s.raised,
            "failures": [{"class": c.key, "kind": c.kind, "count": c.count,
                          "shrunk": c.shrunk, "measurement": c.measurement.describe(),
                          "err_over_bound": _ratio(c.measurement.max_ratio),
                          "input": c.witness.summary(), "diagnosis": c.diagnosis}
                         for c in s.classes.values()],
        } for s in res.searches],
        "checks": [{"kind": o.kind, "name": o.name, "error": o.error,
                    "out_of_scope": o.out_of_scope} for o in res.outcomes],
    }

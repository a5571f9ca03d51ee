"""The `ssmspec` command."""

from __future__ import annotations

import argparse
import sys

from ssmspec import __version__, dtypes, registry

DESCRIPTION = """\
ssmspec: is an SSM kernel still right, how right, and how fast?

commands:
  list     the primitives, their methods, formats, implementations, laws and mutants
  report   measure every implementation against its high-precision reference within the
           primitive's a-priori error bound (err/bound, ulps) and time it; writes report.json
           and report.md; exits 1 if any entry exceeds its bound
"""


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="ssmspec", description=DESCRIPTION,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--version", action="version", version=f"ssmspec {__version__}")
    sub = p.add_subparsers(dest="command", metavar="COMMAND")

    sub.add_parser("list", help="list primitives, methods, formats and implementations")

    r = sub.add_parser("report", help="precision/speed report on the implementations")
    r.add_argument("--device", default="cpu", help="cpu or cuda (default: cpu)")
    r.add_argument("--dtype", nargs="+", choices=sorted(dtypes.DTYPES), metavar="DTYPE",
                   help=f"formats to measure (default: all of each primitive's); "
                        f"any of {', '.join(dtypes.DTYPES)}")
    r.add_argument("--primitive", nargs="+", metavar="NAME", help="primitives (default: all)")
    r.add_argument("--method", nargs="+", metavar="NAME", help="methods (default: all)")
    r.add_argument("--impl", nargs="+", metavar="NAME", help="implementations (default: all)")
    r.add_argument("--out", default="ssmspec-report", metavar="DIR",
                   help="where report.json and report.md go (default: ./ssmspec-report)")
    r.add_argument("--examples", type=int, default=20, metavar="K",
                   help="inputs drawn per entry (default: 20)")
    r.add_argument("--repeats", type=int, default=7, metavar="R",
                   help="timings per entry (default: 7)")
    r.add_argument("--no-timing", action="store_true", help="skip the timings")
    r.add_argument("--no-progress", action="store_true", help="no progress bar")
    return p


def _list() -> int:
    for s in registry.specs():
        print(f"{s.name}  [{s.family}]  {s.summary}")
        print(f"  signature: {s.signature}")
        print(f"  methods:   {', '.join(s.methods)}")
        print(f"  dtypes:    {', '.join(s.dtypes)}")
        for impl in registry.implementations(s.name):
            state = "available" if impl.available else f"unavailable: {impl.unavailable}"
            print(f"  impl:      {impl.name} ({impl.source}; {state}; devices "
                  f"{', '.join(impl.devices)})")
        laws = registry.laws(s.name)
        if laws:
            print(f"  laws:      {', '.join(law.name for law in laws)}")
        muts = registry.mutants(s.name)
        if muts:
            print(f"  mutants:   {', '.join(m.name for m in muts)}")
        print()
    print("dtypes:")
    print(dtypes.describe())
    return 0


def _validate_names(kind: str, given, known) -> None:
    unknown = sorted(set(given or ()) - set(known))
    if unknown:
        raise SystemExit(f"ssmspec: error: --{kind}: unknown {unknown}; known: {sorted(known)}")


def _report(a: argparse.Namespace) -> int:
    from ssmspec import report

    if a.examples < 1 or a.repeats < 1:
        raise SystemExit("ssmspec: error: --examples and --repeats must be >= 1")
    if a.device.startswith("cuda"):
        import torch

        if not torch.cuda.is_available():
            raise SystemExit("ssmspec: error: --device cuda: torch sees no CUDA device here")
    specs = registry.specs()
    _validate_names("primitive", a.primitive, [s.name for s in specs])
    _validate_names("method", a.method, {m for s in specs for m in s.methods})
    _validate_names("impl", a.impl, {i.name for i in registry.implementations()})
    rep = report.build(a.primitive, a.impl, a.method, a.dtype, a.device, a.examples, a.repeats,
                       timing=not a.no_timing, progress=False if a.no_progress else None)
    j, m = report.write(rep, a.out)
    s = rep["summary"]
    print(report.to_markdown(rep))
    print(f"wrote {j} and {m}: {s['passed']}/{s['entries']} within bound", file=sys.stderr)
    return 0 if s["failed"] == 0 else 1


def main(argv=None) -> int:
    p = _parser()
    a = p.parse_args(argv)
    if a.command == "list":
        return _list()
    if a.command == "report":
        return _report(a)
    p.print_help()
    return 2


if __name__ == "__main__":
    sys.exit(main())

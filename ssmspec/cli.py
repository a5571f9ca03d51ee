"""The `ssmspec` command."""

from __future__ import annotations

import argparse
import shlex
import sys

from ssmspec import __version__, dtypes, profiles, registry, strategies

DESCRIPTION = """\
ssmspec: is an SSM kernel still right, how right, and how fast?

commands:
  list     the primitives, their methods, formats, implementations, laws and mutants
  report   measure every implementation against its high-precision reference within the
           primitive's a-priori error bound (err/bound, ulps) and time it; writes report.json
           and report.md; exits 1 if any entry exceeds its bound
  check    check one implementation, e.g. your kernel `pkg.module:function`, against a
           primitive's spec: a search for its worst input, the laws and the bad inputs;
           prints the worst input found and how to reproduce it; exits 1 on a failure
  compare  compare two report.json files: precision regressions and slowdowns (a slowdown
           only where it exceeds the noise of the repeats); exits 1 past a threshold
  selftest put each known-bad variant (mutant) in place of the implementation and run the
           properties on it: the mutation score per primitive; exits 1 if one is missed
  replay   run an implementation on an input saved by `check --save-worst` (same table)
  peers    check and time every public SSM kernel library importable here (ssmspec.peers):
           writes peers.json and peers.md

report, check, compare, selftest: markdown on stdout; --json prints JSON instead, --quiet only
the one-line verdict (on stderr, with the exit status as the machine-readable result).
"""


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="ssmspec", description=DESCRIPTION,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--version", action="version", version=f"ssmspec {__version__}")
    sub = p.add_subparsers(dest="command", metavar="COMMAND")

    lst = sub.add_parser("list", help="list primitives, methods, formats and implementations")
    lst.add_argument("--sharpness", action="store_true",
                     help="also measure each primitive's sharpness: the built-in's err/bound in "
                          "fp32/c64 on its benchmark input (a shipping size); slow")
    lst.add_argument("--primitive", nargs="+", metavar="NAME", help="primitives (default: all)")
    lst.add_argument("--verbose", action="store_true",
                     help="also each bound's constants and reasoning, and each mutant's bug")
    lst.add_argument("--peers", action="store_true",
                     help="list the registered peer functions (public SSM kernel libraries) "
                          "and whether each is importable here")

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
    r.add_argument("--plots", action="store_true",
                   help="also sweep each primitive along L (scans, kernels, convolution) or Δ "
                        "(discretisation) and write PNGs of err/bound, ulps, |error|/M and time")
    r.add_argument("--realistic-examples", type=int, default=1, metavar="K",
                   help="the sharpness section: besides the benchmark input, K inputs per "
                        "(primitive, method) drawn in the realistic regime, fp32/c64, built-in "
                        "torch (default: 1; 0: the benchmark input only)")
    r.add_argument("--no-realistic", action="store_true",
                   help="skip the sharpness section (realistic sizes)")
    _wide_flags(r)
    r.add_argument("--selftest", action="store_true",
                   help="also run the self-test and put the mutation scores in the report")
    _output_flags(r)

    c = sub.add_parser("check", help="check one implementation against a primitive's spec")
    c.add_argument("primitive", help="the primitive (see `ssmspec list`)")
    c.add_argument("function", help="pkg.module:function, or a registered implementation's name")
    _scope_flags(c)
    c.add_argument("--dtype", nargs="+", choices=sorted(dtypes.DTYPES), metavar="DTYPE",
                   help="formats (default: all of the primitive's)")
    c.add_argument("--profile", choices=profiles.PROFILES, default=None,
                   help="how hard to search, in inputs per (method, dtype): "
                        f"{profiles.describe_counts('check')}; at fixed sizes or in the realistic "
                        f"regime {profiles.describe_counts('realistic')} (default: "
                        "SSMSPEC_PROFILE, else ci)")
    c.add_argument("--size", action="append", default=[], metavar="NAME=VALUE",
                   help="fix a size parameter of the primitive's signature, e.g. --size L=4096 "
                        "--size N=64 (repeatable; `ssmspec list` names each primitive's sizes); "
                        "the values are still drawn")
    c.add_argument("--regime", choices=strategies.REGIMES, default="default",
                   help="where the other sizes come from: the spec's small shapes (default) or "
                        "the sizes kernels ship with (realistic: L to 2^16, N to 256, H/D to "
                        "1024, batch to 8, within a work budget per input)")
    c.add_argument("--examples", type=int, default=None, metavar="K",
                   help="inputs per (method, dtype), overriding the profile's")
    c.add_argument("--seed", type=int, default=None,
                   help="search randomly from this seed (default: derandomized under ci, "
                        "interpret, gpu and smoke, a fresh seed, printed, under dev/nightly)")
    c.add_argument("--xfail", metavar="FILE", help="TOML file of expected failures")
    c.add_argument("--no-laws", action="store_true", help="skip the laws")
    c.add_argument("--bad-input", action="store_true",
                   help="also check argument validation (bad shapes, dtypes, values raise "
                        "ValueError/TypeError naming the argument); on by default only for "
                        "registered implementations")
    c.add_argument("--no-bad-input", action="store_true",
                   help="skip the bad-input checks even for a registered implementation")
    c.add_argument("--no-shrink", action="store_true",
                   help="keep each failure class's first input instead of shrinking it")
    c.add_argument("--save-worst", metavar="DIR",
                   help="save each failure class's witness as .npz (+ .json) in DIR, for "
                        "`ssmspec replay`")
    c.add_argument("--case", metavar="FILE.npz",
                   help="run only the input saved in FILE.npz (as `ssmspec replay`)")
    _wide_flags(c)
    _output_flags(c)

    pe = sub.add_parser("peers", help="check and time every importable public SSM kernel library")
    pe.add_argument("--device", default="cpu", help="cpu or cuda (default: cpu)")
    pe.add_argument("--out", default="ssmspec-peers", metavar="DIR",
                    help="where peers.json and peers.md go (default: ./ssmspec-peers)")
    pe.add_argument("--examples", type=int, default=10, metavar="K",
                    help="inputs per (peer, method, format) (default: 10)")
    pe.add_argument("--library", nargs="+", metavar="NAME", help="libraries (default: all)")
    pe.add_argument("--no-timing", action="store_true", help="skip the timings")
    pe.add_argument("--no-progress", action="store_true", help="no progress bar")
    pe.add_argument("--from", dest="from_json", metavar="PEERS.json",
                    help="no run: peers.md (and --readme) from this peers.json")
    pe.add_argument("--readme", metavar="README.md",
                    help="rewrite the Findings table between its <!-- peers-findings --> markers "
                         "from this run's (or --from's) peers.json")
    _wide_flags(pe)

    rp = sub.add_parser("replay", help="run an implementation on a saved input")
    rp.add_argument("file", metavar="FILE.npz", help="an input saved by `check --save-worst`")
    rp.add_argument("function", help="pkg.module:function, or a registered implementation's name")
    _scope_flags(rp, methods=False)
    _output_flags(rp)

    m = sub.add_parser("compare", help="compare two report.json files")
    m.add_argument("base", help="BASE report.json")
    m.add_argument("head", help="HEAD report.json")
    m.add_argument("--max-precision-regression", type=float, default=2.0, metavar="R",
                   help="flag an err/bound more than R times BASE's (default: 2)")
    m.add_argument("--max-slowdown", type=float, default=1.25, metavar="S",
                   help="flag a median time more than S times BASE's, when the repeats do not "
                        "overlap (default: 1.25)")
    _output_flags(m)

    t = sub.add_parser("selftest", help="mutation score: every known-bad variant caught?")
    t.add_argument("--primitive", nargs="+", metavar="NAME", help="primitives (default: all)")
    t.add_argument("--examples", type=int, default=200, metavar="K",
                   help="strategy inputs searched per mutant (default: 200)")
    t.add_argument("--no-progress", action="store_true", help="no progress bar")
    _wide_flags(t)
    _output_flags(t)
    return p


def _wide_flags(p: argparse.ArgumentParser) -> None:
    """--workers, --executor, --address, --timeout: how the independent targets run."""
    g = p.add_argument_group("running wide")
    g.add_argument("--workers", "--jobs", type=int, default=None, metavar="N", dest="workers",
                   help="targets measured at once: worker processes here, or Ray tasks in flight "
                        "(default: SSMSPEC_WORKERS, else the number of cores; 1: one after "
                        "another in this process; --jobs is a deprecated alias). Timings never "
                        "run beside a busy worker: they run one at a time after the workers")
    g.add_argument("--executor", choices=("local", "ray"), default="local",
                   help="local: worker processes on this machine (default); ray: tasks on a "
                        "Ray cluster (pip install 'ssmspec[ray]'), a CUDA target asking for one "
                        "GPU")
    g.add_argument("--address", metavar="HOST:PORT",
                   help="the Ray cluster's address (default: RAY_ADDRESS, else the cluster "
                        "`ray start` made on this machine, else a local one)")
    g.add_argument("--timeout", type=float, default=None, metavar="S",
                   help="seconds per target attempt before its worker is killed; a timed-out "
                        "or dead worker's target is tried once more, then reported as an error")


def _plan(a: argparse.Namespace):
    """The executor.Plan the --workers/--executor/--address/--timeout flags describe."""
    from ssmspec import executor

    try:
        workers = a.workers if a.workers is not None else executor.default_workers()
        return executor.Plan(workers, a.executor, a.address, timeout_s=a.timeout)
    except ValueError as exc:
        raise SystemExit(f"ssmspec: error: --workers/--executor/--timeout: {exc}") from exc


def _scope_flags(p: argparse.ArgumentParser, methods: bool = True) -> None:
    p.add_argument("--adapter", metavar="MOD:FN",
                   help="adapter(fn) -> a function with the primitive's canonical signature")
    if methods:
        p.add_argument("--method", nargs="+", metavar="NAME",
                       help="the methods it implements (default: all); laws draw only these")
    p.add_argument("--without", action="append", default=[], metavar="FEATURE",
                   help="an optional feature it lacks (repeatable; `ssmspec list` names each "
                        "primitive's), e.g. --without initial_state --without conj_half=False")
    p.add_argument("--device", default="cpu", help="cpu or cuda (default: cpu)")


def _output_flags(p: argparse.ArgumentParser) -> None:
    g = p.add_mutually_exclusive_group()
    g.add_argument("--json", action="store_true", help="print JSON on stdout (for CI)")
    g.add_argument("--quiet", action="store_true", help="print only the one-line verdict")


def _emit(a: argparse.Namespace, markdown: str, data, verdict: str) -> None:
    import json

    if a.json:
        print(json.dumps(data, indent=2, default=str))
    elif not a.quiet:
        print(markdown)
    print(verdict, file=sys.stderr)


def _list(a: argparse.Namespace) -> int:
    if a.peers:
        from ssmspec import peers

        print(peers.describe(a.primitive))
        return 0
    _validate_names("primitive", a.primitive, [s.name for s in registry.specs()])
    for s in registry.specs():
        if a.primitive and s.name not in a.primitive:
            continue
        print(f"{s.name}  [{s.family}]  {s.summary}")
        print(f"  signature: {s.signature}")
        print(f"  methods:   {', '.join(s.methods)}")
        print(f"  dtypes:    {', '.join(s.dtypes)}")
        if s.features:
            print(f"  features:  {', '.join(s.features)} (optional: --without NAME)")
        if s.sizes:
            works = sorted({s.work_of(m) for m in s.methods})
            print(f"  sizes:     {', '.join(s.sizes)} (--size NAME=VALUE; realistic work "
                  f"budget {' / '.join(f'2^{w.bit_length() - 1}' for w in works)})")
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
        if a.verbose:
            b = s.bound
            print(f"  bound:     c = {', '.join(f'{m} {c:g}' for m, c in b.c.items())}"
                  + (f"; {b.reasoning}" if b.reasoning else ""))
            for m in muts:
                print(f"  mutant:    {m.name} ({m.method}): {m.why}")
            print(f"  bad input: {len(registry.bad_inputs(s.name))} calls")
        if a.sharpness:
            from ssmspec import sharpness

            for e in sharpness.build([s.name], examples=0):
                note = "" if e["sharp"] else (f" (below {sharpness.GOAL}: "
                                              f"{e['explained'] or 'not explained'})")
                print(f"  sharpness: {e['method']} {e['dtype']} {e['sharpness']:.3g} on the "
                      f"benchmark input ({s.bench_shape}){note}")
        print()
    print("dtypes:")
    print(dtypes.describe())
    return 0


def _validate_names(kind: str, given, known) -> None:
    unknown = sorted(set(given or ()) - set(known))
    if unknown:
        raise SystemExit(f"ssmspec: error: --{kind}: unknown {unknown}; known: {sorted(known)}")


def _report(a: argparse.Namespace) -> int:
    if a.examples < 1 or a.repeats < 1:
        raise SystemExit("ssmspec: error: --examples and --repeats must be >= 1")
    # the workers start now and load the registry while this process loads its own
    with _plan(a).start(warm=registry.load) as plan:
        return _report_with(a, plan)


def _report_with(a: argparse.Namespace, plan) -> int:
    from ssmspec import report
    from ssmspec.sharpness import GOAL

    if a.device.startswith("cuda"):
        import torch

        if not torch.cuda.is_available():
            raise SystemExit("ssmspec: error: --device cuda: torch sees no CUDA device here")
    specs = registry.specs()
    _validate_names("primitive", a.primitive, [s.name for s in specs])
    _validate_names("method", a.method, {m for s in specs for m in s.methods})
    _validate_names("impl", a.impl, {i.name for i in registry.implementations()})
    progress = False if (a.no_progress or a.quiet or a.json) else None
    if a.realistic_examples < 0:
        raise SystemExit("ssmspec: error: --realistic-examples must be >= 0")
    rep = report.build(a.primitive, a.impl, a.method, a.dtype, a.device, a.examples, a.repeats,
                       timing=not a.no_timing, progress=progress, plan=plan,
                       realistic=None if a.no_realistic else a.realistic_examples)
    if a.plots:
        from ssmspec import sweeps

        report.write(rep, a.out)  # the entries stand even if the sweeps are cut short
        rep["sweeps"] = sweeps.sweep_all(a.primitive, "torch", a.method, a.dtype, a.device,
                                         timing=not a.no_timing, out_dir=a.out,
                                         jobs=plan.workers if plan.kind == "local" else 1)
    if a.selftest:
        from ssmspec import selftest

        rep["selftest"] = selftest.to_json(selftest.run(a.primitive, plan=plan))
    j, m = report.write(rep, a.out)
    s = rep["summary"]
    missed = [x for x in (rep.get("selftest") or {}).get("mutants", []) if not x["caught"]]
    _emit(a, report.to_markdown(rep), rep,
          f"wrote {j} and {m}: {s['passed']}/{s['entries']} within bound"
          + (f"; {s['failed_realistic']} over the bound at realistic sizes"
             if s.get("failed_realistic") else "")
          + (f"; sharpness below {GOAL} for {s['below_goal']}" if s.get("below_goal") else "")
          + (f"; {len(missed)} mutant(s) missed" if missed else ""))
    return 0 if s["failed"] == 0 and not s.get("failed_realistic") and not missed else 1


def _implementation(a: argparse.Namespace, primitive: str):
    """The implementation `a.function` names, inside the scope the flags declare."""
    from dataclasses import replace

    from ssmspec import plugins, scope

    spec = registry.spec(primitive)
    methods = getattr(a, "method", None)
    _validate_names("method", methods, spec.methods)
    known = {i.name: i for i in registry.implementations(primitive)}
    try:
        without = scope.validate(spec, a.without)
        peer = None if a.adapter else _registered_peer(primitive, a.function)
        if peer is not None:
            impl = replace(peer, without=tuple(dict.fromkeys(peer.without + without)),
                           methods=tuple(methods) if methods else peer.methods)
        elif a.function in known and not a.adapter:
            impl = replace(known[a.function], without=without,
                           methods=tuple(methods) if methods else known[a.function].methods)
            if getattr(a, "xfail", None):
                impl = replace(impl, xfail=plugins.load_xfails(a.xfail))
        else:
            # the methods named are the ones it implements: laws draw only those
            impl = plugins.outside(primitive, a.function, adapter=a.adapter,
                                   xfail=getattr(a, "xfail", None), methods=methods,
                                   without=without)
    except (ValueError, TypeError, ImportError, OSError) as exc:
        raise SystemExit(f"ssmspec: error: {a.function}: {exc}") from exc
    return impl


def _registered_peer(primitive: str, function: str):
    """The registered peer `function` of `primitive` (`ssmspec.peers`) as an Implementation, its
    adapter and declared scope said on stderr; None if `function` is not one."""
    from ssmspec import peers

    p = peers.by_function(function)
    if p is None or p.primitive != primitive:
        return None
    peers.load(p.library)
    print(f"ssmspec: {function}: registered peer ({p.library}), adapter {p.adapter}, "
          f"methods {', '.join(p.methods)}"
          + (f", without {', '.join(p.without)}" if p.without else ""), file=sys.stderr)
    return p.implementation()


def _peers(a: argparse.Namespace) -> int:
    """`ssmspec peers`: writes peers.json and peers.md (from a run, or `--from` a peers.json),
    and with `--readme` README's Findings table; exits 0 (findings are data, not errors)."""
    from pathlib import Path

    from ssmspec import peers
    from ssmspec.peers import leaderboard
    from ssmspec.report import Progress

    if a.from_json:
        try:
            board = leaderboard.read(a.from_json)
        except (OSError, ValueError) as exc:
            raise SystemExit(f"ssmspec: error: --from: {exc}") from exc
    else:
        _validate_names("library", a.library, peers.PINS)
        if a.examples < 1:
            raise SystemExit("ssmspec: error: --examples must be >= 1")
        chosen = [p for p in peers.known() if not a.library or p.library in a.library]
        bar = Progress(len(chosen), False if a.no_progress else None)
        board = leaderboard.build(a.device, a.examples, a.library, bar.step,
                                  timing=not a.no_timing, plan=_plan(a))
    j, m = leaderboard.write(board, a.out)
    print(leaderboard.to_markdown(board))
    failed = sum(r["verdict"] == "fail" for r in board["rows"])
    print(f"wrote {j} and {m}: {len(board['rows'])} rows ({failed} failing), "
          f"{len(board['skipped'])} peer function(s) not checked here", file=sys.stderr)
    if a.readme:
        try:
            path = Path(a.readme)
            path.write_text(leaderboard.with_findings(path.read_text(), board))
        except (OSError, ValueError) as exc:
            raise SystemExit(f"ssmspec: error: --readme {a.readme}: {exc}") from exc
        print(f"rewrote the Findings table in {path}", file=sys.stderr)
    return 0


def _emit_check(a: argparse.Namespace, res, hint: str) -> int:
    from ssmspec import replay, verdict

    if getattr(a, "save_worst", None):
        replay.save_worst(res, a.save_worst)
    _emit(a, verdict.to_text(res, hint), verdict.to_json(res),
          f"{res.implementation} as {res.primitive}: {'PASS' if res.passed else 'FAIL'}")
    return 0 if res.passed else 1


def _replay(a: argparse.Namespace, primitive: str | None = None) -> int:
    from ssmspec import replay

    path = a.case if a.command == "check" else a.file
    try:
        meta, _ = replay.load(path)
    except (OSError, ValueError) as exc:
        raise SystemExit(f"ssmspec: error: {path}: {exc}") from exc
    if primitive and primitive != meta["primitive"]:
        raise SystemExit(f"ssmspec: error: --case {path} holds an input of "
                         f"{meta['primitive']}, not {primitive}")
    impl = _implementation(a, meta["primitive"])
    res = replay.replay(path, impl, a.device)
    return _emit_check(a, res, f"ssmspec replay {path} {a.function}")


def _check(a: argparse.Namespace) -> int:
    from ssmspec import check

    spec_names = [s.name for s in registry.specs()]
    if a.primitive not in spec_names:
        raise SystemExit(f"ssmspec: error: primitive: expected one of {spec_names}, "
                         f"got {a.primitive!r}")
    if a.case:
        return _replay(a, a.primitive)
    profile = a.profile or profiles.active()
    spec = registry.spec(a.primitive)
    try:
        fixed = strategies.parse_sizes(a.size, spec.sizes, a.primitive)
    except ValueError as exc:
        raise SystemExit(f"ssmspec: error: {exc}") from exc
    shapes = (strategies.ShapeScope(fixed=fixed, regime=a.regime)
              if fixed or a.regime != "default" else None)
    examples = a.examples or profiles.check_examples(profile, realistic=shapes is not None)
    if examples < 1:
        raise SystemExit("ssmspec: error: --examples must be >= 1")
    seed = a.seed if a.seed is not None else (
        None if profiles.derandomized(profile) else check.new_seed())
    impl = _implementation(a, a.primitive)
    bad = a.bad_input or (not impl.source.startswith("plugin") and not a.no_bad_input)
    res = check.check(a.primitive, impl, a.method, a.dtype, a.device, examples, seed,
                      laws=not a.no_laws, bad_inputs=bad, shrink=not a.no_shrink, shapes=shapes,
                      plan=_plan(a))
    hint = " ".join(["ssmspec check", a.primitive, a.function]
                    + (["--adapter", a.adapter] if a.adapter else [])
                    + (["--method", *a.method] if a.method else [])
                    + [f"--without {shlex.quote(w)}" for w in a.without]
                    + (["--dtype", *a.dtype] if a.dtype else [])
                    + [f"--size {x}" for x in a.size]
                    + (["--regime", a.regime] if a.regime != "default" else [])
                    + ["--device", a.device, "--examples", str(examples)])
    return _emit_check(a, res, hint)


def _compare(a: argparse.Namespace) -> int:
    from dataclasses import asdict

    from ssmspec import compare

    try:
        rows = compare.compare(a.base, a.head, a.max_precision_regression, a.max_slowdown)
    except (ValueError, OSError) as exc:
        raise SystemExit(f"ssmspec: error: {exc}") from exc
    n_p = sum(r.precision_regression for r in rows)
    n_s = sum(r.slowdown for r in rows)
    _emit(a, compare.to_markdown(rows, a.base, a.head), [asdict(r) for r in rows],
          f"{n_p} precision regression(s), {n_s} slowdown(s) over {len(rows)} entries")
    return 1 if (n_p or n_s) else 0


def _selftest(a: argparse.Namespace) -> int:
    from ssmspec import selftest
    from ssmspec.report import Progress

    with _plan(a).start(warm=registry.load) as plan:  # workers load while this process does
        _validate_names("primitive", a.primitive, [s.name for s in registry.specs()])
        muts = [m for m in registry.mutants() if not a.primitive or m.primitive in a.primitive]
        bar = Progress(len(muts), False if (a.no_progress or a.quiet or a.json) else None)
        results = selftest.run(a.primitive, a.examples, progress=bar.step, plan=plan)
    missed = [r for r in results if not r.caught]
    _emit(a, selftest.to_markdown(results), selftest.to_json(results),
          f"self-test: {len(results) - len(missed)}/{len(results)} mutants caught"
          + (f"; missed: {', '.join(r.primitive + '/' + r.name for r in missed)}"
             if missed else ""))
    return 1 if missed else 0


def main(argv=None) -> int:
    p = _parser()
    a = p.parse_args(argv)
    profiles.use_cache_storage()  # never a .hypothesis/ folder in the user's directory
    if a.command == "list":
        return _list(a)
    if a.command == "report":
        return _report(a)
    if a.command in ("check", "replay"):
        return _check(a) if a.command == "check" else _replay(a)
    if a.command == "compare":
        return _compare(a)
    if a.command == "peers":
        return _peers(a)
    if a.command == "selftest":
        return _selftest(a)
    p.print_help()
    return 2


if __name__ == "__main__":
    sys.exit(main())

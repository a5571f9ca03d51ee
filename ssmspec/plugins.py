"""Outside implementations: named on the command line, in pytest, or by entry points.

A kernel written outside ssmspec is checked against a primitive's spec by naming it as
`pkg.module:function` (`ssmspec check`, `pytest --ssmspec-impl PRIMITIVE=pkg.module:function`),
or a package registers its kernels for every run through the entry-point group
`ssmspec.implementations`: each entry point names a callable that returns an iterable of
`ssmspec.spec.Implementation` (or registers them itself and returns None).

Signature differences are bridged by adapters: small declared functions `adapter(fn) -> fn'`
where fn' has the primitive's canonical signature (`ssmspec list` prints it). An adapter is named
like a function (`--adapter pkg.module:adapter`), never a copy of the spec.

Expected failures are data, never edits to the tests: an xfail file (TOML) per implementation,

    [[xfail]]
    primitive = "linear_scan"
    method = "logspace"      # or "*"
    dtype = "bf16"           # or "*"
    reason = "computes in bf16 throughout"

turns the matching conformance targets into strict xfails (an unexpected pass is reported too).
"""

from __future__ import annotations

import importlib
import sys
import warnings
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

from ssmspec.spec import Implementation

ENTRY_POINT_GROUP = "ssmspec.implementations"


@dataclass(frozen=True)
class XFail:
    """An expected failure of one implementation: `method`/`dtype` may be "*"."""

    primitive: str
    method: str
    dtype: str
    reason: str

    def matches(self, primitive: str, method: str, dtype: str) -> bool:
        return (self.primitive == primitive and self.method in ("*", method)
                and self.dtype in ("*", dtype))


def load_callable(target: str, what: str = "function") -> Callable:
    """`pkg.module:attr.path` -> the object; ValueError/ImportError with a message naming it."""
    if not isinstance(target, str) or ":" not in target:
        raise ValueError(f"{what}: expected 'pkg.module:function', got {target!r}")
    mod_name, _, attr = target.partition(":")
    if not mod_name or not attr:
        raise ValueError(f"{what}: expected 'pkg.module:function', got {target!r}")
    if "" not in sys.path and "." not in sys.path:
        sys.path.insert(0, "")  # a module in the working directory, as `python -m` finds it
    module = importlib.import_module(mod_name)
    obj = module
    for part in attr.split("."):
        if not hasattr(obj, part):
            raise ValueError(f"{what}: {mod_name} has no attribute {attr!r}")
        obj = getattr(obj, part)
    if not callable(obj):
        raise TypeError(f"{what}: {target} is not callable")
    return obj


def load_xfails(path: str | Path) -> tuple[XFail, ...]:
    """The [[xfail]] entries of a TOML file; ValueError naming the file and entry if malformed."""
    try:
        import tomllib
    except ModuleNotFoundError:  # Python 3.10
        import tomli as tomllib  # type: ignore[no-redef]

    with open(path, "rb") as f:
        data = tomllib.load(f)
    out = []
    for i, e in enumerate(data.get("xfail", [])):
        missing = {"primitive", "reason"} - set(e)
        if missing:
            raise ValueError(f"xfail file {path}: entry {i} lacks {sorted(missing)}")
        out.append(XFail(e["primitive"], e.get("method", "*"), e.get("dtype", "*"),
                         e["reason"]))
    return tuple(out)


def outside(primitive: str, target: str, *, name: str | None = None, adapter: str | None = None,
            methods: Iterable[str] | None = None, dtypes: Iterable[str] | None = None,
            devices: Iterable[str] = ("cpu", "cuda"), xfail: str | Path | None = None,
            without: Iterable[str] = ()) -> Implementation:
    """An Implementation of `primitive` from `pkg.module:function` (through `adapter`), lacking
    the optional features `without` (names of the spec's `features`)."""
    fn = load_callable(target)
    if adapter:
        fn = load_callable(adapter, "adapter")(fn)
    return Implementation(
        primitive, name or target.replace(":", "."), fn,
        methods=tuple(methods) if methods else None,
        dtypes=tuple(dtypes) if dtypes else None,
        devices=tuple(devices),
        source=f"plugin {target}" + (f" via {adapter}" if adapter else ""),
        xfail=load_xfails(xfail) if xfail else (),
        without=tuple(without),
    )


def parse_assignment(text: str) -> tuple[str, str]:
    """'PRIMITIVE=pkg.module:function' -> (primitive, target)."""
    prim, sep, target = text.partition("=")
    if not sep or not prim or not target:
        raise ValueError(f"--ssmspec-impl: expected PRIMITIVE=pkg.module:function, got {text!r}")
    return prim.strip(), target.strip()


def entry_point_implementations() -> list[Implementation]:
    """Implementations from the `ssmspec.implementations` entry points; one that fails to load
    is reported as a warning and skipped (a broken plug-in must not hide the built-ins)."""
    from importlib.metadata import entry_points

    out: list[Implementation] = []
    for ep in entry_points(group=ENTRY_POINT_GROUP):
        try:
            got = ep.load()()
        except Exception as exc:  # noqa: BLE001 - any plug-in failure is reported, not raised
            warnings.warn(f"ssmspec: entry point {ep.name} ({ep.value}) failed: "
                          f"{type(exc).__name__}: {exc}", stacklevel=2)
            continue
        for impl in got or ():
            if not isinstance(impl, Implementation):
                warnings.warn(f"ssmspec: entry point {ep.name} returned {type(impl).__name__}, "
                              "not an Implementation", stacklevel=2)
                continue
            out.append(impl)
    return out

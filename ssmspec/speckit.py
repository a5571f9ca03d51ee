"""The vocabulary of a spec module, in one import: `from ssmspec.speckit import *`.

A spec module (ssmspec/specs/) declares a primitive with the same few dozen names: the spec's
data types (`Spec`, `Bound`, `Terms`, `TwoTier`, `Case`, `Law`, `Mutant`, ...), the strategies
its inputs are drawn with, the error measures and formats its bound is written in, and the law
helpers. They are gathered here so that a spec module imports its vocabulary once and its own
reference, implementation and peers by name. Each imported name's home module is given below;
the few helpers defined at the end are the glue every family writes the same way (a case from
float64 arrays, a complex run's real output, bad-input rows from one valid call). ruff's
star-import checks (F403, F405) are off for ssmspec/specs/ only; tests/test_coverage.py checks
that every name a spec module uses is defined.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from ssmspec import registry
from ssmspec.dtypes import COMPLEX_DTYPES, REAL_DTYPES, S4D_DTYPES, WIDE_DTYPES, dtype, real_of
from ssmspec.errors import abs_error, higham_bound, norm_error, to_float
from ssmspec.harness import to_numpy
from ssmspec.laws import assert_within
from ssmspec.spec import (
    BadInput,
    Bound,
    Case,
    Feature,
    Implementation,
    Law,
    LawContext,
    Mutant,
    Spec,
    Sweep,
    Terms,
    TwoTier,
    flag,
    last_case,
    optional_argument,
)
from ssmspec.strategies import (
    ARRAY_DRAW_MAX,
    arrays,
    batch_shapes,
    boundary_lengths,
    feature,
    in_scope,
    log_uniform,
    real_normals,
    representable,
    sequence_lengths,
    size,
    stable_complex,
    stable_reals,
)
from ssmspec.sweeps import LONG, LONG_HEAVY, QUADRATIC, QUADRATIC_HEAVY, problem_rng

__all__ = [
    "registry",
    # ssmspec.spec: the data a spec is made of
    "BadInput", "Bound", "Case", "Feature", "Implementation", "Law", "LawContext", "Mutant",
    "Spec", "Sweep", "Terms", "TwoTier", "flag", "last_case", "optional_argument",
    # ssmspec.dtypes, ssmspec.errors: formats and error measures
    "COMPLEX_DTYPES", "REAL_DTYPES", "S4D_DTYPES", "WIDE_DTYPES", "dtype", "real_of",
    "abs_error", "higham_bound", "norm_error", "to_float",
    # ssmspec.harness, ssmspec.laws: outputs as numpy, a law's comparison
    "to_numpy", "assert_within",
    # ssmspec.strategies: how inputs are drawn
    "ARRAY_DRAW_MAX", "arrays", "batch_shapes", "boundary_lengths", "feature", "in_scope",
    "log_uniform", "real_normals", "representable", "sequence_lengths", "size",
    "stable_complex", "stable_reals",
    # ssmspec.sweeps: the sizes of a sweep
    "LONG", "LONG_HEAVY", "QUADRATIC", "QUADRATIC_HEAVY", "problem_rng",
    # defined below: the shared glue
    "case_of", "real_output", "caller", "arguments", "full", "zeros", "bad_calls", "generic_rows",
    "ChangedCall",
    # defined at the end: a law's (method, case) draw, a spec's outputs against those of the
    # primitive it reduces to, a call's outputs as numpy, a comparison elementwise or per
    # signal, two calls' agreement within their bounds
    "draw_case", "versus", "run", "within", "agree",
]


def case_of(fmt: str, arrays: Mapping[str, Any], **params) -> Case:
    """A Case of `fmt` whose arrays are `arrays` (float64/complex128) rounded to the format
    (`representable`), with `params`."""
    return Case({k: representable(np.asarray(x), fmt) for k, x in arrays.items()}, fmt, params)


def real_output(y, case: Case, name: str = "y", of: str = "Lambda") -> torch.Tensor:
    """`y` checked to be a tensor of the case's real dtype (the real output of a run whose
    parameters `of` may be complex), handed back in the case's format, exactly, as the generic
    dtype property compares it. TypeError naming `name` otherwise: a conformance failure."""
    d = dtype(case.dtype)
    want = real_of(d).torch
    if not isinstance(y, torch.Tensor) or y.dtype != want:
        got = y.dtype if isinstance(y, torch.Tensor) else type(y).__name__
        raise TypeError(f"{name}: expected the real dtype {want} of {of}, got {got}")
    return y.to(d.torch)


def full(*shape: int, fill: complex = 1.0, dt: torch.dtype = torch.float64) -> torch.Tensor:
    """A tensor of `shape` filled with `fill`: an argument of a bad-input call."""
    return torch.full(shape, fill, dtype=dt)


def zeros(*shape: int, dt: torch.dtype = torch.float64) -> torch.Tensor:
    return full(*shape, fill=0.0, dt=dt)


@dataclass(frozen=True)
class ChangedCall:
    """`call(f)`: `f` called with `valid`'s arguments (by position in order, except those named in
    `keywords`) with `changes` put in (a name `valid` lacks is passed by keyword). Tensors are
    cloned per call, so an implementation writing into an argument spoils no other row. `base`
    is the unchanged valid call, which every implementation must accept (the bad-input property
    checks it: a row whose base call fails for another reason would test nothing)."""

    valid: Mapping[str, Any]
    changes: Mapping[str, Any]
    keywords: tuple[str, ...] = ()

    def __call__(self, f):
        args = {**self.valid, **self.changes}
        fresh = {k: x.clone() if isinstance(x, torch.Tensor) else x for k, x in args.items()}
        by_keyword = {k: x for k, x in fresh.items() if k in self.keywords or k not in self.valid}
        return f(*(x for k, x in fresh.items() if k not in by_keyword), **by_keyword)

    @property
    def base(self) -> ChangedCall:
        return ChangedCall(self.valid, {}, self.keywords)


_LOWER = {torch.float64: torch.float32, torch.complex128: torch.complex64}


def generic_rows(valid: Mapping[str, Any], method: str | None = "method", real=(),
                 anchor: str | None = None, batched: tuple[str, ...] = ()) -> list[tuple]:
    """The bad-input rows every primitive owes (docs/bad-input.md#the-generic-rows), derived from
    one valid call as changes `(name, argument, error, changes)`: for each floating tensor an
    integer one (TypeError) and one with an extra leading axis (ValueError; not for the
    arguments in `batched`, which take any leading axes); for each but the `anchor` (the tensor
    whose dtype the others must match; default the first) one of lower precision (TypeError);
    for the names in `real` (True: every real tensor), which must be real in every format, a
    complex one (TypeError); a float bool mask, a flag 1, an int size as a float (TypeError);
    and an unknown name for the `method` argument (ValueError; None: the call has none)."""
    def put(k, x):  # the change setting argument k, or field k of a NamedTuple argument
        return {k: x} if k in valid else {
            a: v._replace(**{k: x}) for a, v in valid.items() if k in getattr(v, "_fields", ())}

    tensors = {k: x for k, x in valid.items() if isinstance(x, torch.Tensor)}
    for v in valid.values():  # the fields of a NamedTuple of parameters
        tensors |= {f: x for f, x in getattr(v, "_asdict", dict)().items()
                    if isinstance(x, torch.Tensor)}
    floating = [k for k, x in tensors.items() if x.is_floating_point() or x.is_complex()]
    anchor = anchor or next(iter(floating), None)
    rows = []
    for k in floating:
        x = tensors[k]
        rows.append((f"{k} integer", k, TypeError, put(k, torch.zeros_like(x, dtype=torch.int64))))
        if k not in batched:
            rows.append((f"{k} with an extra axis", k, ValueError, put(k, x[None])))
        if k != anchor:
            rows.append((f"{k} of another precision", k, TypeError,
                         put(k, x.to(_LOWER[x.dtype]))))
        if not x.is_complex() and (real is True or k in real):
            rows.append((f"{k} complex", k, TypeError, put(k, x.to(torch.complex128))))
    for k, x in valid.items():
        if isinstance(x, torch.Tensor) and x.dtype == torch.bool:
            rows.append((f"{k} not bool", k, TypeError, {k: x.to(torch.float64)}))
        elif isinstance(x, bool):
            rows.append((f"{k} not a bool", k, TypeError, {k: int(x)}))
        elif isinstance(x, int):
            rows.append((f"{k} a float", k, TypeError, {k: float(x)}))
    if method is not None:
        rows.append((f"unknown {method}", method, ValueError, {method: "no-such-method"}))
    return rows


def caller(*positional: str, keywords: tuple[str, ...] = (), method: str | None = "method",
           real: tuple[str, ...] = (), real_out: str | None = None, of: str = "Lambda",
           real_at: int = 0, **constants):
    """The `call(fn, case, method, device)` of a spec whose implementation is called as
    `fn(*positional, **keywords, <method>=method, **constants)`: each name the case's array of
    that name (a tensor on `device`, of the format's real dtype for the names in `real`), else its
    param, else None (a positional optional argument the case leaves out; a keyword the case
    lacks is not passed). `method`: the name the method is passed by (None: not passed).
    `real_out`: the output (of a tuple, the one at `real_at`) is real, checked and handed back
    by `real_output` under that name (`of`: the complex argument it is the real dtype of)."""
    def get(case: Case, k: str, device):
        if k in case.arrays:
            return case.tensor(k, device, real=k in real)
        return case.params.get(k)

    def call(fn, case: Case, m: str, device: str):
        kw = {k: get(case, k, device) for k in keywords if k in case.arrays or k in case.params}
        out = fn(*(get(case, k, device) for k in positional), **kw,
                 **({} if method is None else {method: m}), **constants)
        if real_out is None:
            return out
        if isinstance(out, tuple):
            out = list(out)
            out[real_at] = real_output(out[real_at], case, real_out, of)
            return tuple(out)
        return real_output(out, case, real_out, of)

    return call


def arguments(*names: str):
    """`args(case, method=None)`: a reference's arguments in order, each the case's (float64)
    array of that name, else its param, else None (an optional array the case leaves out); the
    name "method" stands for the method."""
    def args(case: Case, method: str | None = None) -> tuple:
        return tuple(method if k == "method" else case.arrays[k] if k in case.arrays
                     else case.params.get(k) for k in names)

    return args


def bad_calls(valid: Mapping[str, Any], rows, keywords: tuple[str, ...] = (),
              generic: dict | None = None) -> list[tuple]:
    """Bad-input rows `(name, argument, error, call)` for `register_spec` from one valid call
    `valid` (name -> argument) and rows `(name, argument, error, changes)`, `changes` a mapping
    name -> value replacing those arguments (see `ChangedCall`), followed by the generic rows
    (`generic_rows(valid, **generic)`; `generic=None`: the defaults, `False`: none). A row
    named like a generic one replaces it."""
    derived = [] if generic is False else generic_rows(valid, **(generic or {}))
    own = {row[0] for row in rows}
    return [(name, argument, error, ChangedCall(valid, changes, keywords))
            for name, argument, error, changes in
            [*rows, *(row for row in derived if row[0] not in own)]]


def draw_case(ctx: LawContext, cases, methods, **kw) -> tuple:
    """(method, case): a method of `methods` the law runs, then a case `cases(format, method,
    **kw)`."""
    method = ctx.draw(ctx.methods(methods))
    return method, ctx.draw(cases(ctx.dtype, method, **kw))


def versus(spec: Spec, ctx: LawContext, first: tuple, other: Spec, second: tuple, what: str,
           back, weight: float = 1.0) -> None:
    """Assert that the implementation's outputs on `first` = (case, method) equal, output by
    output, those of `other`'s registered implementation (a primitive the spec reduces to) on
    `second`, within `weight`·(the spec's bound) + `other`'s bound; `back(name, x)` maps an
    output (or its bound) of `other`, by `other`'s name for it, onto the spec's layout."""
    ours = run(spec, ctx.fn, *first, ctx.device)
    theirs = run(other, ctx.impl_of(other.name), *second, ctx.device)
    b1, b2 = spec.bound(*first), other.bound(*second)
    for x, y, k, j in zip(ours, theirs, spec.outputs, other.outputs):
        assert_within(x, back(j, y), weight * b1[k] + back(j, b2[j]), f"{k}: {what}")


def run(spec: Spec, fn, case: Case, method: str, device: str) -> tuple:
    """The outputs of `spec.call(fn, ...)` as numpy arrays, in `spec.outputs` order; the output y
    (real, but returned in the complex format of a complex run) as its real part."""
    out = spec.call(fn, case, method, device)
    out = (out,) if isinstance(out, torch.Tensor) else out
    return tuple(to_numpy(t).real if k == "y" else to_numpy(t) for k, t in zip(spec.outputs, out))


def within(got, want, tol, what: str, rows: bool = False) -> None:
    """|got − want| within `tol`: elementwise, or where `rows` the 2-norm of each row (the last
    axis), for a bound stated norm-wise."""
    if rows:
        err = norm_error(abs_error(got, want), "row")
        got, want, what = err, np.zeros_like(err), f"{what} (row 2-norm)"
    assert_within(got, want, tol, what)


def agree(spec: Spec, ctx: LawContext, first: tuple, second: tuple, what: str,
          back=None, extra=None) -> None:
    """Assert that the implementation's outputs on `first` = (case, method) equal those on
    `second` within the sum of the two calls' bounds, plus `extra[output]` if given (what the
    two calls may differ by in exact arithmetic); `back(output, x)` maps an output (or its bound)
    of the second call onto the first's layout (default: as it is)."""
    back = back or (lambda k, x: x)
    outs = [run(spec, ctx.fn, case, method, ctx.device) for case, method in (first, second)]
    b1, b2 = spec.bound(*first), spec.bound(*second)
    for i, k in enumerate(spec.outputs):
        tol = b1[k] + back(k, b2[k]) + (0 if extra is None else extra[k])
        assert_within(outs[0][i], back(k, outs[1][i]), tol, f"{k}: {what}")

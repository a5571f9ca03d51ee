"""The generic bad-input rows (docs/bad-input.md#the-generic-rows): what `generic_rows` derives
from a valid call, that the rows catch an implementation which validates nothing, and that a row
changes a valid call."""

from __future__ import annotations

from typing import NamedTuple

import torch

from ssmspec import check, registry
from ssmspec.impl import rg_lru as rg_lru_impl
from ssmspec.spec import Implementation
from ssmspec.speckit import ChangedCall, bad_calls, full, generic_rows


class Params(NamedTuple):
    w: torch.Tensor
    b: torch.Tensor


def _rows(valid, **kw):
    return {name: (argument, error) for name, argument, error, _ in generic_rows(valid, **kw)}


def test_rows_derived_from_the_valid_call():
    valid = {"x": full(1, 3), "Lambda": full(3, dt=torch.complex128), "mask": torch.ones(1, 3) > 0,
             "L": 4, "flag": True}
    rows = _rows(valid, real=("x",))
    assert rows == {
        "x integer": ("x", TypeError), "x with an extra axis": ("x", ValueError),
        "x complex": ("x", TypeError),
        "Lambda integer": ("Lambda", TypeError),
        "Lambda with an extra axis": ("Lambda", ValueError),
        "Lambda of another precision": ("Lambda", TypeError),
        "mask not bool": ("mask", TypeError), "L a float": ("L", TypeError),
        "flag not a bool": ("flag", TypeError), "unknown method": ("method", ValueError)}


def test_anchor_batched_method_and_fields_of_a_named_tuple():
    valid = {"x": full(2, 3), "params": Params(full(3, 4), full(4))}
    rows = generic_rows(valid, method="fn", anchor="w", batched=("x",), real=True)
    names = {r[0] for r in rows}
    assert "x with an extra axis" not in names and "w of another precision" not in names
    assert {"x of another precision", "b of another precision", "unknown fn",
            "w complex"} <= names
    change = {r[0]: r[3] for r in rows}["b integer"]
    assert set(change) == {"params"} and change["params"].b.dtype == torch.int64
    assert change["params"].w is valid["params"].w  # the other field untouched


def test_explicit_row_of_a_generic_name_replaces_it():
    valid = {"x": full(2, 3)}
    rows = bad_calls(valid, [("x integer", "x", TypeError, {"x": full(2, 3, dt=torch.int32)})])
    named = [r for r in rows if r[0] == "x integer"]
    assert len(named) == 1 and named[0][3].changes["x"].dtype == torch.int32
    assert not [r for r in bad_calls(valid, [], generic=False)]


def _permissive(x, gate_x, gate_a, a_param, reset=None, h0=None, method="sequential"):
    """rg_lru validating nothing: every argument cast and reshaped into what the kernel takes."""
    shape = x.reshape(-1, *x.shape[-2:]).shape if x.dim() >= 2 else (1, 1, 1)
    fix = lambda t: t.real.double().reshape(-1)[:1].expand(shape).contiguous()  # noqa: E731
    return rg_lru_impl.rg_lru(fix(x), fix(gate_x), fix(gate_a), a_param.real.double()
                              .reshape(-1)[:1].expand(shape[-1]).contiguous())


def test_generic_rows_catch_an_implementation_that_validates_nothing():
    spec = registry.spec("rg_lru")
    impl = Implementation("rg_lru", "permissive", _permissive)
    outcomes = {o.name: o for o in check._bad_outcomes(spec, impl)}
    generic = [r[0] for r in generic_rows(
        {"x": full(1, 3, 2), "gate_x": full(1, 3, 2), "gate_a": full(1, 3, 2),
         "a_param": full(2)}, real=True)]
    assert len(generic) == 16  # 4 arrays: integer, extra axis, complex; 3 precisions; method
    missed = [n for n in generic if outcomes[n].error is None]
    assert not missed, f"rows a permissive kernel passes: {missed}"


def test_base_is_the_unchanged_valid_call():
    row = ChangedCall({"x": full(2), "L": 3}, {"x": full(2, dt=torch.int64)}, keywords=("L",))
    seen = []
    row.base(lambda x, L: seen.append((x.dtype, L)))
    row(lambda x, L: seen.append((x.dtype, L)))
    assert seen == [(torch.float64, 3), (torch.int64, 3)]

"""Glue shared by the spec modules of the layers (dss, ema_layer, gss, h3, liquid,
mega_attention, mega_block, sgconv): a bound's terms and reference tiers from a float64
reference, the law "two calls agree within both bounds", the bad-input rows common to the
layers. Not a spec module (the leading underscore): it registers nothing, and imports no spec
module, so the order in which primitives register stays the registry's. The glue of every
family (`draw_case`, `run`, `within`, `agree`, ...) is in `ssmspec.speckit`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from functools import partial

import torch
from hypothesis import strategies as st

from ssmspec.speckit import *  # noqa: F403 (the spec vocabulary)
from ssmspec.specs._kernel_kit import two_tier


def with_bound_terms(output: str, with_bound: Callable) -> Callable:
    """`Bound.terms` for one output from `with_bound(case, method) -> (value, M, G)` (a float64
    reference's `*_with_bound`): {output: Terms(G, M)}."""

    def terms(case: Case, method: str, d=None) -> dict[str, Terms]:
        _, M, G = with_bound(case, method)
        return {output: Terms(G, M)}

    return terms


def tiers(output: str, ref: Callable, mp_mod, np_mod, mp_max_work: int, work: Callable
          ) -> TwoTier:
    """The two reference tiers of one output: `ref(module, case, method)` on the mpmath module
    for cases of at most `mp_max_work` (`work(case)`), on the float64 one beyond."""
    return two_tier(lambda mod, case, m: {output: ref(mod, case, m)}, (mp_mod, np_mod),
                    mp_max_work, work)


def referenced(output: str, name: str, args: Callable, mp_mod, np_mod, mp_max_work: int,
               work: Callable, c, reasoning: str, with_u: bool = False) -> dict:
    """`references` and `bound` of a Spec (splat them in) for one output of a float64 reference
    with its bound: the tiers `mod.<name>(*args(case, method))` on the mpmath and float64
    modules, the bound's terms from `np_mod.<name>_with_bound(*args(case, method))` (and the
    format's unit roundoff u last, `with_u`), constant `c`, `reasoning`."""
    def with_bound(case: Case, method: str):
        u = (dtype(case.dtype).u,) if with_u else ()
        return getattr(np_mod, f"{name}_with_bound")(*args(case, method), *u)

    return {"references": tiers(output, lambda mod, case, m: getattr(mod, name)(*args(case, m)),
                                mp_mod, np_mod, mp_max_work, work),
            "bound": Bound(c=c, terms=with_bound_terms(output, with_bound), reasoning=reasoning)}


def work_dtype(x: torch.Tensor) -> torch.dtype:
    """The working format of a written-out layer: float32 for fp16/bf16 (computed in fp32,
    rounded once), the tensor's own dtype otherwise."""
    return torch.float32 if x.dtype in (torch.float16, torch.bfloat16) else x.dtype


def layer_adapters(params_type, keywords: tuple[str, ...], method_arg: str | None = None):
    """`(call, args)` of a layer `f(x (batch, L, D), params, **keywords)` whose params are the
    NamedTuple `params_type` of the case's arrays of its fields: `call(fn, case, method,
    device)` on tensors (the method passed as `method_arg` if given), `args(case, method)` the
    float64 reference's arguments (x, {field: array}[, method], the keywords' values)."""
    fields = params_type._fields

    def call(fn, case: Case, method: str, device: str):
        by_method = {} if method_arg is None else {method_arg: method}
        return fn(case.tensor("x", device), params_type(*(case.tensor(k, device) for k in fields)),
                  **by_method, **{k: case.params[k] for k in keywords})

    def args(case: Case, method: str) -> tuple:
        return (case.arrays["x"], {k: case.arrays[k] for k in fields},
                *(() if method_arg is None else (method,)), *(case.params[k] for k in keywords))

    return call, args


def agreement(name: str, statement: str, dtypes: tuple[str, ...], primitive: str,
              pair: Callable, what: str, extra=None) -> Law:
    """The law "`primitive` on two related inputs gives the same output": `pair(ctx) -> (method,
    a, b)` draws them, and |f(a) − f(b)| ≤ bound(a) + bound(b) (+ `extra(a, method, fmt)`, a
    term the transform itself adds), measured as the bound is stated: elementwise, or the 2-norm
    per signal where it is norm-wise ('row', `within`). `what` names the comparison
    ('{method}' filled in)."""

    def check(ctx: LawContext) -> None:
        spec = registry.spec(primitive)
        method, a, b = pair(ctx)
        k = spec.outputs[0]
        got, want = (run(spec, ctx.fn, c, method, ctx.device)[0] for c in (a, b))
        tol = spec.bound(a, method)[k] + spec.bound(b, method)[k]
        within(got, want, tol if extra is None else tol + extra(a, method, ctx.dtype),
               what.format(method=method), spec.bound.norms_for(method).get(k) == "row")

    return Law(name, statement, check, dtypes)


# the short lengths the layers' laws draw
SHORT = st.sampled_from([1, 2, 3, 4, 5, 7, 8, 9, 15, 16, 17, 31, 33])
# the chunks of Mega's attention drawn (mega_attention, mega_block)
CHUNKS = (1, 2, 3, 4, 7, 16, 64)
# the formats of gss_layer's and mega_block's mutants: caught in fp64 and fp32; fp16/bf16 bounds
# admit O(1) relative errors here
FP64_32 = ("fp64", "fp32")


def covering(cases: Callable, methods, array: str, more: int, lengths=SHORT) -> Callable:
    """The pair of "chunk ≥ L = full attention" for `agreement`: a case `cases(fmt, method,
    length=lengths, chunk=None)` and the same with a chunk of L + 0…`more` (L: axis 1 of the
    case's `array`)."""
    def pair(ctx: LawContext):
        method, case = draw_case(ctx, cases, methods, length=lengths, chunk=None)
        chunk = case.arrays[array].shape[1] + ctx.draw(st.integers(0, more))
        return method, case.with_(chunk=chunk), case
    return pair


def composition(name: str, statement: str, dtypes: tuple[str, ...], primitive: str,
                cases: Callable, written_out: Callable, parts: Mapping[str, str], what: str,
                lengths=SHORT, change: Callable | None = None, **fixed) -> Law:
    """The law "`primitive` = `written_out`, its formulas written out over the registered
    `parts`" (a keyword of `written_out` -> the primitive whose implementation of the family it
    is given): on a case `cases(fmt, method, length=lengths)`, changed by `change(case)` if
    given, the output is within twice the bound of `written_out` (with the keywords `fixed`)
    called as the spec calls an implementation. `what` names the comparison ('{method}')."""

    def check(ctx: LawContext) -> None:
        spec = registry.spec(primitive)
        method, case = draw_case(ctx, cases, spec.methods, length=lengths)
        case = case if change is None else change(case)
        fns = {k: ctx.impl_of(p) for k, p in parts.items()}
        want, got = (run(spec, fn, case, method, ctx.device)[0]
                     for fn in (partial(written_out, **fns, **fixed), ctx.fn))
        assert_within(got, want, 2 * spec.bound(case, method)[spec.outputs[0]],
                      what.format(method=method))

    return Law(name, statement, check, dtypes)


def layer_bad_calls(params: Callable, rows, short: int, method: str | None) -> list[tuple]:
    """Bad-input rows of a layer `f(x (batch, L, D), params, ...)` (gss_layer, mega_block): the
    rows on x common to both and `rows`, all changes to the call on x = 0 of shape (1, 4, 2) and
    `params()`, the layer's parameters (a NamedTuple of zeros for D = 2; `params(dt=...)` in
    another dtype, `params(name=tensor)` with one replaced: a row's change of a parameter's
    name goes there); `short`: how many parameters a too-short tuple keeps; and the generic
    rows (docs/bad-input.md#the-generic-rows), `method` the name of the layer's method argument."""
    c128, fields = torch.complex128, params()._fields
    rows = [(name, argument, error,
             {k: v for k, v in changes.items() if k not in fields}
             | ({"params": params(**{k: v for k, v in changes.items() if k in fields})}
                if set(changes) & set(fields) else {}))
            for name, argument, error, changes in rows]
    return bad_calls({"x": zeros(1, 4, 2), "params": params()}, [
        ("x of length 0", "x", ValueError, {"x": zeros(1, 0, 2)}),
        ("x complex", "x", TypeError, {"x": zeros(1, 4, 2, dt=c128), "params": params(dt=c128)}),
        ("params too short", "params", ValueError, {"params": tuple(params())[:short]}),
        *rows], generic=dict(method=method, real=True))



"""Helpers shared by the spec modules of the kernels, dplr, discretization, hippo and convolution
families: a case from arrays, bad-input rows from one valid call, a complex run's real output,
a law's fresh seed. `registry.load()` imports it as every module here; it declares no primitive.
"""

from __future__ import annotations

import numpy as np
import torch
from hypothesis import strategies as st

from ssmspec.speckit import *  # noqa: F403 (the spec vocabulary)


def case_of(fmt: str, params=None, **arrays) -> Case:
    """A Case of `arrays`, each rounded to the format `fmt`, with `params`."""
    return Case({k: representable(np.array(x), fmt) for k, x in arrays.items()}, fmt,
                dict(params or {}))


def bad_rows(valid: dict, rows, keywords=()) -> list[tuple]:
    """Bad-input rows `(name, argument, error, call)` from one valid call and rows
    `(name, argument, error, changes)`: `call(f)` calls `f` with `valid`'s values (positional in
    order, but those named in `keywords`) with `changes` put in (a new name: a keyword)."""

    def call(changes: dict):
        def bad(f):
            args = {**valid, **changes}
            fresh = {k: x.clone() if isinstance(x, torch.Tensor) else x for k, x in args.items()}
            pos = [x for k, x in fresh.items() if k in valid and k not in keywords]
            return f(*pos, **{k: x for k, x in fresh.items() if k in keywords or k not in valid})

        return bad

    return [(name, arg, error, call(changes)) for name, arg, error, changes in rows]


def real_output(x, case: Case, name: str):
    """`x` checked to be exactly Λ's real dtype (else a TypeError: a conformance failure) and
    handed back in the run's format (exact), as the generic dtype property compares it."""
    d = dtype(case.dtype)
    want = real_of(d).torch
    if not isinstance(x, torch.Tensor) or x.dtype != want:
        got = x.dtype if isinstance(x, torch.Tensor) else type(x).__name__
        raise TypeError(f"{name}: expected the real dtype {want} of Lambda, got {got}")
    return x.to(d.torch)


def seeded(ctx: LawContext) -> np.random.Generator:
    """A numpy generator seeded by a draw (hypothesis shrinks the seed)."""
    return np.random.default_rng(ctx.draw(st.integers(0, 2**32 - 1)))


def conj_full(case: Case, names) -> Case:
    """`case` with conj_half=False and each of `names` written out with its conjugate pair."""
    return case.with_(conj_half=False, **{k: np.concatenate([case.arrays[k],
                                                             np.conj(case.arrays[k])], axis=-1)
                                          for k in names})


def full(*shape: int, fill: float = 1.0, dt: torch.dtype = torch.float64) -> torch.Tensor:
    """A tensor of `shape` filled with `fill`: the arguments of a bad-input call."""
    return torch.full(shape, fill, dtype=dt)


def laws(dtypes, *rows) -> list[Law]:
    """Laws from rows `(name, statement, check)`, in `dtypes`, or `(name, statement, check,
    dtypes)` where a law's formats differ."""
    return [Law(*row) if len(row) == 4 else Law(*row, dtypes) for row in rows]

"""Glue shared by the spec modules of the kernels, dplr, discretization, hippo and convolution
families: laws from rows, a law's fresh seed, a case written out with its conjugate pairs. Not a
spec module (the leading underscore): it declares no primitive. The glue of every family is in
`ssmspec.speckit`.
"""

from __future__ import annotations

import numpy as np
from hypothesis import strategies as st

from ssmspec.speckit import *  # noqa: F403 (the spec vocabulary)


def seeded(ctx: LawContext) -> np.random.Generator:
    """A numpy generator seeded by a draw (hypothesis shrinks the seed)."""
    return np.random.default_rng(ctx.draw(st.integers(0, 2**32 - 1)))


def conj_full(case: Case, names) -> Case:
    """`case` with conj_half=False and each of `names` written out with its conjugate pair."""
    return case.with_(conj_half=False, **{k: np.concatenate([case.arrays[k],
                                                             np.conj(case.arrays[k])], axis=-1)
                                          for k in names})


def laws(dtypes, *rows) -> list[Law]:
    """Laws from rows `(name, statement, check)`, in `dtypes`, or `(name, statement, check,
    dtypes)` where a law's formats differ."""
    return [Law(*row) if len(row) == 4 else Law(*row, dtypes) for row in rows]
